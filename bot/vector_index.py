"""Nearest vectors of one index version and role: exact in memory while small, Chroma HNSW above.

Chroma holds every vector and is the store of record. For a version of up to
EXACT_SEARCH_MAX_VECTORS vectors of a role, the serving process also keeps that role's vectors in
one matrix. Ingest writes that matrix next to the version (`vectors-q.npy` and its keys), and
serving memory-maps it: reading 55,000 vectors out of Chroma took about 5 s of every cold start.
A key is the hash of its model and text, so a version's vectors never change; a matrix file that
is missing or does not match the version's keys is rebuilt from Chroma.
Exact top lists scored better than HNSW's and came faster (bench/results.md,
bench/experiments.md §8). A first pass over an int8 copy keeps the rows that can be among the
best (about 1,000 of MedQuAD's 44,619 question vectors), then the float product over those rows
alone: 2-3 ms a search where the product over every row took 4.5-8 ms (§12). Above the limit,
queries go to Chroma's HNSW.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Protocol

import numpy as np

from bot import vectors
from bot.quantized import Int8Rows

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
        self._array = np.asarray(matrix)  # a plain view: a memmap's indexing is 10 times slower
        self._first = Int8Rows.of(matrix)  # which rows can be among the best (bot/quantized.py)

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
        if not self.keys or limit <= 0:
            return []
        query = np.asarray(query, dtype=np.float32)
        limit = min(limit, len(self.keys))
        rows = self._first.candidates(query, limit) if self._first is not None else None
        # numpy's own loop, not BLAS (OpenBLAS's idle threads spun against the embedder's and
        # slowed the next embedding threefold) nor torch.mv (MKL rounds the last rows of a
        # block apart: two equal vectors got two cosines). Equal cosines keep the stored order.
        if rows is None:
            sims, rows = np.einsum("ij,j->i", self._array, query), np.arange(len(self.keys))
        else:
            sims = np.einsum("ij,j->i", self._array[rows], query)
        order = np.argsort(-sims, kind="stable")[:limit]
        return [(self.keys[n], s) for n, s in zip(rows[order].tolist(), sims[order].tolist(),
                                                   strict=True)]

    def vectors(self, keys: list[str]) -> dict[str, np.ndarray]:
        """Unit vectors of these keys, from the matrix."""
        return {key: self._array[self.row[key]] for key in keys if key in self.row}


def _fetch(collection, keys: list[str]) -> dict[str, np.ndarray]:  # noqa: ANN001
    found: dict[str, np.ndarray] = {}
    for start in range(0, len(keys), vectors.GET_BATCH):
        got = collection.get(ids=keys[start : start + vectors.GET_BATCH], include=["embeddings"])
        for key, vector in zip(got["ids"], got["embeddings"], strict=True):
            vector = np.asarray(vector, dtype=np.float32)
            norm = float(np.linalg.norm(vector))
            found[key] = vector / norm if norm else vector
    return found


def _digest(keys: list[str]) -> str:
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()


def matrix_paths(folder: Path, role: str) -> tuple[Path, Path]:
    """Where a version keeps one role's matrix and the keys of its rows."""
    return folder / f"vectors-{role}.npy", folder / f"vectors-{role}.json"


def save_matrix(folder: Path, role: str, index: ExactIndex) -> None:
    """Write the matrix beside the version (atomically: a half-written file is never read)."""
    matrix_file, keys_file = matrix_paths(folder, role)
    for path, write in ((matrix_file, lambda f: np.save(f, index.matrix)),
                        (keys_file, lambda f: f.write(json.dumps(
                            {"digest": _digest(index.keys), "keys": index.keys}).encode()))):
        part = path.with_name(path.name + ".part")
        with open(part, "wb") as handle:
            write(handle)
        os.replace(part, path)


def load_matrix(folder: Path, role: str, keys: list[str]) -> ExactIndex | None:
    """The saved matrix, memory-mapped, when it holds exactly these keys' vectors."""
    matrix_file, keys_file = matrix_paths(folder, role)
    try:
        saved = json.loads(keys_file.read_text(encoding="utf-8"))
        matrix = np.load(matrix_file, mmap_mode="c")  # copy-on-write: writable, file untouched
    except (OSError, ValueError):
        return None
    stored = saved.get("keys", [])
    if (saved.get("digest") != _digest(stored) or set(stored) != set(keys)
            or matrix.shape[0] != len(stored) or matrix.dtype != np.float32):
        log.warning("%s does not match the version's keys; reading the vectors from Chroma",
                    matrix_file)
        return None
    return ExactIndex(stored, matrix)


def open_index(collection, keys: list[str], exact_max: int,  # noqa: ANN001
               folder: Path | None = None, role: str = "q") -> VectorIndex:
    """An exact in-memory index when there are at most exact_max keys, else Chroma's HNSW.
    With the version's folder, the saved matrix is used (and written when missing)."""
    if not keys or len(keys) > exact_max:
        return ChromaIndex(collection)
    started = time.perf_counter()
    index = load_matrix(folder, role, keys) if folder is not None else None
    if index is None:
        index = ExactIndex.load(collection, keys)
        if folder is not None and len(index.keys) == len(keys):
            try:
                save_matrix(folder, role, index)
            except OSError as error:  # a read-only data folder: serve from memory anyway
                log.warning("could not save the %s vectors beside the version: %s", role, error)
    log.info("loaded %d vectors for exact search in %.2f s", len(index.keys),
             time.perf_counter() - started)
    return index

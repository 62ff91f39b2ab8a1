"""Vectors in Chroma, keyed by text hash: store what is new, verify, search, collect garbage."""

from __future__ import annotations

import logging
import sys

import numpy as np

from bot.chroma_store import ROLES, role_of, vector_collection
from bot.embeddings import Embedder

log = logging.getLogger(__name__)

EMBED_BATCH = 256
GET_BATCH = 5000


class VerificationFailed(Exception):
    """A freshly built version did not answer its probe queries."""


class _Progress:
    """A bar on a terminal, a log line every 10% otherwise."""

    def __init__(self, total: int, enabled: bool | None) -> None:
        self.total, self.done, self._next_log = total, 0, 0.1
        tty = sys.stderr.isatty() if enabled is None else enabled
        self._bar = None
        if tty and total:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="text", desc="embedding", leave=False)

    def update(self, count: int) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(count)
        elif self.total and self.done / self.total >= self._next_log:
            log.info("embedded %d of %d texts (%.0f%%)", self.done, self.total,
                     100 * self.done / self.total)
            self._next_log += 0.1

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _present(collection, keys: list[str]) -> set[str]:  # noqa: ANN001
    found: set[str] = set()
    for start in range(0, len(keys), GET_BATCH):
        found.update(collection.get(ids=keys[start : start + GET_BATCH], include=[])["ids"])
    return found


def open_collections(client, embedder: Embedder) -> dict:  # noqa: ANN001
    """The embedder's collections, one per role."""
    if not embedder.dimension:
        embedder.embed(["dimension probe"])
    return {role: vector_collection(client, embedder.name, embedder.dimension, role)
            for role in ROLES}


def store_chunks(collections: dict, embedder: Embedder,
                 chunks: list[tuple[str, str, str, str]], progress: bool | None = None,
                 add_batch: int = 4096) -> tuple[int, int]:
    """Embed the texts Chroma does not hold yet; return (embedded, reused)."""
    wanted: dict[str, dict[str, str]] = {}
    for key, _rid, part, text in chunks:
        wanted.setdefault(role_of(part), {})[key] = text
    missing: dict[str, list[str]] = {}
    texts: dict[str, str] = {}
    reused = 0
    for role, keyed in wanted.items():
        present = _present(collections[role], list(keyed))
        reused += len(present)
        for key, text in keyed.items():
            if key not in present:
                missing.setdefault(key, []).append(role)
                texts[key] = text
    # Shortest first: batches of similar length waste less padding.
    order = sorted(missing, key=lambda k: len(texts[k]))
    bar = _Progress(len(order), progress)
    try:
        for start in range(0, len(order), EMBED_BATCH * 4):
            batch = order[start : start + EMBED_BATCH * 4]
            matrix = embedder.embed([texts[k] for k in batch])
            for role in ROLES:
                rows = [n for n, key in enumerate(batch) if role in missing[key]]
                for at in range(0, len(rows), add_batch):
                    picked = rows[at : at + add_batch]
                    collections[role].add(ids=[batch[n] for n in picked],
                                          embeddings=matrix[picked])
            bar.update(len(batch))
    finally:
        bar.close()
    return len(order), reused


def verify(version, collections: dict, chunks: list[tuple[str, str, str, str]]) -> None:  # noqa: ANN001
    """Counts match and a few records find their own question vector and keywords."""
    if version.manifest.records != len(version.record_hashes()):
        raise VerificationFailed("record count in the records table differs from the manifest")
    questions = [(key, rid, text) for key, rid, part, text in chunks if part == "q"]
    if not questions:
        return
    step = max(1, len(questions) // 3)
    for key, rid, text in questions[::step][:3]:
        stored = collections["q"].get(ids=[key], include=["embeddings"])
        if not stored["ids"]:
            raise VerificationFailed(f"vector for record {rid} is missing from Chroma")
        found = collections["q"].query(query_embeddings=np.asarray(stored["embeddings"][:1]),
                                       n_results=10, include=["distances"])
        if key not in found["ids"][0]:
            raise VerificationFailed(f"probe query for record {rid} did not find it")
        if not version.keyword.search(text, limit=10):
            raise VerificationFailed(f"keyword probe for record {rid} found nothing")


def collect_garbage(collections: dict, versions: list) -> int:  # noqa: ANN001
    """Delete vectors no kept version refers to (left by old versions or interrupted builds)."""
    referenced: dict[str, set[str]] = {role: set() for role in ROLES}
    for version in versions:
        for key, _rid, part in version.chunk_rows():
            referenced[role_of(part)].add(key)
    removed = 0
    for role, collection in collections.items():
        stale: list[str] = []
        offset = 0
        while True:
            page = collection.get(include=[], limit=GET_BATCH * 4, offset=offset)["ids"]
            if not page:
                break
            stale.extend(k for k in page if k not in referenced[role])
            offset += len(page)
        for start in range(0, len(stale), GET_BATCH):
            collection.delete(ids=stale[start : start + GET_BATCH])
        removed += len(stale)
    if removed:
        log.info("removed %d vectors no version uses", removed)
    return removed


def search(collection, query: np.ndarray, limit: int) -> list[tuple[str, float]]:  # noqa: ANN001
    """Nearest vector keys with cosine similarity, best first."""
    if collection.count() == 0:
        return []
    found = collection.query(query_embeddings=query.reshape(1, -1), n_results=limit,
                             include=["distances"])
    return [(key, 1.0 - float(d)) for key, d in zip(found["ids"][0], found["distances"][0],
                                                      strict=True)]

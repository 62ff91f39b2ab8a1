"""Vectors in Chroma, keyed by text hash: store what is new, verify, search, collect garbage."""

from __future__ import annotations

import logging
import sys

import numpy as np

from bot.chroma_store import vector_collection
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


def store_chunks(client, embedder: Embedder, chunks: list[tuple[str, str, str, str]],  # noqa: ANN001
                 progress: bool | None = None):  # noqa: ANN201
    """Embed the chunk texts Chroma does not hold yet; return (collection, embedded, reused)."""
    texts = {key: text for key, _rid, _part, text in chunks}
    if not embedder.dimension:
        embedder.embed(["dimension probe"])
    collection = vector_collection(client, embedder.name, embedder.dimension)
    keys = list(texts)
    present = _present(collection, keys)
    missing = [k for k in keys if k not in present]
    # Shortest first: batches of similar length waste less padding.
    missing.sort(key=lambda k: len(texts[k]))
    bar = _Progress(len(missing), progress)
    add_batch = max(1, min(client.get_max_batch_size(), 4096))
    try:
        for start in range(0, len(missing), EMBED_BATCH * 4):
            batch = missing[start : start + EMBED_BATCH * 4]
            matrix = embedder.embed([texts[k] for k in batch])
            for at in range(0, len(batch), add_batch):
                end = at + add_batch
                collection.add(ids=batch[at:end], embeddings=matrix[at:end])
            bar.update(len(batch))
    finally:
        bar.close()
    return collection, len(missing), len(keys) - len(missing)


def verify(version, collection, chunks: list[tuple[str, str, str, str]]) -> None:  # noqa: ANN001
    """Counts match and a few records find their own question vector and keywords."""
    if version.manifest.records != len(version.record_hashes()):
        raise VerificationFailed("record count in the records table differs from the manifest")
    questions = [(key, rid, text) for key, rid, part, text in chunks if part == "q"]
    if not questions:
        return
    step = max(1, len(questions) // 3)
    for key, rid, text in questions[::step][:3]:
        stored = collection.get(ids=[key], include=["embeddings"])
        if not stored["ids"]:
            raise VerificationFailed(f"vector for record {rid} is missing from Chroma")
        found = collection.query(query_embeddings=np.asarray(stored["embeddings"][:1]),
                                 n_results=10, include=["distances"])
        if key not in found["ids"][0]:
            raise VerificationFailed(f"probe query for record {rid} did not find it")
        if not version.keyword.search(text, limit=10):
            raise VerificationFailed(f"keyword probe for record {rid} found nothing")


def collect_garbage(collection, versions: list) -> int:  # noqa: ANN001
    """Delete vectors no kept version refers to (left by old versions or interrupted builds)."""
    referenced: set[str] = set()
    for version in versions:
        referenced |= version.chunk_keys()
    stale: list[str] = []
    offset = 0
    while True:
        page = collection.get(include=[], limit=GET_BATCH * 4, offset=offset)["ids"]
        if not page:
            break
        stale.extend(k for k in page if k not in referenced)
        offset += len(page)
    for start in range(0, len(stale), GET_BATCH):
        collection.delete(ids=stale[start : start + GET_BATCH])
    if stale:
        log.info("removed %d vectors no version uses", len(stale))
    return len(stale)


def search(collection, query: np.ndarray, limit: int) -> list[tuple[str, float]]:  # noqa: ANN001
    """Nearest vector keys with cosine similarity, best first."""
    if collection.count() == 0:
        return []
    found = collection.query(query_embeddings=query.reshape(1, -1), n_results=limit,
                             include=["distances"])
    return [(key, 1.0 - float(d)) for key, d in zip(found["ids"][0], found["distances"][0],
                                                      strict=True)]

"""Vectors in Chroma, keyed by text hash: store what is new, verify, search, collect garbage."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

import numpy as np

from bot.chroma_store import ROLES, role_of, vector_collection
from bot.embeddings import Embedder
from bot.keyword_index import tokenize

log = logging.getLogger(__name__)

EMBED_BATCH = 256
GET_BATCH = 5000
PROBES = 5  # records probed per kind when a version is verified


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
                 add_batch: int = 4096,
                 check: Callable[[str], None] | None = None) -> tuple[int, int]:
    """Embed the texts Chroma does not hold yet; return (embedded, reused). check(doing) is
    called before each batch (it raises to stop; batches already added stay for reuse)."""
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
    size = EMBED_BATCH * 4
    try:
        for start in range(0, len(order), size):
            if check is not None:
                check(f"embedding (batch {start // size + 1} of {-(-len(order) // size)})")
            batch = order[start : start + size]
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
    """Counts match; records spread over the corpus find their own vector and keywords. An odd
    record ('q', '?') may miss; the build fails when most probes of a kind miss."""
    if version.manifest.records != len(version.record_hashes()):
        raise VerificationFailed("record count in the records table differs from the manifest")
    questions = [(key, rid, text) for key, rid, part, text in chunks if part == "q"]
    misses = []
    for key, rid, _text in _spread(questions):
        stored = collections["q"].get(ids=[key], include=["embeddings"])
        if not stored["ids"]:
            raise VerificationFailed(f"vector for record {rid} is missing from Chroma")
        found = collections["q"].query(query_embeddings=np.asarray(stored["embeddings"][:1]),
                                       n_results=10, include=["distances"])
        nearest = found["distances"][0][:1]
        same = bool(nearest) and nearest[0] < 1e-6  # an identical vector: ties may hide the key
        misses.append(None if key in found["ids"][0] or same
                      else f"probe query for record {rid} did not find it")
    _judge(misses)
    searchable = _spread(questions, lambda q: bool(tokenize(q[2])))  # not 'What is it?'
    _judge([None if version.keyword.search(text, limit=10)
            else f"keyword probe for record {rid} found nothing"
            for _key, rid, text in searchable])


def _spread(items: list, accept: Callable[[tuple], bool] | None = None,
            count: int = PROBES) -> list:
    """Up to count items spread over the list: the first accepted one of each stretch."""
    stretches = min(count, len(items))
    picked = []
    for n in range(stretches):
        stretch = items[n * len(items) // stretches : (n + 1) * len(items) // stretches]
        found = next((item for item in stretch if accept is None or accept(item)), None)
        if found is not None:
            picked.append(found)
    return picked


def _judge(outcomes: list[str | None]) -> None:
    """Fail when most probes missed; a lone miss is only logged."""
    misses = [m for m in outcomes if m]
    if misses and 2 * len(misses) > len(outcomes):
        raise VerificationFailed("; ".join(misses))
    for miss in misses:
        log.warning("verification: %s (the other probes passed)", miss)


def collect_garbage(collections: dict, versions: list,  # noqa: ANN001
                    wanted: list[tuple[str, str, str, str]] = ()) -> int:
    """Delete vectors no kept version refers to (left by old versions or interrupted builds),
    but keep those of the wanted chunks (the build about to start reuses them) that read back."""
    referenced: dict[str, set[str]] = {role: set() for role in ROLES}
    for version in versions:
        for key, _rid, part in version.chunk_rows():
            referenced[role_of(part)].add(key)
    reusable: dict[str, set[str]] = {role: set() for role in ROLES}
    for key, _rid, part, _text in wanted:
        reusable[role_of(part)].add(key)
    removed = 0
    for role, collection in collections.items():
        stale: list[str] = []
        orphans: list[str] = []
        offset = 0
        while True:
            page = collection.get(include=[], limit=GET_BATCH * 4, offset=offset)["ids"]
            if not page:
                break
            for key in page:
                if key not in referenced[role]:
                    (orphans if key in reusable[role] else stale).append(key)
            offset += len(page)
        stale += _unreadable(collection, orphans)
        for start in range(0, len(stale), GET_BATCH):
            collection.delete(ids=stale[start : start + GET_BATCH])
        removed += len(stale)
    if removed:
        log.info("removed %d vectors no version uses", removed)
    return removed


def _unreadable(collection, keys: list[str]) -> list[str]:  # noqa: ANN001
    """Keys whose vectors cannot be read back (another process wrote them while this one held
    the store open); they are embedded again."""
    bad: list[str] = []
    for start in range(0, len(keys), GET_BATCH):
        batch = keys[start : start + GET_BATCH]
        try:
            if len(collection.get(ids=batch, include=["embeddings"])["ids"]) == len(batch):
                continue
        except Exception as error:  # noqa: BLE001 - chromadb raises InternalError and others
            log.warning("%d vectors left by an interrupted ingest do not read back (%s); "
                        "embedding them again", len(batch), error)
        bad += batch
    return bad


def search(collection, query: np.ndarray, limit: int) -> list[tuple[str, float]]:  # noqa: ANN001
    """Nearest vector keys with cosine similarity, best first."""
    if collection.count() == 0:
        return []
    found = collection.query(query_embeddings=query.reshape(1, -1), n_results=limit,
                             include=["distances"])
    return [(key, 1.0 - float(d)) for key, d in zip(found["ids"][0], found["distances"][0],
                                                      strict=True)]

"""Hybrid retrieval: dense search in Chroma plus BM25, fused by reciprocal rank, per record."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot import vectors
from bot.index_store import IndexVersion
from bot.knowledge_base import KnowledgeBase
from bot.query import clean_query
from bot.records import Record

log = logging.getLogger(__name__)

RRF_K = 60
# Doctor replies are the primary grounding; background material ranks a little lower.
KIND_WEIGHT = {"doctor_reply": 1.0, "qa": 1.0, "question_only": 0.95, "excerpt": 0.85,
               "article": 0.8}


@dataclass
class Hit:
    """One record found for a query, with how it was found."""

    record: Record
    score: float  # fused score, higher is better
    similarity: float = 0.0  # best cosine similarity of any of its vectors (0 if none)
    keyword: float = 0.0  # BM25 score (0 if not among the keyword hits)
    matched_parts: list[str] = field(default_factory=list)


@dataclass
class SearchResult:
    """Hits for a query and the version that answered it."""

    hits: list[Hit]
    version: str | None
    query: str


class Retriever:
    """Finds the records that best match a message in the active index version."""

    def __init__(self, kb: KnowledgeBase, depth: int = 60) -> None:
        self.kb = kb
        self.depth = depth

    def search(self, message: str, limit: int = 10) -> SearchResult:
        """Top records for a message, best first."""
        version = self.kb.current()
        query = clean_query(message)
        if version is None or not query:
            return SearchResult([], version.name if version else None, query)
        depth = max(self.depth, limit)
        dense = self._dense(version, query, depth)
        keyword = version.keyword.search(query, limit=depth)
        fused: dict[str, float] = {}
        for rank, (rid, _sim) in enumerate(dense):
            fused[rid] = fused.get(rid, 0.0) + 1.0 / (RRF_K + rank + 1)
        for rank, (rid, _score) in enumerate(keyword):
            fused[rid] = fused.get(rid, 0.0) + 1.0 / (RRF_K + rank + 1)
        similarity = dict(dense)
        bm25 = dict(keyword)
        records = version.records(list(fused))
        hits = [
            Hit(record=records[rid],
                score=fused[rid] * KIND_WEIGHT.get(records[rid].kind, 0.8),
                similarity=similarity.get(rid, 0.0), keyword=bm25.get(rid, 0.0))
            for rid in fused if rid in records
        ]
        hits.sort(key=lambda h: (-h.score, h.record.id))
        return SearchResult(hits[:limit], version.name, query)

    def _dense(self, version: IndexVersion, query: str, depth: int) -> list[tuple[str, float]]:
        vector = self.kb.embedder.embed([query])[0]
        found = vectors.search(self.kb.collection(version), vector, depth * 2)
        owners = version.chunk_owners([key for key, _ in found])
        best: dict[str, float] = {}
        for key, sim in found:
            for rid, _part in owners.get(key, ()):  # keys of other versions have no owner here
                if sim > best.get(rid, -1.0):
                    best[rid] = sim
        return sorted(best.items(), key=lambda item: -item[1])[:depth]

"""Hybrid retrieval: ranked lists from Chroma and BM25, fused by weighted reciprocal rank.

The lists (measured on LiveQA-Med DEV, see bench/experiments.md):
- dense: the message against record questions (consumer questions match questions best);
- keywords over whole records, and over titles + questions;
- focus: the message against document titles (dense + BM25), each title expanded to its
  records in document order, so the sections of the right document come up together.
Answer-chunk vectors, when EMBED_MAX_CHUNKS > 0, form one more list with its own weight.
The keyword lists also see the long forms of abbreviations the corpus spells out ("DVT").
Last, the best fused records are re-ranked with how close their document's title is to the
message (a document prior: weight_title_similarity × cosine, added to the fused score).
"""

from __future__ import annotations

import heapq
import logging
from dataclasses import dataclass, field

import numpy as np

from bot.abbreviations import expand
from bot.index_store import IndexVersion
from bot.knowledge_base import KnowledgeBase
from bot.query import clean_query
from bot.records import Record

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetrievalConfig:
    """Weights and depths of the fused lists."""

    rrf_k: int = 60
    depth: int = 300
    dense_depth: int = 300
    focus_titles: int = 50
    weight_dense: float = 1.0
    weight_keyword: float = 1.0
    weight_keyword_questions: float = 1.0
    weight_focus: float = 1.0
    weight_answers: float = 0.0
    weight_title_similarity: float = 0.08
    rerank_depth: int = 100


@dataclass
class Hit:
    """One record found for a query, with how it was found."""

    record: Record
    score: float  # fused score, higher is better
    similarity: float = 0.0  # cosine similarity of its question or title to the query
    keyword: float = 0.0  # BM25 score over the whole record (0 if not among the keyword hits)
    lists: list[str] = field(default_factory=list)


@dataclass
class SearchResult:
    """Hits for a query and the version that answered it."""

    hits: list[Hit]
    version: str | None
    query: str
    # With `answerable`: the best records left out for having no answer (a page to name).
    unquotable: list[Hit] = field(default_factory=list)


def fuse(ranked: dict[str, list[str]], weights: dict[str, float], k: int) -> dict[str, float]:
    """Weighted reciprocal-rank fusion of ranked id lists."""
    scores: dict[str, float] = {}
    for name, ids in ranked.items():
        weight = weights.get(name, 0.0)
        if weight:
            for rank, rid in enumerate(ids):
                scores[rid] = scores.get(rid, 0.0) + weight / (k + rank + 1)
    return scores


UNQUOTABLE = 3  # question-only records kept aside for a no-match answer


class Retriever:
    """Finds the records that best match a message in the active index version."""

    def __init__(self, kb: KnowledgeBase, config: RetrievalConfig | None = None) -> None:
        self.kb = kb
        self.config = config or RetrievalConfig()

    def search(self, message: str, limit: int = 10, answerable: bool = False) -> SearchResult:
        """Top records for a message, best first; with `answerable`, only records that have an
        answer to show (MedQuAD's question-only pairs are two thirds of it)."""
        version = self.kb.current()
        query = clean_query(message)
        if version is None or not query:
            return SearchResult([], version.name if version else None, query)
        cfg = self.config
        depth = max(cfg.depth, limit)
        vector = self.kb.embedder.embed([query])[0]
        dense = self._dense(version, vector, "q", max(cfg.dense_depth, limit))
        words = expand(query, version.abbreviations)  # keyword lists also see long forms
        keyword = version.keyword.search(words, limit=depth)
        ranked = {
            "dense": [rid for rid, _ in dense],
            "keyword": [rid for rid, _ in keyword],
            "keyword_questions": [rid for rid, _ in
                                  version.keyword_questions.search(words, limit=depth)],
        }
        ranked["focus"], focus_similarity = self._focus(version, vector, words, depth)
        if cfg.weight_answers:
            answers = self._dense(version, vector, "a", max(cfg.dense_depth, limit))
            ranked["answers"] = [rid for rid, _ in answers]
        weights = {"dense": cfg.weight_dense, "keyword": cfg.weight_keyword,
                   "keyword_questions": cfg.weight_keyword_questions,
                   "focus": cfg.weight_focus, "answers": cfg.weight_answers}
        fused = fuse(ranked, weights, cfg.rrf_k)
        skipped: list[str] = []
        skipped_scores: dict[str, float] = {}
        if answerable:
            skipped = heapq.nsmallest(UNQUOTABLE, (rid for rid in fused
                                                   if rid in version.unanswerable),
                                      key=lambda rid: (-fused[rid], rid))
            skipped_scores = {rid: fused[rid] for rid in skipped}
            fused = {rid: score for rid, score in fused.items()
                     if rid not in version.unanswerable}
        best = sorted(fused, key=lambda rid: (-fused[rid], rid))[: max(cfg.rerank_depth, limit)]
        if cfg.weight_title_similarity:
            title_similarity = self._title_similarity(version, vector, best)
            for rid in best:
                fused[rid] += cfg.weight_title_similarity * title_similarity.get(rid, 0.0)
            best.sort(key=lambda rid: (-fused[rid], rid))
        best = best[:limit]
        records = version.records(best + skipped)
        similarity = dict(dense)
        bm25 = dict(keyword)
        in_list = {name: set(ids) for name, ids in ranked.items()}

        def hits(ids: list[str], scores: dict[str, float]) -> list[Hit]:
            return [Hit(record=records[rid], score=scores.get(rid, 0.0),
                        similarity=similarity.get(rid, focus_similarity.get(rid, 0.0)),
                        keyword=bm25.get(rid, 0.0),
                        lists=[name for name, found in in_list.items() if rid in found])
                    for rid in ids if rid in records]

        return SearchResult(hits(best, fused), version.name, query, hits(skipped, skipped_scores))

    def _dense(self, version: IndexVersion, vector: np.ndarray, role: str, depth: int
               ) -> list[tuple[str, float]]:
        """Records ranked by their best vector of one role."""
        found = self.kb.vector_index(version, role).search(vector, depth)
        owners = version.search_maps.owners.get(role, {})
        best: dict[str, float] = {}
        for key, sim in found:
            for rid in owners.get(key, ()):  # keys of other versions have no owner here
                if sim > best.get(rid, -1.0):
                    best[rid] = sim
        return sorted(best.items(), key=lambda item: -item[1])[:depth]

    def _focus(self, version: IndexVersion, vector: np.ndarray, query: str, depth: int
               ) -> tuple[list[str], dict[str, float]]:
        """Records of the documents whose title best matches the message, and the similarity
        of their title."""
        cfg = self.config
        found = self.kb.vector_index(version, "t").search(vector, cfg.focus_titles * 2)
        maps = version.search_maps
        by_title: dict[str, float] = {}
        for key, sim in found:
            title = maps.title_of_key.get(key, "")
            if title and title not in by_title:
                by_title[title] = sim
        keyword_titles = [t for t, _ in version.keyword_titles.search(query, cfg.focus_titles)]
        fused = fuse({"dense": list(by_title)[: cfg.focus_titles], "keyword": keyword_titles},
                     {"dense": 1.0, "keyword": 1.0}, cfg.rrf_k)
        titles = sorted(fused, key=lambda t: -fused[t])[: cfg.focus_titles]
        members = maps.members
        similarity = {rid: by_title.get(t, 0.0) for t in titles for rid in members.get(t, ())}
        return [rid for t in titles for rid in members.get(t, ())][:depth], similarity

    def _title_similarity(self, version: IndexVersion, vector: np.ndarray, ids: list[str]
                          ) -> dict[str, float]:
        """Cosine similarity of each record's title to the query."""
        keys = {rid: key for rid in ids if (key := version.title_vector_keys.get(rid))}
        found = self.kb.vector_index(version, "t").vectors(list(set(keys.values())))
        return {rid: float(found[key] @ vector) for rid, key in keys.items() if key in found}

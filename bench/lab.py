"""Retrieval experiments on LiveQA-Med DEV: variants of the bot's lists, measured in one process.

    DATA_DIR=... python bench/lab.py     # the reference row; import Lab for variants

Loads the active index version once (the bot's exact vector indexes and BM25 indexes), embeds
the DEV messages once, then measures each variant with `bot.evaluation`. Rows come out as a
Markdown table for bench/experiments.md.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.abbreviations import expand  # noqa: E402
from bot.evaluation import evaluate, load_qrels, load_questions, normalise_qid  # noqa: E402
from bot.keyword_index import tokenize  # noqa: E402
from bot.knowledge_base import KnowledgeBase  # noqa: E402
from bot.liveqa import question_text  # noqa: E402
from bot.query import clean_query  # noqa: E402
from bot.retrieval import Retriever, fuse  # noqa: E402
from bot.settings import load_settings  # noqa: E402

DEV = REPO.parent / "shared" / "data" / "liveqa-med" / "dev"


@dataclass
class Query:
    qid: str
    text: str  # cleaned
    words: str  # with abbreviation long forms
    vector: np.ndarray


class Lab:
    """Exact matrices and BM25 indexes of one version, and the DEV questions embedded."""

    def __init__(self, folder: Path = DEV, field: str = "message") -> None:
        self.kb = KnowledgeBase(load_settings())
        self.version = self.kb.current()
        self.retriever = Retriever(self.kb)
        v = self.version
        rows = v.chunk_rows()
        q_index, t_index = self.kb.vector_index(v, "q"), self.kb.vector_index(v, "t")
        self.q_index, self.t_index = q_index, t_index  # the bot's own exact indexes
        self.q_matrix, self.t_matrix = q_index.matrix, t_index.matrix
        owners: dict[str, list[str]] = {}
        for key, rid, part in rows:
            if part in ("q", "t"):
                owners.setdefault(key, []).append(rid)
        self.q_owner = [owners[k] for k in q_index.keys]
        t_rids = [owners[k][0] for k in t_index.keys]
        titles = v.titles(t_rids)
        self.t_title = [titles.get(r, "") for r in t_rids]
        all_ids = [rid for rid, _ in v._rows("SELECT id, pos FROM records ORDER BY pos")]
        self.title_of = v.titles(all_ids)
        self.members = v.records_by_title(sorted(set(self.title_of.values())))
        self.rid_row = {}
        for row, rids in enumerate(self.q_owner):
            for rid in rids:
                self.rid_row[rid] = row
        qs = load_questions(folder / "questions.jsonl")
        self.qrels = load_qrels(folder / "qrels.tsv")
        texts = [clean_query(question_text(q, field)) for q in qs]
        vecs = self.kb.embedder.embed(texts)
        self.queries = [Query(normalise_qid(q["id"]), t, expand(t, v.abbreviations), np.asarray(x))
                        for q, t, x in zip(qs, texts, vecs, strict=True)]

    # ----- lists -----
    def dense(self, vec: np.ndarray, depth: int = 300) -> list[tuple[str, float]]:
        out, seen = [], set()
        for key, sim in self.q_index.search(vec, depth):
            for rid in self.q_owner[self.q_index.row[key]]:
                if rid not in seen:
                    seen.add(rid)
                    out.append((rid, sim))
        return out

    def title_dense(self, vec: np.ndarray, depth: int = 100) -> list[tuple[str, float]]:
        out, seen = [], set()
        for key, sim in self.t_index.search(vec, depth):
            t = self.t_title[self.t_index.row[key]]
            if t and t not in seen:
                seen.add(t)
                out.append((t, sim))
        return out

    def focus_titles(self, q: Query, n: int = 50, k: int = 60) -> list[str]:
        dense = [t for t, _ in self.title_dense(q.vector, n * 2)][:n]
        kw = [t for t, _ in self.version.keyword_titles.search(q.words, n)]
        f = fuse({"d": dense, "k": kw}, {"d": 1, "k": 1}, k)
        return sorted(f, key=lambda t: -f[t])[:n]

    def focus(self, q: Query, n: int = 50, depth: int = 300) -> list[str]:
        titles = self.focus_titles(q, n)
        return [rid for t in titles for rid in self.members.get(t, ())][:depth]

    def keyword(self, q: Query, depth: int = 300, text: str | None = None) -> list[str]:
        return [r for r, _ in self.version.keyword.search(text or q.words, depth)]

    def keyword_questions(self, q: Query, depth: int = 300, text: str | None = None) -> list[str]:
        return [r for r, _ in self.version.keyword_questions.search(text or q.words, depth)]

    def base_lists(self, q: Query) -> dict[str, list[str]]:
        return {"dense": [r for r, _ in self.dense(q.vector)], "keyword": self.keyword(q),
                "keyword_questions": self.keyword_questions(q), "focus": self.focus(q)}

    # ----- measuring -----
    def measure(self, ranker: Callable[[Query], list[str]]) -> dict[str, float]:
        run = {q.qid: ranker(q)[:100] for q in self.queries}
        return evaluate(run, self.qrels, [q.qid for q in self.queries])


def rrf(lists: dict[str, list[str]], weights: dict[str, float] | None = None, k: int = 60
        ) -> list[str]:
    """Fused order of ranked lists."""
    w = weights or dict.fromkeys(lists, 1.0)
    f = fuse(lists, w, k)
    return sorted(f, key=lambda r: (-f[r], r))


def row(name: str, m: dict[str, float]) -> str:
    return (f"| {name} | {m['avgScore']:.3f} | {m['MAP@10>=2']:.3f} | {m['MRR@10>=2']:.3f} | "
            f"{m['nDCG@10']:.3f} | {m['judged@10']:.3f} |")


def top_terms(lab: Lab, ids: list[str], q: Query, n: int) -> str:
    """RM3-like expansion terms: the most frequent stemmed words of the top records."""
    records = lab.version.records(ids)
    counts: dict[str, float] = {}
    for rid in ids:
        rec = records.get(rid)
        if rec is None:
            continue
        toks = tokenize(f"{rec.title} {rec.question}")
        for t in set(toks):
            counts[t] = counts.get(t, 0.0) + 1.0
    original = set(tokenize(q.words))
    extra = [t for t, _ in sorted(counts.items(), key=lambda x: -x[1]) if t not in original][:n]
    return " ".join(extra)


if __name__ == "__main__":
    lab = Lab()
    print(json.dumps({"questions": len(lab.queries), "q_vectors": len(lab.q_index.keys)}))
    print("| run | avgScore | MAP@10 ≥2 | MRR@10 ≥2 | nDCG@10 | judged@10 |")
    print("|---|---|---|---|---|---|")
    print(row("exact dense, current lists", lab.measure(lambda q: rrf(lab.base_lists(q)))))

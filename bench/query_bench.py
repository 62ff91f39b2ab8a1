"""Retrieval latency over the LiveQA-Med DEV questions and the serving process's memory.

Run in its own process so the memory figure is that of a serving process:
    python bench/query_bench.py [--data-dir DIR] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.knowledge_base import KnowledgeBase  # noqa: E402
from bot.liveqa import question_text  # noqa: E402
from bot.retrieval import Retriever  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.vector_index import ExactIndex  # noqa: E402

DEV = REPO.parent / "shared" / "data" / "liveqa-med" / "dev"


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def measure(data_dir: Path | None, repeat: int, limit: int) -> dict:
    """Warm up, then time `repeat` passes over the DEV questions."""
    settings = load_settings(**({"data_dir": data_dir} if data_dir else {}))
    retriever = Retriever(KnowledgeBase(settings))
    texts = [question_text(json.loads(line))
             for line in (DEV / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    started = time.perf_counter()
    retriever.search(texts[0], limit=limit)  # loads the model, the index and Chroma
    warmup = time.perf_counter() - started
    for text in texts:
        retriever.search(text, limit=limit)
    latencies = []
    for _ in range(repeat):
        for text in texts:
            t0 = time.perf_counter()
            retriever.search(text, limit=limit)
            latencies.append((time.perf_counter() - t0) * 1000)
    version = retriever.kb.current()
    plain = plain_queries(retriever.kb, version, texts, repeat, limit)
    p50 = percentile(latencies, 0.50)
    return {
        "records": version.manifest.records,
        "queries": len(latencies),
        "limit": limit,
        "p50_ms": round(p50, 2),
        "p95_ms": round(percentile(latencies, 0.95), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "mean_ms": round(statistics.fmean(latencies), 2),
        "plain_p50_ms": round(percentile(plain, 0.50), 2),
        "plain_p95_ms": round(percentile(plain, 0.95), 2),
        "ratio_p50": round(p50 / percentile(plain, 0.50), 2),
        "first_query_s": round(warmup, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "vector_store": settings.chroma_host or "embedded",
        "dense_search": ("exact" if isinstance(retriever.kb.vector_index(version, "q"), ExactIndex)
                         else "Chroma HNSW"),
    }


def plain_queries(kb: KnowledgeBase, version, texts: list[str], repeat: int,  # noqa: ANN001
                  limit: int) -> list[float]:
    """The reference: embed the message, ask Chroma for its nearest questions, read their
    records; the same process, model, store and messages as the bot's retrieval."""
    collection = kb.collection(version, "q")
    latencies = []
    for _ in range(repeat):
        for text in texts:
            t0 = time.perf_counter()
            vector = kb.embedder.embed([text])[0]
            found = collection.query(query_embeddings=[vector.tolist()], n_results=limit,
                                     include=["distances"])
            owners = version.chunk_owners(found["ids"][0])
            version.records([rid for key in found["ids"][0] for rid, _ in owners.get(key, ())])
            latencies.append((time.perf_counter() - t0) * 1000)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=int, default=12, help="records per query (engine: 12)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.data_dir, args.repeat, args.limit)
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()

"""Indexes for the server and scale benchmarks, built without re-running the embedding model.

    python bench/synthetic.py copy SRC_DATA_DIR [--json]
        the records of SRC's active version, ingested into the configured store (e.g. a
        `chroma run` server via CHROMA_HOST) with SRC's own vectors;
    python bench/synthetic.py scale SRC_DATA_DIR --records 500000 [--json]
        SRC's records repeated with question variations up to N records. A variation's vector is
        its base text's real vector plus small deterministic noise, so the store, the keyword
        indexes and the records table hold N real-sized entries; the model's time for N new
        texts is extrapolated from the measured embedding rate and reported separately.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.chunking import text_key  # noqa: E402
from bot.ingest import ingest  # noqa: E402
from bot.knowledge_base import KnowledgeBase  # noqa: E402
from bot.settings import load_settings  # noqa: E402

VARIANTS = ["", "Question: ", "I would like to know: ", "Please explain: ", "A reader asks: ",
            "My doctor mentioned this: ", "Asking for my mother: ", "Quick question: ",
            "From a patient forum: ", "Can you tell me: ", "Asking for a friend: "]


class StoreEmbedder:
    """Vectors of texts already embedded in another index; variations get noisy copies."""

    def __init__(self, source: KnowledgeBase, noise: float = 0.02) -> None:
        self.version = source.current()
        self.name = self.version.manifest.model
        self.dimension = self.version.manifest.dimension
        self.collections = [source.collection(self.version, role) for role in ("q", "t")]
        self.noise = noise
        self.base_texts = 0

    def _base(self, text: str) -> tuple[str, int]:
        for n, prefix in enumerate(VARIANTS[1:], start=1):
            if text.startswith(prefix):
                return text[len(prefix):], n
        return text, 0

    def embed(self, texts: list[str]) -> np.ndarray:
        """Look the base text up by its key; perturb the vector of a variation."""
        bases = [self._base(t) for t in texts]
        keys = [text_key(self.name, base) for base, _ in bases]
        found: dict[str, np.ndarray] = {}
        for collection in self.collections:
            wanted = [k for k in set(keys) if k not in found]
            if wanted:
                got = collection.get(ids=wanted, include=["embeddings"])
                found.update(zip(got["ids"], np.asarray(got["embeddings"]), strict=True))
        rows = []
        for text, key, (_base, variant) in zip(texts, keys, bases, strict=True):
            if key not in found:
                raise KeyError(f"no stored vector for {text[:60]!r}")
            vector = found[key].astype(np.float32)
            if variant:
                seed = int.from_bytes(hashlib.md5(text.encode()).digest()[:4], "little")
                vector = vector + np.random.default_rng(seed).normal(0, self.noise, vector.shape)
            else:
                self.base_texts += 1
            rows.append(vector / np.linalg.norm(vector))
        return np.asarray(rows, dtype=np.float32)


def write_records(source: KnowledgeBase, path: Path, total: int | None) -> int:
    """SRC's records as JSONL, with question variations until `total` records."""
    records = list(source.current().iter_records())
    total = total or len(records)
    written = 0
    with path.open("w", encoding="utf-8") as out:
        for variant, prefix in enumerate(VARIANTS * (total // (len(records) * len(VARIANTS)) + 1)):
            for record in records:
                if written >= total:
                    return written
                data = record.to_json()
                data.pop("source_file")
                if variant:
                    data["id"] = f"{record.id}~{variant}"
                    data["question"] = prefix + record.question
                out.write(json.dumps(data, ensure_ascii=False) + "\n")
                written += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["copy", "scale"])
    parser.add_argument("source", type=Path, help="DATA_DIR of an index built by ingest")
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = load_settings()
    source = KnowledgeBase(load_settings(data_dir=args.source, chroma_host=""))
    corpus = settings.data_dir / "synthetic-corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    written = write_records(source, corpus / "records.jsonl",
                            args.records if args.mode == "scale" else None)
    embedder = StoreEmbedder(source)
    started = time.perf_counter()
    report = ingest(settings, [corpus], embedder=embedder, progress=False)
    result = {"mode": args.mode, "records": written, "status": report.status,
              "seconds": report.seconds, "embedded": report.embedded,
              "peak_memory_mb": report.peak_memory_mb, "error": report.error,
              "wall_seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps(result) if args.json else result)
    if report.status == "failed":
        sys.exit(2)


if __name__ == "__main__":
    main()

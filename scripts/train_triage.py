"""Rebuild bot/triage/model.json from the labelled messages: python scripts/train_triage.py.

Trains on ../shared/triage/train.jsonl and the project's training writers (bench/triage_data:
w1-w4, w7-w13). The thresholds are chosen for recall first on out-of-fold scores: each writer's
messages scored by a model trained without that writer, rules included. w5 and w6, the
held-back test writers, are never read. The same data gives the same file: the encoder is
deterministic, so is the solver, and the weights are rounded."""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.triage import load_rules  # noqa: E402
from bot.triage.clauses import sentences  # noqa: E402
from bot.triage.encoder import E5Encoder  # noqa: E402
from bot.triage.semantic import (  # noqa: E402
    LEVELS,
    MAX_SENTENCES,
    MODEL_FILE,
    TriageModel,
    char_text,
    unit_vectors,
)

SHARED = ROOT.parent / "shared" / "triage"
OWN = ROOT / "bench" / "triage_data"
WRITERS = ("w1", "w2", "w3", "w4", "w7", "w8", "w9", "w10", "w11", "w12", "w13")  # not w5, w6
HELD_BACK = ("w5", "w6")
CACHE = ROOT / ".cache" / "triage-vectors.npz"
TARGET_EMERGENCY, TARGET_SERIOUS = 0.97, 0.95  # out of fold, rules and model together
C_LEVEL, C_CATEGORY, C_CHARS = 16.0, 8.0, 10.0
NGRAMS = (2, 4)


def read(paths: list[Path]) -> list[dict]:
    """Labelled rows of the given JSONL files."""
    rows = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                row = json.loads(line)
                if row.get("level") not in LEVELS or not isinstance(row.get("text"), str):
                    raise SystemExit(f"{path}:{number}: needs 'text' and a level in {LEVELS}")
                rows.append(row)
    return rows


class VectorCache:
    """Sentence vectors by text hash, so a retrain only encodes new sentences."""

    def __init__(self, encoder: E5Encoder) -> None:
        self.encoder = encoder
        self.vectors: dict[str, np.ndarray] = {}
        if CACHE.exists():
            with np.load(CACHE) as saved:
                self.vectors = {k: saved[k] for k in saved.files}

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(f"{E5Encoder.name}\n{text}".encode()).hexdigest()

    def units(self, text: str) -> tuple[np.ndarray, list[str]]:
        """The scored unit vectors of a message, as the semantic layer makes them."""
        parts = sentences(text, MAX_SENTENCES)
        missing = [p for p in parts if self.key(p) not in self.vectors]
        if missing:
            for part, vector in zip(missing, self.encoder.encode(missing), strict=True):
                self.vectors[self.key(part)] = vector
        return unit_vectors(np.stack([self.vectors[self.key(p)] for p in parts]), parts)

    def save(self) -> None:
        CACHE.parent.mkdir(exist_ok=True)
        np.savez(CACHE, **self.vectors)


def fit(x: np.ndarray, y: np.ndarray, c: float):  # noqa: ANN201 - a LogisticRegression
    """Multinomial logistic regression, classes balanced; lbfgs is deterministic."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit(x, y)


def fit_chars(texts: list[str], y: np.ndarray) -> dict:
    """TF-IDF character n-grams (char_wb, as bot.triage.semantic computes them) and a
    logistic regression, as the model file stores them."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAMS, sublinear_tf=True,
                                 min_df=5, lowercase=False, dtype=np.float64)
    matrix = vectorizer.fit_transform([char_text(t) for t in texts])
    model = fit(matrix, y, C_CHARS)
    order = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
    return {"ngram_range": list(NGRAMS), "ngrams": order,
            "idf": np.round(vectorizer.idf_, 4).tolist(),
            "weights": np.round(model.coef_, 4).tolist(),
            "bias": np.round(model.intercept_, 5).tolist()}


def choose_thresholds(s: np.ndarray, rows: list[dict], fixed: dict | None = None
                      ) -> tuple[dict, dict]:
    """The thresholds that reach the recall targets on the scored rows, rules and model
    together, with the fewest routine messages raised (falls back to the highest recall);
    with `fixed`, just the measures at those thresholds."""
    rules = load_rules()
    gold = np.array([LEVELS.index(r["level"]) for r in rows])
    by_rules = np.array([LEVELS.index(rules.classify(r["text"]).level) for r in rows])
    best, best_key = None, None
    grid = np.round(np.arange(0.10, 0.91, 0.025), 3)
    settings = [(ew, uw, min(ew + d1, 0.95), min(uw + d2, 0.95))
                for ew, uw in itertools.product(grid, grid[::2])
                # Sentences and pairs always count, with more evidence than the whole needs.
                for d1 in (0.1, 0.2, 0.3, 0.4, 0.5) for d2 in (0.1, 0.2)]
    if fixed:
        settings = [(fixed["emergency_whole"], fixed["urgent_whole"],
                     fixed["emergency_sentence"], fixed["urgent_sentence"])]
    for ew, uw, es, us in settings:
        level = np.where((s[:, 0] >= ew) | (s[:, 2] >= es), 2,
                         np.where((s[:, 1] >= uw) | (s[:, 3] >= us), 1, 0))
        level = np.maximum(level, by_rules)
        em = (level[gold == 2] == 2).mean()
        serious = (level[gold >= 1] >= 1).mean()
        false_em = (level[gold == 0] == 2).mean()
        false_any = (level[gold == 0] >= 1).mean()
        ok = em >= TARGET_EMERGENCY and serious >= TARGET_SERIOUS
        key = (ok, -(false_em + 0.5 * false_any) if ok else em + serious)
        if best_key is None or key > best_key:
            best_key = key
            best = ({"emergency_whole": float(ew), "urgent_whole": float(uw),
                     "emergency_sentence": round(float(es), 3),
                     "urgent_sentence": round(float(us), 3)},
                    {"emergency_recall": round(float(em), 3),
                     "urgent_or_higher_recall": round(float(serious), 3),
                     "routine_as_emergency": round(float(false_em), 3),
                     "routine_raised": round(float(false_any), 3)})
    return best


def build(train: list[dict], cache: VectorCache) -> dict:
    """The model file's content (thresholds left to choose) trained on `train`."""
    whole = np.stack([cache.units(r["text"])[0][0] for r in train])
    y = np.array([LEVELS.index(r["level"]) for r in train])
    level_model = fit(whole, y, C_LEVEL)
    serious = [i for i, r in enumerate(train) if r["level"] != "routine"]
    categories = sorted({(train[i]["category"], train[i]["level"]) for i in serious})
    names = [c for c, _ in categories]
    cat_model = fit(whole[serious], np.array([names.index(train[i]["category"])
                                              for i in serious]), C_CATEGORY)

    def rounded(a: np.ndarray) -> list:
        return np.round(a.astype(np.float64), 5).tolist()

    return {
        "encoder": cache.encoder.name,
        "levels": list(LEVELS),
        "level_weights": rounded(level_model.coef_),
        "level_bias": rounded(level_model.intercept_),
        "categories": names,
        "category_levels": [lv for _, lv in categories],
        "category_weights": rounded(cat_model.coef_),
        "category_bias": rounded(cat_model.intercept_),
        "chars": fit_chars([r["text"] for r in train], y),
        "thresholds": {"emergency_whole": 0.5, "urgent_whole": 0.5, "emergency_sentence": 0.9,
                       "urgent_sentence": 0.9},
    }


def scores(model: dict, rows: list[dict], cache: VectorCache) -> list[tuple]:
    """Per row: emergency and urgent-or-higher probability of the whole message, and the
    highest of each over its sentences and pairs, as the serving model computes them."""
    triage_model = TriageModel.from_dict(model)
    out = []
    for row in rows:
        units, texts = cache.units(row["text"])
        p = triage_model.level_probabilities(units, texts)
        out.append((p[0, 2], p[0, 1] + p[0, 2], p[1:, 2].max(initial=0.0),
                    (p[1:, 1] + p[1:, 2]).max(initial=0.0)))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    parser.add_argument("--writers", nargs="+", default=list(WRITERS),
                        help="own writers to train on (experiments only)")
    args = parser.parse_args()
    if set(args.writers) & set(HELD_BACK):
        raise SystemExit(f"{', '.join(HELD_BACK)} are the held-back test writers")
    cache = VectorCache(E5Encoder())
    files = [SHARED / "train.jsonl", *(OWN / f"{w}.jsonl" for w in args.writers)]
    by_file = {path: read([path]) for path in files}
    rows = [r for path in files for r in by_file[path]]
    oof_rows, oof_scores, spans = [], [], {}
    for path in files[1:]:
        rest = [r for other in files if other != path for r in by_file[other]]
        spans[path.name] = (len(oof_rows), len(oof_rows) + len(by_file[path]))
        oof_rows += by_file[path]
        oof_scores += scores(build(rest, cache), by_file[path], cache)
    model = build(rows, cache)
    thresholds, tuned = choose_thresholds(np.array(oof_scores), oof_rows)
    for name, (a, b) in spans.items():
        _, part = choose_thresholds(np.array(oof_scores[a:b]), oof_rows[a:b], thresholds)
        print(f"  out of fold {name}: {part}", file=sys.stderr)
    cache.save()
    model["thresholds"] = thresholds
    model["tuning"] = {"method": "out of fold, one own writer at a time",
                       "rows": len(oof_rows), **tuned}
    model["training"] = {"files": [p.name for p in files], "rows": len(rows),
                         "sha256": hashlib.sha256("".join(
                             p.read_text(encoding="utf-8") for p in files).encode()).hexdigest(),
                         "c_level": C_LEVEL, "c_category": C_CATEGORY, "c_chars": C_CHARS}
    args.out.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")) + "\n",
                        encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB): trained on {len(rows)} "
          f"messages, {len(model['categories'])} categories; thresholds {thresholds}; "
          f"out of fold: {tuned}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

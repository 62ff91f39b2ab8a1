"""Score the red-flag triage on labelled JSONL files: python bench/triage_eval.py FILE...

Per file, per language and per category: emergency recall, urgent-or-higher recall, routine
flagged as emergency, and latency p50/p95; then the latency of 1,000-character messages and
the memory the triage adds. Writes the tables to bench/triage_results.md (or --out)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "triage"
DEFAULT_FILES = [SHARED / "dev.jsonl", SHARED / "train.jsonl",
                 *sorted((ROOT / "bench" / "triage_data").glob("w*.jsonl"))]
RESULTS = ROOT / "bench" / "triage_results.md"
MAIN = ("en", "es", "zh")  # the language groups besides "the other languages"
HEADER = ("| {} | n | emergency recall | urgent-or-higher recall | routine → emergency "
          "| p50 ms | p95 ms |")


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _ratio(hits: int, total: int) -> str:
    return f"{hits / total:.3f} ({hits}/{total})" if total else "–"


def _row(name: str, items: list[tuple[str, str, float]]) -> str:
    """One table row from (gold, predicted, ms) triples."""
    if not items:
        return f"| {name} | 0 | – | – | – | – | – |"
    em = [p for g, p, _ in items if g == "emergency"]
    serious = [p for g, p, _ in items if g in ("emergency", "urgent")]
    routine = [p for g, p, _ in items if g == "routine"]
    ms = np.array([t for _, _, t in items])
    return (f"| {name} | {len(items)} | {_ratio(em.count('emergency'), len(em))} | "
            f"{_ratio(sum(p != 'routine' for p in serious), len(serious))} | "
            f"{_ratio(routine.count('emergency'), len(routine))} | "
            f"{np.percentile(ms, 50):.1f} | {np.percentile(ms, 95):.1f} |")


def read(path: Path) -> list[dict]:
    """Rows of a labelled JSONL file (`text`, `level`, optional `lang` and `category`)."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            if "text" not in row or row.get("level") not in ("emergency", "urgent", "routine"):
                raise SystemExit(f"{path}:{number}: needs 'text' and a 'level'")
            rows.append(row)
    return rows


def evaluate(path: Path, rows: list[dict], triage) -> tuple[list[str], list[str]]:  # noqa: ANN001
    """The report section of one file and its misses."""
    items, wrong = [], []
    by_lang, by_cat = defaultdict(list), defaultdict(list)
    for row in rows:
        start = time.perf_counter()
        verdict = triage.classify(row["text"])
        ms = (time.perf_counter() - start) * 1000
        item = (row["level"], verdict.level, ms)
        items.append(item)
        by_lang[row.get("lang", "?").split("-")[0]].append(item)
        by_cat[row.get("category", "?") if row["level"] != "routine" else "(routine)"].append(item)
        if verdict.level != row["level"]:
            wrong.append(f"- {row.get('id', '?')} ({row.get('lang', '?')}, "
                         f"{row.get('category', '?')}): {row['level']} -> {verdict.level} "
                         f"[{', '.join(f.loggable() for f in verdict.flags) or 'no flag'}]")
    lines = [f"## `{path.name}`", "", HEADER.format("set"), "|---|---|---|---|---|---|---|",
             _row("all", items), "", HEADER.format("language"), "|---|---|---|---|---|---|---|",
             *(_row(lang, by_lang[lang]) for lang in sorted(by_lang)),
             _row("**other 12 languages**", [i for lang in by_lang if lang not in MAIN
                                             for i in by_lang[lang]]), "",
             HEADER.format("category"), "|---|---|---|---|---|---|---|",
             *(_row(cat, by_cat[cat]) for cat in sorted(by_cat)), ""]
    return lines, wrong


def long_messages(rows: list[dict], count: int = 60, size: int = 1000) -> list[str]:
    """Messages of about `size` characters made of consecutive routine rows (deterministic):
    the worst case, where no rule ends the triage early and the model reads every sentence."""
    texts, out, i = [r["text"] for r in rows if r["level"] == "routine"], [], 0
    while len(out) < count and texts:
        message = ""
        while len(message) < size:
            message += texts[i % len(texts)] + " "
            i += 1
        out.append(message[:size])
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    parser.add_argument("--rules-only", action="store_true", help="without the semantic model")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--misses", action="store_true", help="list every misclassified row")
    args = parser.parse_args(argv[1:])
    before = rss_mb()
    from bot.triage import load_default

    triage = load_default(semantic=not args.rules_only)
    triage.classify("warm-up: load the encoder, the model and the language detector")
    report = [f"# Triage results ({'rules only' if args.rules_only else 'rules + model'})", ""]
    all_rows = []
    for path in args.files:
        rows = read(path)
        all_rows += rows
        lines, wrong = evaluate(path, rows, triage)
        report += lines
        if args.misses:
            report += [f"### Misclassified in `{path.name}` ({len(wrong)})", "", *wrong, ""]
    timings, model_path = [], []
    for message in long_messages(all_rows):
        start = time.perf_counter()
        triage.classify(message)
        timings.append((time.perf_counter() - start) * 1000)
        if triage.semantic is not None:  # the worst case: no rule ends the triage early
            start = time.perf_counter()
            triage.rules.classify(message)
            triage.semantic.flags(message)
            model_path.append((time.perf_counter() - start) * 1000)
    grown = rss_mb() - before
    worst = (f"; rules and model on every one (no rule emergency to stop early): p50 "
             f"{np.percentile(model_path, 50):.1f} ms, p95 {np.percentile(model_path, 95):.1f} ms"
             if model_path else "")
    report += ["## Latency and memory", "",
               f"- 1,000-character messages ({len(timings)}): p50 "
               f"{np.percentile(timings, 50):.1f} ms, p95 {np.percentile(timings, 95):.1f} ms"
               + worst,
               f"- memory added by the triage (RSS after loading and classifying): {grown:.0f} MB",
               ""]
    print("\n".join(report))
    args.out.write_text("\n".join(report) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

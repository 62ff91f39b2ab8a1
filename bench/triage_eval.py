"""Score the red-flag triage on labelled JSONL: python bench/triage_eval.py [FILE]."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.triage import Triage, load_default  # noqa: E402

LEVELS = ("emergency", "urgent", "routine")
DEFAULT = ROOT.parent / "shared" / "triage" / "dev.jsonl"
RESULTS = ROOT / "bench" / "triage_results.md"


def _ratio(hits: int, total: int) -> str:
    """`hits/total = 0.xxx`, or n/a when there is nothing to count."""
    return f"{hits}/{total} = {hits / total:.3f}" if total else "n/a"


def evaluate(rows: list[dict], triage: Triage) -> tuple[list[str], list[str]]:
    """Report lines and misclassified-row lines for labelled `rows`."""
    start = time.perf_counter()
    preds = [triage.classify(row["text"]) for row in rows]
    per_msg_ms = (time.perf_counter() - start) * 1000 / max(len(rows), 1)
    pairs = [(row["level"], pred.level) for row, pred in zip(rows, preds, strict=True)]
    confusion = Counter(pairs)
    gold = Counter(g for g, _ in pairs)
    serious = gold["emergency"] + gold["urgent"]
    lines = [
        f"messages: {len(rows)} ({', '.join(f'{lv} {gold[lv]}' for lv in LEVELS)})",
        f"emergency recall: {_ratio(confusion['emergency', 'emergency'], gold['emergency'])}",
        "urgent-or-higher recall: "
        + _ratio(sum(confusion[g, p] for g in LEVELS[:2] for p in LEVELS[:2]), serious),
        f"routine flagged emergency: {_ratio(confusion['routine', 'emergency'], gold['routine'])}",
        f"exact level accuracy: {_ratio(sum(confusion[lv, lv] for lv in LEVELS), len(rows))}",
        f"mean time per message: {per_msg_ms:.3f} ms",
        "",
        "| gold \\ predicted | " + " | ".join(LEVELS) + " |",
        "|---|" + "---|" * len(LEVELS),
        *(f"| {g} | " + " | ".join(str(confusion[g, p]) for p in LEVELS) + " |" for g in LEVELS),
    ]
    wrong = [f"- {row.get('id', i)} ({row.get('lang', '?')}): {row['level']} -> {pred.level}"
             f" [{pred.matched or 'no rule'}]"
             for i, (row, pred) in enumerate(zip(rows, preds, strict=True))
             if pred.level != row["level"]]
    return lines, wrong


def main(argv: list[str]) -> int:
    """Evaluate the file named in argv (or the shared dev set), print and write the results."""
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT
    text = path.read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    lines, wrong = evaluate(rows, load_default())
    report = [f"# Triage results on `{path.name}`", "", *lines, "",
              f"## Misclassified ({len(wrong)})", "", *(wrong or ["- none"])]
    print("\n".join(report))
    RESULTS.write_text("\n".join(report) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

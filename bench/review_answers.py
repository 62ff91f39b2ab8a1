"""The bot's answers to the review set, for a physician-style review (bench/review/README.md).

    DATA_DIR=<index> python bench/review_answers.py [--split dev|held|all] [--out FILE.md]

Runs the real engine (the configured LLM, or offline without one) on each message of
bench/review/messages.jsonl and writes a Markdown file: message, what a good answer needs, the
answer exactly as the person sees it, its mode, triage level, language and sources.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.engine import Engine  # noqa: E402
from bot.settings import get_settings  # noqa: E402

MESSAGES = REPO / "bench" / "review" / "messages.jsonl"


async def answer_all(split: str) -> list[dict]:
    engine = Engine(get_settings())
    items = [json.loads(line) for line in MESSAGES.read_text(encoding="utf-8").splitlines()
             if line.strip()]
    out = []
    for item in items:
        if split != "all" and item["split"] != split:
            continue
        started = time.perf_counter()
        answer = await engine.answer(item["text"])
        out.append({**item, "answer": answer.text, "mode": answer.mode, "level": answer.triage,
                    "language": answer.language, "seconds": round(time.perf_counter() - started, 2),
                    "sources": [f"{s.kind}: {s.title} ({s.similarity:.2f})"
                                for s in answer.sources]})
    return out


def markdown(rows: list[dict]) -> str:
    lines = ["# Review answers", ""]
    for row in rows:
        lines += [f"## {row['id']} ({row['lang']}, {row['kind']}, {row['split']})", "",
                  f"**Message:** {row['text']}", "", f"**Good answer:** {row['good_answer']}", "",
                  f"**Mode:** {row['mode']} · **level:** {row['level']} · **language:** "
                  f"{row['language']} · {row['seconds']} s · {len(row['answer'])} chars", "",
                  "**Sources:** " + ("; ".join(row["sources"]) or "none"), "", "```text",
                  row["answer"], "```", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="dev", choices=["dev", "held", "all"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rows = asyncio.run(answer_all(args.split))
    out = args.out or REPO / "bench" / "review" / f"answers-{args.split}.md"
    out.write_text(markdown(rows), encoding="utf-8")
    print(f"{len(rows)} answers -> {out}")


if __name__ == "__main__":
    main()

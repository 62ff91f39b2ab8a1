"""Write bench/stats_chart_example.png: the /stats chart of 30 days of synthetic answers and
votes, counted through the real store (a temporary database)."""

from __future__ import annotations

import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.stats import daily, format_table  # noqa: E402
from bot.stats_chart import render_png  # noqa: E402
from bot.telegram.storage import Store  # noqa: E402

OUT = Path(__file__).resolve().parent / "stats_chart_example.png"
SOURCES = [("clinic-knee", "Ibuprofen dose & knee pain"), ("clinic-ankle", "Swollen ankles"),
           ("medquad-0001", "What is gout?"), ("medquad-0002", "What causes tinnitus?")]


def main() -> None:
    """Fill a store with 30 days of made-up traffic and draw it."""
    rng = random.Random(15)
    end = datetime(2026, 12, 1, 12, tzinfo=UTC)
    now = [end.timestamp()]
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "bot.sqlite3", clock=lambda: now[0])
        for back in range(29, -1, -1):
            now[0] = (end - timedelta(days=back)).timestamp()
            for n in range(rng.randint(8, 30) + (30 - back) // 2):
                level = rng.choices(("routine", "urgent", "emergency"), (85, 11, 4))[0]
                if level == "emergency":
                    store.log_answer("emergency", "emergency", "", 0, False)
                    continue
                if rng.random() < 0.12:
                    store.log_answer(level, "no_match", "", 0, False)
                    answer_id = store.save_answer(1, 1000 + n, level, "no_match", [])
                else:
                    failed = rng.random() < 0.08
                    source, title = rng.choice(SOURCES)
                    store.log_answer(level, "extractive" if failed else "llm", source,
                                     int(failed) + int(rng.random() < 0.05), failed)
                    answer_id = store.save_answer(1, 1000 + n, level, "llm",
                                                  [{"id": source, "title": title}])
                if rng.random() < 0.3:
                    store.vote(answer_id, 1000 + n, 1 if rng.random() < 0.75 else -1)
        report = daily(store, 30)
        store.close()
    OUT.write_bytes(render_png(report))
    print(format_table(report))
    print(f"\nwrote {OUT}")


if __name__ == "__main__":
    main()

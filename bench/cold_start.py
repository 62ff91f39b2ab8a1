"""Cold start on a full index: `symptom-bot ask` in a fresh process, and a restarted bot's
first answer (real `symptom-bot run` against the fake Bot API, no LLM: the offline answer).

    DATA_DIR=<index of MedQuAD> python bench/cold_start.py [--runs 3]   # bench/cold_start.json

(a) `ask`: wall time of the whole process, best and median of the runs (the page cache warm,
    as after any earlier run on the host; the first run after an ingest is reported apart).
(b) `run`: time from starting the process to the answer of a message that was already waiting
    when it started (Telegram keeps updates while a bot restarts).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.fakes.telegram_api import FakeBotApi  # noqa: E402
from tests.telegram_helpers import TOKEN  # noqa: E402

QUESTION = "my muscles twitch all day and I read it could be ALS"
USER = 4242


def bench_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "TELEGRAM_", "EMBEDDING_", "WEBHOOK_"))}
    env.update(HF_HUB_OFFLINE="1", LOG_LEVEL="INFO", TRIAGE_SECOND_OPINION="false", **extra)
    return env


def time_ask() -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bot.cli", "ask", QUESTION], env=bench_env(),
                          cwd=REPO, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return time.perf_counter() - started


async def time_first_answer() -> float:
    # The bot gets a DATA_DIR of its own that links to the index: a fake Bot API numbers its
    # updates from the same start each run, and an inbox kept from an earlier run would take
    # them for updates already answered (nor may a benchmark touch an operator's database).
    data = Path(os.environ.get("DATA_DIR", "data")).resolve()
    own = Path(tempfile.mkdtemp(prefix="cold-start-"))
    for name in ("index", "chroma"):
        (own / name).symlink_to(data / name)
    async with FakeBotApi(token=TOKEN) as api:
        api.send_text(USER, QUESTION)  # waiting before the bot starts
        env = bench_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=api.base_url,
                        DATA_DIR=str(own))
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", env=env, cwd=REPO,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            await api.wait_for(lambda: any(m.callback_data for m in api.messages_in(USER)),
                               120, "the first answer")
            return time.perf_counter() - started
        finally:
            process.terminate()
            await process.wait()
            shutil.rmtree(own, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bot-only", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "cold_start.json")
    args = parser.parse_args()
    asks = [time_ask() for _ in range(args.runs if not args.bot_only else 0)] or [0.0]
    firsts = [asyncio.run(time_first_answer()) for _ in range(args.runs)]
    result = {
        "data_dir": os.environ.get("DATA_DIR", "data"),
        "ask_seconds": [round(s, 2) for s in asks],
        "ask_median": round(statistics.median(asks), 2),
        "first_answer_seconds": [round(s, 2) for s in firsts],
        "first_answer_median": round(statistics.median(firsts), 2),
        "load_average": os.getloadavg()[0],
        "measured": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

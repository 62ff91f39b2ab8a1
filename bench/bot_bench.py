"""Latency of the Telegram bot through the real path: FakeBotApi + the PTB Application (served
as `symptom-bot run` serves it) + the real Engine on a small index (fake embedder) + FakeOpenAI.

    python bench/bot_bench.py            # writes bench/bot_results.json

(a) 50 people ask at the same moment, the LLM takes 1 s: p50 / p95 wait for the full answer.
(b) 100 people at once, 1 s LLM: when is everybody fully answered.
(c) the bot's own overhead per message with an instant LLM: 200 messages one after another,
    time from the update being available to the final message received, minus the LLM's time.
Distinct people throughout and a high rate limit, so the fair-use rules do not distort it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bot.telegram.streaming import StreamConfig  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI  # noqa: E402
from tests.fakes.telegram_api import FakeBotApi  # noqa: E402
from tests.telegram_helpers import TWITCH, build_index, running_bot  # noqa: E402

REPLY = ("Muscle twitching that gets worse with anxiety is usually benign [1]. The doctor who "
         "answered a very similar question explained that ALS is not the main consideration "
         "without weakness or wasting [1].\n\nIf the twitching lasts for weeks, or you notice "
         "weakness, trouble swallowing or breathing, see a neurologist [1].")
OVERRIDES = {"rate_limit_per_minute": 10_000, "llm_timeout": 30.0}


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear between ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class RemoteLLM:
    """A FakeOpenAI served by another process, as a real LLM server would be."""

    base_url: str


@contextlib.asynccontextmanager
async def llm_process(delay: float) -> AsyncIterator[RemoteLLM]:
    """Start `bot_bench.py --serve-llm DELAY` and hand out its URL; stop it at the end."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve-llm", str(delay),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    try:
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        yield RemoteLLM(line.decode().strip())
    finally:
        process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()


async def serve_llm(delay: float) -> None:
    """The other side of llm_process: serve until stdin closes."""
    async with FakeOpenAI(REPLY, delay=delay) as llm:
        print(llm.base_url, flush=True)
        await asyncio.to_thread(sys.stdin.read)


async def crowd(root: Path, people: int, llm_delay: float, per_second: float = 30.0) -> dict:
    """`people` distinct people send a question at the same moment (the LLM in its own process,
    as a real one would be)."""
    async with FakeBotApi() as api, llm_process(llm_delay) as llm, \
            running_bot(root, api, llm, stream=StreamConfig(), per_second=per_second,
                        db_path=root / f"crowd{people}-{per_second}", **OVERRIDES) as bot:
        users = [100_000 + n for n in range(people)]
        started = time.monotonic()
        for user in users:
            api.send_text(user, TWITCH)

        async def wait(user: int) -> float:
            await bot.final(user, timeout=120)
            return time.monotonic() - started

        waits = await asyncio.gather(*(wait(u) for u in users))
        errors = len(api.errors)
        calls: dict[str, int] = {}
        for call in api.calls:
            if call.method != "getUpdates":
                calls[call.method] = calls.get(call.method, 0) + 1
    return {"people": people, "llm_seconds": llm_delay, "pace_per_second": per_second,
            "p50": percentile(waits, 50),
            "p95": percentile(waits, 95), "min": min(waits), "max": max(waits),
            "api_errors": errors,
            "api_calls": calls}


async def overhead(root: Path, messages: int) -> dict:
    """Sequential messages with an instant LLM: total time and the part that is not the LLM."""
    async with FakeBotApi() as api, FakeOpenAI(REPLY) as llm, \
            running_bot(root, api, llm, stream=StreamConfig(), db_path=root / "overhead",
                        **OVERRIDES) as bot:
        engine = bot.services.engine
        generate = engine._generate
        llm_time: list[float] = []

        async def timed(*args, **kwargs):  # the LLM call as the engine makes it
            started = time.monotonic()
            async for piece in generate(*args, **kwargs):
                yield piece
            llm_time.append(time.monotonic() - started)

        engine._generate = timed
        totals, own = [], []
        for n in range(messages + 5):
            user = 200_000 + n
            started = time.monotonic()
            api.send_text(user, TWITCH)
            await bot.final(user, timeout=30)
            total = time.monotonic() - started
            if n >= 5:  # warm-up: connections, caches
                totals.append(total)
                own.append(total - llm_time[-1])
        errors = len(api.errors)
    return {"messages": messages, "total_p50": percentile(totals, 50),
            "total_p95": percentile(totals, 95), "llm_p50": percentile(llm_time[5:], 50),
            "overhead_p50": percentile(own, 50), "overhead_p95": percentile(own, 95),
            "overhead_mean": statistics.fmean(own), "api_errors": errors}


async def main(out: Path, messages: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        root = build_index(Path(folder))
        results = {
            "a_50_people_1s_llm": await crowd(root, 50, 1.0),
            "b_100_people_1s_llm": await crowd(root, 100, 1.0),
            "c_overhead_instant_llm": await overhead(root, messages),
            "a_unpaced": await crowd(root, 50, 1.0, per_second=1e9),
            "b_unpaced": await crowd(root, 100, 1.0, per_second=1e9),
        }
    results["note"] = ("FakeBotApi on loopback, real PTB Application and Engine (fake embedder, "
                       "small index); production StreamConfig and Bot API pacing (30 visible "
                       "calls/s overall); the *_unpaced runs lift the pacing.")
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    a, b, c = (results[k] for k in ("a_50_people_1s_llm", "b_100_people_1s_llm",
                                    "c_overhead_instant_llm"))
    errors = sum(r["api_errors"] for r in results.values() if isinstance(r, dict))
    print(f"{'scenario':<44} {'p50':>8} {'p95':>8} {'max':>8}")
    print(f"{'(a) 50 people at once, 1 s LLM: full answer':<44} {a['p50']:>7.2f}s "
          f"{a['p95']:>7.2f}s {a['max']:>7.2f}s")
    print(f"{'(b) 100 people at once, 1 s LLM: full answer':<44} {b['p50']:>7.2f}s "
          f"{b['p95']:>7.2f}s {b['max']:>7.2f}s")
    for key, label in (("a_unpaced", "(a') same, no 30/s Bot API pacing"),
                       ("b_unpaced", "(b') same, no 30/s Bot API pacing")):
        r = results[key]
        print(f"{label:<44} {r['p50']:>7.2f}s {r['p95']:>7.2f}s {r['max']:>7.2f}s")
    print(f"{'(c) one message, instant LLM: total':<44} {c['total_p50'] * 1000:>6.1f}ms "
          f"{c['total_p95'] * 1000:>6.1f}ms")
    print(f"{'(c) ... of which the LLM call':<44} {c['llm_p50'] * 1000:>6.1f}ms")
    print(f"{'(c) ... bot overhead (total - LLM)':<44} {c['overhead_p50'] * 1000:>6.1f}ms "
          f"{c['overhead_p95'] * 1000:>6.1f}ms")
    print(f"API errors: {errors}; "
          f"results in {out}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200, help="messages for (c)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "bot_results.json")
    parser.add_argument("--serve-llm", type=float, metavar="DELAY", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_llm is not None:
        asyncio.run(serve_llm(args.serve_llm))
        sys.exit(0)
    asyncio.run(main(args.out, args.messages))

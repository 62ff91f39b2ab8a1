"""Latency of the Telegram bot through the real path: FakeBotApi + the PTB Application + the
real Engine + FakeOpenAI (in its own process).

    python bench/bot_bench.py            # writes bench/bot_results.json

(a) 50 people ask at the same moment, the LLM takes 1 s: first / p50 / p95 / last full answer
    (bot and Bot API fake in one process, fake embedder).
(b) 100 people at once, 1 s LLM, `symptom-bot run` in its own process with the real model: at
    Telegram's free pace (30/s), with paid broadcasts above it, and with no pace (capacity).
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
import subprocess
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

from bench.report import bot_table  # noqa: E402
from bot.telegram.streaming import StreamConfig  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI  # noqa: E402
from tests.fakes.telegram_api import FakeBotApi  # noqa: E402
from tests.telegram_helpers import (  # noqa: E402
    TOKEN,
    TWITCH,
    build_index,
    running_bot,
    write_corpus,
)

REPLY = ("Muscle twitching that gets worse with anxiety is usually benign [1]. The doctor who "
         "answered a very similar question explained that ALS is not the main consideration "
         "without weakness or wasting [1].\n\nIf the twitching lasts for weeks, or you notice "
         "weakness, trouble swallowing or breathing, see a neurologist [1].")
OVERRIDES = {"rate_limit_per_minute": 10_000, "llm_timeout": 30.0}
DEV = REPO.parent / "shared" / "data" / "liveqa-med" / "dev" / "questions.jsonl"


def crowd_messages(count: int) -> list[str]:
    """Distinct real consumer questions: the DEV e-mails, then their NLM summaries (no two
    people send the same text, so nothing is answered from a repeat)."""
    questions = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines()]
    texts = [f"{q.get('subject') or ''}\n{q['message']}".strip()[:3000] for q in questions]
    texts += [q["summary"] for q in questions if q.get("summary")]
    return [texts[n % len(texts)] for n in range(count)]


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


async def ask_at_once(api: FakeBotApi, users: list[int]) -> list[float]:
    """Each person sends a different real question at the same moment; seconds until each has
    the final answer (the message with the buttons)."""
    started = time.monotonic()
    for user, text in zip(users, crowd_messages(len(users)), strict=True):
        api.send_text(user, text)

    async def wait(user: int) -> float:
        await api.wait_for(lambda: any(m.callback_data for m in api.messages_in(user)), 120,
                           f"a final answer in chat {user}")
        return time.monotonic() - started

    return list(await asyncio.gather(*(wait(u) for u in users)))


def tally(api: FakeBotApi, users: list[int], waits: list[float], **about: object) -> dict:
    """The figures of one crowd: wait percentiles, answers from the LLM, Bot API calls."""
    calls: dict[str, int] = {}
    for call in api.calls:
        if call.method != "getUpdates":
            calls[call.method] = calls.get(call.method, 0) + 1
    from_llm = sum(1 for u in users
                   if any(m.plain_text.startswith(REPLY[:40]) for m in api.messages_in(u)))
    return {**about, "answers_from_llm": from_llm, "p50": percentile(waits, 50),
            "p95": percentile(waits, 95), "min": min(waits), "max": max(waits),
            "api_errors": len(api.errors), "api_calls": calls}


async def crowd(root: Path, people: int, llm_delay: float, per_second: float = 30.0) -> dict:
    """`people` distinct people send a question at the same moment (the LLM in its own process,
    as a real one would be)."""
    users = [100_000 + n for n in range(people)]
    async with FakeBotApi() as api, llm_process(llm_delay) as llm, \
            running_bot(root, api, llm, stream=StreamConfig(), per_second=per_second,
                        db_path=root / f"crowd{people}-{per_second}", **OVERRIDES):
        waits = await ask_at_once(api, users)
        return tally(api, users, waits, people=people, llm_seconds=llm_delay,
                     pace_per_second=per_second)


def real_index(root: Path) -> Path:
    """The Telegram tests' corpus ingested with the real model (`symptom-bot ingest`)."""
    write_corpus(root / "knowledge")
    env = {**os.environ, "DATA_DIR": str(root / "data"), "KNOWLEDGE_DIR": str(root / "knowledge"),
           "HF_HUB_OFFLINE": "1", "LOG_LEVEL": "WARNING"}
    subprocess.run([sys.executable, "-m", "bot.cli", "ingest"], env=env, cwd=REPO, check=True,
                   capture_output=True)
    return root


async def crowd_process(root: Path, people: int, llm_delay: float, per_second: float = 30.0,
                        paid: bool = False) -> dict:
    """`people` at once against `symptom-bot run` in its own process with the real model; the
    Bot API fake in this process and the LLM fake in a third, as the real services would be."""
    async with FakeBotApi() as api, llm_process(llm_delay) as llm:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("OPENAI_", "TELEGRAM_", "CHROMA_", "EMBEDDING_"))}
        env.update(DATA_DIR=str(root / "data"), KNOWLEDGE_DIR=str(root / "knowledge"),
                   HF_HUB_OFFLINE="1", LOG_LEVEL="WARNING", TELEGRAM_BOT_TOKEN=TOKEN,
                   TELEGRAM_API_BASE_URL=api.base_url, OPENAI_API_KEY="test",
                   OPENAI_BASE_URL=llm.base_url, OPENAI_MODEL="fake", LLM_TIMEOUT="30",
                   RATE_LIMIT_PER_MINUTE="10000", TELEGRAM_MESSAGES_PER_SECOND=str(per_second),
                   TELEGRAM_PAID_BROADCAST=str(paid).lower())
        # A bot with no history: a known person's message would be taken as a follow-up.
        for stale in (root / "data").glob("bot.sqlite3*"):
            stale.unlink()
        users = [300_000 + n for n in range(people)]
        bot = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run",
                                                   env=env, cwd=REPO)
        try:
            await api.wait_for(lambda: api.calls_to("getUpdates"), 120, "the bot to poll")
            waits = await ask_at_once(api, users)
        finally:
            bot.terminate()
            await bot.wait()
        paid_sent = sum(1 for c in api.calls_to("sendMessage")
                        if c.params.get("allow_paid_broadcast") in (True, "true"))
        return tally(api, users, waits, people=people, llm_seconds=llm_delay,
                     pace_per_second=per_second, paid_broadcast=paid, paid_messages=paid_sent)


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


async def main(out: Path, messages: int, index: Path | None) -> dict:
    results: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        root = build_index(Path(folder) / "fake")
        results["a_50_people_1s_llm"] = await crowd(root, 50, 1.0)
        results["b_in_process_30s"] = await crowd(root, 100, 1.0)
        results["b_in_process_unpaced"] = await crowd(root, 100, 1.0, per_second=1e9)
        results["c_overhead_instant_llm"] = await overhead(root, messages)
        real = index or real_index(Path(folder) / "real")
        results["real_index"] = str(index or "the test corpus (39 records)")
        results["b_100_people_1s_llm"] = await crowd_process(real, 100, 1.0)
        results["b_paid_broadcast"] = await crowd_process(real, 100, 1.0, paid=True)
        results["b_unpaced"] = await crowd_process(real, 100, 1.0, per_second=1e6)
    results["note"] = (
        "fake embedder rows and (c): FakeBotApi and the real PTB Application + Engine in one "
        "process (fake embedder, small index), FakeOpenAI in its own process. real model rows: "
        "`symptom-bot run` in its own process with all-MiniLM-L6-v2 on the index named in "
        "real_index, FakeBotApi in the benchmark process, FakeOpenAI in a third. Distinct real "
        "messages "
        "(LiveQA DEV e-mails and summaries); production StreamConfig; pace 30 visible calls/s "
        "unless stated. Times from the moment the messages are available to the bot.")
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(bot_table(results))
    errors = sum(r["api_errors"] for r in results.values() if isinstance(r, dict))
    print(f"API errors: {errors}; results in {out}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200, help="messages for (c)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "bot_results.json")
    parser.add_argument("--index", type=Path, help="a folder holding data/ (an ingested index, "
                        "e.g. the full MedQuAD) for the real-model rows; default: the test corpus")
    parser.add_argument("--serve-llm", type=float, metavar="DELAY", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_llm is not None:
        asyncio.run(serve_llm(args.serve_llm))
        sys.exit(0)
    asyncio.run(main(args.out, args.messages, args.index))

"""The Telegram package's pieces on their own: HTML rendering and splitting, the SQLite store,
the per-person limits, the flood-control retry."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest
from telegram.error import RetryAfter

from bot.answer import Answer, Source
from bot.telegram import render
from bot.telegram.limits import OneAtATime, RateLimit
from bot.telegram.retry import RetryingRateLimiter, Skipped
from bot.telegram.storage import SCHEMA_VERSION, StorageError, Store
from tests.fakes.telegram_html import parse_html

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
DISCLAIMER = "ℹ️ Not medical advice."


def answer(body: str, sources: list[Source] | None = None, notice: str = "") -> Answer:
    return Answer(text="", triage="routine", mode="llm", body=body, disclaimer=DISCLAIMER,
                  notice=notice, sources=sources or [])


def source(number: int = 1, title: str = "Knee <b>pain</b> & ice", passage: str = "") -> Source:
    return Source(number=number, id=f"r{number}", kind="doctor_reply", title=title,
                  doctor="Wu <M> & Co", department="Orthopedics", hospital="", replied="2024-03-02",
                  url="https://example.org/?a=1&b=2", score=1.0, similarity=0.9, passage=passage)


def check(parts: list[str]) -> list[str]:
    """Every part parses as strict Telegram HTML and fits; returns the plain texts."""
    plain = []
    for part in parts:
        parsed = parse_html(part, strict=True)
        assert 0 < len(parsed.text) <= 4096 and render.size(part) <= 4096
        plain.append(parsed.text)
    return plain


def test_everything_is_escaped_and_the_disclaimer_is_last():
    parts = render.answer_parts(answer("## Advice\nUse **ice** if 1 < 2 & 3 > 2 [1].",
                                       [source()], notice="⚠️ See a doctor <soon>."))
    [plain] = check(parts)
    assert plain.startswith("⚠️ See a doctor <soon>.\n\nAdvice\nUse ice if 1 < 2 & 3 > 2 [1].")
    assert "Sources\n[1] Dr. Wu <M> & Co, Orthopedics, replied 2024-03-02: “Knee <b>pain</b>" \
        in plain
    assert plain.endswith(DISCLAIMER)
    assert "<b>Advice</b>" in parts[0] and "<b>ice</b>" in parts[0]
    assert "&lt;b&gt;pain&lt;/b&gt; &amp; ice" in parts[0]


@pytest.mark.parametrize("separator", ["\n\n", "\n", " "])
def test_long_text_is_split_into_valid_parts_keeping_the_order(separator):
    units = [f"Unit {n} <x> & **bold {n}** " + "é" * 90 for n in range(150)]
    parts = render.answer_parts(answer(separator.join(units), [source()]))
    plain = check(parts)
    assert len(parts) >= 4 and plain[-1].endswith(DISCLAIMER)
    joined = " ".join(plain)
    positions = [joined.index(f"Unit {n} <x> & bold {n} ") for n in range(150)]
    assert positions == sorted(positions)


def test_a_single_huge_word_is_cut_and_still_valid():
    parts = render.answer_parts(answer("&" * 9000))
    plain = check(parts)
    assert "".join(plain).count("&") == 9000


def test_sources_detail_fits_one_message():
    sources = [source(n, passage="Passage with <tags> & more. " * 200) for n in range(1, 5)]
    parts = render.sources_parts([s.__dict__ for s in sources])
    [plain] = check(parts)
    assert plain.count("Dr. Wu <M> & Co — Orthopedics") == 4 and "…" in plain


def test_store_migrates_bounds_history_and_forgets(tmp_path):
    store = Store(tmp_path / "bot.sqlite3")
    assert store.version == SCHEMA_VERSION
    for n in range(5):
        store.add_turns(1, 42, [("user", f"q{n}" * 10), ("assistant", f"a{n}" * 10)], keep=6)
    store.add_turns(1, 43, [("user", "other person")], keep=6)
    history = store.history(1, 42, turns=6, chars=10_000)
    assert [t for _, t in history] == [f"{x}{n}" * 10 for n in (2, 3, 4) for x in "qa"]
    assert [t for _, t in store.history(1, 42, turns=6, chars=45)] == ["q4" * 10, "a4" * 10]
    store.count_question(42)
    answer_id = store.save_answer(1, 42, "routine", "llm", [{"number": 1}])
    assert store.vote(answer_id, 42, 1) and not store.vote(answer_id, 42, 1)
    assert store.stats().thumbs_up == 1 and store.stats().people == 1
    store.close()
    again = Store(tmp_path / "bot.sqlite3")  # reopened: nothing lost, no migration again
    assert again.answer_sources(answer_id) == [{"number": 1}]
    assert again.forget(42) > 0 and not again.knows(42)
    assert again.history(1, 43, 6, 100) == [("user", "other person")]
    again.close()


def test_a_version_1_database_gains_the_inbox_and_keeps_its_data(tmp_path):
    from bot.telegram.storage import MIGRATIONS

    path = tmp_path / "bot.sqlite3"
    with sqlite3.connect(path) as db:  # as the bot before the inbox left it
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        db.executescript(MIGRATIONS[0])
        db.execute("INSERT INTO schema_version VALUES (1)")
        db.execute("INSERT INTO turns (chat_id, user_id, role, text, created) "
                   "VALUES (1, 42, 'user', 'kept', ?)", (time.time(),))
    store = Store(path)
    assert store.version == SCHEMA_VERSION >= 2
    assert store.history(1, 42, 6, 100) == [("user", "kept")]
    assert store._db.execute("SELECT COUNT(*) FROM inbox").fetchone() == (0,)
    store.close()


def test_store_refuses_a_newer_schema(tmp_path):
    path = tmp_path / "bot.sqlite3"
    Store(path).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION + 1,))
    with pytest.raises(StorageError, match="newer than this bot knows"):
        Store(path)


def test_rate_limit():
    limit = RateLimit(2, window=0.2)
    assert limit.check(1) == 0 and limit.check(1) == 0
    assert 0 < limit.check(1) <= 0.2 and limit.check(2) == 0


async def test_one_at_a_time_queues_and_drains():
    turns = OneAtATime(max_waiting=1)
    order: list[str] = []

    async def ask(name: str, pause: float) -> None:
        async with turns.turn(1):
            order.append(f"{name} start")
            await asyncio.sleep(pause)
            order.append(f"{name} end")

    first = asyncio.create_task(ask("a", 0.05))
    await asyncio.sleep(0)
    assert turns.busy(1) and not turns.full(1)
    second = asyncio.create_task(ask("b", 0.0))
    await asyncio.sleep(0)
    assert turns.full(1)
    await asyncio.gather(first, second)
    assert order == ["a start", "a end", "b start", "b end"] and not turns.busy(1)
    slow = asyncio.create_task(ask("slow", 10))
    await asyncio.sleep(0)
    assert await turns.drain(0.05) == 1 and turns.closing
    with pytest.raises(asyncio.CancelledError):
        await slow


async def test_retrying_rate_limiter():
    limiter = RetryingRateLimiter(max_retries=2, per_second=1000)
    calls: list[int] = []

    async def flaky() -> bool:
        calls.append(1)
        if len(calls) < 3:
            raise RetryAfter(0.01)
        return True

    assert await limiter.process_request(flaky, (), {}, "sendMessage", {}, None) is True
    assert [e for e, _ in limiter.retries] == ["sendMessage", "sendMessage"]
    calls.clear()
    with pytest.raises(RetryAfter):
        await limiter.process_request(flaky, (), {}, "sendMessage", {}, {"max_retries": 0})
    paced = RetryingRateLimiter(per_second=1)
    ok = await paced.process_request(lambda: asyncio.sleep(0, True), (), {}, "sendMessage", {},
                                     None)
    assert ok is True
    with pytest.raises(Skipped):
        await paced.process_request(lambda: asyncio.sleep(0, True), (), {}, "sendMessageDraft",
                                    {}, {"optional": True})


async def test_paid_broadcast_only_for_messages_above_the_free_pace():
    limiter = RetryingRateLimiter(per_second=2, paid_broadcast=True)
    sent: list[dict] = []

    async def send(data: dict) -> bool:
        sent.append(dict(data))
        return True

    started = time.monotonic()
    for n in range(5):
        data = {"chat_id": n, "text": "answer"}
        await limiter.process_request(send, (data,), {}, "sendMessage", data, None)
    assert time.monotonic() - started < 0.2  # nobody waited for the free pace
    assert [d.get("allow_paid_broadcast", False) for d in sent] == [False, False, True, True, True]
    assert limiter.paid_sent == 3
    with pytest.raises(Skipped):  # previews never pay: they are skipped as before
        await limiter.process_request(send, ({},), {}, "sendMessageDraft", {}, {"optional": True})
    edit: dict = {"text": "edited"}
    started = time.monotonic()
    await limiter.process_request(send, (edit,), {}, "editMessageText", edit, None)
    assert time.monotonic() - started >= 0.3 and "allow_paid_broadcast" not in sent[-1]
    free = RetryingRateLimiter(per_second=2)
    data = {"chat_id": 1}
    for _ in range(3):
        await free.process_request(send, (data,), {}, "sendMessage", data, None)
    assert "allow_paid_broadcast" not in data and free.paid_sent == 0

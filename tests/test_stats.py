"""The daily statistics: counted per day in the real store, read by `symptom-bot stats` and by
/stats (text and chart, sent privately), and holding no message text."""

from __future__ import annotations

import json
import os
import sqlite3
import struct
import subprocess
import sys
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.stats import Day, Report, SourceFeedback, daily, outcome
from bot.stats_chart import HEIGHT, LEGEND, LEVEL_COLORS, WIDTH, render_png
from bot.telegram import texts
from bot.telegram.admin import daily_lines
from bot.telegram.storage import MIGRATIONS, SCHEMA_VERSION, Store
from tests.fakes.openai_server import FakeOpenAI
from tests.telegram_helpers import (
    ADMIN,
    TWITCH,
    build_index,
    engine_for,
    running_bot,
    settings_for,
)

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

DAY = 86400
NOON = datetime(2026, 3, 10, 12, tzinfo=UTC).timestamp()  # a Tuesday, 2026-03-10
USER, OTHER, THIRD, FOURTH, FIFTH, GROUP = 8101, 8102, 8103, 8104, 8105, -1008100
EMERGENCY = "my husband's face is drooping on one side and his words are slurred"
URGENT = "I have had a high fever for four days"
NOTHING_LIKE_IT = "qwerty zxcvb asdfg"
MARKER = "Quokkaxylophone"  # a word found nowhere else: easy to look for in the files
WRITTEN = "Zebrafandango"  # what the fake LLM writes


class Clock:
    """A clock the test moves."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR, after checking the signature."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def png_pixels(data: bytes) -> set[tuple[int, int, int]]:
    """The colours of an 8-bit RGB PNG without filters (as bot/stats_chart.py writes it)."""
    width, _ = png_size(data)
    idat, at = b"", 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        chunk = data[at + 8:at + 8 + length]
        assert struct.unpack(">I", data[at + 8 + length:at + 12 + length])[0] == \
            zlib.crc32(kind + chunk)
        if kind == b"IDAT":
            idat += chunk
        at += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 3 + 1
    assert len(raw) % stride == 0
    return {tuple(raw[row + 1 + x * 3:row + 4 + x * 3]) for row in range(0, len(raw), stride)
            for x in range(width)}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("stats"))


# ------------------------------------------------------------------------- the store


def test_counts_per_day_through_the_store(tmp_path):
    clock = Clock(NOON - 9 * DAY)  # 2026-03-01: outside a 5-day window
    store = Store(tmp_path / "bot.sqlite3", clock=clock)
    store.log_answer("routine", "llm", "old-source", 0, False)
    clock.now = NOON - 3 * DAY  # 2026-03-07
    knee = store.save_answer(1, USER, "routine", "llm", [
        {"id": "clinic-knee", "title": "Ibuprofen dose & knee pain"},
        {"id": "clinic-ankle", "title": "Swollen ankles"}])
    store.log_answer("routine", "llm", "clinic-knee", 0, False)
    store.log_answer("routine", "llm", "clinic-knee", 0, False)
    nothing = store.save_answer(1, OTHER, "urgent", "no_match", [])
    store.log_answer("urgent", "no_match", "", 1, False)  # the rewrite failed
    assert store.vote(knee, USER, 1)
    clock.now = NOON - 2 * DAY  # 2026-03-08
    store.log_answer("emergency", "emergency", "", 0, False)
    store.log_answer("routine", "extractive", "clinic-knee", 2, True)  # LLM failed: quoted
    assert store.vote(knee, USER, -1)  # changed: the 👍 of the 7th no longer counts
    assert store.vote(knee, OTHER, 1) and store.vote(nothing, OTHER, -1)
    store.close()
    clock.now = NOON  # 2026-03-10; the 9th had nothing
    again = Store(tmp_path / "bot.sqlite3", clock=clock)  # reopened: the counters are kept
    report = daily(again, 5)
    again.close()

    assert [d.day for d in report.days] == [f"2026-03-{n:02}" for n in range(6, 11)]
    six, seven, eight, nine, ten = report.days
    assert seven.questions == 3 and seven.by_level == {"emergency": 0, "urgent": 1, "routine": 2}
    assert (seven.no_match, seven.llm_failures, seven.fallbacks) == (1, 1, 0)
    assert (seven.thumbs_up, seven.thumbs_down) == (0, 0)
    assert eight.questions == 2 and eight.by_level == {"emergency": 1, "urgent": 0, "routine": 1}
    assert (eight.no_match, eight.llm_failures, eight.fallbacks) == (0, 2, 1)
    assert (eight.thumbs_up, eight.thumbs_down) == (1, 2)
    assert eight.by_mode == {"emergency": 1, "extractive": 1}
    assert not (six.active or nine.active or ten.active) and ten == Day("2026-03-10")
    totals = report.totals
    assert (totals.questions, totals.no_match, totals.thumbs_up, totals.thumbs_down) == (5, 1, 1, 2)
    by_source = {(s.source, s.title): (s.answers, s.thumbs_up, s.thumbs_down)
                 for s in report.feedback_by_source}
    assert by_source == {("clinic-knee", "Ibuprofen dose & knee pain"): (3, 1, 1),
                         ("", ""): (1, 0, 1)}  # the emergency has no buttons: not counted
    assert report.feedback_by_source[0].source == "clinic-knee"  # most 👎 first, then 👍
    json.dumps(report.to_json())
    assert report.to_json()["days"][2] == {
        "day": "2026-03-08", "questions": 2,
        "by_level": {"emergency": 1, "urgent": 0, "routine": 1}, "no_match": 0,
        "thumbs_up": 1, "thumbs_down": 2, "llm_failures": 2, "fallbacks": 1,
        "by_mode": {"emergency": 1, "extractive": 1}}


def test_an_existing_database_gains_the_counters_and_keeps_its_data(tmp_path):
    path = tmp_path / "bot.sqlite3"
    with sqlite3.connect(path) as db:  # as the bot before the daily counters left it
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        db.executescript(MIGRATIONS[0] + MIGRATIONS[1])
        db.execute("INSERT INTO schema_version VALUES (2)")
        db.execute("INSERT INTO answers VALUES ('old1', 1, 42, ?, 'routine', 'llm', ?)",
                   (time.time(), json.dumps([{"id": "clinic-knee", "title": "Knee"}])))
        db.execute("INSERT INTO feedback VALUES ('old1', 42, 1, ?)", (time.time(),))
    store = Store(path)
    assert store.version == SCHEMA_VERSION
    assert store.stats().thumbs_up == 1
    assert store.vote("old1", 42, -1)  # the 👍 was given before the counters: none go below 0
    store.log_answer("routine", "llm", "clinic-knee", 0, False)
    [today] = daily(store, 1).days
    store.close()
    assert (today.questions, today.thumbs_up, today.thumbs_down) == (1, 0, 1)


def test_the_chart_stacks_the_levels_of_each_day():
    quiet = Report([Day(f"2026-03-{n:02}") for n in range(1, 31)], [])
    busy = Report([Day(f"2026-03-{n:02}") for n in range(1, 31)], [])
    busy.days[-1].questions, busy.days[-1].by_level["emergency"] = 1, 1
    busy.days[3].questions, busy.days[3].by_level["routine"] = 12, 12
    for report in (quiet, busy):
        assert png_size(render_png(report)) == (WIDTH, HEIGHT)
    colours = png_pixels(render_png(busy))
    assert {LEVEL_COLORS["emergency"], LEVEL_COLORS["routine"]} <= colours
    assert LEVEL_COLORS["urgent"] not in colours
    assert LEVEL_COLORS["emergency"] not in png_pixels(render_png(quiet))


async def test_an_answer_counts_the_llm_steps_that_failed(root):
    """The fake writes prose to everything: no usable second opinion (JSON expected), and a
    rewrite of the follow-up that shares no word with it; the answer itself is the LLM's."""
    async with FakeOpenAI(f"{WRITTEN} [1].") as llm:
        engine = engine_for(settings_for(root, llm, triage_second_opinion=True))
        answer = await engine.answer("and the shoulder twitching too?",
                                     [("user", TWITCH), ("assistant", "It is benign.")])
        llm.fail_next(500, count=3)
        quoted = await engine.answer(TWITCH)
    assert answer.mode == "llm" and sorted(answer.llm_failures) == ["rewrite", "second_opinion"]
    assert outcome(answer) == {"level": "routine", "mode": "llm", "source": answer.sources[0].id,
                               "llm_failures": 2, "fallback": False}
    assert quoted.mode == "extractive" and WRITTEN not in quoted.text
    assert sorted(quoted.llm_failures) == ["answer", "second_opinion"]
    assert outcome(quoted)["fallback"] is True


def test_a_busy_month_still_fits_one_telegram_message():
    days = [Day(f"2026-03-{n:02}", questions=12345, no_match=123, thumbs_up=1234,
                thumbs_down=123, llm_failures=123, fallbacks=123,
                by_level={"emergency": 123, "urgent": 1234, "routine": 10988})
            for n in range(1, 31)]
    sources = [SourceFeedback(f"src-{n}" * 20, "<Title> & more " * 20, 99, 9, 9) for n in range(9)]
    text = "\n".join(daily_lines(Report(days, sources)))
    assert len(text) <= 3000  # with the rest of /stats, under Telegram's 4096
    assert "<code>03-30</code> 12,345 questions (🚨123 ⚠️1,234)" in text  # newest first
    assert "03-01" not in text and "older days: see the chart" in text
    assert text.count("• 👎 9 👍 9 of 99 answers: “&lt;Title&gt; &amp; more") == 5


# ------------------------------------------------------------------------------ the CLI


def test_cli_stats_reads_the_bots_database(tmp_path):
    data = tmp_path / "data"
    yesterday = Store(data / "bot.sqlite3", clock=lambda: time.time() - DAY)
    yesterday.log_answer("urgent", "no_match", "", 0, False)
    yesterday.close()
    today = Store(data / "bot.sqlite3")
    answer_id = today.save_answer(1, USER, "routine", "extractive",
                                  [{"id": "clinic-ankle", "title": "Swollen ankles"}])
    today.log_answer("routine", "extractive", "clinic-ankle", 1, True)
    today.log_answer("emergency", "emergency", "", 0, False)
    today.vote(answer_id, USER, -1)
    today.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TELEGRAM_"))}
    env.update(DATA_DIR=str(data), LOG_LEVEL="WARNING")

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot.cli", "stats", *args], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)

    chart = tmp_path / "chart.png"
    as_json = cli("--json", "--days", "3", "--chart", str(chart))
    table = cli()
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    first, second, third = report["days"]
    assert first["questions"] == 0
    assert second["by_level"] == {"emergency": 0, "urgent": 1, "routine": 0}
    assert second["no_match"] == 1
    assert (third["questions"], third["by_level"]["emergency"], third["thumbs_down"],
            third["llm_failures"], third["fallbacks"]) == (2, 1, 1, 1, 1)
    assert report["totals"]["questions"] == 3
    assert report["feedback_by_source"] == [{"source": "clinic-ankle", "title": "Swollen ankles",
                                             "answers": 1, "thumbs_up": 0, "thumbs_down": 1}]
    assert png_size(chart.read_bytes()) == (WIDTH, HEIGHT)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert len([line for line in lines if line[:4].isdigit()]) == 30  # 30 days by default
    assert lines[2].split() == ["day", "questions", "emergency", "urgent", "routine",
                                "no_match", "thumbs_up", "thumbs_down", "llm_failures",
                                "fallbacks"]
    assert f"{third['day']}  " in table.stdout and "clinic-ankle “Swollen ankles”" in table.stdout
    empty = subprocess.run([sys.executable, "-m", "bot.cli", "stats", "--json"], cwd=tmp_path,
                           env={**env, "DATA_DIR": str(tmp_path / "none")}, capture_output=True,
                           text=True, timeout=120)
    assert empty.returncode == 0 and json.loads(empty.stdout)["totals"]["questions"] == 0
    assert "no bot database" in empty.stderr and not (tmp_path / "none").exists()


# ----------------------------------------------------------------------------- Telegram


def database_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(db.parent.glob(db.name + "*")))


def photos(api, chat_id: int) -> list:
    return [m for m in api.messages_in(chat_id) if m.method == "sendPhoto"]


async def test_stats_show_the_days_and_send_a_chart_privately(root, api, tmp_path):
    async with FakeOpenAI(f"{WRITTEN} twitching [1].") as llm, \
            running_bot(root, api, llm, db_path=tmp_path / "db") as bot:
        [written] = await bot.answer(USER, TWITCH)
        llm.fail_next(500)
        [quoted] = await bot.answer(OTHER, TWITCH)  # the LLM fails: the replies are quoted
        await bot.answer(THIRD, NOTHING_LIKE_IT)
        await bot.ask(FOURTH, EMERGENCY)
        await bot.answer(FIFTH, URGENT)
        api.press_button(USER, written.message_id, written.callback_data[0])  # 👍
        api.press_button(OTHER, quoted.message_id, quoted.callback_data[1])  # 👎
        await api.wait_for(lambda: len(api.callback_answers) == 2)
        [notice] = await bot.ask(ADMIN, "/stats", chat_id=GROUP, chat_type="supergroup")
        await api.wait_for(lambda: photos(api, ADMIN))
        [private] = [m for m in api.messages_in(ADMIN) if m.method == "sendMessage"]
        await bot.ask(ADMIN, "/stats", count=2)  # asked privately: text and chart there
        [source] = bot.services.store.answer_sources(
            quoted.callback_data[0].split(":")[1])[:1]
    assert WRITTEN in written.plain_text and WRITTEN not in quoted.plain_text
    assert notice.plain_text == texts.STATS_SENT_PRIVATELY
    assert [m.method for m in api.messages_in(GROUP)][-1] == "sendMessage"
    assert not photos(api, GROUP) and "Last 30 days" not in notice.plain_text
    today = datetime.now(UTC).date().isoformat()
    text = private.plain_text
    assert "Questions: 5 today, 5 in total" in text  # the text it had is kept
    # no match: the gibberish, and the fever (no source in this corpus names a fever)
    day_line = (f"{today[5:]} 5 questions (🚨1 ⚠️1) · no match 2 · 👍 1 👎 1 · "
                "LLM failures 1 · fallbacks 1")
    assert day_line in text.splitlines(), text
    assert f"👎 1 👍 1 of 2 answers: “{source['title']}” ({source['id']})" in text
    [group_chart, private_chart] = photos(api, ADMIN)
    assert group_chart.plain_text == LEGEND
    for sent in (group_chart, private_chart):
        assert png_size(sent.files["photo"].data) == (WIDTH, HEIGHT)
    assert LEVEL_COLORS["emergency"] in png_pixels(private_chart.files["photo"].data)


async def test_the_counters_keep_no_text_and_outlive_forget(root, api, tmp_path):
    db = tmp_path / "db"
    async with running_bot(root, api, db_path=db) as bot:
        [answer] = await bot.answer(USER, f"{TWITCH} {MARKER}")
        api.press_button(USER, answer.message_id, answer.callback_data[1])
        await api.wait_for(lambda: api.callback_answers)
        await bot.ask(USER, f"{EMERGENCY} {MARKER}")
        store = bot.services.store
        counted = [row for table in ("daily_answers", "daily_feedback")
                   for row in store._db.execute(f"SELECT * FROM {table}")]
        assert MARKER.encode() in database_bytes(db)  # the conversation, for follow-ups
        await bot.ask(USER, "/forget")
        stored = database_bytes(db)
        [day] = daily(store, 1).days
    assert counted and not any(MARKER in str(value) for row in counted for value in row)
    assert not any(str(USER) == str(value) for row in counted for value in row)
    assert MARKER.encode() not in stored
    assert (day.questions, day.by_level["emergency"], day.thumbs_down) == (2, 1, 1)

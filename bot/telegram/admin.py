"""Operators' services: the background reload (one at a time) and the statistics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from telegram import Bot, InputFile
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.ingest import IngestReport
from bot.knowledge_base import status as index_status
from bot.settings import Settings
from bot.stats import Day, Report
from bot.stats_chart import LEGEND
from bot.telegram import texts
from bot.telegram.render import escape, pack
from bot.telegram.storage import Stats

log = logging.getLogger(__name__)

IngestFn = Callable[[Settings], IngestReport]
MAX_LISTED = 20
MAX_SOURCES = 5  # sources listed under /stats, most 👎 first
DAILY_BUDGET = 3000  # characters for the per-day part: /stats stays one message (4096)


class Reloader:
    """Runs the CLI's ingestion in a worker thread; a second one while it runs is refused."""

    def __init__(self, settings: Settings, ingest_fn: IngestFn) -> None:
        self.settings = settings
        self.ingest_fn = ingest_fn
        self.running = False

    def claim(self) -> bool:
        """Take the reload slot; False when a reload is already running."""
        if self.running:
            return False
        self.running = True
        return True

    async def run(self) -> IngestReport:
        """Ingest now (the slot must be claimed); other chats are answered meanwhile."""
        try:
            report = await asyncio.to_thread(self.ingest_fn, self.settings)
        finally:
            self.running = False
        log.info("reload: %s (version %s, +%d ~%d -%d, %d rejected)%s", report.status,
                 report.version, report.added, report.changed, report.removed, report.rejected,
                 f": {report.error}" if report.error else "")
        return report


async def reload_and_report(reloader: Reloader, bot: Bot, chat_id: int) -> None:
    """Run a claimed reload, then send its outcome to the chat that asked for it."""
    report = await reloader.run()
    for part in reload_report(report):
        await bot.send_message(chat_id, part, parse_mode=ParseMode.HTML)


def _files(report: IngestReport, statuses: tuple[str, ...]) -> list[str]:
    return [f.path for f in report.files if f.status in statuses]


def reload_report(report: IngestReport) -> list[str]:
    """The outcome of a reload as Telegram HTML messages."""
    if report.status == "failed":
        kept = f" Version {escape(report.previous)} stays active." if report.previous else ""
        return [f"❌ <b>Reload failed; nothing changed.</b>{kept}\n"
                f"Reason: {escape((report.error or 'unknown')[:3000])}"]
    if report.status == "unchanged":
        head = (f"✅ <b>Reload done: nothing changed.</b> Version {escape(str(report.version))} "
                f"stays active ({report.records:,} records).")
    else:
        was = f", was {escape(report.previous)}" if report.previous else ""
        head = (f"✅ <b>Reload done: now version {escape(str(report.version))}</b>{was}; "
                f"{report.records:,} records in {report.seconds:.1f} s.")
    lines = [head, "",
             f"Records: {report.added:,} added, {report.changed:,} changed, "
             f"{report.removed:,} removed, {report.rejected:,} rejected."]
    for label, statuses in (("Added files", ("added",)), ("Changed files", ("changed",)),
                            ("Removed files", ("removed",)),
                            ("Files with problems", ("broken", "partial"))):
        paths = _files(report, statuses)
        if paths:
            shown = ", ".join(escape(p[:150]) for p in paths[:MAX_LISTED])
            more = f" and {len(paths) - MAX_LISTED} more" if len(paths) > MAX_LISTED else ""
            lines.append(f"<b>{label}:</b> {shown}{more}")
    if report.rejections:
        lines += ["", f"<b>Rejected ({len(report.rejections)}):</b>"]
        lines += [f"• {escape(str(r)[:500])}" for r in report.rejections[:MAX_LISTED]]
        if len(report.rejections) > MAX_LISTED:
            lines.append(f"… and {len(report.rejections) - MAX_LISTED} more "
                         "(run `symptom-bot ingest` for the full list)")
    if report.skipped:
        lines.append(f"<b>Skipped (not a corpus format):</b> {len(report.skipped)} file(s)")
    return pack(lines, separator="\n")


def _day_numbers(day: Day) -> str:
    """One day's numbers, compact: the zeros left out."""
    levels = " ".join(f"{mark}{day.by_level.get(level, 0):,}" for level, mark in
                      (("emergency", "🚨"), ("urgent", "⚠️")) if day.by_level.get(level, 0))
    parts = [f"{day.questions:,} questions" + (f" ({levels})" if levels else "")]
    if day.no_match:
        parts.append(f"no match {day.no_match:,}")
    if day.thumbs_up or day.thumbs_down:
        parts.append(f"👍 {day.thumbs_up:,} 👎 {day.thumbs_down:,}")
    if day.llm_failures:
        parts.append(f"LLM failures {day.llm_failures:,}")
    if day.fallbacks:
        parts.append(f"fallbacks {day.fallbacks:,}")
    return " · ".join(parts)


def daily_lines(report: Report, budget: int = DAILY_BUDGET) -> list[str]:
    """The per-day part of /stats: totals, one line per day with activity (newest first, as
    many as fit in `budget` characters), the most 👎 sources."""
    head = [f"\n<b>Last {len(report.days)} days</b> (UTC; 🚨 emergency, ⚠️ urgent): "
            f"{_day_numbers(report.totals)}"]
    tail = ["<b>Feedback by source</b> (the first source of the rated answer):"] \
        if report.feedback_by_source else []
    for entry in report.feedback_by_source[:MAX_SOURCES]:
        name = (f"“{escape(entry.title[:80])}” ({escape(entry.source[:60])})" if entry.source
                else "no source (no match or empty index)")
        tail.append(f"• 👎 {entry.thumbs_down:,} 👍 {entry.thumbs_up:,} of "
                    f"{entry.answers:,} answers: {name}")
    left = budget - sum(len(line) + 1 for line in head + tail)
    days = []
    for day in reversed(report.days):
        line = f"<code>{day.day[5:]}</code> {_day_numbers(day)}"
        if not day.active:
            continue
        if len(line) + 1 > left - 40:  # room for the note below
            days.append("… older days: see the chart")
            break
        days.append(line)
        left -= len(line) + 1
    return head + days + tail


async def stats_text(settings: Settings, stats: Stats, report: Report | None = None) -> str:
    """/stats as Telegram HTML: usage, the active index, and the days of `report`."""
    try:
        info = await asyncio.to_thread(index_status, settings)
        index = (f"version {escape(str(info['version']))}, {info['records']:,} records, "
                 f"{info['chunks']:,} embedded texts, built {escape(str(info['built']))}"
                 if info.get("version") else "empty (run /reload after adding corpus files)")
    except Exception as error:  # noqa: BLE001 - statistics must not fail on a broken index
        index = f"unreadable ({escape(type(error).__name__)}: {escape(str(error))[:300]})"
    return (
        "📊 <b>Statistics</b>\n"
        f"People: {stats.people:,}\n"
        f"Questions: {stats.questions_today:,} today, {stats.questions_total:,} in total\n"
        f"Feedback: 👍 {stats.thumbs_up:,}, 👎 {stats.thumbs_down:,}\n"
        f"Index: {index}"
    ) + ("\n".join(["", *daily_lines(report)]) if report is not None else "")


async def send_chart(bot: Bot, chat_id: int, png: bytes) -> None:
    """The statistics chart as a photo, its legend as the caption; a failure is only logged."""
    try:
        await bot.send_photo(chat_id, InputFile(png, filename="stats.png"), caption=LEGEND)
    except TelegramError as error:
        log.warning("could not send the statistics chart to %s: %s", chat_id, error)


async def send_privately(bot: Bot, user_id: int, html: str, chart: bytes | None = None) -> str:
    """Send an operator's answer (and chart) to their private chat; returns what to say where
    they asked."""
    try:
        await bot.send_message(user_id, html, parse_mode=ParseMode.HTML)
    except (Forbidden, BadRequest) as error:  # never opened a private chat with the bot
        log.info("could not message admin %s privately: %s", user_id, error)
        return texts.STATS_PRIVATE_ONLY
    if chart is not None:
        await send_chart(bot, user_id, chart)
    return texts.STATS_SENT_PRIVATELY

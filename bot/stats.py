"""The daily statistics of `/stats` and `symptom-bot stats`: questions by triage level, no-match
answers, 👍/👎 by source, LLM failures and fallbacks, from the bot store's anonymous counters."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from bot.triage.verdict import RANK

if TYPE_CHECKING:
    from bot.answer import Answer

LEVELS = tuple(sorted(RANK, key=RANK.__getitem__, reverse=True))  # emergency, urgent, routine
DEFAULT_DAYS = 30
FALLBACK = "answer"  # the LLM step whose failure means the quoted replies were sent instead


class Counters(Protocol):
    """What the statistics read from the store (bot/telegram/storage.py)."""

    def today(self) -> str:
        """Today's date (UTC, ISO)."""

    def daily_counts(self, since: str) -> tuple[list[tuple], list[tuple]]:
        """The answer and feedback counter rows from day `since` on."""


class _NoCounters:
    """The counters of a bot that has not run yet."""

    def today(self) -> str:
        """Today's date (UTC, ISO)."""
        return datetime.now(UTC).date().isoformat()

    def daily_counts(self, since: str) -> tuple[list[tuple], list[tuple]]:
        """Nothing counted."""
        return [], []


NO_COUNTERS = _NoCounters()


def first_source(sources: list[dict]) -> tuple[str, str]:
    """The source an answer's 👍/👎 counts for: its first, best-grounding one, as (id, title);
    ("", "") for an answer without sources (no match, empty index)."""
    if not sources:
        return "", ""
    return str(sources[0].get("id", "")), str(sources[0].get("title", ""))[:200]


def outcome(answer: Answer) -> dict[str, object]:
    """What an answer adds to the day's counters (Store.log_answer's arguments): no text."""
    return {"level": answer.triage, "mode": answer.mode,
            "source": answer.sources[0].id if answer.sources else "",
            "llm_failures": len(answer.llm_failures),
            "fallback": FALLBACK in answer.llm_failures}


@dataclass
class Day:
    """One day's numbers (UTC)."""

    day: str
    questions: int = 0
    by_level: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    no_match: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0
    llm_failures: int = 0
    fallbacks: int = 0
    by_mode: dict[str, int] = field(default_factory=dict)  # llm, extractive, no_match, …

    def add(self, other: Day) -> None:
        """Add another day's numbers to these."""
        for name in ("questions", "no_match", "thumbs_up", "thumbs_down", "llm_failures",
                     "fallbacks"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for mine, theirs in ((self.by_level, other.by_level), (self.by_mode, other.by_mode)):
            for key, count in theirs.items():
                mine[key] = mine.get(key, 0) + count

    @property
    def active(self) -> bool:
        """True when anything happened that day."""
        return bool(self.questions or self.thumbs_up or self.thumbs_down)


@dataclass
class SourceFeedback:
    """👍/👎 on the answers a source came first in, and how many answers it came first in."""

    source: str  # the record id; "" for answers without sources
    title: str
    answers: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0


@dataclass
class Report:
    """The days of a period, oldest first, and the feedback by source over it."""

    days: list[Day]
    feedback_by_source: list[SourceFeedback]

    @property
    def totals(self) -> Day:
        """The period's sums."""
        total = Day("total")
        for day in self.days:
            total.add(day)
        return total

    def to_json(self) -> dict:
        """The `stats --json` object."""
        totals = asdict(self.totals)
        del totals["day"]
        return {"since": self.days[0].day, "until": self.days[-1].day, "timezone": "UTC",
                "days": [asdict(d) for d in self.days], "totals": totals,
                "feedback_by_source": [asdict(s) for s in self.feedback_by_source]}


def daily(store: Counters, days: int = DEFAULT_DAYS, today: str | None = None) -> Report:
    """The last `days` days up to today (by the store's clock), days without any activity
    included."""
    end = date.fromisoformat(today or store.today())
    days = max(days, 1)
    start = end - timedelta(days=days - 1)
    found = {d.isoformat(): Day(d.isoformat()) for d in (start + timedelta(n) for n in range(days))}
    answers, feedback = store.daily_counts(start.isoformat())
    cited: Counter[str] = Counter()
    for name, level, mode, source, count, failures, fallbacks in answers:
        if (day := found.get(name)) is None:
            continue  # after `today`: the clock went back
        day.questions += count
        day.by_level[level] = day.by_level.get(level, 0) + count
        day.by_mode[mode] = day.by_mode.get(mode, 0) + count
        day.no_match += count if mode == "no_match" else 0
        day.llm_failures += failures
        day.fallbacks += fallbacks
        if mode != "emergency":  # emergency answers have no buttons: nothing to rate
            cited[source] += count
    by_source: dict[str, SourceFeedback] = {}
    for name, source, title, up, down in feedback:
        if (day := found.get(name)) is None:
            continue
        day.thumbs_up += up
        day.thumbs_down += down
        entry = by_source.setdefault(source, SourceFeedback(source, title))
        entry.title = title or entry.title
        entry.thumbs_up += up
        entry.thumbs_down += down
    ranked = sorted((e for e in by_source.values() if e.thumbs_up or e.thumbs_down),
                    key=lambda e: (-e.thumbs_down, -e.thumbs_up, e.source))
    for entry in ranked:
        entry.answers = cited[entry.source]
    return Report(list(found.values()), ranked)


COLUMNS = ("questions", *LEVELS, "no_match", "thumbs_up", "thumbs_down", "llm_failures",
           "fallbacks")


def _cells(day: Day) -> list[int]:
    return [day.questions, *(day.by_level.get(level, 0) for level in LEVELS), day.no_match,
            day.thumbs_up, day.thumbs_down, day.llm_failures, day.fallbacks]


def format_table(report: Report) -> str:
    """The report as a plain-text table, then the feedback by source."""
    widths = [max(len(c), 5) for c in COLUMNS]
    head = "day".ljust(10) + "".join(f"  {c:>{w}}" for c, w in zip(COLUMNS, widths, strict=True))
    lines = [f"Daily statistics {report.days[0].day} to {report.days[-1].day} (UTC)", "", head]
    for day in [*report.days, report.totals]:
        lines.append(day.day.ljust(10) + "".join(
            f"  {n:>{w}}" for n, w in zip(_cells(day), widths, strict=True)))
    lines += ["", "Feedback by source (the first source of each rated answer):"]
    if not report.feedback_by_source:
        lines.append("  no feedback in this period")
    else:
        lines.append(f"  {'up':>5}  {'down':>5}  {'answers':>7}  source")
    for entry in report.feedback_by_source:
        name = (f"{entry.source} “{entry.title}”" if entry.source
                else "(no source: no match or empty index)")
        lines.append(f"  {entry.thumbs_up:>5}  {entry.thumbs_down:>5}  {entry.answers:>7}  {name}")
    lines += ["", "no_match: nothing relevant found; llm_failures: LLM calls that failed or "
              "gave nothing usable; fallbacks: answers that quoted the replies because the "
              "LLM failed."]
    return "\n".join(lines)

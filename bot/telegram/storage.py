"""The bot's own SQLite store under DATA_DIR: history, answers' sources, feedback, counters."""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.stats import first_source

log = logging.getLogger(__name__)

RETENTION_DAYS = 30  # conversation turns and answers' sources older than this are deleted
STATS_RETENTION_DAYS = 366  # the anonymous daily counters are kept a year

# Migration n brings the schema from version n to n + 1; never edit one that shipped.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE people (user_id INTEGER PRIMARY KEY, first_seen REAL NOT NULL,
                         last_seen REAL NOT NULL);
    CREATE TABLE turns (id INTEGER PRIMARY KEY AUTOINCREMENT, chat_id INTEGER NOT NULL,
                        user_id INTEGER NOT NULL, role TEXT NOT NULL, text TEXT NOT NULL,
                        created REAL NOT NULL);
    CREATE INDEX turns_by_chat ON turns (chat_id, user_id, id);
    CREATE INDEX turns_by_user ON turns (user_id);
    CREATE TABLE answers (answer_id TEXT PRIMARY KEY, chat_id INTEGER NOT NULL,
                          user_id INTEGER NOT NULL, created REAL NOT NULL, triage TEXT NOT NULL,
                          mode TEXT NOT NULL, sources TEXT NOT NULL);
    CREATE INDEX answers_by_user ON answers (user_id);
    CREATE TABLE feedback (answer_id TEXT NOT NULL, user_id INTEGER NOT NULL,
                           vote INTEGER NOT NULL, created REAL NOT NULL,
                           PRIMARY KEY (answer_id, user_id));
    CREATE TABLE questions (user_id INTEGER NOT NULL, day TEXT NOT NULL,
                            count INTEGER NOT NULL, PRIMARY KEY (user_id, day));
    """,
    # The inbox (bot/telegram/inbox.py): each update as received until it is handled; then
    # only its id and when it was done (Telegram may deliver an unconfirmed update again).
    """
    CREATE TABLE inbox (update_id INTEGER PRIMARY KEY, user_id INTEGER, received REAL NOT NULL,
                        payload TEXT, done REAL);
    CREATE INDEX inbox_by_user ON inbox (user_id);
    """,
    # Daily counters for `/stats` and `symptom-bot stats` (bot/stats.py): no user id, no text;
    # counters rather than one row per answer, so that the order of rows says nothing either.
    # `source` is the id of an answer's first source ("" when it had none).
    """
    CREATE TABLE daily_answers (day TEXT NOT NULL, level TEXT NOT NULL, mode TEXT NOT NULL,
                                source TEXT NOT NULL, answers INTEGER NOT NULL,
                                llm_failures INTEGER NOT NULL, fallbacks INTEGER NOT NULL,
                                PRIMARY KEY (day, level, mode, source));
    CREATE TABLE daily_feedback (day TEXT NOT NULL, source TEXT NOT NULL, title TEXT NOT NULL,
                                 up INTEGER NOT NULL, down INTEGER NOT NULL,
                                 PRIMARY KEY (day, source));
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
KEPT = ("turns", "answers", "feedback", "questions", "people")  # what is kept about people
PERSONAL = (*KEPT, "inbox")  # everything with a user_id (the inbox: messages being handled)


class StorageError(Exception):
    """The database cannot be used (e.g. written by a newer version of the bot)."""


@dataclass
class Stats:
    """What /stats shows about usage."""

    people: int
    questions_today: int
    questions_total: int
    thumbs_up: int
    thumbs_down: int


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def _day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()


class Store:
    """One SQLite connection, used from the event loop; every write is committed at once."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.clock = clock  # the daily counters' time (tests move it)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute("PRAGMA secure_delete=ON")  # deleted text is overwritten, not left
        self._migrate()
        self._purged = 0.0
        self.purge()

    @property
    def version(self) -> int:
        """The schema version of the open database."""
        row = self._db.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return row[0] or 0

    def _migrate(self) -> None:
        self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        current = self.version
        if current > SCHEMA_VERSION:
            raise StorageError(
                f"{self.path} has schema version {current}, newer than this bot knows "
                f"({SCHEMA_VERSION}); upgrade the bot or use another DATA_DIR"
            )
        for number in range(current, SCHEMA_VERSION):
            with self._transaction():
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute("INSERT INTO schema_version VALUES (?)", (number + 1,))
            log.info("bot database %s migrated to schema version %d", self.path, number + 1)

    def _transaction(self) -> _Commit:
        self._db.execute("BEGIN IMMEDIATE")
        return _Commit(self._db)

    def close(self) -> None:
        """Close the connection (everything is already committed)."""
        self._db.close()

    # ---------------------------------------------------------------- people and counters

    def count_question(self, user_id: int) -> None:
        """Note that a person asked a question now."""
        now = time.time()
        with self._transaction():
            self._db.execute(
                "INSERT INTO people VALUES (?, ?, ?) ON CONFLICT(user_id) "
                "DO UPDATE SET last_seen = excluded.last_seen", (user_id, now, now))
            self._db.execute(
                "INSERT INTO questions VALUES (?, ?, 1) ON CONFLICT(user_id, day) "
                "DO UPDATE SET count = count + 1", (user_id, _today()))

    def stats(self) -> Stats:
        """People, questions today and in total, feedback counts."""
        one = self._db.execute
        votes = dict(one("SELECT vote, COUNT(*) FROM feedback GROUP BY vote").fetchall())
        return Stats(
            people=one("SELECT COUNT(*) FROM people").fetchone()[0],
            questions_today=one("SELECT COALESCE(SUM(count), 0) FROM questions WHERE day = ?",
                                (_today(),)).fetchone()[0],
            questions_total=one("SELECT COALESCE(SUM(count), 0) FROM questions").fetchone()[0],
            thumbs_up=votes.get(1, 0), thumbs_down=votes.get(-1, 0),
        )

    # ------------------------------------------------------------------------- history

    def add_turns(self, chat_id: int, user_id: int, turns: list[tuple[str, str]],
                  keep: int) -> None:
        """Append turns to a person's conversation in a chat; keep only the newest `keep`."""
        now = time.time()
        with self._transaction():
            self._db.executemany(
                "INSERT INTO turns (chat_id, user_id, role, text, created) VALUES (?, ?, ?, ?, ?)",
                [(chat_id, user_id, role, text, now) for role, text in turns])
            self._db.execute(
                "DELETE FROM turns WHERE chat_id = ? AND user_id = ? AND id NOT IN "
                "(SELECT id FROM turns WHERE chat_id = ? AND user_id = ? ORDER BY id DESC "
                "LIMIT ?)", (chat_id, user_id, chat_id, user_id, keep))
        if now - self._purged > 3600:
            self.purge()

    def history(self, chat_id: int, user_id: int, turns: int, chars: int
                ) -> list[tuple[str, str]]:
        """The newest `turns` turns, oldest first, trimmed to a budget of `chars` characters."""
        if turns <= 0 or chars <= 0:
            return []
        rows = self._db.execute(
            "SELECT role, text FROM turns WHERE chat_id = ? AND user_id = ? "
            "ORDER BY id DESC LIMIT ?", (chat_id, user_id, turns)).fetchall()
        kept: list[tuple[str, str]] = []
        budget = chars
        for role, text in rows:
            if len(text) > budget:
                if not kept:
                    kept.append((role, text[:budget]))
                break
            kept.append((role, text))
            budget -= len(text)
        return kept[::-1]

    def clear_history(self, chat_id: int, user_id: int) -> int:
        """Forget a person's conversation in one chat (/new); returns the turns deleted."""
        with self._transaction():
            cursor = self._db.execute(
                "DELETE FROM turns WHERE chat_id = ? AND user_id = ?", (chat_id, user_id))
        return cursor.rowcount

    # ------------------------------------------------------------------ answers, feedback

    def save_answer(self, chat_id: int, user_id: int, triage: str, mode: str,
                    sources: list[dict]) -> str:
        """Keep an answer's sources for its buttons; returns its short id."""
        answer_id = secrets.token_urlsafe(8)
        with self._transaction():
            self._db.execute(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
                (answer_id, chat_id, user_id, time.time(), triage, mode,
                 json.dumps(sources, ensure_ascii=False)))
        return answer_id

    def answer_for(self, answer_id: str, chat_id: int | None, user_id: int) -> list[dict] | None:
        """The sources of an answer given to `user_id` or in `chat_id`, else None."""
        row = self._db.execute(
            "SELECT sources FROM answers WHERE answer_id = ? AND (user_id = ? OR chat_id = ?)",
            (answer_id, user_id, chat_id)).fetchone()
        return None if row is None else json.loads(row[0])

    def answer_sources(self, answer_id: str) -> list[dict] | None:
        """The sources of an answer, or None when it is unknown (forgotten or expired)."""
        row = self._db.execute(
            "SELECT sources FROM answers WHERE answer_id = ?", (answer_id,)).fetchone()
        return None if row is None else json.loads(row[0])

    def vote(self, answer_id: str, user_id: int, vote: int) -> bool:
        """Store a 👍 (+1) / 👎 (-1), counted for the day and the answer's first source; False
        when the person had already voted the same."""
        row = self._db.execute(
            "SELECT vote, created FROM feedback WHERE answer_id = ? AND user_id = ?",
            (answer_id, user_id)).fetchone()
        if row is not None and row[0] == vote:
            return False
        now = self.clock()
        source, title = first_source(self.answer_sources(answer_id) or [])
        with self._transaction():
            self._db.execute(
                "INSERT INTO feedback VALUES (?, ?, ?, ?) ON CONFLICT(answer_id, user_id) "
                "DO UPDATE SET vote = excluded.vote, created = excluded.created",
                (answer_id, user_id, vote, now))
            if row is not None:  # a changed vote: the earlier one no longer counts
                self._db.execute(
                    "UPDATE daily_feedback SET up = MAX(up - ?, 0), down = MAX(down - ?, 0) "
                    "WHERE day = ? AND source = ?",
                    (int(row[0] == 1), int(row[0] == -1), _day(row[1]), source))
            self._db.execute(
                "INSERT INTO daily_feedback VALUES (?, ?, ?, ?, ?) ON CONFLICT(day, source) "
                "DO UPDATE SET up = up + excluded.up, down = down + excluded.down, "
                "title = excluded.title",
                (_day(now), source, title, int(vote == 1), int(vote == -1)))
        return True

    # -------------------------------------------------------------------- daily counters

    def log_answer(self, level: str, mode: str, source: str, llm_failures: int,
                   fallback: bool) -> None:
        """Count an answered question for today (no user id, no text)."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO daily_answers VALUES (?, ?, ?, ?, 1, ?, ?) "
                "ON CONFLICT(day, level, mode, source) DO UPDATE SET answers = answers + 1, "
                "llm_failures = llm_failures + excluded.llm_failures, "
                "fallbacks = fallbacks + excluded.fallbacks",
                (_day(self.clock()), level, mode, source, llm_failures, int(fallback)))

    def daily_counts(self, since: str) -> tuple[list[tuple], list[tuple]]:
        """The counter rows from day `since` on: answers (day, level, mode, source, answers,
        llm_failures, fallbacks) and feedback (day, source, title, up, down)."""
        answers = self._db.execute(
            "SELECT day, level, mode, source, answers, llm_failures, fallbacks "
            "FROM daily_answers WHERE day >= ?", (since,)).fetchall()
        feedback = self._db.execute(
            "SELECT day, source, title, up, down FROM daily_feedback WHERE day >= ?",
            (since,)).fetchall()
        return answers, feedback

    def today(self) -> str:
        """Today (UTC, ISO) by the store's clock."""
        return _day(self.clock())

    # --------------------------------------------------------------------- housekeeping

    def forget(self, user_id: int) -> int:
        """Delete all about a person (others' votes on their answers too); empty the WAL."""
        with self._transaction():
            deleted = self._db.execute(
                "DELETE FROM feedback WHERE answer_id IN "
                "(SELECT answer_id FROM answers WHERE user_id = ?)", (user_id,)).rowcount
            for table in PERSONAL:
                deleted += self._db.execute(
                    f"DELETE FROM {table} WHERE user_id = ?", (user_id,)).rowcount  # noqa: S608
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return deleted

    def knows(self, user_id: int) -> bool:
        """True when anything at all is stored about a person."""
        return any(
            self._db.execute(f"SELECT 1 FROM {table} WHERE user_id = ? LIMIT 1",  # noqa: S608
                             (user_id,)).fetchone()
            for table in KEPT)

    def purge(self) -> None:
        """Delete turns and answers older than RETENTION_DAYS, inbox rows older than two days,
        daily counters older than STATS_RETENTION_DAYS."""
        cutoff = time.time() - RETENTION_DAYS * 86400
        with self._transaction():
            self._db.execute("DELETE FROM turns WHERE created < ?", (cutoff,))
            self._db.execute("DELETE FROM answers WHERE created < ?", (cutoff,))
            self._db.execute("DELETE FROM inbox WHERE received < ?", (time.time() - 2 * 86400,))
            kept_from = _day(self.clock() - STATS_RETENTION_DAYS * 86400)
            for table in ("daily_answers", "daily_feedback"):
                self._db.execute(f"DELETE FROM {table} WHERE day < ?", (kept_from,))  # noqa: S608
        self._purged = time.time()


class _Commit:
    """Commits on success, rolls back on error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> sqlite3.Connection:
        return self._db

    def __exit__(self, kind: object, *rest: object) -> None:
        self._db.execute("ROLLBACK" if kind else "COMMIT")

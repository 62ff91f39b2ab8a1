"""The inbox: each update is stored before Telegram is told it arrived and marked done once
handled, so a bot killed mid-answer answers it after the restart, and only once."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from telegram import Message, Update
from telegram.ext import Application
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)

MAX_AGE = 86400.0  # seconds; an unhandled message older than this is not answered any more
FLUSH_TIMEOUT = 2.0  # seconds a stuck disk may hold up confirming updates (then it goes on)
SEEN = 50_000  # update ids remembered (Telegram delivers again at most the last unconfirmed)


class Inbox:
    """Stored updates; writes run in a thread of their own so handling never waits for them."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute("PRAGMA secure_delete=ON")
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="inbox")
        self._writes: set[asyncio.Future] = set()
        self._seen = {row[0] for row in self._db.execute("SELECT update_id FROM inbox")}
        self._failed = False
        self.active = 0  # updates received and not yet handled
        self.late: set[tuple[int, int]] = set()  # (chat, message) answered after a restart

    def receive(self, update: Update) -> bool:
        """Note a new update and store it; False when it came before (delivered again)."""
        if update.update_id in self._seen:
            return False
        self._seen.add(update.update_id)
        if len(self._seen) > 2 * SEEN:
            self._seen = set(sorted(self._seen)[-SEEN:])
        self.active += 1
        if update.callback_query is None:  # a button press is stale after a restart
            user = update.effective_user
            self._submit("INSERT OR IGNORE INTO inbox VALUES (?, ?, ?, ?, NULL)",
                         update.update_id, user.id if user else None, time.time(),
                         update.to_json())
        return True

    def done(self, update_id: int) -> None:
        """The update was handled: keep only its id (and drop what it said)."""
        self.active -= 1
        self._submit("INSERT INTO inbox (update_id, received, done) VALUES (?, ?, ?) "
                     "ON CONFLICT(update_id) DO UPDATE SET payload = NULL, user_id = NULL, "
                     "done = excluded.done", update_id, time.time(), time.time())

    def is_late(self, message: Message) -> bool:
        """True (once) when the message is answered after a restart."""
        key = (message.chat.id, message.message_id)
        found = key in self.late
        self.late.discard(key)
        return found

    def _submit(self, sql: str, *args: Any) -> None:
        future = asyncio.get_running_loop().run_in_executor(self._thread, self._write, sql, args)
        self._writes.add(future)
        future.add_done_callback(self._writes.discard)

    def _write(self, sql: str, args: tuple) -> None:
        try:
            self._db.execute(sql, args)
        except (sqlite3.Error, OSError) as error:  # a full disk: answers go on unrecorded
            if not self._failed:
                self._failed = True
                log.error("could not write to the inbox (%s: %s); a restart may not answer "
                          "the messages in flight", type(error).__name__, error)

    async def flush(self) -> None:
        """Wait until every update received so far is stored (at most FLUSH_TIMEOUT s)."""
        if self._writes:
            _, late = await asyncio.wait(set(self._writes), timeout=FLUSH_TIMEOUT)
            if late:
                log.warning("the inbox is slow to write (%d pending); confirming anyway",
                            len(late))

    def unhandled(self) -> list[tuple[int, float, str]]:
        """(update_id, received, payload) of the updates stored and never handled."""
        return self._db.execute("SELECT update_id, received, payload FROM inbox WHERE done IS "
                                "NULL AND payload IS NOT NULL ORDER BY update_id").fetchall()

    async def close(self) -> None:
        """Finish the writes, then close."""
        await self.flush()
        self._thread.shutdown(wait=True)
        self._db.close()


class InboxQueue(asyncio.Queue):
    """The Application's update queue: the Updater and the webhook put updates here."""

    def __init__(self, inbox: Inbox, confirm_on_put: bool) -> None:
        super().__init__()
        self.inbox = inbox
        self.confirm_on_put = confirm_on_put  # webhook: returning from put answers Telegram

    async def put(self, item: object) -> None:
        """Store, then hand over; an update delivered again is dropped."""
        if isinstance(item, Update) and not self.inbox.receive(item):
            log.info("update %s delivered again: already handled or in the inbox", item.update_id)
            return
        self.put_nowait(item)  # handled at once: an emergency never waits for the disk
        if self.confirm_on_put:
            await self.inbox.flush()


class InboxRequest(HTTPXRequest):
    """The getUpdates connection: a poll confirms the last updates, so it waits for them."""

    def __init__(self, inbox: Inbox, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inbox = inbox

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        """Flush the inbox, then poll."""
        await self.inbox.flush()
        return await super().do_request(*args, **kwargs)


class InboxApplication(Application):
    """Marks each update done once handled (not when the handling was cancelled)."""

    async def process_update(self, update: object) -> None:
        """Handle, then mark done."""
        await super().process_update(update)
        if isinstance(update, Update):
            self.bot_data["services"].inbox.done(update.update_id)


def recover(app: Application, inbox: Inbox) -> int:
    """Queue the updates stored before a restart and never handled; returns how many."""
    count = 0
    for update_id, received, payload in inbox.unhandled():
        if time.time() - received > MAX_AGE:
            inbox.active += 1
            inbox.done(update_id)
            log.info("update %s from before the restart is too old to answer", update_id)
            continue
        update = Update.de_json(json.loads(payload), app.bot)
        if update.effective_message is not None:
            message = update.effective_message
            inbox.late.add((message.chat.id, message.message_id))
        inbox.active += 1
        app.update_queue.put_nowait(update)
        count += 1
    if count:
        log.info("answering %d message(s) received before the restart", count)
    return count

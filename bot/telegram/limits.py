"""Fair use: one answer in flight per person (others wait their turn) and a per-person rate."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator


class RateLimit:
    """At most `per_minute` questions per person in any 60 seconds."""

    def __init__(self, per_minute: int, window: float = 60.0) -> None:
        self.per_minute = per_minute
        self.window = window
        self._hits: dict[int, deque[float]] = {}

    def check(self, user_id: int) -> float:
        """0 and the question is counted, or the seconds to wait before the next one."""
        now = time.monotonic()
        hits = self._hits.setdefault(user_id, deque())
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if len(hits) >= self.per_minute:
            return self.window - (now - hits[0])
        hits.append(now)
        return 0.0

    def forget(self, user_id: int) -> None:
        """Drop a person's counter (/forget)."""
        self._hits.pop(user_id, None)


class OneAtATime:
    """Per-person turns: a second question waits until the first is answered (bounded queue)."""

    def __init__(self, max_waiting: int = 3) -> None:
        self.max_waiting = max_waiting
        self._locks: dict[int, asyncio.Lock] = {}
        self._queued: dict[int, int] = {}
        self._tasks: set[asyncio.Task] = set()
        self.closing = False  # set at shutdown: no new turns start

    def busy(self, user_id: int) -> bool:
        """True while the person has an answer in flight."""
        return self._queued.get(user_id, 0) > 0

    def full(self, user_id: int) -> bool:
        """True when the person already has `max_waiting` questions waiting."""
        return self._queued.get(user_id, 0) > self.max_waiting

    @property
    def in_flight(self) -> int:
        """Questions being answered or waiting, over everybody."""
        return sum(self._queued.values())

    @contextlib.asynccontextmanager
    async def turn(self, user_id: int) -> AsyncIterator[None]:
        """Wait for the person's previous answers, then hold the turn while answering."""
        lock = self._locks.setdefault(user_id, asyncio.Lock())
        self._queued[user_id] = self._queued.get(user_id, 0) + 1
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            async with lock:
                yield
        finally:
            self._queued[user_id] -= 1
            if not self._queued[user_id]:
                del self._queued[user_id]
                self._locks.pop(user_id, None)
            if task is not None:
                self._tasks.discard(task)

    async def drain(self, timeout: float) -> int:
        """Wait up to `timeout` s for answers in flight; cancel the rest; returns how many."""
        self.closing = True
        pending = {t for t in self._tasks if not t.done()}
        if pending:
            _, pending = await asyncio.wait(pending, timeout=timeout)
        for task in pending:
            task.cancel()
        return len(pending)

"""Bot API flood control and transient failures: wait and send again (bounded); an overall
pace."""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import time
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

# Methods that put something in front of people; Telegram paces these (about 30 per second).
PACED = frozenset({"sendmessage", "editmessagetext", "editmessagereplymarkup",
                   "sendmessagedraft", "sendchataction"})


# Methods that accept allow_paid_broadcast (Bot API 7.11+): up to 1000 messages/s, paid in Stars.
PAID = frozenset({"sendmessage"})

# Methods that create something: sent twice, it shows twice. Retried only when Telegram
# answered (5xx) or the request never left (no connection); not after a lost answer.
CREATING = frozenset({"sendmessage", "sendphoto", "senddocument", "copymessage",
                      "forwardmessage", "sendmediagroup"})
# Methods with a retry loop of their own: the Updater polls again, the start-up reconnects.
OWN_LOOP = frozenset({"getupdates", "getme"})
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class Skipped(TelegramError):
    """An optional request (a preview, a typing action) was skipped to stay under the pace."""


def retry_after_seconds(error: RetryAfter) -> float:
    """`RetryAfter.retry_after` in seconds (PTB 22 returns an int or a timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def transient(error: TelegramError, endpoint: str) -> bool:
    """True for a 5xx answer or a network error (that surely lost a message-creating call)."""
    name = endpoint.lower()
    if not isinstance(error, NetworkError) or isinstance(error, BadRequest) or name in OWN_LOOP:
        return False
    cause = error.__cause__
    if not isinstance(cause, httpx.HTTPError):  # Telegram (or a proxy) answered 5xx
        return True
    return name not in CREATING or isinstance(cause, NOT_SENT)


class RetryingRateLimiter(BaseRateLimiter[dict]):
    """Retries a request Telegram answered with 429 after `retry_after`, at most `max_retries`
    times and only for waits up to `max_wait` s (`max_queue_wait` for calls marked `queue`);
    retries transient failures after `backoff`, doubling; paces visible calls to `per_second`.

    Per-call options (`rate_limit_args=`): `{"max_retries": 0}` never retries,
    `{"optional": True}` raises `Skipped` instead of waiting for the pace, and `{"queue": True}`
    (answers) waits out a flood control of up to `max_queue_wait` s instead of giving up.

    With `paid_broadcast`, a message that would wait for the free pace is sent at once with
    `allow_paid_broadcast` (Telegram's paid lane: up to 1000 messages/s, 0.1 Stars each), so only
    the messages above the free limit cost anything.
    """

    def __init__(self, max_retries: int = 3, max_wait: float = 60.0,
                 per_second: float = 30.0, paid_broadcast: bool = False,
                 backoff: float = 0.5, max_queue_wait: float = 3600.0) -> None:
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.max_queue_wait = max_queue_wait
        self.backoff = backoff
        self.sleep = asyncio.sleep  # the waits before sending again (tests skip them)
        self.per_second = per_second
        self.paid_broadcast = paid_broadcast
        self.paid_sent = 0
        self.retries: list[tuple[str, float]] = []
        self._tokens = per_second
        self._stamp = time.monotonic()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def _take(self, reserve: float) -> float:
        """Take a token, leaving `reserve`; 0 when one was free, else the seconds to wait."""
        now = time.monotonic()
        self._tokens = min(self.per_second, self._tokens + (now - self._stamp) * self.per_second)
        self._stamp = now
        if self._tokens >= 1 + reserve:
            self._tokens -= 1
            return 0.0
        return (1 + reserve - self._tokens) / self.per_second

    async def _pace(self, endpoint: str, optional: bool, data: dict[str, Any]) -> None:
        name = endpoint.lower()
        if name not in PACED:
            return
        # optional calls never use the last half of the budget: answers come first
        reserve = self.per_second / 2 if optional else 0
        wait = self._take(reserve)
        if wait and self.paid_broadcast and not optional and name in PAID:
            data["allow_paid_broadcast"] = True  # data holds the request's own parameters
            self.paid_sent += 1
            log.info("free pace used up: %s sent as a paid broadcast", endpoint)
            return
        while wait > 0:
            if optional:
                raise Skipped(f"{endpoint} skipped to keep under {self.per_second:g} calls/s")
            await asyncio.sleep(wait)
            wait = self._take(reserve)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Send; on 429 wait `retry_after`, on a transient failure back off; send again."""
        options = rate_limit_args or {}
        retries = options.get("max_retries", self.max_retries)
        longest = self.max_queue_wait if options.get("queue") else self.max_wait
        attempt = 0
        while True:
            await self._pace(endpoint, bool(options.get("optional")), data)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                delay = retry_after_seconds(error)
                if attempt >= retries or delay > longest:
                    raise
                why = "flood control"
            except TelegramError as error:
                if attempt >= retries or not transient(error, endpoint):
                    raise
                delay, why = self.backoff * 2 ** attempt, f"{type(error).__name__}: {error}"
            attempt += 1
            self.retries.append((endpoint, delay))
            log.warning("Telegram %s on %s: retrying in %.1f s (%d/%d)", why, endpoint, delay,
                        attempt, retries)
            await self.sleep(delay)

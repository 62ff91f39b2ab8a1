"""Delivery when Telegram misbehaves: 5xx answers are retried with backoff, a flood wait beyond a
minute is waited out for the answer, and the pieces are checked on their own."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.telegram import texts
from tests.telegram_helpers import DOCTOR_WORDS, TWITCH, build_index, running_bot

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

USER = 6161
NGINX_502 = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory):
    return build_index(tmp_path_factory.mktemp("telegram-delivery"))




async def test_a_502_on_the_answer_is_retried_with_backoff(root, api, tmp_path):
    async with running_bot(root, api, db_path=tmp_path / "db") as bot:
        api.fail_next("sendMessage", status=502, count=2, body=NGINX_502)
        started = time.monotonic()
        messages = await bot.answer(USER, TWITCH)
        elapsed = time.monotonic() - started
    assert DOCTOR_WORDS in messages[0].plain_text
    assert len(api.messages_in(USER)) == 1  # the answer, once; no apology
    assert [c.status for c in api.calls_to("sendMessage")] == [502, 502, 200]
    assert [delay for _, delay in bot.limiter.retries] == [0.5, 1.0]  # doubling backoff
    assert 1.5 <= elapsed < 5, elapsed


async def test_a_flood_wait_over_a_minute_still_delivers_the_answer(root, api, tmp_path):
    async with running_bot(root, api, db_path=tmp_path / "db") as bot:
        waited: list[float] = []

        async def virtual_sleep(seconds: float) -> None:  # Telegram's 61 s, without the wait
            waited.append(seconds)
            await asyncio.sleep(0)

        bot.limiter.sleep = virtual_sleep
        api.fail_next("sendMessage", status=429, retry_after=61)
        messages = await bot.answer(USER, TWITCH)
    assert DOCTOR_WORDS in messages[0].plain_text
    assert texts.SORRY not in [m.plain_text for m in api.messages_in(USER)]
    assert waited == [61.0] and bot.limiter.retries == [("sendMessage", 61.0)]
    assert [c.status for c in api.calls_to("sendMessage")] == [429, 200]


def _network(cause: Exception) -> NetworkError:
    error = TimedOut() if isinstance(cause, httpx.TimeoutException) else NetworkError(str(cause))
    error.__cause__ = cause
    return error


def test_which_errors_are_retried():
    from bot.telegram.retry import transient

    request = httpx.Request("POST", "http://x")
    server_error = NetworkError("Bad Gateway (502)")  # an answer: the message was not sent
    assert transient(server_error, "sendMessage")
    assert transient(_network(httpx.ConnectError("refused", request=request)), "sendMessage")
    assert transient(_network(httpx.PoolTimeout("pool")), "sendMessage")
    # sent, answer lost: a new message might appear twice, so only repeatable calls retry
    read_timeout = _network(httpx.ReadTimeout("read", request=request))
    assert not transient(read_timeout, "sendMessage")
    assert transient(read_timeout, "editMessageText")
    assert not transient(BadRequest("Bad Request: message is too long"), "sendMessage")
    assert not transient(server_error, "getUpdates")  # the Updater has its own loop

"""Tests of the fake Telegram Bot API (tests/fakes/telegram_api.py) itself.

Most tests drive the fake with the *real* python-telegram-bot ``Application`` running a tiny
echo bot defined here (not the product's bot); validator tests talk raw HTTP the way PTB does
(form fields, nested objects as JSON strings).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBDeprecationWarning

from tests.fakes.telegram_api import FakeBotApi, FloodRule
from tests.fakes.telegram_html import (
    EntityParseError,
    parse_html,
    parse_markdown,
    parse_markdown_v2,
    utf16_len,
)

# PTB itself warns that RetryAfter.retry_after will become a timedelta; not our concern here.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

TOKEN = "123:ABC"
USER = 42

# ------------------------------------------------------------------------------- helpers


def retry_after_seconds(exc: RetryAfter) -> float:
    """``RetryAfter.retry_after`` is an int (deprecated) or a timedelta in PTB 22."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


class RetryingRateLimiter(BaseRateLimiter[None]):
    """Re-sends a request after Telegram's ``retry_after`` - what ``AIORateLimiter`` does with
    ``max_retries`` (that one needs the ``aiolimiter`` extra, which is not installed here)."""

    def __init__(self, max_retries: int = 3) -> None:
        self.max_retries = max_retries
        self.retries: list[tuple[str, float]] = []

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        for attempt in range(self.max_retries + 1):
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == self.max_retries:
                    raise
                delay = retry_after_seconds(exc)
                self.retries.append((endpoint, delay))
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")


def echo_app(api: FakeBotApi, rate_limiter: BaseRateLimiter[Any] | None = None) -> Application:
    """A tiny bot: /start shows a button, text is echoed, the button answers and edits,
    a photo is downloaded and its size reported, /photo uploads a photo."""
    builder = (
        ApplicationBuilder().token(TOKEN).base_url(api.base_url).base_file_url(api.base_file_url)
    )
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    app = builder.build()

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ping", callback_data="ping")]])
        await update.message.reply_text(
            "<b>Hello</b> &amp; welcome", parse_mode="HTML", reply_markup=keyboard
        )

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("pong")
        await query.edit_message_text(f"pressed: {query.data}")

    async def photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        file = await update.message.photo[-1].get_file()
        data = await file.download_as_bytearray()
        await update.message.reply_text(f"got {len(data)} bytes")

    async def send_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_photo(
            update.effective_chat.id,
            photo=b"\x89PNG-fake",
            caption="<i>a picture</i>",
            parse_mode="HTML",
        )

    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("photo", send_photo))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(MessageHandler(filters.PHOTO, photo))
    app.add_handler(CallbackQueryHandler(button))
    return app


@contextlib.asynccontextmanager
async def running(app: Application) -> AsyncIterator[Application]:
    """initialize/start/poll, then stop cleanly."""
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=5))
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as fake:
        yield fake


async def post(
    api: FakeBotApi, method: str, data: dict[str, Any] | None = None, *, json_body: Any = None
) -> tuple[int, dict[str, Any]]:
    """POST like PTB: strings as-is, everything else JSON-encoded, form-urlencoded."""
    form = None
    if data is not None:
        form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    async with aiohttp.ClientSession() as session:
        async with session.post(api.method_url(method), data=form, json=json_body) as resp:
            return resp.status, await resp.json()


async def bot_message(api: FakeBotApi, text: str = "hi", **extra: Any) -> dict[str, Any]:
    status, body = await post(api, "sendMessage", {"chat_id": USER, "text": text, **extra})
    assert status == 200, body
    return body["result"]


# ------------------------------------------------------------------ PTB end-to-end


async def test_echo_round_trip(api: FakeBotApi) -> None:
    async with running(echo_app(api)):
        sent = api.send_text(USER, "hello there")
        [reply] = await api.wait_for_messages(USER, 1)
    assert reply.text == "hello there"
    assert reply.chat_id == USER
    assert reply.message["from"]["is_bot"] is True
    assert {"getMe", "deleteWebhook", "getUpdates", "sendMessage"} <= {c.method for c in api.calls}
    # PTB confirmed the update with offset = update_id + 1 before stopping
    assert api.pending_updates == []
    assert sent["message_id"] < reply.message_id
    assert api.errors == []


async def test_command_button_press_and_edit(api: FakeBotApi) -> None:
    async with running(echo_app(api)):
        api.send_text(USER, "/start")
        [menu] = await api.wait_for_messages(USER, 1)
        assert menu.plain_text == "Hello & welcome"
        assert menu.entities == [{"type": "bold", "offset": 0, "length": 5}]
        assert menu.callback_data == ["ping"]

        api.press_button(USER, menu.message_id, "ping")
        await api.wait_for(lambda: api.callback_answers and menu.edit_count)

    assert api.callback_answers[0].text == "pong"
    assert api.unanswered_callback_queries == []
    assert menu.text == "pressed: ping"
    assert menu.history == ["<b>Hello</b> &amp; welcome"]
    # editing without reply_markup removes the keyboard, as on Telegram
    assert menu.reply_markup is None and "reply_markup" not in menu.message
    with pytest.raises(ValueError, match="no button"):
        api.press_button(USER, menu.message_id, "ping")
    assert api.errors == []


async def test_retry_after_with_retrying_bot(api: FakeBotApi) -> None:
    limiter = RetryingRateLimiter()
    api.fail_next("sendMessage", status=429, retry_after=1)
    async with running(echo_app(api, rate_limiter=limiter)):
        started = time.monotonic()
        api.send_text(USER, "are you there?")
        [reply] = await api.wait_for_messages(USER, 1, timeout=5)
        elapsed = time.monotonic() - started
    assert reply.text == "are you there?"
    assert limiter.retries == [("sendMessage", 1.0)]
    assert elapsed >= 1.0
    [fault] = api.faults
    assert (fault.method, fault.status) == ("sendMessage", 429)
    assert [c.status for c in api.calls_to("sendMessage")] == [429, 200]
    assert api.errors == []  # injected faults are not errors


async def test_retry_after_without_rate_limiter_is_not_retried(api: FakeBotApi) -> None:
    """PTB raises RetryAfter to the handler; without a rate limiter nobody retries."""
    seen: list[BaseException] = []
    done = asyncio.Event()
    app = echo_app(api)

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert context.error is not None
        seen.append(context.error)
        done.set()

    app.add_error_handler(on_error)
    api.fail_next("sendMessage", status=429, retry_after=7)
    async with running(app):
        api.send_text(USER, "lost")
        await asyncio.wait_for(done.wait(), 5)
    assert isinstance(seen[0], RetryAfter)
    assert retry_after_seconds(seen[0]) == 7
    assert api.sent == []
    assert len(api.calls_to("sendMessage")) == 1


async def test_updater_retries_get_updates_after_429(api: FakeBotApi) -> None:
    """PTB's polling loop itself honours retry_after (+0.5 s slack) on getUpdates."""
    api.fail_next("getUpdates", status=429, retry_after=0.2)  # fractional: keeps the test fast
    async with running(echo_app(api)):
        api.send_text(USER, "eventually")
        [reply] = await api.wait_for_messages(USER, 1, timeout=5)
    assert reply.text == "eventually"
    assert api.calls_to("getUpdates")[0].status == 429


async def test_server_errors_become_network_errors(api: FakeBotApi) -> None:
    api.fail_next("sendMessage", status=500)
    api.fail_next("sendMessage", status=502, body="<html><body>502 Bad Gateway</body></html>")
    api.fail_next("sendMessage", status=403)
    async with Bot(TOKEN, base_url=api.base_url) as bot:
        with pytest.raises(NetworkError, match="(?i)Internal Server Error"):
            await bot.send_message(USER, "x")
        with pytest.raises(NetworkError, match="(?i)Bad Gateway"):
            await bot.send_message(USER, "x")
        with pytest.raises(TelegramError, match="(?i)blocked by the user"):
            await bot.send_message(USER, "x")
        message = await bot.send_message(USER, "finally")
    assert message.text == "finally"
    assert [f.status for f in api.faults] == [500, 502, 403]


async def test_ptb_sees_bad_request_for_invalid_calls(api: FakeBotApi) -> None:
    async with Bot(TOKEN, base_url=api.base_url) as bot:
        with pytest.raises(BadRequest, match='(?i)unsupported start tag "foo"'):
            await bot.send_message(USER, "<foo>x</foo>", parse_mode="HTML")
        with pytest.raises(BadRequest, match='(?i)unknown parameter "colour"'):
            await bot.send_message(USER, "x", api_kwargs={"colour": "red"})
        with pytest.raises(BadRequest, match="(?i)message is too long"):
            await bot.send_message(USER, "a" * 4097)
    assert [e.kind for e in api.errors] == ["validation"] * 3


async def test_group_chat_mention_and_reply(api: FakeBotApi) -> None:
    group = -1001234567890
    async with running(echo_app(api)):
        asked = api.send_text(
            USER, f"@{api.bot_username} what is this?", chat_id=group, chat_type="supergroup"
        )
        [answer] = await api.wait_for_messages(group, 1)
        api.send_text(
            USER,
            "and this?",
            chat_id=group,
            chat_type="supergroup",
            reply_to_message_id=answer.message_id,
        )
        await api.wait_for_messages(group, 2)
    assert asked["chat"] == {"id": group, "type": "supergroup", "title": f"Chat {group}"}
    assert asked["entities"] == [
        {"type": "mention", "offset": 0, "length": len(api.bot_username) + 1}
    ]
    followup = api.updates[-1]["message"]
    assert followup["reply_to_message"]["message_id"] == answer.message_id
    assert followup["reply_to_message"]["from"]["id"] == api.bot_id
    # PTB's reply_text quotes the user's message in groups (not in private chats)
    assert api.messages_in(group)[1].reply_to_message_id == followup["message_id"]
    assert api.errors == []


async def test_photo_download_and_upload(api: FakeBotApi) -> None:
    async with running(echo_app(api)):
        api.send_photo(USER, content=b"x" * 1000)
        [got] = await api.wait_for_messages(USER, 1)
        api.send_text(USER, "/photo")
        [_, picture] = await api.wait_for_messages(USER, 2)
    assert got.text == "got 1000 bytes"
    assert picture.method == "sendPhoto"
    assert picture.files["photo"].data == b"\x89PNG-fake"
    assert picture.plain_text == "a picture"
    assert picture.message["caption_entities"] == [{"type": "italic", "offset": 0, "length": 9}]
    assert api.errors == []


async def test_commands_drafts_and_chat_actions(api: FakeBotApi) -> None:
    async with Bot(TOKEN, base_url=api.base_url) as bot:
        await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("help", "Help")])
        await bot.set_my_commands(
            [BotCommand("ask", "Ask")], scope=BotCommandScopeChat(USER), language_code="ru"
        )
        default = await bot.get_my_commands()
        scoped = await bot.get_my_commands(scope=BotCommandScopeChat(USER), language_code="ru")
        await bot.delete_my_commands()
        await bot.send_chat_action(USER, "typing")
        await bot.send_message_draft(USER, draft_id=7, text="")
        await bot.send_message_draft(
            USER, draft_id=7, text="<b>Thinking</b> hard", parse_mode="HTML"
        )
        with pytest.raises(BadRequest, match="(?i)TEXTDRAFT_PEER_INVALID"):
            await bot.send_message_draft(-100500, draft_id=7, text="x")
        with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
            await bot.set_my_commands([BotCommand("Bad-Name", "x")])
        with pytest.raises(BadRequest, match="(?i)wrong parameter action"):
            await bot.send_chat_action(USER, "dancing")
    assert [c.command for c in default] == ["start", "help"]
    assert [c.command for c in scoped] == ["ask"]
    assert api.commands == {f"chat:{USER}/ru": [{"command": "ask", "description": "Ask"}]}
    assert [(a.chat_id, a.action) for a in api.chat_actions] == [(USER, "typing")]
    first, second = api.drafts[USER]
    assert (first.draft_id, first.plain_text) == (7, "")
    assert second.plain_text == "Thinking hard"
    assert second.entities == [{"type": "bold", "offset": 0, "length": 8}]


async def test_edit_rules_and_flood_limit(api: FakeBotApi) -> None:
    flood = api.add_flood_rule(max_calls=2, per_seconds=10, retry_after=3)
    assert isinstance(flood, FloodRule)
    async with Bot(TOKEN, base_url=api.base_url) as bot:
        message = await bot.send_message(USER, "v0")
        await bot.edit_message_text("v1", USER, message.message_id)
        with pytest.raises(BadRequest, match="(?i)message is not modified"):
            await bot.edit_message_text("v1", USER, message.message_id)  # counts as a call
        with pytest.raises(RetryAfter) as caught:
            await bot.edit_message_text("v2", USER, message.message_id)
        with pytest.raises(RetryAfter):  # the chat stays blocked for retry_after seconds
            await bot.edit_message_reply_markup(USER, message.message_id)
        api.flood_rules.clear()
        with pytest.raises(BadRequest, match="(?i)message to edit not found"):
            await bot.edit_message_text("x", USER, 999)
        assert await bot.delete_message(USER, message.message_id)
        with pytest.raises(BadRequest, match="(?i)message to delete not found"):
            await bot.delete_message(USER, message.message_id)
    assert retry_after_seconds(caught.value) == 3
    assert [e.kind for e in api.errors] == ["semantic", "flood", "flood", "semantic", "semantic"]
    sent = api.message(USER, message.message_id)
    assert (sent.text, sent.history, sent.deleted) == ("v1", ["v0"], True)


async def test_answer_callback_query_twice_is_rejected(api: FakeBotApi) -> None:
    message = await bot_message(
        api, reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    )
    query = api.press_button(USER, message["message_id"], "a")
    assert query["message"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a"
    assert (await post(api, "answerCallbackQuery", {"callback_query_id": query["id"]}))[0] == 200
    status, body = await post(api, "answerCallbackQuery", {"callback_query_id": query["id"]})
    assert status == 400 and "query is too old" in body["description"]


async def test_wrong_token_is_unauthorized() -> None:
    async with FakeBotApi(token="999:RIGHT") as api:
        with pytest.raises(InvalidToken):
            async with Bot("999:WRONG", base_url=api.base_url):
                pass
        assert api.errors[0].kind == "auth"


# ------------------------------------------------------------------------- validator


def _rejected(case_id: str, expected: str, **params: Any) -> Any:
    return pytest.param({"chat_id": USER, **params}, expected, id=case_id)


def _button(**button: Any) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": "A", **button}]]}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        _rejected("unknown-field", 'unknown parameter "colour"', text="x", colour="red"),
        _rejected("missing-text", "message text is empty"),
        pytest.param({"text": "x"}, 'parameter "chat_id" is required', id="missing-chat-id"),
        _rejected("text-4097", "message is too long", text="a" * 4097),
        _rejected("text-blank", "message text is empty", text="   "),
        _rejected("html-unclosed", "Can't find end tag", text="<b>x", parse_mode="HTML"),
        _rejected("html-crossed", "Unmatched end tag", text="<b><i>x</b></i>", parse_mode="HTML"),
        _rejected("html-stray-end", "Unexpected end tag", text="x</b>", parse_mode="HTML"),
        _rejected("html-unknown-tag", 'start tag "h1"', text="<h1>x</h1>", parse_mode="HTML"),
        _rejected("html-bare-lt", "Unsupported start tag", text="1 < 2", parse_mode="HTML"),
        _rejected("html-bare-amp", "Character '&'", text="R&D", parse_mode="HTML"),
        _rejected("html-bare-gt", "Character '>'", text="2 > 1", parse_mode="HTML"),
        _rejected("html-span", "tg-spoiler", text="<span>x</span>", parse_mode="HTML"),
        _rejected("mdv2-unescaped", "Character '.'", text="Hi.", parse_mode="MarkdownV2"),
        _rejected("md-unclosed", "Can't find end", text="*x", parse_mode="Markdown"),
        _rejected("parse-mode", "unsupported parse_mode", text="x", parse_mode="BBCode"),
        _rejected("bool-type", "type Boolean", text="x", disable_notification="maybe"),
        _rejected("bad-json", "not a JSON object", text="x", reply_markup="{nope"),
        _rejected(
            "callback-data-65",
            "BUTTON_DATA_INVALID",
            text="x",
            reply_markup=_button(callback_data="x" * 65),
        ),
        _rejected(
            "nested-unknown-field",
            'unknown field "callback_date"',
            text="x",
            reply_markup=_button(callback_date="a"),
        ),
        _rejected("button-no-action", "exactly one action field", text="x", reply_markup=_button()),
        _rejected(
            "nested-missing-field",
            'lacks required field "message_id"',
            text="x",
            reply_parameters={"chat_id": USER},
        ),
    ],
)
async def test_validator_rejects(api: FakeBotApi, params: dict[str, Any], expected: str) -> None:
    status, body = await post(api, "sendMessage", params)
    assert status == 400
    assert body["ok"] is False and body["error_code"] == 400
    assert body["description"].startswith("Bad Request: ")
    assert expected in body["description"]
    [error] = api.errors
    assert (error.method, error.status, error.kind) == ("sendMessage", 400, "validation")
    assert api.sent == []


@pytest.mark.parametrize(
    "params",
    [
        {"chat_id": USER, "text": "a" * 4096},
        {"chat_id": USER, "text": "<b>" + "a" * 4096 + "</b>", "parse_mode": "HTML"},
        {"chat_id": USER, "text": "&lt;&gt;&amp;&quot;&#128512;&#x1F600;", "parse_mode": "html"},
        {"chat_id": str(USER), "text": "x", "disable_notification": "true"},
        {
            "chat_id": USER,
            "text": '<pre><code class="language-python">x = 1</code></pre>'
            "<blockquote expandable>q</blockquote><tg-spoiler>s</tg-spoiler>"
            '<a href="https://example.com/?a=1&amp;b=2">l</a>'
            '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
            "parse_mode": "HTML",
        },
        {
            "chat_id": USER,
            "text": "x",
            "reply_markup": {
                "inline_keyboard": [
                    [{"text": "A", "callback_data": "x" * 64}, {"text": "B", "url": "https://t.me"}]
                ]
            },
        },
        {
            "chat_id": USER,
            "text": "x",
            "reply_markup": {"keyboard": [[{"text": "Yes"}]], "resize_keyboard": True},
        },
        {"chat_id": USER, "text": "x", "reply_markup": {"remove_keyboard": True}},
    ],
    ids=[
        "text-4096",
        "4096-after-parsing",
        "html-entities",
        "form-strings",
        "all-tags",
        "callback-data-64",
        "reply-keyboard",
        "remove-keyboard",
    ],
)
async def test_validator_accepts(api: FakeBotApi, params: dict[str, Any]) -> None:
    status, body = await post(api, "sendMessage", params)
    assert status == 200, body
    assert api.errors == []


async def test_unknown_method_and_case_insensitive_names(api: FakeBotApi) -> None:
    status, body = await post(api, "sendMesage", {"chat_id": USER, "text": "x"})
    assert (status, body["ok"]) == (404, False)
    status, body = await post(api, "SENDMESSAGE", {"chat_id": USER, "text": "x"})
    assert status == 200 and api.sent[0].method == "sendMessage"
    assert api.calls[-1].method == "sendMessage"


async def test_json_body_and_other_methods(api: FakeBotApi) -> None:
    status, body = await post(api, "sendMessage", json_body={"chat_id": USER, "text": "json"})
    assert status == 200 and body["result"]["text"] == "json"
    status, body = await post(api, "setMyName", {"name": "n" * 65})
    assert status == 400 and "0-64 characters" in body["description"]
    status, body = await post(api, "setChatTitle", {"chat_id": -5, "title": "ok"})
    assert (status, body) == (200, {"ok": True, "result": True})
    assert api.calls_to("setChatTitle")[0].params == {"chat_id": -5, "title": "ok"}


async def test_caption_limit_after_entity_parsing(api: FakeBotApi) -> None:
    ok = {"chat_id": USER, "photo": "AgADfileid", "parse_mode": "HTML"}
    status, _ = await post(api, "sendPhoto", {**ok, "caption": "<b>" + "c" * 1024 + "</b>"})
    assert status == 200
    status, body = await post(api, "sendPhoto", {**ok, "caption": "c" * 1025})
    assert status == 400 and "caption is too long" in body["description"]


# ------------------------------------------------------------------------ long polling


async def test_long_poll_waits_for_timeout(api: FakeBotApi) -> None:
    async with Bot(TOKEN, base_url=api.base_url) as bot:
        started = time.monotonic()
        updates = await bot.get_updates(timeout=1)
        elapsed = time.monotonic() - started
    assert updates == ()
    assert 0.9 <= elapsed < 2.0


async def test_long_poll_returns_as_soon_as_an_update_arrives(api: FakeBotApi) -> None:
    async with Bot(TOKEN, base_url=api.base_url) as bot:
        poll = asyncio.create_task(bot.get_updates(timeout=10))
        await api.wait_for(
            lambda: any(c.method == "getUpdates" and c.status is None for c in api.calls)
        )
        started = time.monotonic()
        api.send_text(USER, "wake up")
        updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 0.5
    assert [u.message.text for u in updates if u.message] == ["wake up"]


async def test_offset_confirms_and_negative_offset(api: FakeBotApi) -> None:
    for text in ("one", "two", "three"):
        api.send_text(USER, text)
    ids = [u["update_id"] for u in api.pending_updates]
    assert ids == [100, 101, 102]
    status, body = await post(api, "getUpdates", {"offset": 101})
    assert [u["update_id"] for u in body["result"]] == [101, 102]
    assert [u["update_id"] for u in api.pending_updates] == [101, 102]
    status, body = await post(api, "getUpdates", {"offset": -1})
    assert [u["update_id"] for u in body["result"]] == [102]
    status, body = await post(api, "getUpdates", {"offset": 103, "limit": 5})
    assert body["result"] == [] and api.pending_updates == []


async def test_allowed_updates_filter_new_updates(api: FakeBotApi) -> None:
    await post(api, "getUpdates", {"allowed_updates": ["callback_query"]})
    api.send_text(USER, "ignored")
    assert api.pending_updates == [] and len(api.dropped_updates) == 1
    await post(api, "getUpdates", {"allowed_updates": []})  # back to the default set
    api.send_text(USER, "delivered")
    assert [u["message"]["text"] for u in api.pending_updates] == ["delivered"]


async def test_webhook_and_double_poller_conflicts(api: FakeBotApi) -> None:
    assert (await post(api, "setWebhook", {"url": "https://example.com/hook"}))[0] == 200
    status, body = await post(api, "getWebhookInfo")
    assert body["result"]["url"] == "https://example.com/hook"
    status, body = await post(api, "getUpdates")
    assert status == 409 and "webhook is active" in body["description"]
    assert (await post(api, "deleteWebhook", {"drop_pending_updates": True}))[0] == 200

    first = asyncio.create_task(post(api, "getUpdates", {"timeout": 5}))
    await api.wait_for(lambda: any(c.status is None for c in api.calls_to("getUpdates")))
    second = asyncio.create_task(post(api, "getUpdates", {"timeout": 0}))
    status, body = await asyncio.wait_for(first, 2)
    assert status == 409 and "terminated by other getUpdates" in body["description"]
    assert (await second)[0] == 200
    assert [e.kind for e in api.errors] == ["conflict", "conflict"]


async def test_privacy_mode_filters_group_messages() -> None:
    async with FakeBotApi(privacy_mode=True, bot_username="doc_bot") as api:
        group = -200
        api.send_text(USER, "chatter", chat_id=group, chat_type="group")
        api.send_text(USER, "hey @doc_bot", chat_id=group, chat_type="group")
        api.send_text(USER, "/help@doc_bot", chat_id=group, chat_type="group")
        api.send_text(USER, "private is always delivered")
        texts = [u["message"]["text"] for u in api.pending_updates]
    assert texts == ["hey @doc_bot", "/help@doc_bot", "private is always delivered"]
    assert api.dropped_updates[0]["message"]["text"] == "chatter"


async def test_user_simulation_payloads(api: FakeBotApi) -> None:
    text = "😀 /start@fake_test_bot see https://example.org #tag"
    message = api.send_text(USER, text)
    assert message["entities"] == [
        {"type": "bot_command", "offset": 3, "length": 20},
        {"type": "url", "offset": 28, "length": 19},
        {"type": "hashtag", "offset": 48, "length": 4},
    ]
    sticker = api.send_sticker(USER)["sticker"]
    voice = api.send_voice(USER, duration=5)["voice"]
    document = api.send_document(USER, file_name="a.pdf", mime_type="application/pdf")
    edited = api.edit_text(USER, message["message_id"], "changed")
    kinds = [next(k for k in u if k != "update_id") for u in api.updates]
    assert kinds == ["message"] * 4 + ["edited_message"]
    assert sticker["type"] == "regular" and voice["duration"] == 5
    assert document["document"]["file_name"] == "a.pdf"
    assert edited["text"] == "changed" and "entities" not in edited
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as bot:
        file = await bot.get_file(voice["file_id"])
        assert bytes(await file.download_as_bytearray()) == b"OggSfake-opus"
        updates = await bot.get_updates()  # every payload parses in PTB
    assert len(updates) == 5
    with pytest.raises(ValueError):
        api.send_text(USER, "x", chat_id=-1, chat_type="private")


def test_sync_mode_in_background_thread() -> None:
    with FakeBotApi() as api:
        url = api.method_url("getUpdates")
        results: list[Any] = []

        def poll() -> None:
            query = urllib.parse.urlencode({"timeout": 5})
            with urllib.request.urlopen(f"{url}?{query}", timeout=10) as resp:
                results.append(json.load(resp))

        poller = threading.Thread(target=poll)
        poller.start()
        api.wait_for_sync(lambda: any(c.status is None for c in api.calls_to("getUpdates")))
        api.send_text(USER, "from another thread")
        poller.join(5)
        assert results[0]["result"][0]["message"]["text"] == "from another thread"

        data = urllib.parse.urlencode({"chat_id": USER, "text": "<b>x", "parse_mode": "HTML"})
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(api.method_url("sendMessage"), data=data.encode(), timeout=5)
        assert caught.value.code == 400
        assert "Can't find end tag" in json.load(caught.value)["description"]
        assert api.wait_for_sync(lambda: api.errors, timeout=1)


# ------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("markup", "plain", "entities"),
    [
        ("<b>a</b><i>b</i>", "ab", [("bold", 0, 1), ("italic", 1, 1)]),
        ("😀<u>x</u>", "😀x", [("underline", 2, 1)]),  # UTF-16 offsets
        ("<B>x</B>", "x", [("bold", 0, 1)]),
        ("<a href='tg://user?id=5'>u</a>", "u", [("text_mention", 0, 1)]),
        ("<blockquote>q</blockquote>", "q", [("blockquote", 0, 1)]),
    ],
)
def test_parse_html_entities(markup: str, plain: str, entities: list[tuple[str, int, int]]) -> None:
    parsed = parse_html(markup)
    assert parsed.text == plain
    assert [(e["type"], e["offset"], e["length"]) for e in parsed.entities] == entities


def test_lenient_html_allows_bare_ampersand_and_gt() -> None:
    assert parse_html("R&D > 1", strict=False).text == "R&D > 1"
    with pytest.raises(EntityParseError):
        parse_html("a < b", strict=False)


def test_markdown_parsers() -> None:
    parsed = parse_markdown_v2(r"*b* _i_ __u__ ~s~ ||sp|| [l](https://x.y/\)) `c\`` 1\.5")
    assert parsed.text == "b i u s sp l c` 1.5"
    assert [e["type"] for e in parsed.entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "text_link",
        "code",
    ]
    assert parsed.entities[5]["url"] == "https://x.y/)"
    quote = parse_markdown_v2(">a\n>b\nc")
    assert quote.entities == [{"type": "blockquote", "offset": 0, "length": 3}]
    with pytest.raises(EntityParseError, match="Can't find end of Bold"):
        parse_markdown_v2("*open")
    assert parse_markdown("*b* [t](http://x)").text == "b t"
    assert utf16_len("😀a") == 3

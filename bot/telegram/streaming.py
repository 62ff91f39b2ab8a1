"""Showing an answer while it is written: drafts in private chats, spaced-out edits elsewhere,
a typing indicator meanwhile; then the final HTML message(s) with the buttons."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError

from bot.answer import Answer
from bot.telegram.retry import retry_after_seconds

log = logging.getLogger(__name__)

NO_PREVIEWS = LinkPreviewOptions(is_disabled=True)
OPTIONAL = {"optional": True, "max_retries": 0}  # previews: skip rather than wait or retry
QUEUED = {"queue": True}  # answers: a long flood control is waited out, not given up


@dataclass
class StreamConfig:
    """How often a growing answer is shown."""

    draft_interval: float = 0.6  # seconds between drafts in a private chat
    edit_interval: float = 3.0  # seconds between edits in one group (20 messages a minute)
    typing_interval: float = 4.5  # the typing indicator lasts about 5 s
    preview_chars: int = 3800  # a longer preview shows its newest part
    drafts: bool = True  # sendMessageDraft in private chats (else edits there too)
    # Above this many answers in flight, new ones arrive whole: previews of a crowd would not
    # fit Telegram's ~30 calls/s anyway, and parsing a token stream per answer costs CPU.
    live_answers: int = 10


class EditPacer:
    """Spaces out edits per chat, over all answers in that chat."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next: dict[int, float] = {}

    def due(self, chat_id: int) -> bool:
        """True when the chat may be edited now."""
        return time.monotonic() >= self._next.get(chat_id, 0.0)

    def take(self, chat_id: int) -> None:
        """Take the chat's slot now."""
        self._next[chat_id] = time.monotonic() + self.interval

    async def wait(self, chat_id: int) -> None:
        """Wait for the chat's next slot and take it."""
        now = time.monotonic()
        slot = max(now, self._next.get(chat_id, 0.0))
        self._next[chat_id] = slot + self.interval
        await asyncio.sleep(slot - now)

    def hold(self, chat_id: int, seconds: float) -> None:
        """No edits in the chat for `seconds` (Telegram asked us to wait)."""
        self._next[chat_id] = max(self._next.get(chat_id, 0.0), time.monotonic() + seconds)


@dataclass
class Target:
    """Where an answer goes: the chat, the topic, the message answered."""

    chat_id: int
    private: bool
    reply_to: int | None = None
    thread_id: int | None = None

    @property
    def reply(self) -> ReplyParameters | None:
        """Quote the question in groups; not needed in a private chat."""
        if self.private or self.reply_to is None:
            return None
        return ReplyParameters(self.reply_to, allow_sending_without_reply=True)


@contextlib.asynccontextmanager
async def typing(bot: Bot, target: Target, interval: float) -> AsyncIterator[None]:
    """Keep the typing indicator on while the body runs."""

    async def keep_typing() -> None:
        while True:
            with contextlib.suppress(TelegramError):
                await bot.send_chat_action(target.chat_id, ChatAction.TYPING,
                                           message_thread_id=target.thread_id,
                                           rate_limit_args=OPTIONAL)
            await asyncio.sleep(interval)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class Preview:
    """The growing answer on screen, then the final parts."""

    def __init__(self, bot: Bot, target: Target, config: StreamConfig, pacer: EditPacer,
                 draft_id: int) -> None:
        self.bot, self.target, self.config, self.pacer = bot, target, config, pacer
        self.draft_id = draft_id or 1
        self.drafts = config.drafts and target.private
        self.message: Message | None = None
        self.shown = ""
        self._last = 0.0
        self.disabled = False

    def _snippet(self, text: str) -> str:
        text = text.strip()
        limit = self.config.preview_chars
        return text if len(text) <= limit else "…" + text[-limit:].lstrip()

    async def show(self, text: str) -> None:
        """Show the answer so far, if it is time to; failures only cost the preview."""
        if self.disabled:
            return
        if self.drafts:
            if time.monotonic() - self._last < self.config.draft_interval:
                return
        elif not self.pacer.due(self.target.chat_id):
            return
        snippet = self._snippet(text)
        if not snippet or snippet == self.shown:
            return
        try:
            if self.drafts:
                self._last = time.monotonic()
                await self.bot.send_message_draft(
                    self.target.chat_id, self.draft_id, snippet,
                    message_thread_id=self.target.thread_id, rate_limit_args=OPTIONAL)
            else:
                self.pacer.take(self.target.chat_id)
                await self._edit_preview(snippet)
            self.shown = snippet
        except RetryAfter as error:
            self.pacer.hold(self.target.chat_id, retry_after_seconds(error))
        except BadRequest as error:
            if self.drafts:  # drafts not available here: spaced-out edits instead
                log.info("drafts unavailable in chat %s (%s); using edits", self.target.chat_id,
                         error.message)
                self.drafts = False
            else:
                self.disabled = True
        except TelegramError as error:
            log.debug("preview skipped in chat %s: %s", self.target.chat_id, error)

    async def _edit_preview(self, snippet: str) -> None:
        if self.message is None:
            self.message = await self.bot.send_message(
                self.target.chat_id, snippet, reply_parameters=self.target.reply,
                message_thread_id=self.target.thread_id, link_preview_options=NO_PREVIEWS,
                rate_limit_args=OPTIONAL)
        else:
            await self.bot.edit_message_text(
                snippet, self.target.chat_id, self.message.message_id,
                link_preview_options=NO_PREVIEWS, rate_limit_args=OPTIONAL)

    async def finish(self, parts: list[str], markup: InlineKeyboardMarkup | None
                     ) -> list[Message]:
        """Send the final parts (the preview message becomes the first); buttons on the last."""
        sent: list[Message] = []
        start = 0
        if self.message is not None:
            await self.pacer.wait(self.target.chat_id)
            try:
                edited = await self.bot.edit_message_text(
                    parts[0], self.target.chat_id, self.message.message_id,
                    parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEWS,
                    reply_markup=markup if len(parts) == 1 else None, rate_limit_args=QUEUED)
                sent.append(edited if isinstance(edited, Message) else self.message)
                start = 1
            except BadRequest as error:  # e.g. someone deleted the preview: send it anew
                log.info("could not edit the preview in chat %s (%s); sending anew",
                         self.target.chat_id, error.message)
        for index in range(start, len(parts)):
            sent.append(await self.bot.send_message(
                self.target.chat_id, parts[index], parse_mode=ParseMode.HTML,
                reply_parameters=self.target.reply if index == 0 else None,
                message_thread_id=self.target.thread_id, link_preview_options=NO_PREVIEWS,
                reply_markup=markup if index == len(parts) - 1 else None,
                rate_limit_args=QUEUED))
        return sent


async def stream(events: AsyncIterator[str | Answer], preview: Preview) -> Answer:
    """Feed the engine's text into the preview; return the complete Answer."""
    text, answer = "", None
    async for event in events:
        if isinstance(event, Answer):
            answer = event
        else:
            text += event
            await preview.show(text)
    if answer is None:
        raise RuntimeError("the engine's stream ended without an Answer")
    return answer

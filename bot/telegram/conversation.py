"""The people-facing services: answering a question, /new and /forget."""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import asdict

from telegram import Bot, Message
from telegram.constants import ChatType

from bot.stats import outcome
from bot.telegram import render, texts
from bot.telegram.buttons import keyboard
from bot.telegram.services import Services
from bot.telegram.storage import StorageError
from bot.telegram.streaming import Preview, Target, stream, typing
from bot.triage import TriageResult

log = logging.getLogger(__name__)


def _target(message: Message) -> Target:
    return Target(message.chat.id, message.chat.type == ChatType.PRIVATE, message.message_id,
                  message.message_thread_id if message.is_topic_message else None)


async def answer_question(s: Services, bot: Bot, message: Message, user_id: int,
                          text: str, edited: bool = False, attachment: bool = False) -> None:
    """Triage first, whatever the length; then answer, honouring the length, the rate and the
    one-answer-at-a-time rules. An edit is answered only when its triage finds something; a
    caption is answered as the question, with a word that the attachment was not read."""
    shown = f": {text!r}" if s.settings.log_message_text else ""
    log.info("%s from user %s in chat %s (%d chars)%s", "edit" if edited else "question",
             user_id, message.chat.id, len(text), shown)
    verdict = await s.engine.triage_message(text)
    if verdict.level == "emergency":
        await _emergency(s, bot, message, user_id, verdict, text)  # at once: no queue, no disk
        return
    too_long = len(text) > s.settings.max_message_chars
    if edited or too_long:
        notice = s.engine.notice(verdict)
        note = texts.TOO_LONG.format(length=len(text), limit=s.settings.max_message_chars) \
            if too_long else ""
        if notice or note:
            await message.reply_text("\n\n".join(p for p in (notice, note) if p))
        return
    if attachment:
        await message.reply_text(texts.CAPTION_ONLY)
    if s.turns.closing:
        await message.reply_text(texts.SHUTTING_DOWN)
        return
    wait = s.rate.check(user_id)
    if wait:
        log.info("user %s rate-limited for %.0f s", user_id, wait)
        await message.reply_text(texts.RATE_LIMITED.format(count=s.rate.per_minute,
                                                           seconds=max(1, round(wait))))
        return
    if s.turns.busy(user_id):
        if s.turns.full(user_id):
            await message.reply_text(texts.QUEUE_FULL)
            return
        await message.reply_text(texts.ONE_MOMENT)
    async with s.turns.turn(user_id):
        await _answer(s, bot, message, user_id, text, verdict)


async def _emergency(s: Services, bot: Bot, message: Message, user_id: int,
                     verdict: TriageResult, text: str) -> None:
    """Send the emergency text before touching the disk; then record what can be recorded."""
    answer = s.engine.emergency(verdict)
    await Preview(bot, _target(message), s.stream, s.pacer, message.message_id).finish(
        render.answer_parts(answer, labels=s.engine.prompts.labels(answer.language)), None)
    log.info("answered user %s in chat %s: emergency", user_id, message.chat.id)
    _record(s, "count_question", user_id)
    _record(s, "log_answer", **outcome(answer))
    _record(s, "add_turns", message.chat.id, user_id,
            [("user", text), ("assistant", answer.body)],  # a voice note's is its transcript
            keep=s.settings.history_turns)


def _record(s: Services, what: str, *args: object, **kwargs: object) -> object:
    """A store write that may fail (a full disk): logged once per kind, the answer goes on."""
    try:
        return getattr(s.store, what)(*args, **kwargs)
    except (sqlite3.Error, OSError, StorageError) as error:
        if what not in _DISK_ERRORS_LOGGED:
            _DISK_ERRORS_LOGGED.add(what)
            log.error("could not write to the bot's database (%s: %s: %s); answering anyway",
                      what, type(error).__name__, error)
        return None


_DISK_ERRORS_LOGGED: set[str] = set()


async def _answer(s: Services, bot: Bot, message: Message, user_id: int, text: str,
                  verdict: TriageResult) -> None:
    started = time.monotonic()
    chat_id = message.chat.id
    target = _target(message)
    if s.inbox.is_late(message):
        await message.reply_text(texts.LATE)
    history = _record(s, "history", chat_id, user_id, s.settings.history_turns,
                      s.settings.history_chars) or []
    _record(s, "count_question", user_id)
    preview = Preview(bot, target, s.stream, s.pacer, message.message_id)
    # a crowd counts from its arrival: the others may still be in the triage
    live = max(s.turns.in_flight, s.inbox.active) <= s.stream.live_answers
    preview.disabled = not live
    async with typing(bot, target, s.stream.typing_interval):
        answer = await stream(s.engine.stream(text, history, live=live, verdict=verdict),
                              preview)
    # the answer's language goes with its sources: the Sources button speaks it too
    sources = [asdict(source) | {"answer_language": answer.language} for source in answer.sources]
    answer_id = _record(s, "save_answer", chat_id, user_id, answer.triage, answer.mode, sources)
    labels = s.engine.prompts.labels(answer.language)
    parts = render.answer_parts(answer, labels=labels)
    await preview.finish(parts, keyboard(answer_id, bool(sources), sources_label=labels("button"))
                         if answer_id else None)
    _record(s, "log_answer", **outcome(answer))  # the day's counters: no user id, no text
    _record(s, "add_turns", chat_id, user_id, [("user", text), ("assistant", answer.body)],
            keep=s.settings.history_turns)
    log.info("answered user %s in chat %s: %s/%s, %d chars in %d part(s), %d sources, %.2f s",
             user_id, chat_id, answer.triage, answer.mode, len(answer.text), len(parts),
             len(sources), time.monotonic() - started)


def new_conversation(s: Services, chat_id: int, user_id: int) -> str:
    """Forget the person's conversation in this chat (/new)."""
    deleted = s.store.clear_history(chat_id, user_id)
    log.info("user %s started a new conversation in chat %s (%d turns dropped)", user_id,
             chat_id, deleted)
    return texts.NEW


async def forget_person(s: Services, user_id: int) -> str:
    """Delete everything stored about a person (/forget), after their answer in flight."""
    async with s.turns.turn(user_id):  # it writes its turns first; then everything goes
        known = s.store.knows(user_id)
        s.store.forget(user_id)
    s.rate.forget(user_id)
    log.info("user %s asked to be forgotten (%s)", user_id, "done" if known else "nothing stored")
    return texts.FORGOTTEN if known else texts.NOTHING_TO_FORGET

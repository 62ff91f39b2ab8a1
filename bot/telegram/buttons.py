"""The buttons under an answer: 👍 / 👎 and Sources, for the person it was given to or the chat it
is in; every press is answered, whatever its data."""

from __future__ import annotations

import logging
import re

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.constants import ParseMode

from bot.provenance import Labels, english
from bot.telegram import render, texts
from bot.telegram.services import Services
from bot.telegram.streaming import NO_PREVIEWS

log = logging.getLogger(__name__)

ANSWER_ID = r"[A-Za-z0-9_-]{1,32}"  # Store.save_answer's ids
FEEDBACK = re.compile(rf"fb:({ANSWER_ID}):(up|down)")
SOURCES = re.compile(rf"src:({ANSWER_ID})")


def keyboard(answer_id: str, with_sources: bool, vote: int = 0,
             sources_label: str = "") -> InlineKeyboardMarkup:
    """👍 / 👎 (the chosen one ticked) and, when the answer cites any, Sources (labelled in the
    answer's language)."""
    rows = [[
        InlineKeyboardButton("👍 ✓" if vote == 1 else "👍", callback_data=f"fb:{answer_id}:up"),
        InlineKeyboardButton("👎 ✓" if vote == -1 else "👎", callback_data=f"fb:{answer_id}:down"),
    ]]
    if with_sources:
        label = sources_label or english()("button")
        rows.append([InlineKeyboardButton(label, callback_data=f"src:{answer_id}")])
    return InlineKeyboardMarkup(rows)


def labels_for(s: Services, sources: list[dict]) -> Labels:
    """The labels in the language of the answer these sources belong to."""
    language = next((x.get("answer_language") for x in sources if x.get("answer_language")), "")
    return s.engine.prompts.labels(language or "en")


def _sources(s: Services, query: CallbackQuery, answer_id: str) -> list[dict] | None:
    chat_id = query.message.chat.id if query.message is not None else None
    return s.store.answer_for(answer_id, chat_id, query.from_user.id)


async def _refuse(s: Services, query: CallbackQuery, answer_id: str) -> None:
    gone = s.store.answer_sources(answer_id) is None
    if not gone:
        log.warning("user %s pressed a button of answer %s, given to someone else elsewhere",
                    query.from_user.id, answer_id)
    await query.answer(texts.ANSWER_GONE if gone else texts.NOT_YOURS, show_alert=True)


async def unknown(query: CallbackQuery) -> None:
    """A press whose data no button of this bot carries: answered, so the client stops."""
    log.info("button with unknown data (%d chars) from user %s", len(query.data or ""),
             query.from_user.id)
    await query.answer(texts.BUTTON_UNKNOWN)


async def record_feedback(s: Services, query: CallbackQuery) -> None:
    """Store a 👍 / 👎, acknowledge it and tick the chosen button."""
    match = FEEDBACK.fullmatch(query.data or "")
    if match is None:
        await unknown(query)
        return
    answer_id, vote = match[1], 1 if match[2] == "up" else -1
    sources = _sources(s, query, answer_id)
    if sources is None:
        await _refuse(s, query, answer_id)
        return
    changed = s.store.vote(answer_id, query.from_user.id, vote)
    log.info("feedback %+d from user %s on answer %s", vote, query.from_user.id, answer_id)
    await query.answer(texts.FEEDBACK_THANKS[vote] if changed else texts.FEEDBACK_SAME)
    if changed and query.message is not None:
        label = labels_for(s, sources)("button")
        await query.edit_message_reply_markup(keyboard(answer_id, bool(sources), vote, label))


async def show_sources(s: Services, bot: Bot, query: CallbackQuery) -> None:
    """Send the cited doctors' replies in detail, under the answer."""
    match = SOURCES.fullmatch(query.data or "")
    if match is None:
        await unknown(query)
        return
    sources = _sources(s, query, match[1])
    if sources is None or query.message is None:
        await _refuse(s, query, match[1])
        return
    await query.answer(texts.SOURCES_SENT)
    chat = query.message.chat
    reply = ReplyParameters(query.message.message_id, allow_sending_without_reply=True)
    for index, part in enumerate(render.sources_parts(sources, labels=labels_for(s, sources))):
        await bot.send_message(chat.id, part, parse_mode=ParseMode.HTML,
                               reply_parameters=reply if index == 0 else None,
                               link_preview_options=NO_PREVIEWS)

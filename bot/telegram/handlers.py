"""The handlers: small functions, each calling one service."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.stats import DEFAULT_DAYS, daily
from bot.stats_chart import render_png
from bot.telegram import admin, buttons, conversation, texts, voice
from bot.telegram.addressing import is_addressed, question_text
from bot.telegram.services import services

log = logging.getLogger(__name__)


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop updates from people not in ALLOWED_USER_IDS, with a polite refusal."""
    user = update.effective_user
    if services(context).is_allowed(user.id if user else None):
        return
    log.info("refused user %s (not in ALLOWED_USER_IDS)", user.id if user else None)
    if update.callback_query:
        await update.callback_query.answer(texts.NOT_ALLOWED, show_alert=True)
    elif update.message and is_addressed(update.message, context.bot):
        await update.message.reply_text(texts.NOT_ALLOWED)
    raise ApplicationHandlerStop


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: what the bot is and is not, privacy, the disclaimer."""
    s = services(context)
    await update.effective_message.reply_html(
        s.pages.start_page(s.settings, s.engine.disclaimer(), s.engine.knowledge()))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: how to ask and the commands."""
    s = services(context)
    await update.effective_message.reply_html(
        s.pages.help_page(f"@{context.bot.username}", s.is_admin(update.effective_user.id),
                          s.engine.knowledge()))


async def privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/privacy: what is stored and for how long."""
    s = services(context)
    await update.effective_message.reply_html(s.pages.privacy_page(s.settings))


async def new(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/new: a fresh conversation."""
    await update.effective_message.reply_text(conversation.new_conversation(
        services(context), update.effective_chat.id, update.effective_user.id))


async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/forget: delete everything stored about the person."""
    await update.effective_message.reply_text(
        await conversation.forget_person(services(context), update.effective_user.id))


async def reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload (admins): rebuild the index in the background, then report."""
    s = services(context)
    message = update.effective_message
    if not s.is_admin(update.effective_user.id):
        await message.reply_text(texts.ADMIN_ONLY.format(command="reload"))
        return
    if not s.reloader.claim():
        await message.reply_text(texts.RELOAD_BUSY)
        return
    log.info("reload started by user %s", update.effective_user.id)
    context.application.create_task(
        admin.reload_and_report(s.reloader, context.bot, message.chat.id), update=update)
    await message.reply_text(texts.RELOAD_STARTED)


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats (admins): people, questions, feedback, index, the last 30 days (text and chart);
    asked in a group, sent privately."""
    s = services(context)
    message, user_id = update.effective_message, update.effective_user.id
    if not s.is_admin(user_id):
        await message.reply_text(texts.ADMIN_ONLY.format(command="stats"))
        return
    report = daily(s.store, DEFAULT_DAYS)
    text = await admin.stats_text(s.settings, s.store.stats(), report)
    chart = await asyncio.to_thread(render_png, report)
    if message.chat.type == ChatType.PRIVATE:
        await message.reply_html(text)
        await admin.send_chart(context.bot, message.chat.id, chart)
    else:
        await message.reply_text(await admin.send_privately(context.bot, user_id, text, chart))


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A text message: answered in private chats, in groups when addressed to the bot."""
    message = update.effective_message
    if not is_addressed(message, context.bot):
        return
    text = question_text(message, context.bot)
    if not text:
        await message.reply_text(texts.EMPTY.format(mention=f"@{context.bot.username}"))
        return
    await conversation.answer_question(services(context), context.bot, message,
                                       update.effective_user.id, text)


async def edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited message: triaged again; answered when the new text raises a red flag."""
    message = update.effective_message
    if not is_addressed(message, context.bot):
        return
    text = question_text(message, context.bot)
    if text:
        await conversation.answer_question(services(context), context.bot, message,
                                           update.effective_user.id, text, edited=True)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photos, voice, stickers, files: a caption is triaged and answered; a recording without one
    is transcribed when the server can; otherwise say that only text can be read."""
    message = update.effective_message
    if not is_addressed(message, context.bot):
        return
    text = question_text(message, context.bot) if message.caption else ""
    if not text and voice.recording(message):
        await voice.answer_voice(services(context), context.bot, message, update.effective_user.id)
        return
    if not text:
        await message.reply_text(texts.TEXT_ONLY)
        return
    await conversation.answer_question(services(context), context.bot, message,
                                       update.effective_user.id, text, attachment=True)


async def feedback_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """👍 / 👎 pressed."""
    await buttons.record_feedback(services(context), update.callback_query)


async def sources_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Sources pressed."""
    await buttons.show_sources(services(context), context.bot, update.callback_query)


async def unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button this bot never made: answered, so the client does not spin."""
    await buttons.unknown(update.callback_query)


async def error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the details for the operator; tell the person only that something went wrong."""
    user = update.effective_user if isinstance(update, Update) else None
    log.error("error while handling an update from user %s: %s: %s", user.id if user else None,
              type(context.error).__name__, context.error, exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query:
            await update.callback_query.answer(texts.SORRY)
        elif update.effective_chat and (update.effective_chat.type == ChatType.PRIVATE or (
                update.effective_message and is_addressed(update.effective_message, context.bot))):
            await context.bot.send_message(update.effective_chat.id, texts.SORRY)
    except TelegramError as failure:
        log.warning("could not send the apology to user %s: %s", user.id if user else None,
                    failure)

"""Who a message is meant for: everything in a private chat; in groups only what mentions the
bot or replies to it."""

from __future__ import annotations

import re

from telegram import Bot, Message, MessageEntity
from telegram.constants import ChatType


def _mentions_bot(message: Message, bot: Bot) -> bool:
    username = f"@{bot.username}".lower()
    for entities, parse in ((message.entities, message.parse_entity),
                            (message.caption_entities, message.parse_caption_entity)):
        for entity in entities or ():
            if entity.type == MessageEntity.MENTION and parse(entity).lower() == username:
                return True
            if entity.type == MessageEntity.TEXT_MENTION and entity.user and \
                    entity.user.id == bot.id:
                return True
    return False


def is_addressed(message: Message, bot: Bot) -> bool:
    """True in private chats; in groups when the bot is mentioned or replied to."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
        return True
    return _mentions_bot(message, bot)


def question_text(message: Message, bot: Bot) -> str:
    """The message's text (or caption) without the bot's @mention."""
    text = message.text or message.caption or ""
    if bot.username:
        text = re.sub(rf"@{re.escape(bot.username)}\b", " ", text, flags=re.IGNORECASE)
    return re.sub(r"[ \t]{2,}", " ", text).strip()

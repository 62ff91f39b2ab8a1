"""What the handlers share: settings, the engine, the store, the limits, the reloader, the
inbox."""

from __future__ import annotations

from dataclasses import dataclass

from telegram.ext import ContextTypes

from bot.engine import Engine
from bot.settings import Settings
from bot.telegram.admin import Reloader
from bot.telegram.inbox import Inbox
from bot.telegram.limits import OneAtATime, RateLimit
from bot.telegram.storage import Store
from bot.telegram.streaming import EditPacer, StreamConfig
from bot.telegram.texts import Pages, VoiceTexts
from bot.transcription import Transcriber


@dataclass
class Services:
    """Everything a handler may call; one per Application, in bot_data["services"]."""

    settings: Settings
    engine: Engine
    store: Store
    pages: Pages
    rate: RateLimit
    turns: OneAtATime
    stream: StreamConfig
    pacer: EditPacer
    reloader: Reloader
    inbox: Inbox
    transcriber: Transcriber | None = None  # None: voice messages get the text-only reply
    voice: VoiceTexts | None = None

    def is_admin(self, user_id: int | None) -> bool:
        """True for the ids in ADMIN_USER_IDS."""
        return user_id is not None and user_id in self.settings.admin_user_ids

    def is_allowed(self, user_id: int | None) -> bool:
        """True when ALLOWED_USER_IDS is empty or lists the person (admins always are)."""
        allowed = self.settings.allowed_user_ids
        return not allowed or user_id in allowed or self.is_admin(user_id)


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    """The Services of the running Application."""
    return context.bot_data["services"]

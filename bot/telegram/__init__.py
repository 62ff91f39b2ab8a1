"""The Telegram front end: python-telegram-bot handlers over the engine."""

from bot.telegram.app import build_application, run_bot, serve

__all__ = ["build_application", "run_bot", "serve"]

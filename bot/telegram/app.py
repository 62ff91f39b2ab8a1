"""The Telegram Application: handlers, commands, polling or webhook, graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import functools
import logging
import secrets
import signal
import sys
from pathlib import Path
from urllib.parse import urlparse

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.engine import Engine
from bot.ingest import ingest
from bot.settings import Settings
from bot.telegram import handlers, texts
from bot.telegram.admin import IngestFn, Reloader
from bot.telegram.inbox import Inbox, InboxApplication, InboxQueue, InboxRequest, recover
from bot.telegram.limits import OneAtATime, RateLimit
from bot.telegram.retry import RetryingRateLimiter
from bot.telegram.services import Services
from bot.telegram.startup import (
    StartupError,
    check_token,
    connect,
    redact,
    redact_logs,
    summary_line,
)
from bot.telegram.storage import Store
from bot.telegram.streaming import EditPacer, StreamConfig
from bot.telegram.texts import Pages, VoiceTexts
from bot.transcription import make_transcriber

log = logging.getLogger(__name__)

DB_NAME = "bot.sqlite3"
STOP_GRACE = 20.0  # seconds answers in flight get to finish at shutdown
POLL_TIMEOUT = dtm.timedelta(seconds=10)
NOT_TEXT = (filters.PHOTO | filters.VOICE | filters.AUDIO | filters.VIDEO | filters.VIDEO_NOTE
            | filters.Sticker.ALL | filters.Document.ALL | filters.ANIMATION | filters.LOCATION
            | filters.CONTACT | filters.POLL)


def file_url(base_url: str) -> str:
    """The file download URL that goes with a Bot API base URL (…/bot → …/file/bot)."""
    return base_url[: -len("bot")] + "file/bot" if base_url.endswith("/bot") else base_url


def build_application(settings: Settings, *, engine: Engine | None = None,
                      ingest_fn: IngestFn | None = None, stream: StreamConfig | None = None,
                      db_path: Path | None = None,
                      rate_limiter: RetryingRateLimiter | None = None) -> Application:
    """The bot's Application with its services; tests pass a small engine and fast streaming."""
    engine = engine or Engine(settings)
    stream = stream or StreamConfig()
    store = Store(db_path or Path(settings.data_dir) / DB_NAME)
    inbox = Inbox(store.path)
    reloader = Reloader(settings, ingest_fn or functools.partial(_ingest, engine))
    app = (
        ApplicationBuilder()
        .application_class(InboxApplication)
        .update_queue(InboxQueue(inbox, confirm_on_put=bool(settings.webhook_url)))
        .get_updates_request(InboxRequest(inbox, connection_pool_size=1))
        .token(settings.telegram_bot_token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(file_url(settings.telegram_api_base_url))
        .rate_limiter(rate_limiter or RetryingRateLimiter(
            per_second=settings.telegram_messages_per_second,
            paid_broadcast=settings.telegram_paid_broadcast))
        .concurrent_updates(256)
        .build()
    )
    app.bot_data["services"] = Services(
        settings=settings, engine=engine, store=store, pages=Pages.load(settings),
        rate=RateLimit(settings.rate_limit_per_minute), turns=OneAtATime(), stream=stream,
        pacer=EditPacer(stream.edit_interval), reloader=reloader, inbox=inbox,
        transcriber=make_transcriber(settings), voice=VoiceTexts.load(settings))
    add_handlers(app)
    return app


def _ingest(engine: Engine, settings: Settings):  # noqa: ANN202 - an IngestReport
    """The CLI's ingestion, with the engine's embedder (the model is loaded once)."""
    return ingest(settings, embedder=engine.kb.embedder)


def add_handlers(app: Application) -> None:
    """Register every handler; the allowlist gate runs first."""
    app.add_handler(TypeHandler(Update, handlers.gate), group=-1)
    for name, callback in (("start", handlers.start), ("help", handlers.help_command),
                           ("privacy", handlers.privacy), ("new", handlers.new),
                           ("forget", handlers.forget), ("reload", handlers.reload),
                           ("stats", handlers.stats)):
        app.add_handler(CommandHandler(name, callback))
    app.add_handler(MessageHandler(
        filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND, handlers.question))
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & NOT_TEXT, handlers.not_text))
    app.add_handler(MessageHandler(
        filters.UpdateType.EDITED_MESSAGE & (filters.TEXT | filters.CAPTION) & ~filters.COMMAND,
        handlers.edited))
    app.add_handler(CallbackQueryHandler(handlers.feedback_button, pattern=r"^fb:"))
    app.add_handler(CallbackQueryHandler(handlers.sources_button, pattern=r"^src:"))
    app.add_handler(CallbackQueryHandler(handlers.unknown_button))
    app.add_error_handler(handlers.error)


async def register_commands(app: Application) -> None:
    """setMyCommands: the public commands for everyone, plus the admin ones for each admin."""
    settings: Settings = app.bot_data["services"].settings
    public = [BotCommand(name, about) for name, about in texts.PUBLIC_COMMANDS]
    admin = public + [BotCommand(name, about) for name, about in texts.ADMIN_COMMANDS]
    await app.bot.set_my_commands(public, scope=BotCommandScopeDefault())
    for admin_id in sorted(settings.admin_user_ids):
        try:
            await app.bot.set_my_commands(admin, scope=BotCommandScopeChat(admin_id))
        except TelegramError as error:  # e.g. the admin never opened a chat with the bot
            log.warning("could not set the admin commands for user %s: %s", admin_id, error)


async def _start_updates(app: Application, settings: Settings) -> None:
    updater = app.updater
    assert updater is not None
    if settings.webhook_url:
        secret = settings.webhook_secret or secrets.token_urlsafe(32)
        if not settings.webhook_secret:
            log.info("no WEBHOOK_SECRET: registered a random one for this run")
        await updater.start_webhook(
            listen=settings.webhook_listen, port=settings.webhook_port,
            url_path=urlparse(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url, secret_token=secret,
            allowed_updates=Update.ALL_TYPES)
        log.debug("webhook: listening on %s:%s for %s", settings.webhook_listen,
                 settings.webhook_port, settings.webhook_url)
    else:
        await updater.start_polling(poll_interval=0.0, timeout=POLL_TIMEOUT,
                                    allowed_updates=Update.ALL_TYPES)
        log.debug("polling: waiting for messages")


async def serve(app: Application, stop: asyncio.Event | None = None,
                grace: float = STOP_GRACE) -> None:
    """Run until `stop` is set or SIGINT/SIGTERM; answers in flight get `grace` s to finish."""
    services: Services = app.bot_data["services"]
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    try:
        await connect(app, services.settings)
        try:
            await register_commands(app)
            await asyncio.to_thread(services.engine.warm_up)
            await app.start()
            recover(app, services.inbox)
            try:
                await _start_updates(app, services.settings)
            except TelegramError as error:
                raise StartupError("Telegram refused to start the updates: " + redact(
                    str(error), services.settings.telegram_bot_token)) from None
            log.info("%s", summary_line(services.settings, services.engine.kb, app.bot.username))
            await stop.wait()
            log.info("stopping: no new updates; waiting up to %.0f s for %d answer(s) in flight",
                     grace, services.turns.in_flight)
        finally:
            await _stop(app, services, grace)
    finally:
        await services.inbox.close()
        services.store.close()
        for sig in handled:
            loop.remove_signal_handler(sig)
    log.info("bot stopped")


async def _stop(app: Application, services: Services, grace: float) -> None:
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    left = await services.turns.drain(grace)
    if left:
        log.warning("stopped %d answer(s) that did not finish in %.0f s", left, grace)
    if app.running:
        await app.stop()
    await app.shutdown()


def run_bot(settings: Settings) -> int:
    """`symptom-bot run`: serve until SIGINT/SIGTERM; 2 and one line (no token) if it can't."""
    token = settings.telegram_bot_token
    if not token:
        print(texts.NO_TOKEN, file=sys.stderr)
        return 2
    redact_logs(token)
    try:
        check_token(token)
        app = build_application(settings)
    except StartupError as error:
        print(f"The bot cannot start: {error}", file=sys.stderr)
        return error.code
    except Exception as error:  # noqa: BLE001 - a clear message instead of a traceback
        print(f"The bot cannot start: {type(error).__name__}: {redact(str(error), token)}",
              file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(app))
    except StartupError as error:
        print(f"The bot cannot start: {error}", file=sys.stderr)
        return error.code
    except Exception:  # noqa: BLE001 - logged through the token filter, not a raw traceback
        log.exception("the bot stopped on an unexpected error")
        return 1
    return 0

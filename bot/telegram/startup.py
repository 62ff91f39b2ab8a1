"""Start-up: reach Telegram (with backoff while it is out of reach), and say in one line,
without secrets, why the bot cannot start."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from pathlib import Path
from urllib.parse import urlparse

from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application

from bot.knowledge_base import KnowledgeBase
from bot.settings import Settings

log = logging.getLogger(__name__)

TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]+")
DEFAULT_OPENAI_URL = "https://api.openai.com/v1"  # what the openai client uses without a base URL
FIRST_WAIT, LONGEST_WAIT = 1.0, 30.0  # seconds between attempts to reach Telegram, doubling


class StartupError(Exception):
    """The bot cannot start; the message is one line for the operator, `code` the exit code."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def redact(text: str, token: str) -> str:
    """The text with the bot token (and its secret half) replaced."""
    if token:
        text = text.replace(token, "<TELEGRAM_BOT_TOKEN>")
        secret = token.partition(":")[2]
        if len(secret) >= 8:
            text = text.replace(secret, "<secret>")
    return text


class Redact(logging.Filter):
    """Takes the bot token out of every log line, tracebacks included."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's text; never drops it."""
        record.msg, record.args = redact(record.getMessage(), self.token), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info),
                                     self.token)
        return True


def _one_line(record: logging.LogRecord) -> bool:
    record.exc_info = record.exc_text = None  # PTB's "invalid JSON" (an HTML error page)
    return True


def redact_logs(token: str) -> None:
    """Take the token out of every log line; PTB's non-JSON parse errors become one line."""
    for handler in [*logging.getLogger().handlers, logging.lastResort]:
        if handler is not None and not any(isinstance(f, Redact) for f in handler.filters):
            handler.addFilter(Redact(token))
    parser = logging.getLogger("telegram.request.BaseRequest")
    if _one_line not in parser.filters:
        parser.addFilter(_one_line)


def check_token(token: str) -> None:
    """Refuse a token that cannot be one, before asking Telegram."""
    if not TOKEN_SHAPE.fullmatch(token):
        raise StartupError("TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, "
                           "then letters and digits); copy it again from @BotFather.")


def _rejected(error: InvalidToken, settings: Settings) -> str:
    cause = str(error.__cause__ or error)
    if "Not Found" in cause or "404" in cause:  # a well-formed token gets 401 from Telegram
        url = redact(settings.telegram_api_base_url, settings.telegram_bot_token)
        return (f"TELEGRAM_API_BASE_URL {url} does not answer like the Bot API (404 Not Found "
                "for getMe); it should be https://api.telegram.org/bot or a Bot API server's "
                "equivalent.")
    return "Telegram rejected the token; copy it again from @BotFather (TELEGRAM_BOT_TOKEN)."


async def connect(app: Application, settings: Settings) -> None:
    """`app.initialize()` (getMe), retried with backoff for TELEGRAM_STARTUP_TIMEOUT s."""
    where = urlparse(settings.telegram_api_base_url).netloc or settings.telegram_api_base_url
    where = redact(where, settings.telegram_bot_token)
    started = time.monotonic()
    wait, attempt = FIRST_WAIT, 0
    while True:
        attempt += 1
        try:
            await app.initialize()
            return
        except InvalidToken as error:
            raise StartupError(_rejected(error, settings)) from None
        except NetworkError as error:
            if isinstance(error, BadRequest):
                raise StartupError(f"Telegram refused getMe: {error.message}") from None
            reason = redact(str(error), settings.telegram_bot_token) or type(error).__name__
            spent = time.monotonic() - started
            if spent + wait > settings.telegram_startup_timeout:
                raise StartupError(
                    f"Telegram is unreachable at {where} ({reason}); gave up after {attempt} "
                    f"attempts in {spent:.0f} s (TELEGRAM_STARTUP_TIMEOUT). Check the network, "
                    "a proxy, or TELEGRAM_API_BASE_URL.") from None
            log.warning("cannot reach Telegram at %s (%s); retrying in %.0f s (attempt %d)",
                        where, reason, wait, attempt)
            await asyncio.sleep(wait)
            wait = min(wait * 2, LONGEST_WAIT)
        except TelegramError as error:
            raise StartupError(
                f"Telegram refused getMe: {redact(str(error), settings.telegram_bot_token)}"
            ) from None


def _url_without_secrets(url: str) -> str:
    """A URL as shown in logs: no user name, password or query string."""
    parts = urlparse(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}" if parts.scheme else url


def summary_line(settings: Settings, kb: KnowledgeBase, username: str) -> str:
    """The one INFO line that says how this bot runs: mode, LLM, index, model, folders."""
    mode = (f"webhook {_url_without_secrets(settings.webhook_url)} (listening on "
            f"{settings.webhook_listen}:{settings.webhook_port})" if settings.webhook_url
            else "polling")
    if settings.llm_enabled:
        url = _url_without_secrets(settings.openai_base_url or DEFAULT_OPENAI_URL)
        llm = f"{settings.openai_model} @ {url}"
    else:
        llm = "offline: no LLM configured"
    try:
        version = kb.current()
        index = (f"{version.name} ({version.manifest.records:,} records)" if version
                 else "empty (run `symptom-bot ingest`)")
    except Exception as error:  # noqa: BLE001 - the warning before this line says more
        index = f"not usable ({type(error).__name__})"
    voice = f"; voice {settings.transcription_model}" if settings.transcription_enabled else ""
    return (f"bot @{username} is up: {mode}; LLM {llm}{voice}; index {index}; embeddings "
            f"{settings.embedding_model_name}; DATA_DIR {Path(settings.data_dir).resolve()}; "
            f"KNOWLEDGE_DIR {Path(settings.knowledge_dir).resolve()}")

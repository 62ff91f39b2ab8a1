"""Voice messages: refused when too long, else downloaded, transcribed, shown to the person and
answered exactly like a text message."""

from __future__ import annotations

import datetime as dtm
import logging
import math
import mimetypes
import time
import warnings

from telegram import Audio, Bot, Message, VideoNote, Voice
from telegram.error import TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.telegram import conversation, texts
from bot.telegram.render import escape
from bot.telegram.services import Services
from bot.telegram.streaming import typing
from bot.transcription import TranscriptionError

log = logging.getLogger(__name__)

DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the Bot API's getFile hands out files up to 20 MB
SHOWN_CHARS = 3500  # longer transcripts are shown cut (one message holds 4096 characters)
KNOWN = {"flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "opus", "wav", "webm"}


def recording(message: Message) -> Voice | Audio | VideoNote | None:
    """The voice note, audio file or video note of a message, if it has one."""
    return message.voice or message.audio or message.video_note


def duration_seconds(record: Voice | Audio | VideoNote) -> int:
    """The length the sender's app gave, in whole seconds."""
    with warnings.catch_warnings():  # an int in PTB 22, a timedelta later (or PTB_TIMEDELTA=1)
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        duration = record.duration
    if isinstance(duration, dtm.timedelta):
        return round(duration.total_seconds())
    return int(duration or 0)


def upload_name(message: Message) -> tuple[str, str]:
    """A file name whose extension transcription servers know, and the MIME type; never the
    person's own file name."""
    if message.video_note:
        return "video_note.mp4", "video/mp4"
    if message.voice:  # Telegram names voice notes ".oga", which OpenAI refuses; it is Ogg
        return "voice.ogg", message.voice.mime_type or "audio/ogg"
    mime = (message.audio.mime_type if message.audio else None) or "audio/mpeg"
    name = (message.audio.file_name if message.audio else None) or ""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in KNOWN:
        extension = (mimetypes.guess_extension(mime) or ".mp3").lstrip(".")
    return f"audio.{'ogg' if extension == 'oga' else extension}", mime


async def answer_voice(s: Services, bot: Bot, message: Message, user_id: int) -> None:
    """Transcribe a voice message, show what was heard, then answer it like text (triage
    first); the text-only reply when transcription is off or fails."""
    record = recording(message)
    if s.transcriber is None or s.voice is None or record is None:
        await message.reply_text(texts.TEXT_ONLY)
        return
    seconds, size = duration_seconds(record), record.file_size or 0
    where = f"user {user_id} in chat {message.chat.id} ({seconds} s, {size} bytes)"
    limit = s.settings.voice_max_seconds
    if seconds > limit or size > DOWNLOAD_LIMIT:
        log.info("voice message from %s refused unheard: over %d s or 20 MB", where, limit)
        await message.reply_html(s.voice.too_long.format(seconds=seconds, limit=limit)
                                 if seconds > limit else
                                 s.voice.too_big.format(megabytes=math.ceil(size / 2**20)))
        return
    started = time.monotonic()
    try:
        async with typing(bot, conversation._target(message), s.stream.typing_interval):
            try:
                found = await bot.get_file(record.file_id)
                audio = bytes(await found.download_as_bytearray())
            except TelegramError as error:
                raise TranscriptionError(f"download failed: {error}") from None
            heard = await s.transcriber.transcribe(audio, *upload_name(message))
    except TranscriptionError as error:
        log.warning("voice message from %s not transcribed (%s); sent the text-only reply",
                    where, error)
        await message.reply_text(texts.TEXT_ONLY)
        return
    shown = f": {heard!r}" if s.settings.log_message_text else ""
    log.info("voice message from %s transcribed in %.2f s: %d chars%s", where,
             time.monotonic() - started, len(heard), shown)
    if not heard:
        await message.reply_html(s.voice.empty)
        return
    cut = heard if len(heard) <= SHOWN_CHARS else heard[:SHOWN_CHARS].rstrip() + "…"
    await message.reply_html(s.voice.transcript.format(transcript=escape(cut)))
    await conversation.answer_question(s, bot, message, user_id, heard)

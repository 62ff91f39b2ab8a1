"""The speech-to-text seam: `/v1/audio/transcriptions` of the OpenAI-compatible server."""

from __future__ import annotations

import logging

import openai

from bot.settings import Settings

log = logging.getLogger(__name__)


class TranscriptionError(Exception):
    """The server could not transcribe; the message is for the operator, never for the person."""


class Transcriber:
    """Speech to text with the same server, key, timeout and retries as the LLM (bot/llm.py)."""

    def __init__(self, settings: Settings) -> None:
        self.model = settings.transcription_model
        self.base_url = settings.openai_base_url or "https://api.openai.com/v1"
        self._api_key = settings.openai_api_key or "not-needed"  # key-less servers ignore it
        self._timeout = settings.llm_timeout
        self._retries = settings.llm_max_retries

    async def transcribe(self, audio: bytes, filename: str, mime_type: str) -> str:
        """The words spoken in `audio` (empty when none); TranscriptionError when it fails.
        The file name's extension tells the server the format."""
        # a client per call: voice notes are rare next to questions, and nothing stays open
        async with openai.AsyncOpenAI(api_key=self._api_key, base_url=self.base_url,
                                      timeout=self._timeout, max_retries=self._retries) as client:
            try:
                result = await client.audio.transcriptions.create(
                    model=self.model, file=(filename, audio, mime_type), response_format="json")
            except openai.APIStatusError as error:
                raise TranscriptionError(self._status(error)) from None
            except openai.APITimeoutError:
                raise TranscriptionError(f"no answer in {self._timeout:g} s") from None
            except openai.APIConnectionError as error:
                raise TranscriptionError(f"cannot reach {self.base_url}: {error}") from None
            except openai.OpenAIError as error:  # e.g. an answer that is not the JSON asked for
                raise TranscriptionError(f"{type(error).__name__}: {error}") from None
        text = getattr(result, "text", None)
        if not isinstance(text, str):
            raise TranscriptionError(f"unexpected answer of type {type(result).__name__}")
        return text.strip()

    def _status(self, error: openai.APIStatusError) -> str:
        if error.status_code == 404:
            return (f"HTTP 404: {self.base_url} has no /audio/transcriptions endpoint or no "
                    f"model {self.model!r} (TRANSCRIPTION_MODEL)")
        detail = error.message if len(error.message) <= 200 else error.message[:200] + "…"
        return f"HTTP {error.status_code}: {detail}"


def make_transcriber(settings: Settings) -> Transcriber | None:
    """A Transcriber when TRANSCRIPTION_MODEL and an LLM server are set, else None."""
    if settings.transcription_enabled:
        return Transcriber(settings)
    if settings.transcription_model:
        log.warning("TRANSCRIPTION_MODEL is set but neither OPENAI_API_KEY nor OPENAI_BASE_URL: "
                    "voice messages get the text-only reply")
    return None

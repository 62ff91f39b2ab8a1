"""All configuration, read once from the environment and `.env`, validated with clear messages."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

IdList = Annotated[frozenset[int], NoDecode]


class SettingsError(Exception):
    """Configuration that cannot be used; the message names each variable and what is wrong."""


class Settings(BaseSettings):
    """Every setting the bot reads; names are the environment variables, upper-cased."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # Paths
    knowledge_dir: Path = Path("knowledge")
    data_dir: Path = Path("data")
    prompts_dir: Path = Path(__file__).resolve().parent.parent / "prompts"

    # Telegram
    telegram_bot_token: str = ""
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    admin_user_ids: IdList = frozenset()
    allowed_user_ids: IdList = frozenset()
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_listen: str = "127.0.0.1"  # behind the HTTPS proxy Telegram needs
    webhook_port: int = Field(8443, ge=1, le=65535)
    telegram_messages_per_second: float = Field(30.0, gt=0)
    telegram_paid_broadcast: bool = False
    telegram_startup_timeout: float = Field(120.0, gt=0)  # seconds to keep trying to connect

    # LLM (any OpenAI-compatible server)
    openai_api_key: str = ""
    openai_model: str = "gpt-4o-mini"
    openai_base_url: str = ""
    llm_timeout: float = Field(30.0, gt=0)
    llm_max_retries: int = Field(1, ge=0, le=10)
    llm_temperature: float = Field(0.2, ge=0, le=2)
    llm_first_token_timeout: float = Field(8.0, gt=0)  # seconds until the first streamed token
    llm_stall_timeout: float = Field(5.0, gt=0)  # seconds between streamed tokens
    llm_answer_budget: float = Field(15.0, gt=0)  # seconds for the rewrite and the whole answer
    transcription_model: str = ""  # e.g. whisper-1; voice messages are transcribed with an LLM
    voice_max_seconds: int = Field(300, ge=1)  # longer voice messages are refused, not downloaded

    # Embeddings and index
    embedding_provider: Literal["local", "openai"] = "local"
    embedding_model: str = ""
    embed_max_chunks: int = Field(0, ge=0, le=100)
    chroma_host: str = ""
    chroma_port: int = Field(8000, ge=1, le=65535)
    exact_search_max_vectors: int = Field(200_000, ge=0)
    ingest_timeout: float = Field(1800.0, gt=0)  # seconds; a longer ingest stops, changing nothing
    # `ingest --medquad`: the archive of the pinned commit, or a mirror; optional SHA-256 check.
    medquad_url: str = Field(
        "https://github.com/abachaa/MedQuAD/archive/577bd37b96c02d1833b2c9eed2de9f96964e96cb.zip",
        pattern=r"^https?://\S+$")
    medquad_sha256: str = Field("", pattern=r"^([0-9a-fA-F]{64})?$")

    # Answers
    top_k: int = Field(4, ge=1, le=20)
    relevance_floor: float = Field(0.35, ge=0, le=1)
    relevance_strong: float = Field(0.55, ge=0, le=1)  # passes without a shared title word
    emergency_number: str = ""
    crisis_line: str = ""

    # Triage
    triage_semantic: bool = True  # the semantic model beside the rules (off: rules alone)
    triage_second_opinion: bool = True  # with an LLM, a second opinion that can only escalate

    # Conversation limits
    history_turns: int = Field(6, ge=0, le=50)
    history_chars: int = Field(4000, ge=0)
    max_message_chars: int = Field(4000, ge=10)
    rate_limit_per_minute: int = Field(6, ge=1)

    # Logging
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_message_text: bool = False

    @field_validator("admin_user_ids", "allowed_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            bad = [p for p in parts if not p.lstrip("-").isdigit()]
            if bad:
                raise ValueError(f"not a numeric Telegram user id: {', '.join(bad)}")
            return frozenset(int(p) for p in parts)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("knowledge_dir", "data_dir", "prompts_dir")
    @classmethod
    def _must_be_a_folder(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError(f"{value} is a file, not a folder")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def embedding_model_name(self) -> str:
        """The embedding model actually used, with the provider's default filled in."""
        if self.embedding_model:
            return self.embedding_model
        if self.embedding_provider == "openai":
            return "text-embedding-3-small"
        return "all-MiniLM-L6-v2"

    @property
    def llm_enabled(self) -> bool:
        """True when an LLM is configured: a key, or the base URL of an OpenAI-compatible server
        that may need none (Ollama, vLLM); without either the bot answers extractively."""
        return bool(self.openai_api_key or self.openai_base_url)

    @property
    def transcription_enabled(self) -> bool:
        """True when voice messages are transcribed: TRANSCRIPTION_MODEL set and an LLM server
        configured (the transcriptions endpoint is on the same server, with the same key)."""
        return self.llm_enabled and bool(self.transcription_model)


def _describe(error: ValidationError) -> str:
    lines = ["Invalid configuration:"]
    for item in error.errors():
        name = str(item["loc"][0]).upper() if item["loc"] else "?"
        given = item.get("input")
        shown = f" (got {given!r})" if isinstance(given, str | int | float) else ""
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"  {name}: {message}{shown}")
    return "\n".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read settings now; raise SettingsError naming each bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()

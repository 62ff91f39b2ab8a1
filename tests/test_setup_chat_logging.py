"""`symptom-bot chat` keeps log lines out of the conversation unless LOG_LEVEL asks for them;
`symptom-bot --help` shows examples and the exit codes."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

import bot.chat
import bot.cli
from bot.settings import Settings, get_settings

NOISY = ("httpx", "httpx2", "httpcore", "chromadb", "telegram.ext", "openai", "urllib3", "bm25s")


@pytest.fixture(autouse=True)
def _restore_logging():
    root = logging.getLogger()
    saved = root.level, list(root.handlers), {n: logging.getLogger(n).level for n in NOISY}
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    root.handlers[:] = saved[1]
    root.setLevel(saved[0])
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


def _chat_log_level(monkeypatch: pytest.MonkeyPatch) -> str:
    seen: list[str] = []

    def fake_run_chat(settings, engine):  # noqa: ANN001, ANN202
        logging.getLogger("bot.engine").info("an INFO line that must not reach the chat")
        seen.append(logging.getLevelName(logging.getLogger().level))
        return 0

    monkeypatch.setattr(bot.chat, "run_chat", fake_run_chat)
    monkeypatch.setattr(bot.cli, "_engine", lambda settings: object())
    result = CliRunner().invoke(bot.cli.main, ["chat"])
    assert result.exit_code == 0, result.output
    return seen[0]


def test_chat_logs_warnings_only_by_default(monkeypatch: pytest.MonkeyPatch):
    assert _chat_log_level(monkeypatch) == "WARNING"


@pytest.mark.parametrize("level", ["INFO", "debug"])
def test_an_explicit_log_level_is_kept(monkeypatch: pytest.MonkeyPatch, level: str):
    monkeypatch.setenv("LOG_LEVEL", level)
    assert _chat_log_level(monkeypatch) == level.upper()


def test_a_log_level_in_dotenv_counts_as_explicit(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path):
    env_file = tmp_path / ".env"
    env_file.write_text("LOG_LEVEL=INFO\n", encoding="utf-8")
    monkeypatch.setitem(Settings.model_config, "env_file", str(env_file))
    assert _chat_log_level(monkeypatch) == "INFO"


def test_main_help_has_examples_and_exit_codes():
    result = CliRunner().invoke(bot.cli.main, ["--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output and "Exit codes:" in result.output
    for line in ("symptom-bot chat", "symptom-bot ingest", "symptom-bot eval liveqa",
                 "  0  done", "  1  done with warnings", "  2  error"):
        assert line in result.output

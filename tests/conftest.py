"""Shared fixtures: settings in a temporary data folder, the fake embedder, shared data paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bot.settings import Settings, load_settings  # noqa: E402
from tests.fakes.embedder import FakeEmbedder  # noqa: E402
from tests.shared_paths import MEDQUAD, SAMPLE_PAGE, SHARED  # noqa: E402, F401


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read the developer's .env or keys."""
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "TELEGRAM_", "CHROMA_", "EMBEDDING_")) or name in (
            "ADMIN_USER_IDS", "ALLOWED_USER_IDS", "DATA_DIR", "KNOWLEDGE_DIR", "WEBHOOK_URL",
        ):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(Settings.model_config, "env_file", None)


@pytest.fixture(autouse=True)
def _fresh_llm_clients():
    """langchain-openai keeps one async HTTP client per base URL for the whole process; a later
    test whose fake server got the same port would reuse it on a closed event loop."""
    yield
    from langchain_openai.chat_models import _client_utils

    _client_utils._cached_async_httpx_client.cache_clear()
    _client_utils._cached_sync_httpx_client.cache_clear()


@pytest.fixture
def knowledge_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    return folder


@pytest.fixture
def settings(tmp_path: Path, knowledge_dir: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", knowledge_dir=knowledge_dir)


@pytest.fixture
def embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
async def api():
    """The fake Bot API for one test; any call that broke the spec fails the test."""
    from tests.fakes.telegram_api import FakeBotApi

    async with FakeBotApi() as fake:
        yield fake
    assert fake.errors == [], fake.errors

"""`symptom-bot run` when it cannot start: a rejected token, a wrong TELEGRAM_API_BASE_URL,
Telegram out of reach. One clear line, never the token, a non-zero exit code."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.telegram_api import FakeBotApi
from tests.telegram_helpers import REPO, TOKEN, process_env

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


async def run(env: dict[str, str], timeout: float = 60) -> tuple[int, str, float]:
    """Run `symptom-bot run`; its exit code, stderr and seconds."""
    import sys

    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=env, cwd=REPO,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode, err.decode(), time.monotonic() - started


def last_line(err: str) -> str:
    return err.strip().splitlines()[-1]


def clean(err: str) -> None:
    assert "Traceback" not in err, err
    assert TOKEN not in err and TOKEN.split(":")[1] not in err, err


@pytest.fixture
async def fakes(tmp_path):
    async with FakeBotApi(token="999:the-right-token") as api, FakeOpenAI() as llm:
        yield api, llm


async def test_a_rejected_token_is_one_line_without_the_token(fakes, tmp_path):
    api, llm = fakes
    code, err, _ = await run(process_env(tmp_path, api, llm))
    clean(err)
    assert code == 2
    assert last_line(err) == ("The bot cannot start: Telegram rejected the token; "
                              "copy it again from @BotFather (TELEGRAM_BOT_TOKEN).")


async def test_a_wrong_base_url_is_named_without_the_token(fakes, tmp_path):
    api, llm = fakes
    wrong = f"http://127.0.0.1:{api.port}/wrong/"
    code, err, _ = await run(process_env(tmp_path, api, llm, TELEGRAM_API_BASE_URL=wrong))
    clean(err)
    assert code == 2
    line = last_line(err)
    assert line.startswith("The bot cannot start: TELEGRAM_API_BASE_URL") and wrong in line


async def test_unreachable_telegram_is_retried_with_backoff_then_exits(fakes, tmp_path):
    api, llm = fakes
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    env = process_env(tmp_path, api, llm, TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{closed}/bot",
                      TELEGRAM_STARTUP_TIMEOUT="4")
    code, err, seconds = await run(env)
    clean(err)
    retries = [line for line in err.splitlines() if "cannot reach Telegram" in line]
    assert code == 2
    assert len(retries) == 2 and "retrying in 1 s" in retries[0] and "in 2 s" in retries[1]
    assert last_line(err).startswith("The bot cannot start: Telegram is unreachable at "
                                     f"127.0.0.1:{closed}")
    assert seconds < 30


async def test_a_started_bot_says_how_it_runs_in_one_line(tmp_path):
    from tests.telegram_helpers import build_process_index, start_process

    log = tmp_path / "bot.log"
    async with FakeBotApi() as api, FakeOpenAI() as llm:
        root = await build_process_index(tmp_path, llm)
        process = await start_process(process_env(root, api, llm), log)
        try:
            await api.wait_for(lambda: process.returncode is not None
                               or " is up: " in log.read_text(), 60, "the start-up line")
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    text = log.read_text()
    clean(text)
    (line,) = [line for line in text.splitlines() if " is up: " in line]
    assert " INFO " in line
    assert "polling" in line
    assert f"LLM {llm.env()['OPENAI_MODEL']} @ {llm.base_url}" in line
    assert "records)" in line and "index v" in line
    assert f"embeddings {llm.env().get('EMBEDDING_MODEL', 'text-embedding-3-small')}" in line
    assert f"DATA_DIR {(root / 'data').resolve()}" in line
    assert f"KNOWLEDGE_DIR {(root / 'knowledge').resolve()}" in line


def test_the_start_up_line_offline_and_behind_a_webhook(tmp_path):
    from bot.knowledge_base import KnowledgeBase
    from bot.settings import load_settings
    from bot.telegram.startup import summary_line

    settings = load_settings(data_dir=tmp_path / "d", knowledge_dir=tmp_path / "k",
                             webhook_url="https://bot.example.org/hook?x=secret",
                             webhook_port=8443)
    line = summary_line(settings, KnowledgeBase(settings), "clinic_bot")
    assert line.startswith("bot @clinic_bot is up: webhook https://bot.example.org/hook "
                           "(listening on 127.0.0.1:8443)")
    assert "secret" not in line
    assert "LLM offline: no LLM configured" in line
    assert "index empty (run `symptom-bot ingest`)" in line
    assert "embeddings all-MiniLM-L6-v2" in line

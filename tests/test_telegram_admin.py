"""End to end: the operators' commands (/reload, /stats) and webhook mode."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path

import pytest

from bot.ingest import ingest
from bot.knowledge_base import status
from bot.telegram import texts
from tests.fakes.embedder import FakeEmbedder
from tests.fakes.openai_server import FakeOpenAI
from tests.telegram_helpers import ADMIN, TWITCH, build_index, running_bot, settings_for

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

USER = 4242
NEW_RECORD = {"id": "clinic-ear", "title": "Ringing in the ears after a concert",
              "question": "My ears ring since a loud concert two days ago, will it stop?",
              "answer": "Ringing after loud music usually fades within days; protect your ears.",
              "doctor": "Hsu Mei", "department": "Otolaryngology"}




@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A fresh index per test: these tests change it."""
    return build_index(tmp_path)


def counting_ingest(calls: list[float], pause: float = 0.0):
    """The real ingestion (fake embedder), counted, optionally slowed down."""

    def run(settings):
        calls.append(time.monotonic())
        time.sleep(pause)
        return ingest(settings, embedder=FakeEmbedder())

    return run


async def test_non_admins_are_refused_and_nothing_runs(root, api):
    calls: list[float] = []
    async with running_bot(root, api, ingest_fn=counting_ingest(calls)) as bot:
        [reload] = await bot.ask(USER, "/reload")
        [stats] = await bot.ask(USER, "/stats")
    assert reload.plain_text == texts.ADMIN_ONLY.format(command="reload")
    assert stats.plain_text == texts.ADMIN_ONLY.format(command="stats")
    assert calls == []


async def test_admin_reload_reports_added_removed_and_rejected_files(root, api):
    knowledge = root / "knowledge"
    (knowledge / "medquad-slice.jsonl").unlink()
    (knowledge / "ears.jsonl").write_text(
        json.dumps(NEW_RECORD) + "\n" + '{"question": 5, "answer": "x"}\n', encoding="utf-8")
    (knowledge / "notes.docx").write_bytes(b"PK")
    before = status(_settings(root))["version"]
    async with running_bot(root, api) as bot:
        started, report = await bot.ask(ADMIN, "/reload", count=2)
        [answer] = await bot.answer(USER, "my ears ring after a loud concert, will it stop?")
    assert started.plain_text == texts.RELOAD_STARTED
    text = report.plain_text
    after = status(_settings(root))["version"]
    assert after != before
    assert f"Reload done: now version {after}, was {before}" in text
    assert "Added files: ears.jsonl" in text and "Removed files: medquad-slice.jsonl" in text
    assert "1 added" in text and "30 removed" in text and "1 rejected" in text
    assert "ears.jsonl:2: " in text and "Skipped (not a corpus format): 1 file(s)" in text
    assert "Dr. Hsu Mei, Otolaryngology" in answer.plain_text  # served from the new version


async def test_failed_reload_keeps_the_current_index(root, api):
    for path in (root / "knowledge").iterdir():
        path.unlink()
    before = status(_settings(root))["version"]
    async with running_bot(root, api) as bot:
        _, report = await bot.ask(ADMIN, "/reload", count=2)
        [answer] = await bot.answer(USER, TWITCH)
    assert report.plain_text.startswith("❌ Reload failed; nothing changed.")
    assert f"Version {before} stays active." in report.plain_text
    assert "no corpus files found" in report.plain_text
    assert status(_settings(root))["version"] == before
    assert "Dr. Jiang Junyi" in answer.plain_text


async def test_reload_runs_in_the_background_while_other_chats_are_answered(root, api):
    calls: list[float] = []
    other = 5151
    async with FakeOpenAI("Benign [1].", delay=0.4) as llm, \
            running_bot(root, api, llm, ingest_fn=counting_ingest(calls, pause=2.0)) as bot:
        api.send_text(USER, TWITCH)  # being answered when the reload starts
        await api.wait_for(lambda: llm.chat_calls == 1)
        [started] = await bot.ask(ADMIN, "/reload")
        [busy] = await bot.ask(ADMIN, "/reload")
        [during] = await bot.answer(other, TWITCH)  # asked while the reload runs
        assert bot.services.reloader.running
        [first] = await bot.final(USER)
        await api.wait_for(lambda: any("Reload done" in (m.plain_text or "")
                                       for m in api.messages_in(ADMIN)), timeout=10)
    assert started.plain_text == texts.RELOAD_STARTED and busy.plain_text == texts.RELOAD_BUSY
    assert len(calls) == 1
    reported = next(m for m in api.messages_in(ADMIN) if "Reload done" in m.plain_text)
    assert api.sent.index(during) < api.sent.index(reported)  # answered during the reload
    assert first.plain_text.startswith("Benign [1].") and during.plain_text.startswith("Benign")


async def test_stats(root, api):
    async with running_bot(root, api) as bot:
        [answer] = await bot.answer(USER, TWITCH)
        await bot.answer(5151, TWITCH)
        await bot.answer(USER, "and the breathing part?")
        api.press_button(USER, answer.message_id, answer.callback_data[0])
        await api.wait_for(lambda: api.callback_answers)
        [stats] = await bot.ask(ADMIN, "/stats")
    info = status(_settings(root))
    text = stats.plain_text
    assert "People: 2" in text and "Questions: 3 today, 3 in total" in text
    assert "Feedback: 👍 1, 👎 0" in text
    assert f"Index: version {info['version']}, {info['records']} records" in text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_mode_registers_the_secret_and_receives_updates(root, api):
    pytest.importorskip("tornado", reason="webhook mode needs python-telegram-bot[webhooks]")
    import aiohttp

    port = _free_port()
    async with running_bot(root, api, webhook_url="https://bot.example.org/telegram/hook",
                           webhook_secret="s3cret_token", webhook_listen="127.0.0.1",
                           webhook_port=port) as bot:
        await api.wait_for(lambda: api.webhook)
        update = api.send_update("message", {
            "message_id": 1, "date": int(time.time()), "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            "chat": {"id": USER, "type": "private", "first_name": "U"},
            "from": {"id": USER, "is_bot": False, "first_name": "U"}})
        for _ in range(100):  # setWebhook is called just before the server listens
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                await asyncio.sleep(0.02)
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{port}/telegram/hook"
            async with session.post(url, json=update) as refused:
                assert refused.status == 403  # no secret
            async with session.post(url, json=update,
                                    headers={"X-Telegram-Bot-Api-Secret-Token":
                                             "s3cret_token"}) as accepted:
                assert accepted.status == 200
        [start] = await api.wait_for_messages(USER, 1)
    assert api.webhook["url"] == "https://bot.example.org/telegram/hook"
    assert api.webhook["secret_token"] == "s3cret_token"
    assert "not a doctor" in start.plain_text
    assert bot.task.done()


def _settings(root: Path):
    return settings_for(root)

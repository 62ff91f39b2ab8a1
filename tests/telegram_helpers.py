"""End-to-end harness for the Telegram bot: a small real index, the real Engine, the real PTB
Application served by `bot.telegram.serve` against FakeBotApi, FakeOpenAI for the LLM."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.engine import Engine
from bot.ingest import IngestReport, ingest
from bot.knowledge_base import KnowledgeBase
from bot.llm import make_chat_model
from bot.settings import Settings, load_settings
from bot.telegram.app import build_application, serve
from bot.telegram.retry import RetryingRateLimiter
from bot.telegram.services import Services
from bot.telegram.streaming import StreamConfig
from tests.conftest import MEDQUAD, SAMPLE_PAGE
from tests.fakes.embedder import FakeEmbedder
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.telegram_api import FakeBotApi, SentMessage

TOKEN = "123456:TEST-token_abc"
ADMIN = 7001
TWITCH = ("Hello doctor, for a month my thigh and shoulder muscles twitch involuntarily, "
          "worse when I am anxious. I read it could be amyotrophic lateral sclerosis (ALS).")
DOCTOR_WORDS = "Your concern about amyotrophic lateral sclerosis (ALS) primarily relates to"
SPECIAL_QUESTION = "Is a dose of 5 <b>mg</b> & more of ibuprofen > safe for my sore knee?"
SPECIAL_ANSWER = "Doses <b>above</b> 400 mg & daily use > 10 days need a doctor's advice."

CUSTOM_RECORDS = [
    {"id": "clinic-knee", "title": "Ibuprofen <b>dose</b> & knee pain",
     "question": "How much ibuprofen can I take for knee pain after running?",
     "answer": SPECIAL_ANSWER + " Rest the knee and use ice after running.",
     "doctor": "Wu <Mingde> & Co", "department": "Orthopedics", "hospital": "Riverside",
     "replied": "2024-03-02", "url": "https://example.org/q?a=1&b=<2>"},
    {"id": "clinic-ankle", "title": "Swollen ankles at night",
     "question": "Why do my ankles swell at night after standing all day?",
     "answer": "Standing all day lets fluid collect in the legs; raise your feet in the evening.",
     "doctor": "Lin Yating", "department": "Cardiology", "replied": "2024-05-11"},
    {"id": "clinic-headache", "title": "Headache behind the eyes",
     "question": "I get a headache behind my eyes every afternoon at the computer.",
     "answer": "Screen work with few breaks often causes tension headaches; take breaks and "
               "check your eyesight.", "doctor": "Chen Wei", "department": "Neurology"},
]


def write_corpus(folder: Path, medquad_lines: int = 30) -> Path:
    """The twitching Q&A page, three clinic replies (one full of <, > and &), some MedQuAD."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "twitching.txt").write_bytes(SAMPLE_PAGE.read_bytes())
    (folder / "clinic.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in CUSTOM_RECORDS),
        encoding="utf-8")
    with open(MEDQUAD / "medquad.jsonl", encoding="utf-8") as source:
        lines = list(itertools.islice(source, medquad_lines))
    (folder / "medquad-slice.jsonl").write_text("".join(lines), encoding="utf-8")
    return folder


def build_index(root: Path) -> Path:
    """Ingest the test corpus into root/data with the fake embedder; returns root."""
    write_corpus(root / "knowledge")
    report = ingest(settings_for(root), embedder=FakeEmbedder())
    assert report.exit_code == 0, report
    return root


def build_records_index(root: Path, records: list[dict]) -> Path:
    """The twitching page and these JSONL records ingested into root/data; returns root."""
    knowledge = root / "knowledge"
    knowledge.mkdir(parents=True, exist_ok=True)
    (knowledge / "twitching.txt").write_bytes(SAMPLE_PAGE.read_bytes())
    (knowledge / "medicines.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    report = ingest(settings_for(root), embedder=FakeEmbedder())
    assert report.exit_code == 0, report
    return root


def settings_for(root: Path, llm: FakeOpenAI | None = None, api: FakeBotApi | None = None,
                 **overrides: object) -> Settings:
    """Settings on an index folder, pointing at the fakes."""
    values: dict = {
        "data_dir": root / "data", "knowledge_dir": root / "knowledge",
        "relevance_floor": 0.3, "llm_timeout": 2.0, "llm_max_retries": 0,
        "telegram_bot_token": TOKEN, "admin_user_ids": str(ADMIN),
        "rate_limit_per_minute": 30,
        "triage_second_opinion": False,  # its own tests switch it on; here it would add calls
    }
    if api is not None:
        values["telegram_api_base_url"] = api.base_url
    if llm is not None:
        values.update(openai_api_key="test", openai_base_url=llm.base_url, openai_model="fake")
    values.update(overrides)
    return load_settings(**values)


def engine_for(settings: Settings) -> Engine:
    """The real Engine on the test index, the fake embedder for queries."""
    kb = KnowledgeBase(settings, embedder=FakeEmbedder())
    return Engine(settings, kb=kb, chat_model=make_chat_model(settings))


FAST = StreamConfig(draft_interval=0.05, edit_interval=0.3, typing_interval=1.0)


@dataclass
class Bot:
    """A running bot: its Application task, the fake API, the services."""

    api: FakeBotApi
    settings: Settings
    app: object
    task: asyncio.Task
    stop_event: asyncio.Event
    limiter: RetryingRateLimiter
    reports: list[IngestReport] = field(default_factory=list)

    @property
    def services(self) -> Services:
        return self.app.bot_data["services"]

    async def stop(self) -> None:
        self.stop_event.set()
        await asyncio.wait_for(self.task, 15)

    async def ask(self, user_id: int, text: str, count: int = 1, timeout: float = 10.0,
                  **kwargs: object) -> list[SentMessage]:
        """Send text as user_id; wait for `count` new bot messages in the chat; return them."""
        chat_id = kwargs.get("chat_id") or user_id
        before = len(self.api.messages_in(chat_id, include_deleted=True))
        self.api.send_text(user_id, text, **kwargs)
        found = await self.api.wait_for_messages(chat_id, before + count, timeout)
        return found[before:]

    async def answer(self, user_id: int, text: str, timeout: float = 10.0,
                     **kwargs: object) -> list[SentMessage]:
        """Ask and wait until the final message (the one with buttons) has arrived."""
        chat_id = kwargs.get("chat_id") or user_id
        before = len(self.api.messages_in(chat_id, include_deleted=True))
        self.api.send_text(user_id, text, **kwargs)
        return await self.final(chat_id, before, timeout)

    async def final(self, chat_id: int, before: int = 0, timeout: float = 10.0
                    ) -> list[SentMessage]:
        """The bot's messages in the chat since `before`, once one carries the buttons."""

        def done() -> list[SentMessage] | None:
            found = self.api.messages_in(chat_id, include_deleted=True)[before:]
            return found if any(m.callback_data for m in found) else None

        return await self.api.wait_for(done, timeout, f"a final answer in chat {chat_id}")


@contextlib.asynccontextmanager
async def running_bot(root: Path, api: FakeBotApi, llm: FakeOpenAI | None = None, *,
                      stream: StreamConfig = FAST, db_path: Path | None = None,
                      ingest_fn: Callable[[Settings], IngestReport] | None = None,
                      grace: float = 5.0, per_second: float = 30.0,
                      **overrides: object) -> AsyncIterator[Bot]:
    """Serve the bot (exactly as `symptom-bot run` does) until the block ends."""
    settings = settings_for(root, llm, api, **overrides)
    limiter = RetryingRateLimiter(per_second=per_second,
                                  paid_broadcast=settings.telegram_paid_broadcast)
    app = build_application(
        settings, engine=engine_for(settings), stream=stream,
        db_path=db_path or root / "bot.sqlite3",
        ingest_fn=ingest_fn or (lambda s: ingest(s, embedder=FakeEmbedder())),
        rate_limiter=limiter)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, stop, grace=grace))
    bot = Bot(api, settings, app, task, stop, limiter)
    started = time.monotonic()
    await api.wait_for(lambda: task.done() or api.calls_to("getUpdates") or api.webhook, 10,
                       "polling or a webhook")
    if task.done():
        task.result()
    assert time.monotonic() - started < 10
    try:
        yield bot
    finally:
        if not task.done():
            await bot.stop()


REPO = Path(__file__).resolve().parents[1]


def process_env(root: Path, api: FakeBotApi, llm: FakeOpenAI, **extra: str) -> dict[str, str]:
    """The environment of a `symptom-bot run` process on the fakes (embeddings from the LLM
    fake, so no model is loaded); `extra` adds or overrides variables."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "TELEGRAM_", "CHROMA_", "EMBEDDING_", "WEBHOOK_"))}
    env.update(llm.env())
    env.update(DATA_DIR=str(root / "data"), KNOWLEDGE_DIR=str(root / "knowledge"),
               HF_HUB_OFFLINE="1", TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=api.base_url,
               EMBEDDING_PROVIDER="openai", RELEVANCE_FLOOR="0", TRIAGE_SECOND_OPINION="false",
               LLM_TIMEOUT="120", ADMIN_USER_IDS=str(ADMIN), LOG_LEVEL="INFO")
    env.update(extra)
    return env


async def build_process_index(root: Path, llm: FakeOpenAI) -> Path:
    """The test corpus ingested with the LLM fake's embeddings, for a `symptom-bot run`."""
    write_corpus(root / "knowledge")
    settings = settings_for(root, llm, embedding_provider="openai")
    report = await asyncio.to_thread(ingest, settings)
    assert report.exit_code == 0, report
    return root


async def start_process(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    """`symptom-bot run` in its own process, its log lines appended to `log`."""
    with open(log, "ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", env=env, cwd=REPO, stdout=out, stderr=out)

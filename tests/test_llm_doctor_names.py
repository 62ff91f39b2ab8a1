"""A doctor whose corpus name already carries the title is shown as "Dr. Probe Tester", never
"Dr. Dr. Probe Tester": in the sources list, the LLM's prompt, the offline quote and the
Sources button."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.answer import Source, doctor_name
from bot.engine import Engine
from bot.ingest import ingest
from bot.settings import load_settings
from bot.telegram.render import source_detail
from tests.fakes.embedder import FakeEmbedder
from tests.fakes.openai_server import FakeOpenAI
from tests.telegram_helpers import engine_for as engine_on
from tests.telegram_helpers import settings_for

QUESTION = "My eyelid keeps twitching for two weeks, should I worry about it?"
RECORD = {"id": "probe-1", "question": QUESTION, "doctor": "Dr. Probe Tester",
          "department": "Ophthalmology", "replied": "2024-05-01",
          "answer": "Eyelid twitching is usually harmless. You should sleep more and cut coffee."}


@pytest.fixture(scope="module")
def probe_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("probe")
    (root / "knowledge").mkdir()
    (root / "knowledge" / "probe.jsonl").write_text(json.dumps(RECORD) + "\n", encoding="utf-8")
    settings = load_settings(data_dir=root / "data", knowledge_dir=root / "knowledge")
    assert ingest(settings, embedder=FakeEmbedder()).exit_code == 0
    return root


def _engine(root: Path, llm: FakeOpenAI | None = None) -> Engine:
    return engine_on(settings_for(root, llm, relevance_floor=0.1))


async def test_the_offline_answer_names_the_doctor_once(probe_dir):
    answer = await _engine(probe_dir).answer(QUESTION)
    assert answer.mode == "extractive"
    assert "Dr. Probe Tester (Ophthalmology) replied" in answer.body
    assert "[1] Dr. Probe Tester, Ophthalmology, replied 2024-05-01" in answer.text
    assert "Dr. Dr." not in answer.text
    assert answer.sources[0].doctor == "Dr. Probe Tester"  # `ask --json` keeps the corpus value


async def test_the_llm_prompt_names_the_doctor_once(probe_dir):
    async with FakeOpenAI("Usually harmless [1].") as llm:
        answer = await _engine(probe_dir, llm).answer(QUESTION)
        prompt = llm.last_prompt()
    assert "(doctor reply, Dr. Probe Tester, Ophthalmology)" in prompt
    assert "Dr. Dr." not in prompt and "Dr. Dr." not in answer.text


def test_the_sources_button_names_the_doctor_once():
    detail = source_detail({"number": 1, "kind": "doctor_reply", "title": "Eyelid",
                            "doctor": "Dr. Probe Tester", "department": "Ophthalmology"}, 200)
    assert "Dr. Probe Tester — Ophthalmology" in detail and "Dr. Dr." not in detail


@pytest.mark.parametrize(("stored", "shown"), [
    ("Dr. Probe Tester", "Probe Tester"), ("Dr Probe Tester", "Probe Tester"),
    ("dr. probe tester", "probe tester"), ("Doctor Probe Tester", "Probe Tester"),
    ("Dr.Probe Tester", "Probe Tester"), ("Dr. Dr. Probe Tester", "Dr. Probe Tester"),
    ("Drew Tester", "Drew Tester"), ("Jiang Junyi", "Jiang Junyi"), ("  Dr. X ", "X"),
])
def test_a_leading_title_is_stripped_once(stored, shown):
    assert doctor_name(stored) == shown


def test_the_sources_line_names_the_doctor_once():
    source = Source(1, "probe-1", "doctor_reply", "Eyelid", "Doctor Probe Tester",
                    "Ophthalmology", "", "", "", 1.0, 1.0)
    assert source.describe().startswith("[1] Dr. Probe Tester, Ophthalmology")

"""The intent step in the real engine: off-topic messages and greetings get a fixed reply in the
person's language without retrieval or LLM; a medication question gets its safety line above
an answer that still has its sources."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.answer import Answer
from bot.engine import Engine
from tests.fakes.openai_server import FakeOpenAI
from tests.telegram_helpers import build_records_index, settings_for
from tests.telegram_helpers import engine_for as engine_on

PREGNANT = "is ibuprofen OK at 30 weeks pregnant"
RECORDS = [
    {"id": "ibuprofen-pregnancy", "question": "Is ibuprofen safe at 30 weeks pregnant?",
     "answer": "Ibuprofen is usually avoided after 20 weeks of pregnancy because it can affect "
               "the baby's kidneys and a blood vessel near the heart. Paracetamol is the usual "
               "choice for pain in pregnancy.", "doctor": "Dr. Lena Brandt",
     "department": "Obstetrics"},
    {"id": "loperamide-toddler", "question": "Can I give Imodium to my toddler with diarrhoea?",
     "answer": "Loperamide (Imodium) is not for young children without a doctor's advice. Give "
               "plenty of fluids and oral rehydration solution.", "doctor": "Dr. Omar Haddad",
     "department": "Paediatrics"},
]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample page and the medication replies, ingested once for the module."""
    return build_records_index(tmp_path_factory.mktemp("intent-engine"), RECORDS)


def engine_for(index_dir: Path, llm: FakeOpenAI | None = None) -> Engine:
    return engine_on(settings_for(index_dir, llm))


def assert_disclaimer_last(engine: Engine, answer: Answer, language: str = "en") -> None:
    disclaimer = engine.disclaimer(language)
    assert answer.text.endswith(disclaimer) and answer.text.count(disclaimer) == 1


@pytest.mark.parametrize(("message", "language"), [
    ("write me a python function that reverses a string", "en"),
    ("receta de tortilla de patatas", "es"),
    ("Schreib mir ein Gedicht über den Winter", "de"),
    ("昨晚的NBA比赛谁赢了？", "zh"),
])
async def test_an_off_topic_message_gets_the_fixed_reply_without_retrieval_or_llm(
        index_dir, message, language) -> None:
    async with FakeOpenAI("should not be used") as llm:
        engine = engine_for(index_dir, llm)
        engine.retriever = None  # any retrieval would fail loudly
        answer = await engine.answer(message)
    assert answer.mode == "off_topic" and answer.intent == "off_topic"
    assert answer.body == engine.prompts.text("off_topic", language)
    assert answer.text.startswith(answer.body) and answer.sources == []
    assert llm.chat_calls == 0
    assert_disclaimer_last(engine, answer, language)


@pytest.mark.parametrize(("message", "name", "language"), [
    ("hi", "greeting", "en"),
    ("thanks a lot, that helped", "greeting.thanks", "en"),
    ("hola", "greeting", "es"),  # the language detector alone reads it as Turkish
    ("谢谢医生！", "greeting.thanks", "zh"),
])
async def test_a_greeting_gets_a_short_friendly_reply(index_dir, message, name, language) -> None:
    engine = engine_for(index_dir)
    engine.retriever = None
    answer = await engine.answer(message)
    assert answer.mode == "greeting" and answer.intent.startswith("greeting")
    assert answer.body == engine.prompts.text(name, language) and answer.language == language
    assert_disclaimer_last(engine, answer, language)


async def test_a_health_question_about_food_is_answered_not_refused(index_dir) -> None:
    answer = await engine_for(index_dir).answer("is coffee bad for my reflux?")
    assert answer.intent == "health" and answer.mode not in ("off_topic", "greeting")
    assert answer.index_version is not None  # it was searched


async def test_a_medication_question_has_its_safety_line_above_a_sourced_answer(
        index_dir, caplog) -> None:
    engine = engine_for(index_dir)
    with caplog.at_level(logging.INFO, logger="bot.engine"):
        answer = await engine.answer(PREGNANT)
    line = engine.prompts.text("medication_safety.pregnancy", "en")
    assert answer.intent == "medication.pregnancy" and answer.mode == "extractive"
    assert answer.sources and answer.sources[0].id == "ibuprofen-pregnancy"
    assert line in answer.notice
    assert answer.text.index(line) < answer.text.index(answer.body)
    assert "usually avoided after 20 weeks" in answer.body
    assert_disclaimer_last(engine, answer)
    assert answer.to_json()["intent"] == "medication.pregnancy"
    logged = [r.getMessage() for r in caplog.records if "intent" in r.getMessage()]
    assert logged == ["intent medication.pregnancy (en)"]  # the label, never the words
    assert all(PREGNANT not in r.getMessage() for r in caplog.records)


async def test_a_childs_dose_question_gets_the_line_in_the_persons_language(index_dir) -> None:
    engine = engine_for(index_dir)
    answer = await engine.answer("¿Puedo darle Imodium a mi bebé de 18 meses?")
    assert answer.intent == "medication.child_dose" and answer.language == "es"
    # no Spanish reply matches in this small index: the line leads the no-match answer too
    assert answer.mode == "no_match"
    assert answer.text.startswith(engine.prompts.text("medication_safety.child_dose", "es"))
    assert answer.text.index("💊") < answer.text.index(answer.body)
    assert_disclaimer_last(engine, answer, "es")


async def test_the_llm_is_told_the_sources_are_no_permission(index_dir) -> None:
    rule = "The sources are background only"
    async with FakeOpenAI("Ibuprofen is usually avoided after 20 weeks [1].",
                          chunk_delay=0.01) as llm:
        engine = engine_for(index_dir, llm)
        events = [e async for e in engine.stream(PREGNANT)]
        medication_system = llm.last_messages()[0]["content"]
        await engine.answer("my muscles twitch all day and I am anxious it is ALS")
        plain_system = llm.last_messages()[0]["content"]
    answer, line = events[-1], engine.prompts.text("medication_safety.pregnancy", "en")
    assert isinstance(answer, Answer) and answer.mode == "llm" and answer.sources
    assert events[0].startswith(line)  # streamed first, before the answer grows
    assert answer.text.index(line) < answer.text.index("Ibuprofen is usually avoided")
    assert rule in medication_system and rule in engine.prompts.text("medication_rule", "en")
    assert rule not in plain_system
    assert_disclaimer_last(engine, answer)

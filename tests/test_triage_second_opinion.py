"""The LLM's second opinion through the real ChatOpenAI client against the loopback fake: it
runs beside retrieval, can only raise the level, has a 3 s budget, and never delays an
emergency code has found."""

from __future__ import annotations

import json
import logging
import time

import pytest

from tests.fakes.openai_server import FakeOpenAI
from tests.test_engine import TWITCH, assert_disclaimer_last, engine_for, index_dir  # noqa: F401


def opinion(level: str, category: str = "none", words: str = "") -> callable:
    """A responder: the structured verdict for triage requests, a plain answer otherwise."""

    def reply(body: dict) -> str:
        if body.get("response_format"):
            return json.dumps({"level": level, "category": category, "words": words})
        return "Twitching is usually benign [1]."

    return reply


async def test_the_llm_can_raise_a_routine_message_to_emergency(index_dir):  # noqa: F811
    async with FakeOpenAI(opinion("emergency", "stroke_tia", "one side of his face")) as llm:
        engine = engine_for(index_dir, llm, triage_second_opinion=True)
        answer = await engine.answer(TWITCH)
        triage_requests = [b for b in llm.chat_requests if b.get("response_format")]
    assert len(triage_requests) == 1
    assert triage_requests[0]["response_format"]["type"] == "json_schema"
    assert answer.triage == "emergency" and answer.mode == "emergency"
    assert "«one side of his face»" in answer.text
    assert any(f["layer"] == "llm" for f in answer.flags)
    assert_disclaimer_last(engine, answer)


async def test_the_llm_never_lowers_the_level(index_dir, caplog):  # noqa: F811
    message = "I have had blood in my stool for three days, is it serious?"
    async with FakeOpenAI(opinion("routine")) as llm:
        engine = engine_for(index_dir, llm, triage_second_opinion=True)
        with caplog.at_level(logging.INFO, logger="bot.triage.second_opinion"):
            answer = await engine.answer(message)
    assert answer.triage == "urgent"
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "triage disagreement: code urgent" in logged and "code stands" in logged
    assert "stool" not in logged  # no message text in the log


async def test_a_hanging_llm_costs_at_most_the_budget(index_dir):  # noqa: F811
    async with FakeOpenAI(opinion("emergency")) as llm:
        llm.hang = True
        engine = engine_for(index_dir, llm, triage_second_opinion=True, llm_timeout=30)
        engine._generate = _no_answer  # only the second opinion's wait is measured
        started = time.monotonic()
        answer = await engine.answer(TWITCH)
        elapsed = time.monotonic() - started
    assert answer.triage == "routine" and answer.mode == "extractive"
    assert elapsed < 4.5


async def _no_answer(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
    yield ("",)


async def test_a_code_emergency_never_asks_the_llm(index_dir):  # noqa: F811
    async with FakeOpenAI(opinion("routine"), delay=5) as llm:
        engine = engine_for(index_dir, llm, triage_second_opinion=True)
        started = time.monotonic()
        answer = await engine.answer("crushing chest pain and I can't breathe")
    assert answer.triage == "emergency" and llm.chat_calls == 0
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("reply", ["not json at all", '{"level": "catastrophic"}'])
async def test_a_broken_opinion_leaves_the_code_verdict(index_dir, reply):  # noqa: F811
    async with FakeOpenAI(lambda body: reply if body.get("response_format")
                          else "Benign [1].") as llm:
        engine = engine_for(index_dir, llm, triage_second_opinion=True)
        answer = await engine.answer(TWITCH)
    assert answer.triage == "routine" and answer.mode == "llm"

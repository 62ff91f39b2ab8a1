"""An LLM answer that stops early (token limit, stream without its end) is never shown as
complete: the doctors' replies are quoted instead, and one line says why."""

from __future__ import annotations

import logging

import pytest

from bot.answer import Answer
from tests.fakes.openai_server import FakeOpenAI
from tests.test_engine import (  # noqa: F401
    DOCTOR_WORDS,
    TWITCH,
    assert_disclaimer_last,
    engine_for,
    index_dir,
)

HALF = "Twitching like yours is usually benign [1] and what the doctor would"


def _fallback_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "bot.llm_answer" and "answering from the replies" in r.getMessage()]


@pytest.mark.parametrize("live", [True, False])
async def test_an_answer_cut_at_the_token_limit_is_replaced_by_the_doctors(
        index_dir, caplog, live):  # noqa: F811
    async with FakeOpenAI(HALF) as llm:
        llm.finish_reason = "length"
        engine = engine_for(index_dir, llm)
        with caplog.at_level(logging.INFO, logger="bot.llm_answer"):
            events = [e async for e in engine.stream(TWITCH, live=live)]
    final = events[-1]
    assert isinstance(final, Answer) and final.mode == "extractive"
    assert DOCTOR_WORDS in final.body and "what the doctor would" not in final.text
    assert_disclaimer_last(engine, final)
    [line] = _fallback_lines(caplog)
    assert "length" in line


async def test_a_stream_that_ends_without_its_end_marker_is_replaced(index_dir, caplog):  # noqa: F811
    async with FakeOpenAI(HALF) as llm:
        llm.end_early_after = 4  # four words, then a clean end: no finish chunk, no [DONE]
        engine = engine_for(index_dir, llm)
        with caplog.at_level(logging.INFO, logger="bot.llm_answer"):
            answer = await engine.answer(TWITCH)
    assert answer.mode == "extractive" and DOCTOR_WORDS in answer.body
    assert "Twitching like yours is" not in answer.text
    assert_disclaimer_last(engine, answer)
    assert len(_fallback_lines(caplog)) == 1


async def test_a_complete_answer_is_still_the_llms(index_dir):  # noqa: F811
    async with FakeOpenAI(HALF + " say [1].") as llm:
        answer = await engine_for(index_dir, llm).answer(TWITCH)
    assert answer.mode == "llm" and answer.body == HALF + " say [1]."

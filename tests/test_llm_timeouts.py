"""A hanging or stalling LLM costs a bounded wait: the first token, each next token and the
whole answer (follow-up rewrite included) have their own limits, then the doctors are quoted."""

from __future__ import annotations

import asyncio
import time

from bot.settings import load_settings
from tests.fakes.openai_server import FakeOpenAI
from tests.test_engine import (  # noqa: F401
    DOCTOR_WORDS,
    TWITCH,
    assert_disclaimer_last,
    engine_for,
    index_dir,
)

DEFAULTS = {"llm_timeout": 30.0, "llm_max_retries": 1}  # the shipped LLM call limits
HISTORY = [("user", TWITCH), ("assistant", "Twitching is often benign [1].")]


async def _timed(engine, message, history=(), live=True, cap=30.0):
    engine.warm_up()  # as the bot does at start: the triage encoder and the index are loaded
    started = time.monotonic()
    async with asyncio.timeout(cap):  # today's code would wait a minute
        events = [e async for e in engine.stream(message, history, live=live)]
    return events[-1], time.monotonic() - started


def test_the_defaults_bound_the_wait_to_about_fifteen_seconds():
    settings = load_settings()
    assert settings.llm_first_token_timeout == 8.0
    assert settings.llm_stall_timeout == 5.0
    assert settings.llm_answer_budget == 15.0


async def test_a_hanging_follow_up_gets_the_doctors_within_the_budget(index_dir):  # noqa: F811
    async with FakeOpenAI("never sent") as llm:
        llm.hang = True  # the rewrite of the follow-up and the answer both hang
        engine = engine_for(index_dir, llm, **DEFAULTS)
        final, elapsed = await _timed(engine, "what about the breathing part?", HISTORY)
    assert final.mode == "extractive" and DOCTOR_WORDS in final.body
    assert_disclaimer_last(engine, final)
    assert 13.0 < elapsed < 16.5, elapsed


async def test_no_first_token_stops_the_wait(index_dir):  # noqa: F811
    async with FakeOpenAI("never sent") as llm:
        llm.hang = True
        engine = engine_for(index_dir, llm, **DEFAULTS, llm_first_token_timeout=1.0)
        final, elapsed = await _timed(engine, TWITCH, cap=10)
    assert final.mode == "extractive" and elapsed < 2.0, elapsed


async def test_tokens_that_stop_coming_stop_the_wait(index_dir):  # noqa: F811
    async with FakeOpenAI("Twitching like yours is usually benign and the", chunk_delay=0.05
                          ) as llm:
        llm.stall_after = 3
        engine = engine_for(index_dir, llm, **DEFAULTS, llm_stall_timeout=0.5)
        engine.warm_up()
        started = time.monotonic()
        pieces = []
        async with asyncio.timeout(10):
            async for event in engine.stream(TWITCH):
                pieces.append(event)
        elapsed = time.monotonic() - started
    final = pieces[-1]
    assert final.mode == "extractive" and DOCTOR_WORDS in final.body
    assert "usually benign and" not in final.text
    assert elapsed < 1.5, elapsed


async def test_a_plain_request_that_hangs_ends_with_the_budget(index_dir):  # noqa: F811
    async with FakeOpenAI("never sent") as llm:
        llm.hang = True
        engine = engine_for(index_dir, llm, **DEFAULTS, llm_answer_budget=1.0)
        final, elapsed = await _timed(engine, TWITCH, live=False, cap=10)
    assert final.mode == "extractive" and elapsed < 1.8, elapsed


async def test_the_budget_is_shared_with_the_follow_up_rewrite(index_dir):  # noqa: F811
    async with FakeOpenAI("never sent") as llm:
        llm.hang = True
        engine = engine_for(index_dir, llm, **DEFAULTS, llm_first_token_timeout=1.0,
                            llm_answer_budget=1.5)
        final, elapsed = await _timed(engine, "what about the breathing part?", HISTORY, cap=10)
    assert final.mode == "extractive" and 1.3 < elapsed < 2.2, elapsed

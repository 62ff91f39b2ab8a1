"""Source lists, reference blocks and disclaimers the LLM writes itself never reach the person:
only code writes those (the real sources list and the fixed disclaimer)."""

from __future__ import annotations

import pytest

from bot.answer import Answer
from tests.fakes.openai_server import FakeOpenAI
from tests.test_engine import TWITCH, assert_disclaimer_last, engine_for, index_dir  # noqa: F401

BODY = "Twitching like yours is usually benign [1]. See a neurologist if it spreads [1]."
FAKE = "Dr. Gregory House, Mayo Clinic"

WRITTEN_BY_THE_MODEL = [
    f"Sources:\n[1] {FAKE}",
    f"**Sources:**\n\n[1] {FAKE}\n[2] WebMD",
    f"## References\n1. {FAKE}\n2. NHS",
    f"References: [1] {FAKE}",
    f"Quellen:\n[1] {FAKE}",
    f"Fuentes:\n- {FAKE}",
    f"来源：\n[1] {FAKE}",
    f"[1] {FAKE}\n[2] Johns Hopkins Medicine",
    f"[1]: {FAKE}",
    f"Disclaimer: this is general information from {FAKE}, not a diagnosis.",
    f"This is not medical advice. Always ask {FAKE} or your own doctor.",
    f"Please note that this information is not a substitute for professional medical advice "
    f"from {FAKE}.",
    f"Sources:\n[1] {FAKE}\n\nDisclaimer: I am an AI, ask {FAKE}.",
]


@pytest.mark.parametrize("extra", WRITTEN_BY_THE_MODEL)
async def test_what_the_model_appends_itself_is_removed(index_dir, extra):  # noqa: F811
    async with FakeOpenAI(f"{BODY}\n\n{extra}", chunk_delay=0.001) as llm:
        engine = engine_for(index_dir, llm)
        events = [e async for e in engine.stream(TWITCH)]
    final = events[-1]
    assert isinstance(final, Answer) and final.mode == "llm"
    assert final.body == BODY
    assert FAKE not in final.text and "Gregory House" not in "".join(events[:-1])
    assert final.text.count("Sources:") == 1 and "Sources:\n[1] Dr. Jiang Junyi" in final.text
    assert_disclaimer_last(engine, final)


@pytest.mark.parametrize("extra", WRITTEN_BY_THE_MODEL[:2])
async def test_a_plain_request_is_cleaned_too(index_dir, extra):  # noqa: F811
    async with FakeOpenAI(f"{BODY}\n\n{extra}") as llm:
        engine = engine_for(index_dir, llm)
        [final] = [e async for e in engine.stream(TWITCH, live=False)]
    assert final.body == BODY and FAKE not in final.text


@pytest.mark.parametrize("body", [
    "Sources of stress, such as work, often make twitching worse [1].",
    "Twitching is common [1].\n\n[1] and the other replies agree that anxiety plays a part [1].",
    "Twitching is common [1].\n\nIt is not medical advice from a textbook that matters here, "
    "but the doctor's examination [1].",
    "What to do:\n1. Sleep enough [1].\n2. Cut down on coffee [1].",
])
async def test_ordinary_text_is_kept(index_dir, body):  # noqa: F811
    async with FakeOpenAI(body) as llm:
        answer = await engine_for(index_dir, llm).answer(TWITCH)
    assert answer.mode == "llm" and answer.body == body

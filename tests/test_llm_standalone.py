"""A follow-up's LLM rewrite can only add to the search: retrieval sees the message and the
rewrite together, and a rewrite that shares no word with the message or the last question is
ignored."""

from __future__ import annotations

import pytest

from bot.standalone import related
from tests.fakes.openai_server import FakeOpenAI
from tests.test_engine import TWITCH, engine_for, index_dir  # noqa: F401

HISTORY = [("user", TWITCH), ("assistant", "Twitching is often benign [1].")]
FOLLOW_UP = "what about the breathing part?"
CANNED = "Glaucoma is a group of eye diseases that damage the optic nerve."


def _spy(engine) -> list[str]:
    queries: list[str] = []
    search = engine.retriever.search

    def recorded(query, limit=10, **options):  # noqa: ANN001, ANN003, ANN202
        queries.append(query)
        return search(query, limit, **options)

    engine.retriever.search = recorded
    return queries


async def test_a_rewrite_unrelated_to_the_message_is_ignored(index_dir):  # noqa: F811
    async with FakeOpenAI(CANNED) as llm:  # the canned text comes back as the "rewrite"
        engine = engine_for(index_dir, llm)
        queries = _spy(engine)
        answer = await engine.answer(FOLLOW_UP, HISTORY)
    assert CANNED not in queries[0] and CANNED != answer.standalone_question
    assert TWITCH in queries[0] and FOLLOW_UP in queries[0]
    assert answer.sources[0].doctor == "Jiang Junyi"  # still the twitching reply


async def test_the_search_sees_the_message_and_the_rewrite_together(index_dir):  # noqa: F811
    rewrite = "Could breathing weakness with muscle twitching be ALS?"
    async with FakeOpenAI([rewrite, "Breathing [1]."]) as llm:
        engine = engine_for(index_dir, llm)
        queries = _spy(engine)
        answer = await engine.answer(FOLLOW_UP, HISTORY)
    assert answer.standalone_question == rewrite
    assert rewrite in queries[0] and FOLLOW_UP in queries[0]
    assert answer.sources[0].doctor == "Jiang Junyi"


@pytest.mark.parametrize(("rewrite", "message", "previous", "expected"), [
    ("Could breathing weakness be ALS?", "what about the breathing part?", "", True),
    ("Is muscle twitching dangerous at night?", "and at night?", TWITCH, True),
    (CANNED, "what about the breathing part?", TWITCH, False),
    ("This is a fake answer.", "and the other one?", "my knee hurts", False),
    ("肌肉抽搐會是漸凍症嗎？", "那呼吸呢？", "我的肌肉一直抽搐", True),
    ("頭痛怎麼辦？", "那呼吸呢？", "我的肌肉一直抽搐", False),
])
def test_related_means_sharing_a_word(rewrite, message, previous, expected):
    assert related(rewrite, message, previous) is expected

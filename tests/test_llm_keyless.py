"""An OpenAI-compatible server without a key (Ollama, vLLM, llama.cpp) is used, not ignored:
OPENAI_BASE_URL alone turns the LLM on, and ChatOpenAI gets a placeholder key."""

from __future__ import annotations

import pytest
from langchain_openai import ChatOpenAI

from bot.llm import make_chat_model, reply_text
from bot.settings import load_settings
from tests.fakes.openai_server import FakeOpenAI

OLLAMA = "http://localhost:11434/v1"


def test_a_base_url_alone_enables_the_llm():
    assert load_settings(openai_base_url=OLLAMA).llm_enabled
    assert load_settings(openai_api_key="sk-test").llm_enabled
    assert not load_settings().llm_enabled
    assert make_chat_model(load_settings()) is None  # neither: offline, extractive answers


def test_the_environment_variable_alone_enables_the_llm(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OPENAI_BASE_URL", OLLAMA)
    monkeypatch.setenv("OPENAI_MODEL", "llama3.2")
    settings = load_settings()
    assert settings.llm_enabled and not settings.openai_api_key
    model = make_chat_model(settings)
    assert isinstance(model, ChatOpenAI)
    assert model.model_name == "llama3.2"
    assert str(model.openai_api_base) == OLLAMA


async def test_a_keyless_server_answers_through_the_real_chat_model():
    async with FakeOpenAI("Twitching muscles are usually benign.") as llm:
        settings = load_settings(openai_base_url=llm.base_url, openai_model="fake-gpt")
        model = make_chat_model(settings)
        assert isinstance(model, ChatOpenAI)
        reply = await model.ainvoke("my muscles twitch")
        assert reply_text(reply) == "Twitching muscles are usually benign."
        streamed = "".join([reply_text(chunk) async for chunk in model.astream("and now?")])
        assert streamed == "Twitching muscles are usually benign."
    assert llm.chat_calls == 2
    assert {r.authorization for r in llm.requests} == {"Bearer not-needed"}
    assert llm.chat_requests[0]["model"] == "fake-gpt"


async def test_a_given_key_is_still_sent():
    async with FakeOpenAI("Fine.", api_key="sk-real") as llm:
        settings = load_settings(openai_base_url=llm.base_url, openai_api_key="sk-real")
        reply = await make_chat_model(settings).ainvoke("hello")
    assert reply_text(reply) == "Fine."
    assert llm.requests[-1].authorization == "Bearer sk-real"

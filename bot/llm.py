"""The LLM seam: ChatOpenAI against OpenAI or any OpenAI-compatible server, composed with LCEL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import Runnable

from bot.prompts import Prompts
from bot.settings import Settings

# How servers say a reply ended by itself; "length", "content_filter" or none at all (a stream
# that stopped before its finish chunk and [DONE]) mean it was cut short.
FINISHED = frozenset({"stop", "end_turn", "eos", "eos_token", "stop_sequence"})


def make_chat_model(settings: Settings) -> BaseChatModel | None:
    """ChatOpenAI as configured, or None when neither OPENAI_API_KEY nor OPENAI_BASE_URL is set
    (offline mode). A server without keys (Ollama, vLLM, llama.cpp) gets a placeholder key."""
    if not settings.llm_enabled:
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=settings.openai_model,
        api_key=settings.openai_api_key or "not-needed",
        base_url=settings.openai_base_url or None,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
        temperature=settings.llm_temperature,
    )  # astream() streams; ainvoke() makes one plain request (no token stream to parse)


def answer_chain(model: BaseChatModel, prompts: Prompts) -> Runnable:
    """system rules + recent turns + numbered sources and the question -> message (chunks)."""
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", _literal(prompts.system)),
            MessagesPlaceholder("history"),
            ("human", prompts.answer),
        ]
    )
    return prompt | model  # messages, not text: their metadata says how the reply ended


def condense_chain(model: BaseChatModel, prompts: Prompts) -> Runnable:
    """history + follow-up -> one standalone question."""
    prompt = ChatPromptTemplate.from_messages([("human", prompts.condense)])
    return prompt | model | StrOutputParser()


def reply_text(message: BaseMessage) -> str:
    """The text of a reply or of one streamed chunk."""
    content = message.content
    return content if isinstance(content, str) else str(message.text)


@dataclass
class Reply:
    """An LLM reply as it arrives: its text so far and why the server says it ended."""

    text: str = ""
    finish_reason: str | None = None

    def add(self, message: BaseMessage) -> None:
        """Take in the whole reply or its next chunk (the last chunk says how it ended)."""
        self.text += reply_text(message)
        metadata = message.response_metadata or {}
        self.finish_reason = metadata.get("finish_reason") or self.finish_reason

    @property
    def finished(self) -> bool:
        """True when the reply ended by itself, not at a limit, a filter or a broken stream."""
        return self.finish_reason in FINISHED


async def paced(chunks: AsyncGenerator[BaseMessage, None], *, first: float, stall: float,
                deadline: float) -> AsyncIterator[BaseMessage]:
    """A stream's chunks; TimeoutError when the first text takes over `first` s, a next one
    over `stall` s, or the loop's clock passes `deadline`."""
    loop = asyncio.get_running_loop()
    wait, reason = first, f"no first token in {first:g} s"
    try:
        while True:
            left = deadline - loop.time()
            limit, why = (wait, reason) if wait < left else (left, "answer budget used up")
            try:
                async with asyncio.timeout(max(limit, 0.0)):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise TimeoutError(why) from None
            if reply_text(chunk):
                wait, reason = stall, f"no token for {stall:g} s"
            yield chunk
    finally:
        await chunks.aclose()


def _literal(text: str) -> str:
    """Escape braces so a prompt file's text is never read as template variables."""
    return text.replace("{", "{{").replace("}", "}}")

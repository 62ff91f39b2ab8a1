"""The LLM seam: ChatOpenAI against OpenAI or any OpenAI-compatible server, composed with LCEL."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import Runnable

from bot.prompts import Prompts
from bot.settings import Settings


def make_chat_model(settings: Settings) -> BaseChatModel | None:
    """ChatOpenAI as configured, or None when no OPENAI_API_KEY is set (offline mode)."""
    if not settings.llm_enabled:
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=settings.openai_model,
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url or None,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
        temperature=settings.llm_temperature,
    )  # astream() streams; ainvoke() makes one plain request (no token stream to parse)


def answer_chain(model: BaseChatModel, prompts: Prompts) -> Runnable:
    """system rules + recent turns + numbered sources and the question -> text."""
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", _literal(prompts.system)),
            MessagesPlaceholder("history"),
            ("human", prompts.answer),
        ]
    )
    return prompt | model | StrOutputParser()


def condense_chain(model: BaseChatModel, prompts: Prompts) -> Runnable:
    """history + follow-up -> one standalone question."""
    prompt = ChatPromptTemplate.from_messages([("human", prompts.condense)])
    return prompt | model | StrOutputParser()


def _literal(text: str) -> str:
    """Escape braces so a prompt file's text is never read as template variables."""
    return text.replace("{", "{{").replace("}", "}}")

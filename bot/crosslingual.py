"""A message in another language searched in the corpus's: the LLM's English rendering of it
(when an LLM is configured) and the offline glossary's English terms, added to the message.

The knowledge base is mostly English (MedQuAD); the English search model and the keyword
index see nothing in a Chinese message (DEV avgScore 0.08 against 1.23 in English, measured in
bench/experiments.md). The message itself stays in the search text, so a corpus in the
person's own language is still found directly."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

from bot import glossary
from bot.negation import without_negated

log = logging.getLogger(__name__)

CORPUS_LANGUAGE = "en"
MAX_QUERY_CHARS = 400  # a translation is a query, not an essay (nor an injected instruction)


def english_chain(model: BaseChatModel, prompts_dir: Path) -> Runnable:
    """message -> its English search query."""
    text = (Path(prompts_dir) / "search_english.md").read_text(encoding="utf-8").strip()
    if "{message}" not in text:
        raise ValueError(f"{Path(prompts_dir) / 'search_english.md'} lacks {{message}}")
    return ChatPromptTemplate.from_messages([("human", text)]) | model | StrOutputParser()


async def english_query(chain: Runnable | None, text: str, language: str, timeout: float,
                        failures: list[str] | None = None) -> str:
    """The LLM's English search query for a non-English message, or '' (no LLM, an English
    message, a failure or the time is up)."""
    if chain is None or language in ("", CORPUS_LANGUAGE) or timeout <= 0:
        return ""
    try:
        async with asyncio.timeout(timeout):
            english = (await chain.ainvoke({"message": text[:2000]})).strip().strip('"')
    except Exception as error:  # noqa: BLE001 - the glossary and the message still search
        log.warning("the LLM's English query failed (%s); searching without it",
                    type(error).__name__)
        if failures is not None:
            failures.append("translation")
        return ""
    return english[:MAX_QUERY_CHARS] if english.isascii() or len(english) < 3 else ""


def search_query(text: str, language: str, english: str = "") -> str:
    """The text to search: the message, its English rendering, the glossary's terms; what the
    person says they do not have is left out of an English message and of the terms."""
    if language in ("", CORPUS_LANGUAGE):
        return without_negated(text, CORPUS_LANGUAGE)
    terms = " ".join(t for t in glossary.english_terms(without_negated(text, language), language)
                     if t.lower() not in english.lower())
    return "\n".join(part for part in (text, english, terms) if part.strip())

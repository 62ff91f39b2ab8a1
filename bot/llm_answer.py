"""The LLM's two writing steps for an answer: a follow-up rewritten as a standalone question,
and the grounded answer streamed from the numbered sources (with the fallbacks on failure)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import Runnable

from bot.answer import KIND_LABEL, Source, doctor_name, settled, strip_extras
from bot.llm import Reply, paced
from bot.prompts import LANGUAGE_NAMES
from bot.provenance import prompt_label
from bot.settings import Settings
from bot.standalone import related, rule_standalone

log = logging.getLogger(__name__)

Turn = tuple[str, str]  # ("user" | "assistant", text)
CONDENSE_TIMEOUT = 8.0


async def standalone_question(chain: Runnable | None, settings: Settings, message: str,
                              history: Sequence[Turn], deadline: float | None = None,
                              failures: list[str] | None = None) -> str:
    """A follow-up rewritten as a standalone question (LLM if there is one, else a rule);
    a rewrite that shares no word with the message or the last question is not used."""
    if not any(role == "user" for role, _ in history):
        return message
    if chain is not None:
        transcript = "\n".join(f"{role}: {text}" for role, text in history[-6:])
        previous = next((text for role, text in reversed(history) if role == "user"), "")
        limit = min(CONDENSE_TIMEOUT, settings.llm_first_token_timeout)
        if deadline is not None:  # the rewrite spends the answer's budget
            limit = min(limit, deadline - asyncio.get_running_loop().time())
        try:
            async with asyncio.timeout(max(limit, 0.0)):
                rewritten = await chain.ainvoke({"history": transcript, "question": message})
            rewritten = rewritten.strip().strip('"')
            if 3 <= len(rewritten) <= 1000 and related(rewritten, message, previous):
                return rewritten
            log.warning("the LLM's rewrite (%d chars) is unusable or shares no word with "
                        "the message or the last question; using the rule", len(rewritten))
        except Exception as error:  # noqa: BLE001 - any LLM failure falls back to the rule
            log.warning("condensing with the LLM failed (%s); using the rule",
                        type(error).__name__)
        if failures is not None:  # failed, or its rewrite was unusable
            failures.append("rewrite")
    return rule_standalone(message, history)


def numbered_sources(sources: list[Source], records: dict) -> str:
    """The sources as the answer prompt shows them: number, what it is, title, text."""
    return "\n\n".join(
        f"[{s.number}] ({prompt_label(s) or KIND_LABEL.get(s.kind, s.kind)}"
        + (f", Dr. {doctor_name(s.doctor)}, {s.department}" if s.doctor else "")
        + f") {s.title}\n{records[s.id].answer[:2500]}"
        for s in sources
    )


async def generate(chain: Runnable, settings: Settings, question: str, history: Sequence[Turn],
                   sources: list[Source], records: dict, live: bool = True,
                   deadline: float | None = None, language: str = "en"
                   ) -> AsyncIterator[str | tuple[str]]:
    """Stream the LLM's answer (or get it whole when not live) without the extras it wrote
    itself; on failure, timeout or a cut-short reply yield ("",) (the caller falls back)."""
    messages: list[BaseMessage] = [
        HumanMessage(text) if role == "user" else AIMessage(text)
        for role, text in history[-settings.history_turns:]
    ]
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = deadline if deadline is not None else started + settings.llm_answer_budget
    reply, shown = Reply(), ""
    try:
        inputs = {"sources": numbered_sources(sources, records), "question": question,
                  "history": messages,
                  "language": LANGUAGE_NAMES.get(language, LANGUAGE_NAMES["en"])}
        if live:
            chunks = paced(chain.astream(inputs), first=settings.llm_first_token_timeout,
                           stall=settings.llm_stall_timeout, deadline=deadline)
            async for chunk in chunks:
                reply.add(chunk)
                visible = settled(reply.text)  # never a list or disclaimer of its own
                if len(visible) > len(shown) and visible.startswith(shown):
                    yield visible[len(shown):]
                    shown = visible
        else:
            async with asyncio.timeout(max(deadline - loop.time(), 0.0)):
                reply.add(await chain.ainvoke(inputs))
        if not reply.finished:  # a half answer is never shown as a whole one
            raise ValueError(f"the reply was cut short (finish_reason "
                             f"{reply.finish_reason}, {len(reply.text)} chars)")
    except Exception as error:  # noqa: BLE001 - the person still gets the extractive answer
        log.warning("LLM failed after %.1f s (%s: %s); answering from the replies instead",
                    loop.time() - started, type(error).__name__, str(error)[:200])
        yield ("",)
        return
    body = strip_extras(reply.text)
    if live and len(body) > len(shown) and body.startswith(shown):
        yield body[len(shown):]  # the rest that was held back while it could become one
    yield (body,)

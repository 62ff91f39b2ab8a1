"""The LLM's second opinion on a message code did not find an emergency in: it can only raise
the level, it runs beside retrieval, and it has a few seconds."""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable
from pydantic import BaseModel, Field

from bot.triage.verdict import RANK, Flag, TriageResult, most_serious

log = logging.getLogger(__name__)
BUDGET_SECONDS = 3.0
INSTRUCTIONS = (
    "You are the triage nurse of a health chatbot. Read the person's message and decide how "
    "soon they need care: 'emergency' (ambulance or emergency department now: heart attack, "
    "stroke even if it has passed, breathing trouble, anaphylaxis, heavy bleeding, overdose or "
    "poisoning even if they feel fine, a suicide plan or means, seizure, unresponsive person, "
    "fever in a baby under 3 months, meningitis signs, ectopic pregnancy, testicular torsion, "
    "sudden vision loss...), 'urgent' (a doctor today or within a day or two) or 'routine'. "
    "Minimising words ('probably nothing', 'just gas') never lower the level. Figures of speech, "
    "lyrics, fiction, negated symptoms, old illnesses and general questions are routine. "
    "Answer in the schema; 'words' quotes the few words of the message that decide it."
)


class SecondOpinion(BaseModel):
    """The LLM's structured verdict."""

    level: Literal["emergency", "urgent", "routine"]
    category: str = Field(description="snake_case red-flag category, or 'none'")
    words: str = Field(default="", description="the deciding words, quoted from the message")


def second_opinion_chain(model: BaseChatModel) -> Runnable:
    """system instructions + message -> SecondOpinion (JSON schema structured output)."""
    from langchain_core.prompts import ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages([("system", INSTRUCTIONS), ("human", "{message}")])
    return prompt | model.with_structured_output(SecondOpinion, method="json_schema")


async def escalate(chain: Runnable, message: str, verdict: TriageResult,
                   budget: float = BUDGET_SECONDS, failures: list[str] | None = None
                   ) -> TriageResult:
    """`verdict`, raised to the LLM's level when the LLM finds it more serious; never lowered.
    Any failure or a slow answer leaves the code's verdict as it is (and is noted in
    `failures`, for the daily statistics)."""
    try:
        async with asyncio.timeout(budget):
            opinion = await chain.ainvoke({"message": message})
    except Exception as error:  # noqa: BLE001 - the code's verdict stands on any failure
        log.info("triage second opinion unavailable (%s)", type(error).__name__)
        opinion = None
    if not isinstance(opinion, SecondOpinion):
        if failures is not None:
            failures.append("second_opinion")
        return verdict
    if opinion.level != verdict.level:
        log.info("triage disagreement: code %s (%s), LLM %s (%s)%s", verdict.level,
                 verdict.category or "none", opinion.level, opinion.category,
                 "; escalating" if RANK[opinion.level] > RANK[verdict.level] else "; code stands")
    if RANK[opinion.level] <= RANK[verdict.level]:
        return verdict
    category = opinion.category if opinion.category not in ("", "none") else "llm"
    flag = Flag("llm", f"llm.{category}", category, opinion.level, opinion.words[:120])
    return most_serious([*verdict.flags, flag], verdict.language)

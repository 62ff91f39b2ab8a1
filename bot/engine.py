"""The answer engine: triage, standalone question, hybrid retrieval, grounded LLM or extractive
answer, code-side checks. Knows nothing of Telegram."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from bot.answer import KIND_LABEL, Answer, Source, check_citations, compose
from bot.corpus.text import detect_language
from bot.extractive import best_passage, extractive_body
from bot.knowledge_base import KnowledgeBase
from bot.llm import answer_chain, condense_chain, make_chat_model
from bot.prompts import Prompts
from bot.retrieval import Retriever
from bot.settings import Settings
from bot.standalone import rule_standalone
from bot.triage import Triage, load_default

log = logging.getLogger(__name__)

Turn = tuple[str, str]  # ("user" | "assistant", text)
CONDENSE_TIMEOUT = 8.0
SEARCH_THREADS = 2  # searches are CPU-bound (the model, numpy): one per core of a small host
_SPANISH = re.compile(
    r"[ñáéíóú¿¡]|\b(quiero|puedo|tengo|estoy|siento|duele|dolor|pecho|respirar|vivir|morir|"
    r"ayuda|hijo|hija|mi|muy|pero|porque|para|pienso|matarme|suicidarme)\b",
    re.IGNORECASE,
)
GROUNDING_ORDER = {"doctor_reply": 0, "qa": 0, "excerpt": 1, "article": 2}


def _language(message: str, rule: str) -> str:
    """The person's language for safety texts: the matched rule's (ids start with it), unless
    an English rule fired on words shared with another language."""
    from_rule = rule.split(".", 1)[0] if "." in rule else ""
    if from_rule and from_rule != "en":
        return from_rule
    detected = detect_language(message)
    if detected == "en" and len(_SPANISH.findall(message)) >= 2:  # short Spanish messages
        return "es"
    return detected or "en"


class Engine:
    """Turns a message and the conversation so far into a safe, grounded Answer."""

    def __init__(self, settings: Settings, *, kb: KnowledgeBase | None = None,
                 chat_model: BaseChatModel | None = None, triage: Triage | None = None,
                 prompts: Prompts | None = None) -> None:
        self.settings = settings
        self.kb = kb or KnowledgeBase(settings)
        self.retriever = Retriever(self.kb)
        self._search_threads = ThreadPoolExecutor(SEARCH_THREADS, thread_name_prefix="search")
        self.prompts = prompts or Prompts.load(settings)
        self.triage = triage or load_default()
        self.chat_model = chat_model if chat_model is not None else make_chat_model(settings)
        # Built once: a prompt template validates itself on construction (measurable per answer).
        self._answer_chain = self._condense_chain = None
        if self.chat_model is not None:
            self._answer_chain = answer_chain(self.chat_model, self.prompts)
            self._condense_chain = condense_chain(self.chat_model, self.prompts)

    def warm_up(self) -> None:
        """Load the embedding model and the active index now, not on the first person's question."""
        started = time.monotonic()
        try:
            result = self.retriever.search("warm-up", limit=1)
        except Exception as error:  # noqa: BLE001 - the bot still starts and says what is wrong
            log.warning("knowledge base not ready at start: %s: %s", type(error).__name__, error)
            return
        log.info("knowledge base %s ready in %.1f s", result.version or "(empty)",
                 time.monotonic() - started)

    async def answer(self, message: str, history: Sequence[Turn] = ()) -> Answer:
        """The complete answer to a message."""
        final = None
        async for event in self.stream(message, history):
            final = event
        assert isinstance(final, Answer)
        return final

    async def stream(self, message: str, history: Sequence[Turn] = (), live: bool = True
                     ) -> AsyncIterator[str | Answer]:
        """Text as it is generated, then the complete Answer as the last item.

        With live=False only the Answer comes, from one plain LLM request (no token stream to
        parse: cheaper when many answers are in flight and nobody watches them grow)."""
        triage = self.triage.classify(message)
        language = _language(message, triage.matched)
        if triage.level == "emergency":
            # Code only: no retrieval, no LLM on this path.
            body = self.prompts.text("emergency", language)
            if triage.category == "suicide_self_harm":
                body = f"{self.prompts.text('crisis', language)}\n\n{body}"
            log.info("emergency triage (%s, rule %s)", triage.category, triage.matched)
            yield self._final(body, "emergency", "emergency", triage.category)
            return
        notice = self.prompts.text("urgent", language) if triage.level == "urgent" else ""
        if triage.level == "urgent" and triage.category == "suicide_self_harm":
            notice = f"{notice}\n\n{self.prompts.text('crisis', language)}"
        if notice:
            yield notice + "\n\n"
        question = await self._standalone(message, history)
        # Own threads: in the shared default executor a crowd's searches would queue ahead of
        # the name lookups the LLM and Telegram connections need (measured: every LLM call of
        # 100 simultaneous people waited for the last search).
        result = await asyncio.get_running_loop().run_in_executor(
            self._search_threads, self.retriever.search, question, self.settings.top_k * 3)
        if result.version is None:
            yield self._final(self.prompts.empty_kb, "empty_kb", triage.level, triage.category,
                              notice=notice, question=question)
            return
        grounded = [h for h in result.hits
                    if h.record.answer.strip() and h.similarity >= self.settings.relevance_floor]
        # Doctor replies (and reference answers) ground first; excerpts and articles support.
        grounded = sorted(grounded[: self.settings.top_k],
                          key=lambda h: GROUNDING_ORDER.get(h.record.kind, 3))
        if not grounded:
            yield self._final(self.prompts.no_match, "no_match", triage.level, triage.category,
                              notice=notice, question=question, version=result.version)
            return
        sources = [Source.from_record(n, h.record, h.score, h.similarity)
                   for n, h in enumerate(grounded, start=1)]
        records = {h.record.id: h.record for h in grounded}
        for source in sources:
            source.passage = best_passage(records[source.id].answer, result.query)
        body, mode = "", "extractive"
        if self.chat_model is not None:
            async for piece in self._generate(question, history, sources, records, live):
                if isinstance(piece, str):
                    yield piece
                else:
                    body = piece[0]
            if body.strip():
                mode = "llm"
        if mode == "llm":
            body = check_citations(body, len(sources))
        else:
            body = extractive_body(sources, records, result.query, self.prompts.offline)
        yield self._final(body, mode, triage.level, triage.category, notice=notice,
                          sources=sources, question=question, version=result.version)

    def _final(self, body: str, mode: str, level: str, category: str, *, notice: str = "",
               sources: list[Source] | None = None, question: str = "",
               version: str | None = None) -> Answer:
        text = compose(body, self.prompts.disclaimer, notice, sources)
        return Answer(text=text, triage=level, mode=mode, body=body.strip(),
                      disclaimer=self.prompts.disclaimer, notice=notice, category=category,
                      sources=sources or [], standalone_question=question, index_version=version)

    async def _standalone(self, message: str, history: Sequence[Turn]) -> str:
        """A follow-up rewritten as a standalone question (LLM if there is one, else a rule)."""
        if not any(role == "user" for role, _ in history):
            return message
        if self.chat_model is not None:
            transcript = "\n".join(f"{role}: {text}" for role, text in history[-6:])
            try:
                chain = self._condense_chain
                async with asyncio.timeout(min(CONDENSE_TIMEOUT, self.settings.llm_timeout)):
                    rewritten = await chain.ainvoke({"history": transcript, "question": message})
                rewritten = rewritten.strip().strip('"')
                if 3 <= len(rewritten) <= 1000:
                    return rewritten
            except Exception as error:  # noqa: BLE001 - any LLM failure falls back to the rule
                log.warning("condensing with the LLM failed (%s); using the rule",
                            type(error).__name__)
        return rule_standalone(message, history)

    async def _generate(self, question: str, history: Sequence[Turn], sources: list[Source],
                        records: dict, live: bool = True) -> AsyncIterator[str | tuple[str]]:
        """Stream the LLM's answer (or get it whole when not live); on failure or timeout yield
        nothing more (the caller falls back)."""
        numbered = "\n\n".join(
            f"[{s.number}] ({KIND_LABEL.get(s.kind, s.kind)}"
            + (f", Dr. {s.doctor}, {s.department}" if s.doctor else "")
            + f") {s.title}\n{records[s.id].answer[:2500]}"
            for s in sources
        )
        messages: list[BaseMessage] = [
            HumanMessage(text) if role == "user" else AIMessage(text)
            for role, text in history[-self.settings.history_turns:]
        ]
        chain = self._answer_chain
        budget = self.settings.llm_timeout * (self.settings.llm_max_retries + 1) + 2
        started = time.monotonic()
        pieces: list[str] = []
        try:
            inputs = {"sources": numbered, "question": question, "history": messages}
            async with asyncio.timeout(budget):
                if live:
                    async for chunk in chain.astream(inputs):
                        if chunk:
                            pieces.append(chunk)
                            yield chunk
                else:
                    pieces.append(await chain.ainvoke(inputs))
        except Exception as error:  # noqa: BLE001 - the person still gets the extractive answer
            log.warning("LLM failed after %.1f s (%s: %s); answering from the replies instead",
                        time.monotonic() - started, type(error).__name__, str(error)[:200])
            yield ("",)
            return
        yield ("".join(pieces),)

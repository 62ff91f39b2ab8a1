"""The answer engine: triage, standalone question, hybrid retrieval, grounded LLM or extractive
answer, code-side checks. Knows nothing of Telegram."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace

from langchain_core.language_models import BaseChatModel

from bot import further_reading, glossary, negation
from bot.answer import (
    Answer,
    Source,
    check_citations,
    compose,
    doctor_name,
)
from bot.crosslingual import english_chain, english_query, search_query
from bot.extractive import best_passage, extractive_body
from bot.intent import Intent, IntentClassifier
from bot.intent import load_default as load_intent
from bot.intent.cautions import cautions_for
from bot.intent.cautions import load_default as load_cautions
from bot.knowledge_base import KnowledgeBase
from bot.llm import answer_chain, condense_chain, make_chat_model
from bot.llm_answer import CONDENSE_TIMEOUT, Turn, generate, standalone_question
from bot.prompts import Prompts
from bot.provenance import Holdings
from bot.relevance import good_matches
from bot.retrieval import Retriever, SearchResult
from bot.settings import Settings
from bot.standalone import search_text
from bot.triage import Triage, TriageResult, load_default
from bot.triage.second_opinion import escalate, second_opinion_chain

log = logging.getLogger(__name__)

SEARCH_THREADS = 2  # searches are CPU-bound (the model, numpy): one per core of a small host
GROUNDING_ORDER = {"doctor_reply": 0, "qa": 0, "excerpt": 1, "article": 2}


def _quoted(words: list[str], language: str) -> str:
    """The person's own words, quoted the way their language quotes."""
    left, right = ("「", "」") if language in ("zh", "ja") else ("«", "»")
    return ", ".join(f"{left}{w}{right}" for w in words)


class Engine:
    """Turns a message and the conversation so far into a safe, grounded Answer."""

    def __init__(self, settings: Settings, *, kb: KnowledgeBase | None = None,
                 chat_model: BaseChatModel | None = None, triage: Triage | None = None,
                 prompts: Prompts | None = None, intent: IntentClassifier | None = None) -> None:
        self.settings = settings
        self.kb = kb or KnowledgeBase(settings)
        self.retriever = Retriever(self.kb)
        self._search_threads = ThreadPoolExecutor(SEARCH_THREADS, thread_name_prefix="search")
        self.prompts = prompts or Prompts.load(settings)
        glossary.glossaries()  # with the prompts: a broken file stops the start, not a message
        negation.patterns()
        self.triage = triage or load_default(settings.triage_semantic)
        self.intent = intent or load_intent()  # what a non-emergency message is about
        load_cautions()  # the medication cautions' files: a broken one stops the start
        # One thread of its own: a triage never queues behind searches (the encoder is one).
        self._triage_thread = ThreadPoolExecutor(1, thread_name_prefix="triage")
        self.chat_model = chat_model if chat_model is not None else make_chat_model(settings)
        # Built once: a prompt template validates itself on construction (measurable per answer).
        self._answer_chain = self._condense_chain = self._english_chain = None
        self._medication_chain = None
        if self.chat_model is not None:
            self._answer_chain = answer_chain(self.chat_model, self.prompts)
            # A medication question: its rules also say the sources are no permission.
            rule = self.prompts.text("medication_rule", "en")
            self._medication_chain = answer_chain(
                self.chat_model, replace(self.prompts, system=f"{self.prompts.system}\n{rule}"))
            self._condense_chain = condense_chain(self.chat_model, self.prompts)
            self._english_chain = english_chain(self.chat_model, settings.prompts_dir)
        # What the active index holds, for the disclaimer; learnt from each search so that an
        # emergency answer never touches the index.
        self.holdings = Holdings()
        self._opinion_chain = None
        if self.chat_model is not None and settings.triage_second_opinion:
            self._opinion_chain = second_opinion_chain(self.chat_model)

    def preload(self) -> tuple[Future, Future]:
        """Start loading the triage's models and the index with its embedding model, each in
        its own thread, at once (a cold `ask` took 3 s longer loading them one after the other
        on the first question)."""
        return (self._triage_thread.submit(self.triage.classify, "warm-up"),
                self._search_threads.submit(self.retriever.search, "warm-up", 1))

    def warm_up(self) -> None:
        """Load the embedding model and the active index now, not on the first person's question."""
        started = time.monotonic()
        triaged, searched = self.preload()
        triaged.result()
        try:
            result = searched.result()
        except Exception as error:  # noqa: BLE001 - the bot still starts and says what is wrong
            log.warning("knowledge base not ready at start: %s: %s", type(error).__name__, error)
            return
        self.holdings.learn(self.kb, result.version)
        log.info("knowledge base %s ready in %.1f s", result.version or "(empty)",
                 time.monotonic() - started)

    async def answer(self, message: str, history: Sequence[Turn] = ()) -> Answer:
        """The complete answer to a message."""
        final = None
        async for event in self.stream(message, history):
            final = event
        assert isinstance(final, Answer)
        return final

    async def stream(self, message: str, history: Sequence[Turn] = (), live: bool = True,
                     verdict: TriageResult | None = None) -> AsyncIterator[str | Answer]:
        """Text as it is generated, then the complete Answer as the last item.

        With live=False only the Answer comes, from one plain LLM request (no token stream to
        parse: cheaper when many answers are in flight and nobody watches them grow)."""
        triage = verdict or await self.triage_message(message)
        if triage.level == "emergency":
            yield self.emergency(triage)  # code only: no retrieval, no LLM on this path
            return
        intent = await self.intent_of(message, triage, history)
        if intent.language:  # its cue words tell a short message's language better
            triage = replace(triage, language=intent.language)
        if intent.label in ("off_topic", "greeting"):
            yield self.reply(intent, triage)  # code only: no retrieval, no LLM
            return
        opinion = None
        failures: list[str] = []  # LLM steps that failed, for the daily statistics
        if self._opinion_chain is not None:
            # Beside retrieval, never in front of it; it can only raise the level.
            opinion = asyncio.ensure_future(
                escalate(self._opinion_chain, message, triage, failures=failures))
        caution = self.prompts.text(intent.text, triage.language or "en") if intent.text else ""
        # the well-established "no"s the message calls for, right after the safety line
        previous = next((text for role, text in reversed(history) if role == "user"), "")
        found = await asyncio.get_running_loop().run_in_executor(
            self._triage_thread, cautions_for, message, triage.language or "en", previous)
        caution = "\n\n".join(p for p in (caution, *found) if p)
        notice = self.notice(triage)
        # the medication safety line leads the stream only when an LLM answer streams after it
        streamed = caution if live and self.chat_model is not None else ""
        if notice or streamed:
            yield "\n\n".join(p for p in (notice, streamed) if p) + "\n\n"
        notice = "\n\n".join(p for p in (notice, caution) if p)  # above the body
        # One budget for all the LLM is asked to write: the follow-up's rewrite and the answer.
        deadline = asyncio.get_running_loop().time() + self.settings.llm_answer_budget
        question = await self._standalone(message, history, deadline, failures)
        # Own threads: in the shared default executor a crowd's searches would queue ahead of
        # the name lookups the LLM and Telegram connections need (measured: every LLM call of
        # 100 simultaneous people waited for the last search).
        searched = await self._search_text(message, question, triage.language, deadline,
                                           failures)
        result = await asyncio.get_running_loop().run_in_executor(
            self._search_threads, self._search, searched, self.settings.top_k * 3)
        if opinion is not None:
            raised = await opinion
            if raised.level == "emergency":
                yield self.emergency(raised)
                return
            if raised.level != triage.level:
                triage, notice = raised, self.notice(raised)
                yield notice + "\n\n"
                notice = "\n\n".join(p for p in (notice, caution) if p)
        language = triage.language or "en"
        if result.version is None:
            yield self._final(self.prompts.text("empty_kb", language), "empty_kb", triage.level,
                              triage.category, notice=notice, question=question, triage=triage,
                              failures=failures, intent=intent.name)
            return
        grounded = good_matches(result.hits, result.query, self.settings.relevance_floor,
                                self.settings.relevance_strong, self.settings.top_k)
        # Doctor replies (and reference answers) ground first; excerpts and articles support.
        grounded = sorted(grounded[: self.settings.top_k],
                          key=lambda h: GROUNDING_ORDER.get(h.record.kind, 3))
        if not grounded:  # a page it can name but not quote may still help
            pages = further_reading.pages(result.unquotable, result.query,
                                          self.settings.relevance_floor,
                                          self.settings.relevance_strong)
            body = "\n\n".join(p for p in (self.prompts.text("no_match", language, self.holds),
                                             further_reading.block(pages,
                                                                   self.prompts.labels(language)))
                                 if p)
            yield self._final(body, "no_match",
                              triage.level, triage.category,
                              notice=notice, question=question, version=result.version,
                              triage=triage, failures=failures, intent=intent.name)
            return
        sources = [Source.from_record(n, h.record, h.score, h.similarity)
                   for n, h in enumerate(grounded, start=1)]
        records = {h.record.id: h.record for h in grounded}
        for source in sources:
            source.passage = best_passage(records[source.id].answer, result.query)
        body, mode = "", "extractive"
        if self.chat_model is not None:
            async for piece in self._generate(question, history, sources, records, live,
                                              deadline=deadline, language=language,
                                              medication=intent.label == "medication"):
                if isinstance(piece, str):
                    yield piece
                else:
                    body = piece[0]
            if body.strip():
                mode = "llm"
            else:
                failures.append("answer")  # the person gets the quoted replies instead
        if mode == "llm":
            body = check_citations(body, len(sources))
        else:
            named = [replace(s, doctor=doctor_name(s.doctor)) for s in sources]  # "Dr." once
            body = extractive_body(named, records, result.query,
                                   self.prompts.text("offline", language),
                                   self.prompts.labels(language), language)
        yield self._final(body, mode, triage.level, triage.category, notice=notice,
                          sources=sources, question=question, version=result.version,
                          triage=triage, failures=failures, intent=intent.name)

    def _search(self, text: str, limit: int) -> SearchResult:
        """A search in a search thread, noting what the searched version holds."""
        result = self.retriever.search(text, limit, answerable=True)
        self.holdings.learn(self.kb, result.version)
        return result

    async def triage_message(self, message: str) -> TriageResult:
        """Every code layer of the triage, off the event loop (the encoder takes milliseconds
        per sentence); no disk, no index, no LLM."""
        return await asyncio.get_running_loop().run_in_executor(
            self._triage_thread, self.triage.classify, message)

    async def intent_of(self, message: str, triage: TriageResult,
                        history: Sequence[Turn] = ()) -> Intent:
        """What a non-emergency message is about, off the event loop; only its label is logged."""
        previous = next((text for role, text in reversed(history) if role == "user"), "")
        intent = await asyncio.get_running_loop().run_in_executor(
            self._triage_thread, self.intent.classify, message, triage.level, triage.language,
            previous)
        if intent.label != "health":
            log.info("intent %s (%s)", intent.name, intent.language or triage.language or "en")
        return intent

    def reply(self, intent: Intent, triage: TriageResult) -> Answer:
        """The fixed answer to an off-topic message or a greeting, disclaimer last."""
        return self._final(self.prompts.text(intent.text, triage.language or "en", self.holds),
                           intent.label, triage.level, triage.category, triage=triage,
                           intent=intent.name)

    def reason(self, triage: TriageResult) -> str:
        """"You mention «…»": the words behind the level, in the person's language."""
        words = list(dict.fromkeys(f.words for f in triage.flags
                                   if f.level == triage.level and f.words))[:2]
        if not words:
            return ""
        return self.prompts.text("reason", triage.language).format(
            flags=_quoted(words, triage.language))

    def emergency(self, triage: TriageResult) -> Answer:
        """The emergency answer: why, the crisis line first where it applies, what to do now."""
        language = triage.language or "en"
        body = self.prompts.text("emergency", language)
        if triage.crisis:
            body = f"{self.prompts.text('crisis', language)}\n\n{body}"
        if reason := self.reason(triage):
            body = f"{reason}\n\n{body}"
        log.info("emergency triage (%s; %s; %s)", triage.category, language,
                 ", ".join(f.loggable() for f in triage.flags))
        return self._final(body, "emergency", "emergency", triage.category, triage=triage)

    def notice(self, triage: TriageResult) -> str:
        """The urgent notice above an answer (with the crisis line where it applies), or ''."""
        if triage.level != "urgent":
            return ""
        notice = self.prompts.text("urgent", triage.language or "en")
        if reason := self.reason(triage):
            notice = f"{reason} {notice}"
        if triage.crisis:
            notice = f"{notice}\n\n{self.prompts.text('crisis', triage.language or 'en')}"
        log.info("urgent triage (%s; %s)", triage.category,
                 ", ".join(f.loggable() for f in triage.flags))
        return notice

    def _final(self, body: str, mode: str, level: str, category: str, *, notice: str = "",
               sources: list[Source] | None = None, question: str = "",
               version: str | None = None, triage: TriageResult | None = None,
               failures: list[str] | None = None, intent: str = "") -> Answer:
        language = (triage.language if triage else "") or "en"
        disclaimer = self.disclaimer(language)
        text = compose(body, disclaimer, notice, sources, self.prompts.labels(language))
        return Answer(text=text, triage=level, mode=mode, body=body.strip(),
                      disclaimer=disclaimer, notice=notice, category=category,
                      sources=sources or [], standalone_question=question, index_version=version,
                      language=triage.language if triage else "",
                      flags=[f.public() for f in triage.flags] if triage else [],
                      llm_failures=list(failures or []), intent=intent)

    @property
    def holds(self) -> str:
        """What the active index holds: "doctors", "reference" or "both"."""
        return self.holdings.key

    def disclaimer(self, language: str = "en") -> str:
        """The fixed disclaimer in the person's language, saying what the index holds."""
        return self.prompts.text("disclaimer", language or "en", self.holds)

    def knowledge(self, language: str = "en") -> str:
        """What the knowledge base holds, in words ("doctors' replies … and …")."""
        return self.prompts.labels(language)(f"knowledge_{self.holds}")

    async def _search_text(self, message: str, question: str, language: str, deadline: float,
                           failures: list[str]) -> str:
        """The message with its standalone question, and in English too when it is not."""
        text = search_text(message, question)
        left = min(CONDENSE_TIMEOUT, deadline - asyncio.get_running_loop().time())
        english = await english_query(self._english_chain, text, language, left, failures)
        return search_query(text, language, english)

    async def _standalone(self, message: str, history: Sequence[Turn],
                          deadline: float | None = None, failures: list[str] | None = None
                          ) -> str:
        """A follow-up as a standalone question (see bot/llm_answer.py)."""
        chain = self._condense_chain if self.chat_model is not None else None
        return await standalone_question(chain, self.settings, message, history, deadline,
                                         failures)

    def _generate(self, question: str, history: Sequence[Turn], sources: list[Source],
                  records: dict, live: bool = True, deadline: float | None = None,
                  language: str = "en", medication: bool = False
                  ) -> AsyncIterator[str | tuple[str]]:
        """The LLM's grounded answer, streamed (see bot/llm_answer.py)."""
        chain = self._medication_chain if medication else self._answer_chain
        return generate(chain, self.settings, question, history, sources, records, live,
                        deadline, language)

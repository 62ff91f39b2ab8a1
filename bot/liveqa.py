"""`symptom-bot eval liveqa`: run LiveQA-Med questions through the bot's own retrieval."""

from __future__ import annotations

import time
from pathlib import Path

from bot.crosslingual import search_query
from bot.evaluation import evaluate, load_qrels, load_questions, normalise_qid, write_trec_run
from bot.retrieval import Retriever
from bot.triage.language import detect

QUERY_FIELDS = ("message", "paraphrase", "summary")


def question_text(question: dict, field: str = "message") -> str:
    """What is sent to retrieval: subject + message (the real input), or a human rewrite."""
    if field == "message":
        return f"{question.get('subject') or ''}\n{question.get('message') or ''}".strip()
    return (question.get(field) or "").strip() or question_text(question, "message")


def run_liveqa(retriever: Retriever, folder: Path, field: str = "message", depth: int = 100,
               answerable: bool = False
               ) -> tuple[dict[str, float], dict[str, list[tuple[str, float]]], list[float]]:
    """(measures, run with scores, per-question latency in ms) for questions.jsonl + qrels.tsv.

    With `answerable`, only records with an answer are ranked (what a person can be shown).
    Lines may carry a `lang` (translated sets). A file that mixes languages is measured as a
    whole, each line its own question (id@lang), then per language ("es:avgScore", ...)."""
    questions = load_questions(folder / "questions.jsonl")
    qrels = load_qrels(folder / "qrels.tsv")
    version = retriever.kb.current()
    if version is None:
        raise ValueError("the knowledge base is empty: ingest MedQuAD first")
    languages = sorted({str(q.get("lang") or "") for q in questions})
    mixed = len(languages) > 1
    run: dict[str, list[tuple[str, float]]] = {}
    latencies: list[float] = []
    for question in questions:
        started = time.perf_counter()
        text = question_text(question, field)  # searched as the bot does offline
        result = retriever.search(search_query(text, detect(text)), limit=depth,
                                  answerable=answerable)
        latencies.append((time.perf_counter() - started) * 1000)
        run[_qid(question, mixed)] = [(h.record.id, h.score) for h in result.hits]
    if mixed:  # each translation is judged by its original's qrels
        qrels = {_qid(q, True): qrels.get(normalise_qid(q["id"]), {}) for q in questions}
    ranked = {q: [rid for rid, _ in hits] for q, hits in run.items()}
    measures = evaluate(ranked, qrels, [_qid(q, mixed) for q in questions])
    for language in languages if mixed else ():
        ids = [_qid(q, True) for q in questions if str(q.get("lang") or "") == language]
        for name, value in evaluate(ranked, qrels, ids).items():
            if name in LANGUAGE_MEASURES:
                measures[f"{language or '?'}:{name}"] = value
    return measures, run, latencies


LANGUAGE_MEASURES = ("avgScore", "MAP@10>=2", "MRR@10>=2", "nDCG@10", "questions")


def _qid(question: dict, mixed: bool) -> str:
    qid = normalise_qid(question["id"])
    return f"{qid}@{question.get('lang') or '?'}" if mixed else qid


def save_run(run: dict[str, list[tuple[str, float]]], path: Path, tag: str) -> None:
    """Write the TREC run file (`qid Q0 record_id rank score tag`)."""
    write_trec_run(run, path, tag)

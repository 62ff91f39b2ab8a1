"""`symptom-bot eval liveqa`: run LiveQA-Med questions through the bot's own retrieval."""

from __future__ import annotations

import time
from pathlib import Path

from bot.evaluation import evaluate, load_qrels, load_questions, normalise_qid, write_trec_run
from bot.retrieval import Retriever

QUERY_FIELDS = ("message", "paraphrase", "summary")


def question_text(question: dict, field: str = "message") -> str:
    """What is sent to retrieval: subject + message (the real input), or a human rewrite."""
    if field == "message":
        return f"{question.get('subject') or ''}\n{question.get('message') or ''}".strip()
    return (question.get(field) or "").strip() or question_text(question, "message")


def run_liveqa(retriever: Retriever, folder: Path, field: str = "message", depth: int = 100
               ) -> tuple[dict[str, float], dict[str, list[tuple[str, float]]], list[float]]:
    """(measures, run with scores, per-question latency in ms) for questions.jsonl + qrels.tsv."""
    questions = load_questions(folder / "questions.jsonl")
    qrels = load_qrels(folder / "qrels.tsv")
    version = retriever.kb.current()
    if version is None:
        raise ValueError("the knowledge base is empty: ingest MedQuAD first")
    run: dict[str, list[tuple[str, float]]] = {}
    latencies: list[float] = []
    for question in questions:
        started = time.perf_counter()
        result = retriever.search(question_text(question, field), limit=depth)
        latencies.append((time.perf_counter() - started) * 1000)
        run[normalise_qid(question["id"])] = [(h.record.id, h.score) for h in result.hits]
    ids = [normalise_qid(q["id"]) for q in questions]
    measures = evaluate({q: [rid for rid, _ in hits] for q, hits in run.items()}, qrels, ids)
    return measures, run, latencies


def save_run(run: dict[str, list[tuple[str, float]]], path: Path, tag: str) -> None:
    """Write the TREC run file (`qid Q0 record_id rank score tag`)."""
    write_trec_run(run, path, tag)

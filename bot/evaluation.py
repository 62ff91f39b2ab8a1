"""Retrieval metrics for the LiveQA-Med benchmark, computed as its README's "Scoring" section says.

Conventions (see shared/data/liveqa-med/README.md):
- Grades are 1-Incorrect, 2-Related, 3-Incomplete, 4-Excellent. A retrieved answer that was never
  judged counts as grade 1. `load_qrels` keeps the maximum grade of a pair judged twice.
- Question ids "TQ12" and "12" are the same question, everywhere (qrels, runs, question_ids).
- A run lists answer ids best first; a repeated id counts only at its first rank.

Averaging sets:
- avgScore, succ@k+ (rank-1 answer only): all question_ids. A question with an empty run scores 0
  and is not a success.
- MAP@10, MRR@10, P@5, Recall@10 at grade >= g: questions with >= 1 judged answer of grade >= g;
  those with an empty run count as 0. MAP@10 is trec_eval map_cut_10 (divided by all R
  relevant judged answers, not min(R, 10)); P@5 always divides by 5.
- nDCG@10 (gain = grade - 1, discount log2(rank + 1), ideal = the best 10 judged answers):
  questions with >= 1 judged answer of gain > 0, i.e. of grade >= 2 (the MAP@10>=2 set; for the
  others the ideal DCG is 0 and nDCG is undefined).
- judged@10: questions with a non-empty run; share of its top min(10, len) ids that are judged.

write_trec_run keeps the given order as the ranks, but trec_eval re-sorts each question by score
(ties by record id), so give it strictly decreasing scores to score exactly this ranking.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

DEPTH = 10
TREC_DEPTH = 100
GRADES = range(1, 5)


def normalise_qid(qid: str) -> str:
    """'TQ12' -> '12'; other ids are only stripped."""
    qid = str(qid).strip()
    return qid[2:] if qid[:2].upper() == "TQ" and qid[2:].isdigit() else qid


def load_questions(path: Path) -> list[dict]:
    """Read questions.jsonl: one JSON object per non-blank line."""
    questions = []
    with Path(path).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as error:
                raise ValueError(f"{path}:{number}: not valid JSON ({error})") from None
            if not isinstance(item, dict) or "id" not in item:
                raise ValueError(f"{path}:{number}: expected a JSON object with an 'id'")
            questions.append(item)
    return questions


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    """Read qrels.tsv (`qid judgment answer_id`) into qid -> {answer_id: max grade}."""
    qrels: dict[str, dict[str, int]] = {}
    with Path(path).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            fields = line.split()
            if not fields or (number == 1 and fields[0].lower() == "qid"):
                continue
            if len(fields) != 3:
                raise ValueError(
                    f"{path}:{number}: expected 3 fields 'qid judgment answer_id', "
                    f"got {len(fields)}: {line.rstrip()!r}"
                )
            qid, grade_text, answer_id = fields
            try:
                grade = int(grade_text)
            except ValueError:
                grade = 0
            if grade not in GRADES:
                raise ValueError(f"{path}:{number}: judgment must be 1-4, got {grade_text!r}")
            judged = qrels.setdefault(normalise_qid(qid), {})
            judged[answer_id] = max(grade, judged.get(answer_id, grade))
    return qrels


def _dedupe(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def _average_precision(flags: list[bool], relevant: int) -> float:
    hits, total = 0, 0.0
    for rank, flag in enumerate(flags[:DEPTH], 1):
        if flag:
            hits += 1
            total += hits / rank
    return total / relevant


def _ndcg(ranked: list[str], judged: dict[str, int]) -> float:
    gains = [judged.get(answer, 1) - 1 for answer in ranked[:DEPTH]]
    ideal = sorted((grade - 1 for grade in judged.values()), reverse=True)[:DEPTH]

    def dcg(values: list[int]) -> float:
        return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(values, 1))

    return dcg(gains) / dcg(ideal)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def evaluate(
    run: dict[str, list[str]], qrels: dict[str, dict[str, int]], question_ids: list[str]
) -> dict[str, float]:
    """Every README measure for a run (qid -> answer ids, best first) over question_ids."""
    runs = {normalise_qid(q): _dedupe(ids) for q, ids in run.items()}
    judgments = {normalise_qid(q): grades for q, grades in qrels.items()}
    qids = _dedupe([normalise_qid(q) for q in question_ids])
    top_grades, ranked_sets, ndcgs, coverage = [], {2: [], 3: []}, [], []
    for qid in qids:
        ranked, judged = runs.get(qid, []), judgments.get(qid, {})
        top_grades.append(judged.get(ranked[0], 1) if ranked else 0)  # grade; 0 = no answer
        if ranked:
            top = ranked[:DEPTH]
            coverage.append(sum(answer in judged for answer in top) / len(top))
        if any(grade >= 2 for grade in judged.values()):
            ndcgs.append(_ndcg(ranked, judged))
        for g, rows in ranked_sets.items():
            relevant = sum(grade >= g for grade in judged.values())
            if not relevant:
                continue
            flags = [judged.get(answer, 1) >= g for answer in ranked[:DEPTH]]
            first = next((rank for rank, flag in enumerate(flags, 1) if flag), None)
            rows.append(
                (
                    _average_precision(flags, relevant),
                    1 / first if first else 0.0,
                    sum(flags[:5]) / 5,
                    sum(flags) / relevant,
                )
            )
    measures: dict[str, float] = {
        "avgScore": _mean([max(grade - 1, 0) for grade in top_grades]),
        **{f"succ@{k}+": _mean([float(grade >= k) for grade in top_grades]) for k in (2, 3, 4)},
    }
    for g, rows in ranked_sets.items():
        for index, name in enumerate(("MAP@10", "MRR@10", "P@5", "Recall@10")):
            measures[f"{name}>={g}"] = _mean([row[index] for row in rows])
    measures["nDCG@10"] = _mean(ndcgs)
    measures["judged@10"] = _mean(coverage)
    measures["questions"] = len(qids)
    return measures


def write_trec_run(run_scores: dict[str, list[tuple[str, float]]], path: Path, tag: str) -> None:
    """Write `qid Q0 record_id rank score tag` lines, the given order as rank 1.., top 100 each."""
    if not tag or any(c.isspace() for c in tag):
        raise ValueError(f"run tag must be one non-empty word, got {tag!r}")

    def order(qid: str) -> tuple[int, int | str]:
        return (0, int(qid)) if qid.isdigit() else (1, qid)

    runs = {normalise_qid(q): ranked for q, ranked in run_scores.items()}
    lines = []
    for qid in sorted(runs, key=order):
        for rank, (record_id, score) in enumerate(runs[qid][:TREC_DEPTH], 1):
            if not record_id or any(c.isspace() for c in record_id):
                raise ValueError(f"record id for question {qid} has whitespace: {record_id!r}")
            lines.append(f"{qid} Q0 {record_id} {rank} {score:.10g} {tag}\n")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")


def format_measures(measures: dict[str, float]) -> str:
    """An aligned two-column table of the measures, for the console."""
    width = max((len(name) for name in measures), default=0)
    rows = []
    for name, value in measures.items():
        shown = str(int(value)) if name == "questions" else f"{value:.3f}"
        rows.append(f"{name:<{width}}  {shown:>7}")
    return "\n".join(rows)

"""LiveQA retrieval metrics, checked against hand computations and the README's DEV ceiling."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bot.evaluation import (
    evaluate,
    format_measures,
    load_qrels,
    load_questions,
    normalise_qid,
    write_trec_run,
)

DEV = Path("/work/shared/data/liveqa-med/dev")

# q1: a=4 b=3 c=2 d=1 (TQ-prefixed rows). q2: x judged 2 then 3 -> keeps 3, y=2, z=1.
# q3: nothing judged. q4: p=2, q=1 (no grade >= 3).
QRELS = """qid\tjudgment\tanswer_id
TQ1\t4\ta
1\t3\tb
1\t2\tc
TQ1\t1\td
2\t2\tx
2\t2\ty
2\t1\tz
2\t3\tx
2\t1\ty
4\t2\tp
4\t1\tq
"""
# q1 perfect; q2 relevant at ranks 2 (x, grade 3) and 5 (y, grade 2), n* unjudged;
# q3 empty run; q4 grade-2 answer first, r unjudged.
RUN = {
    "TQ1": ["a", "b", "c", "d"],
    "2": ["z", "x", "n1", "n2", "y", "n3"],
    "3": [],
    "4": ["p", "q", "r"],
}
QIDS = ["1", "2", "3", "TQ4"]


@pytest.fixture
def qrels(tmp_path: Path) -> dict[str, dict[str, int]]:
    path = tmp_path / "qrels.tsv"
    path.write_text(QRELS, encoding="utf-8")
    return load_qrels(path)


def test_load_qrels_normalises_ids_and_keeps_the_max_grade(qrels: dict) -> None:
    assert qrels == {
        "1": {"a": 4, "b": 3, "c": 2, "d": 1},
        "2": {"x": 3, "y": 2, "z": 1},
        "4": {"p": 2, "q": 1},
    }


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("1\tgood\ta", "judgment must be 1-4"),
        ("1\t5\ta", "judgment must be 1-4"),
        ("1\t0\ta", "judgment must be 1-4"),
        ("1\t2", "expected 3 fields"),
        ("1\t0\ta\t2", "expected 3 fields"),
    ],
)
def test_bad_qrels_row_names_file_and_line(tmp_path: Path, row: str, message: str) -> None:
    path = tmp_path / "qrels.tsv"
    path.write_text(f"qid\tjudgment\tanswer_id\n1\t2\tok\n\n{row}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"qrels\.tsv:4: {message}"):
        load_qrels(path)


def test_load_qrels_without_header(tmp_path: Path) -> None:
    path = tmp_path / "q.tsv"
    path.write_text("TQ7 3 A\n", encoding="utf-8")
    assert load_qrels(path) == {"7": {"A": 3}}


def test_normalise_qid() -> None:
    assert [normalise_qid(q) for q in ("TQ12", "tq12", " 12 ", "TQX", "83")] == [
        "12",
        "12",
        "12",
        "TQX",
        "83",
    ]


def test_every_measure_by_hand(qrels: dict) -> None:
    m = evaluate(RUN, qrels, QIDS)
    # Rank-1 grades over all 4 questions: q1 a=4, q2 z=1, q3 none (0), q4 p=2.
    assert m["questions"] == 4
    assert m["avgScore"] == pytest.approx((3 + 0 + 0 + 1) / 4)  # 1.0
    assert m["succ@2+"] == pytest.approx(2 / 4)  # q1, q4
    assert m["succ@3+"] == pytest.approx(1 / 4)  # q1
    assert m["succ@4+"] == pytest.approx(1 / 4)  # q1
    # Grade >= 2: set {q1 (R=3), q2 (R=2), q4 (R=1)}; q3 has nothing judged.
    # q1 relevant at 1,2,3: AP = (1/1 + 2/2 + 3/3) / 3 = 1, RR 1, P@5 3/5, recall 1
    # q2 relevant at 2,5:   AP = (1/2 + 2/5) / 2 = 0.45, RR 1/2, P@5 2/5, recall 1
    # q4 relevant at 1:     AP = 1, RR 1, P@5 1/5, recall 1
    assert m["MAP@10>=2"] == pytest.approx((1 + 0.45 + 1) / 3)  # 0.8167
    assert m["MRR@10>=2"] == pytest.approx((1 + 0.5 + 1) / 3)  # 0.8333
    assert m["P@5>=2"] == pytest.approx((0.6 + 0.4 + 0.2) / 3)  # 0.4
    assert m["Recall@10>=2"] == pytest.approx(1.0)
    # Grade >= 3: set {q1 (a, b), q2 (x)}; q4's best is 2.
    # q1 relevant at 1,2: AP 1, RR 1, P@5 2/5.  q2 relevant at 2: AP 1/2, RR 1/2, P@5 1/5.
    assert m["MAP@10>=3"] == pytest.approx((1 + 0.5) / 2)
    assert m["MRR@10>=3"] == pytest.approx((1 + 0.5) / 2)
    assert m["P@5>=3"] == pytest.approx((0.4 + 0.2) / 2)
    assert m["Recall@10>=3"] == pytest.approx(1.0)
    # nDCG over {q1, q2, q4}, gain = grade - 1.
    # q1 gains 3,2,1,0 = ideal -> 1.  q4 gains 1,0,0, ideal 1,0 -> 1.
    # q2 gains 0,2,0,0,1,0: DCG = 2/log2(3) + 1/log2(6); ideal 2,1,0: 2/log2(2) + 1/log2(3).
    q2 = (2 / math.log2(3) + 1 / math.log2(6)) / (2 + 1 / math.log2(3))  # 0.6267
    assert m["nDCG@10"] == pytest.approx((1 + q2 + 1) / 3)  # 0.8756
    # judged@10 over non-empty runs: q1 4/4, q2 3/6 (n1, n2, n3 unjudged), q4 2/3 (r unjudged).
    assert m["judged@10"] == pytest.approx((1 + 0.5 + 2 / 3) / 3)  # 0.7222
    assert list(m) == [
        "avgScore",
        "succ@2+",
        "succ@3+",
        "succ@4+",
        "MAP@10>=2",
        "MRR@10>=2",
        "P@5>=2",
        "Recall@10>=2",
        "MAP@10>=3",
        "MRR@10>=3",
        "P@5>=3",
        "Recall@10>=3",
        "nDCG@10",
        "judged@10",
        "questions",
    ]


def test_map_divides_by_all_relevant_not_ten() -> None:
    # 12 relevant answers, all retrieved in order: ranks 1..10 each P@i = 1, so the sum is 10;
    # map_cut_10 divides by R = 12 (not min(R, 10) = 10). Recall@10 = 10/12 too.
    qrels = {"1": {f"r{i}": 2 for i in range(12)}}
    m = evaluate({"1": [f"r{i}" for i in range(12)]}, qrels, ["1"])
    assert m["MAP@10>=2"] == pytest.approx(10 / 12)
    assert m["Recall@10>=2"] == pytest.approx(10 / 12)
    assert m["P@5>=2"] == 1.0 and m["MRR@10>=2"] == 1.0
    assert m["nDCG@10"] == pytest.approx(1.0)


def test_relevant_beyond_rank_ten_and_missing_runs_score_zero() -> None:
    # q1: its only relevant answer at rank 11 -> outside every @10 / @5 measure.
    # q2: relevant judged but no run at all -> 0 in the >=2 averages, 0 in avgScore.
    qrels = {"1": {"rel": 3}, "2": {"other": 4}}
    run = {"1": [f"junk{i}" for i in range(10)] + ["rel"]}
    m = evaluate(run, qrels, ["1", "2"])
    assert m["MAP@10>=2"] == m["MRR@10>=2"] == m["Recall@10>=2"] == m["nDCG@10"] == 0.0
    assert m["avgScore"] == 0.0 and m["succ@2+"] == 0.0
    assert m["judged@10"] == 0.0  # q1's top 10 are all unjudged; q2 has no run
    assert m["questions"] == 2


def test_duplicates_in_a_run_count_once_and_other_questions_are_ignored() -> None:
    qrels = {"1": {"a": 2, "b": 2}}
    # "a" repeated: second occurrence dropped, so "b" is at rank 2 -> AP = (1 + 2/2) / 2 = 1.
    m = evaluate({"1": ["a", "a", "b"], "9": ["zzz"]}, qrels, ["1"])
    assert m["MAP@10>=2"] == pytest.approx(1.0)
    assert m["P@5>=2"] == pytest.approx(2 / 5)
    assert m["questions"] == 1


def test_no_questions_gives_zeros() -> None:
    m = evaluate({}, {}, [])
    assert m["questions"] == 0 and m["avgScore"] == 0.0 and m["MAP@10>=2"] == 0.0


def test_load_questions(tmp_path: Path) -> None:
    path = tmp_path / "questions.jsonl"
    path.write_text('{"id": "1", "subject": "s"}\n\n{"id": "3"}\n', encoding="utf-8")
    assert [q["id"] for q in load_questions(path)] == ["1", "3"]
    path.write_text('{"id": "1"}\n{"id": \n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"questions\.jsonl:2: not valid JSON"):
        load_questions(path)
    path.write_text('["not an object"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"questions\.jsonl:1: expected a JSON object"):
        load_questions(path)


def test_write_trec_run(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "dev.run"
    scores = {
        "TQ10": [("b", 0.5), ("a", 0.25)],
        "9": [(f"d{i}", 1000.0 - i) for i in range(150)],
        "2": [],
    }
    write_trec_run(scores, path, "bm25")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "9 Q0 d0 1 1000 bm25"
    assert lines[99] == "9 Q0 d99 100 901 bm25"  # cut at 100
    assert lines[100:] == ["10 Q0 b 1 0.5 bm25", "10 Q0 a 2 0.25 bm25"]
    with pytest.raises(ValueError, match="tag"):
        write_trec_run(scores, path, "two words")
    with pytest.raises(ValueError, match="whitespace"):
        write_trec_run({"1": [("a b", 1.0)]}, path, "t")


def test_format_measures_aligns_columns(qrels: dict) -> None:
    table = format_measures(evaluate(RUN, qrels, QIDS))
    lines = table.splitlines()
    assert len(lines) == 15
    assert len({len(line) for line in lines}) == 1
    assert lines[0].startswith("avgScore") and lines[0].endswith("1.000")
    assert lines[-1].split() == ["questions", "4"]
    assert lines[4].split() == ["MAP@10>=2", "0.817"]


def test_perfect_run_on_dev_reaches_the_readme_ceiling() -> None:
    questions = load_questions(DEV / "questions.jsonl")
    qrels = load_qrels(DEV / "qrels.tsv")
    assert len(questions) == 52 and len(qrels) == 51
    assert sum(len(j) for j in qrels.values()) == 1147
    run = {qid: sorted(judged, key=lambda a: -judged[a]) for qid, judged in qrels.items()}
    m = evaluate(run, qrels, [q["id"] for q in questions])
    assert m["questions"] == 52
    assert m["avgScore"] == pytest.approx(2.154, abs=1e-3)
    assert m["succ@2+"] == pytest.approx(0.923, abs=1e-3)  # 48 / 52
    assert m["succ@3+"] == pytest.approx(0.750, abs=1e-3)  # 39 / 52
    assert m["succ@4+"] == pytest.approx(25 / 52)
    assert m["MAP@10>=2"] == pytest.approx(0.854, abs=1e-3)
    assert m["MRR@10>=2"] == m["MRR@10>=3"] == m["nDCG@10"] == pytest.approx(1.0)
    assert m["judged@10"] == pytest.approx(1.0)


def test_dev_question_ids_match_trec_ids() -> None:
    for line in (DEV / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        assert normalise_qid(item["trec_qid"]) == item["id"]

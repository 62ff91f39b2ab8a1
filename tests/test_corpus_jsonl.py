"""JSONL corpus files: field mapping, kinds, bad lines, and the full MedQuAD conversion."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.corpus import parse_file
from bot.corpus.jsonl import parse_jsonl_bytes
from tests.shared_paths import FIXTURES, MEDQUAD

MEDQUAD_FILES = [MEDQUAD / "medquad.jsonl", MEDQUAD / "medquad-noanswer.jsonl"]
needs_medquad = pytest.mark.skipif(
    not all(p.exists() for p in MEDQUAD_FILES), reason="shared MedQuAD JSONL missing"
)


@pytest.fixture(scope="module")
def mixed():
    return parse_file(FIXTURES / "mixed.jsonl", FIXTURES)


def test_good_lines_are_kept_and_bad_ones_rejected_by_line(mixed):
    assert [r.id for r in mixed.records] == [
        "site-001",
        "jsonl:mixed.jsonl:2",
        "site-009",
        "site-010",
    ]
    assert not mixed.fatal
    reasons = {r.line: r.reason for r in mixed.rejections}
    assert sorted(reasons) == [4, 5, 6, 7, 8, 9, 10, 11, 14]
    assert reasons[4].startswith("invalid JSON")
    assert reasons[5] == "not a JSON object (got list)"
    assert "'question'" in reasons[6] and "'question'" in reasons[7]
    assert "'answer' missing" in reasons[8]
    assert reasons[9] == "field 'answer' must be a string, not int"
    assert "'kind' is 'rumour'" in reasons[10]
    assert reasons[11] == "duplicate id site-001 (first at line 1)"
    assert reasons[14] == "field 'doctor' must be a string, not int"
    assert str(mixed.rejections[0]) == f"mixed.jsonl:4: {reasons[4]}"


def test_metadata_is_mapped_and_patient_names_dropped(mixed):
    rec = mixed.records[0]
    assert (rec.kind, rec.doctor, rec.department, rec.hospital) == (
        "doctor_reply",
        "Wu Mingde",
        "Cardiology",
        "Riverside General Hospital",
    )
    assert (rec.asked, rec.replied, rec.language) == ("2021-06-01", "2021-06-02", "en")
    assert rec.answer.startswith("Standing all day")
    assert "Rivera" not in json.dumps(rec.to_json()) and "Carmen" not in json.dumps(rec.to_json())
    assert rec.extra == {}


def test_kind_focus_and_extra_rules(mixed):
    plain, no_answer, excerpt = mixed.records[1:]
    assert plain.kind == "qa" and plain.title == "Blood donation"
    assert plain.extra == {"focus": "Blood donation", "source": "demo"}  # no numbers, no nulls
    assert (no_answer.kind, no_answer.answer) == ("question_only", "")
    assert (excerpt.kind, excerpt.language, excerpt.doctor) == ("excerpt", "es", "Ramos Elena")


def test_bom_crlf_and_blank_lines_are_accepted():
    data = (
        b"\xef\xbb\xbf"
        + b'{"question": "Q one?", "answer": "A."}\r\n\r\n'
        + b'{"question": "Q two?", "answer": ""}\r\n'
    )
    parsed = parse_jsonl_bytes(data, "x.jsonl")
    assert parsed.clean
    assert [(r.id, r.kind) for r in parsed.records] == [
        ("jsonl:x.jsonl:1", "qa"),
        ("jsonl:x.jsonl:3", "question_only"),
    ]


def test_invalid_utf8_line_is_rejected_alone(tmp_path: Path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"question": "ok?", "answer": "yes"}\n{"question": "\xff?", "answer": ""}\n')
    parsed = parse_file(path, tmp_path)
    assert len(parsed.records) == 1
    assert parsed.rejections[0].line == 2 and "UTF-8" in parsed.rejections[0].reason


def test_record_json_round_trips_through_jsonl():
    records = parse_file(FIXTURES / "mixed.jsonl", FIXTURES).records
    lines = b"\n".join(json.dumps(r.to_json(), ensure_ascii=False).encode() for r in records)
    assert parse_jsonl_bytes(lines, "mixed.jsonl").records == records


@needs_medquad
def test_both_medquad_files_parse_fast_and_completely():
    start = time.process_time()
    parsed = [parse_file(p, MEDQUAD) for p in MEDQUAD_FILES]
    elapsed = time.process_time() - start
    records = [r for p in parsed for r in p.records]
    assert all(p.clean for p in parsed)
    assert len(records) == 47_457
    assert len({r.id for r in records}) == 47_457
    assert Counter(r.kind for r in records) == {"qa": 16_423, "question_only": 31_034}
    assert elapsed < 5, f"parsing MedQuAD took {elapsed:.1f}s of CPU"
    by_id = {r.id: r for r in records}
    adam = by_id["ADAM_0003147_Sec1.txt"]
    assert adam.kind == "question_only" and adam.url.startswith("https://")
    assert adam.extra["source"] == "ADAM" and adam.title == adam.extra["focus"]
    assert by_id["CancerGov_0000001_1_Sec3.txt"].source_file == "medquad.jsonl"


@needs_medquad
def test_medquad_text_is_kept_verbatim():
    with MEDQUAD_FILES[0].open(encoding="utf-8") as fh:
        raw = {d["id"]: d for d in map(json.loads, fh)}
    for record in parse_file(MEDQUAD_FILES[0]).records:
        source = raw[record.id]
        assert (record.question, record.answer, record.url) == (
            source["question"],
            source["answer"],
            source["url"],
        )


def test_odd_json_values_are_rejected_by_line_not_raised():
    lines = [
        '{"id": %s, "question": "q?", "answer": ""}' % ("1" * 5000),
        '{"question": "lone \\ud800 surrogate", "answer": ""}',
        '{"question": "q?", "answer": "", "extra": {"note": "\\udfff"}}',
        '{"question": ' + "[" * 50_000 + "]" * 50_000 + ', "answer": ""}',
        '{"question": "kept", "answer": "yes", "n": 1e999999, "m": NaN}',
    ]
    parsed = parse_jsonl_bytes("\n".join(lines).encode(), "odd.jsonl")
    assert [r.question for r in parsed.records] == ["kept"]
    reasons = {r.line: r.reason for r in parsed.rejections}
    assert reasons[1].startswith("invalid JSON: a number is too long")
    assert reasons[2] == "field 'question' is not valid Unicode (a lone surrogate)"
    assert reasons[3] == "field 'note' is not valid Unicode (a lone surrogate)"
    assert reasons[4] == "invalid JSON: nested too deeply"

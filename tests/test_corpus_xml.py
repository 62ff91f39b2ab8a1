"""MedQuAD XML: ids and text identical to the published JSONL, and clear rejections."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict

import pytest

from bot.corpus import parse_file
from bot.corpus.medquad_xml import NOT_MEDQUAD, record_id
from tests.shared_paths import FIXTURES, MEDQUAD

XML_SAMPLE = MEDQUAD / "xml-sample"
needs_medquad = pytest.mark.skipif(
    not (XML_SAMPLE.is_dir() and (MEDQUAD / "medquad.jsonl").exists()),
    reason="shared MedQuAD sample missing",
)


@pytest.fixture(scope="module")
def jsonl_by_doc() -> dict[str, dict[str, dict]]:
    """Raw MedQuAD JSONL objects, grouped by upstream file, keyed by id."""
    by_doc: dict[str, dict[str, dict]] = defaultdict(dict)
    for name in ("medquad.jsonl", "medquad-noanswer.jsonl"):
        with (MEDQUAD / name).open(encoding="utf-8") as fh:
            for obj in map(json.loads, fh):
                by_doc[obj["doc"]][obj["id"]] = obj
    return by_doc


@needs_medquad
def test_every_sample_pair_matches_the_jsonl(jsonl_by_doc):
    files = sorted(XML_SAMPLE.rglob("*.xml"))
    assert len(files) == 8
    checked = 0
    for path in files:
        parsed = parse_file(path, XML_SAMPLE)
        assert parsed.clean, parsed.rejections
        expected = jsonl_by_doc[parsed.path]
        assert [r.id for r in parsed.records] == list(expected), parsed.path
        for record in parsed.records:
            raw = expected[record.id]
            assert record.question == raw["question"]
            assert record.url == raw["url"]
            assert record.answer == raw["answer"]
            assert record.title == raw["focus"]
            assert record.kind == ("qa" if raw["answer"] else "question_only")
            assert record.extra["question_type"] == raw["question_type"]
            checked += 1
    assert checked == 42


@needs_medquad
def test_xml_and_jsonl_give_the_same_records_apart_from_source_file():
    jsonl = {
        r.id: r
        for name in ("medquad.jsonl", "medquad-noanswer.jsonl")
        for r in parse_file(MEDQUAD / name, MEDQUAD).records
    }
    for path in sorted(XML_SAMPLE.rglob("*.xml")):
        for record in parse_file(path, XML_SAMPLE).records:
            mine, theirs = asdict(record), asdict(jsonl[record.id])
            assert mine.pop("source_file") == path.relative_to(XML_SAMPLE).as_posix()
            theirs.pop("source_file")
            assert mine == theirs


@needs_medquad
def test_ids_follow_position_not_pid_and_variant_schemas():
    nhlbi = parse_file(XML_SAMPLE / "8_NHLBI_QA_XML" / "0000051.xml", XML_SAMPLE).records
    assert nhlbi[1].id == "NHLBI_0000051_Sec2.txt" and nhlbi[1].extra["pid"] == "3"
    ninds = parse_file(XML_SAMPLE / "6_NINDS_QA" / "0000007.xml", XML_SAMPLE).records
    assert [r.id for r in ninds] == [f"NINDS_0000007_Sec{n}.txt" for n in range(1, 5)]
    assert ninds[0].title == "Holmes-Adie"
    cdc = parse_file(XML_SAMPLE / "9_CDC_QA" / "0000397.xml", XML_SAMPLE).records
    assert cdc[0].id == "CDC_0000397_Sec1.txt" and cdc[0].extra["subfolder"] == "9_CDC_QA"


def test_record_id_rule():
    assert record_id("CancerGov", "0000001_1", 3) == "CancerGov_0000001_1_Sec3.txt"
    assert record_id("MPlusHerbsSupplements", "0000042", 1) == "MPlusHerbsSuppls_0000042_Sec1.txt"


def test_bad_pair_is_rejected_and_the_rest_kept():
    parsed = parse_file(FIXTURES / "xml" / "99_Demo_QA" / "0000042.xml", FIXTURES)
    assert not parsed.fatal
    assert [str(r) for r in parsed.rejections] == [
        "xml/99_Demo_QA/0000042.xml (QAPair #2): no question text"
    ]
    first, last = parsed.records
    assert first.id == "MPlusHerbsSuppls_0000042_Sec1.txt"
    assert first.question == "What is Demo root ?"
    assert first.answer == (
        "Demo root is a made-up plant used only in tests.\nIt has no real "
        "effects.\n\nLine after a paragraph break."
    )
    assert first.extra["focus_category"] == "Other"
    assert first.extra["doc"] == "99_Demo_QA/0000042.xml"
    assert (last.id, last.kind, last.answer) == (
        "MPlusHerbsSuppls_0000042_Sec3.txt",
        "question_only",
        "",
    )


def test_malformed_xml_is_fatal_with_line():
    parsed = parse_file(FIXTURES / "xml" / "malformed.xml", FIXTURES)
    assert parsed.fatal and not parsed.records
    [rejection] = parsed.rejections
    assert rejection.line == 6 and rejection.reason.startswith("malformed XML")


def test_other_xml_is_not_medquad():
    parsed = parse_file(FIXTURES / "xml" / "not_medquad.xml", FIXTURES)
    assert parsed.fatal
    assert [r.reason for r in parsed.rejections] == [NOT_MEDQUAD]

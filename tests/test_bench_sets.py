"""The project's own evaluation sets are complete, well-formed and keep their splits."""

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from tests.shared_paths import REPO_ROOT, SHARED

LIVEQA_DEV = SHARED / "data" / "liveqa-med" / "dev" / "questions.jsonl"
TRANSLATIONS = REPO_ROOT / "bench" / "liveqa_dev"
LANGS = ["es", "zh", "fr", "de", "ru", "ar", "pt", "hi"]
REVIEW = REPO_ROOT / "bench" / "review" / "messages.jsonl"
KINDS = {"symptom", "lab", "medication", "older_adult", "anxiety", "chronic", "off_topic",
         "greeting", "vague", "borderline"}
# Scripts that must dominate a translated message, so an untranslated line is caught.
SCRIPT = {"zh": r"[\u4e00-\u9fff]", "ru": r"[\u0400-\u04ff]", "ar": r"[\u0600-\u06ff]",
          "hi": r"[\u0900-\u097f]", "ja": r"[\u3040-\u30ff\u4e00-\u9fff]"}


def read_jsonl(path: Path) -> list[dict]:
    """Every line of a JSONL file, parsed (blank lines count as errors)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n")[:-1]]


@pytest.mark.parametrize("lang", LANGS)
def test_translation_matches_the_dev_source_line_for_line(lang: str) -> None:
    source = read_jsonl(LIVEQA_DEV)
    rows = read_jsonl(TRANSLATIONS / lang / "questions.jsonl")
    assert len(rows) == 52
    assert [r["id"] for r in rows] == [s["id"] for s in source]
    # Only the DEV half (odd ids) was ever translated.
    assert all(int(r["id"]) % 2 == 1 for r in rows)
    for row, src in zip(rows, source, strict=True):
        assert list(row) == ["id", "trec_qid", "lang", "subject", "message", "paraphrase",
                             "summary", "foci", "types"]
        assert row["lang"] == lang
        assert (row["trec_qid"], row["foci"], row["types"]) == (
            src["trec_qid"], src["foci"], src["types"])
        assert (row["subject"] + row["message"]).strip()
        assert row["summary"].strip()
        assert bool(row["paraphrase"]) == bool(src["paraphrase"])
        for field in ("message", "paraphrase", "summary"):
            if src[field]:
                assert row[field] != src[field], (row["id"], field)
        if lang in SCRIPT:
            assert re.search(SCRIPT[lang], row["message"] + row["summary"]), row["id"]


def test_translations_pair_with_the_shared_qrels_by_id() -> None:
    qrels = LIVEQA_DEV.parent / "qrels.tsv"
    judged = {line.split()[0] for line in qrels.read_text().splitlines()[1:] if line.strip()}
    for lang in LANGS:
        ids = {r["id"] for r in read_jsonl(TRANSLATIONS / lang / "questions.jsonl")}
        assert judged <= ids
        assert not (TRANSLATIONS / lang / "qrels.tsv").exists()


def test_review_messages_are_well_formed() -> None:
    rows = read_jsonl(REVIEW)
    assert len(rows) >= 60
    assert [r["id"] for r in rows] == [f"r{n:03d}" for n in range(1, len(rows) + 1)]
    for row in rows:
        assert list(row) == ["id", "lang", "text", "kind", "split", "good_answer"]
        assert row["kind"] in KINDS
        assert row["text"].strip() and len(row["good_answer"]) > 40
        if row["lang"] in SCRIPT:
            assert re.search(SCRIPT[row["lang"]], row["text"]), row["id"]
    assert len({r["text"] for r in rows}) == len(rows)


def test_review_mix_and_held_split() -> None:
    rows = read_jsonl(REVIEW)
    for row in rows:
        assert row["split"] == ("held" if int(row["id"][1:]) % 3 == 0 else "dev")
    langs = Counter(r["lang"] for r in rows)
    assert 0.55 <= langs["en"] / len(rows) <= 0.65
    assert len(langs) >= 8
    kinds = Counter(r["kind"] for r in rows)
    assert set(kinds) == KINDS and kinds["borderline"] <= 3
    held = [r for r in rows if r["split"] == "held"]
    assert {r["kind"] for r in held} == KINDS
    assert len({r["lang"] for r in held}) >= 6

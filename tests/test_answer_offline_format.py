"""The offline answer on real MedQuAD records and a real doctor's reply: phone-sized, whole
sentences, no repeats, cleaned upstream text, calm first, honest labels in every language."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from bot.answer import Source, sources_block
from bot.corpus.qa_page import parse_page
from bot.extractive import BODY_CHARS, best_passage, extractive_body
from bot.prompts import LANGUAGES, Prompts
from bot.provenance import attribution, kind_label, source_line
from bot.records import Record
from bot.settings import load_settings
from bot.text_cleanup import TERMINAL, clean_title, sentences
from tests.shared_paths import MEDQUAD, SAMPLE_PAGE

TWITCH = ("Hello doctor, for a month my thigh and shoulder muscles twitch involuntarily, "
          "worse when I am anxious. I read it could be amyotrophic lateral sclerosis (ALS).")
FEAR = re.compile(r"\b(death|die|dies|fatal|lethal|deadly|survive|coma)\b", re.I)


@pytest.fixture(scope="module")
def prompts() -> Prompts:
    return Prompts.load(load_settings())


@pytest.fixture(scope="module")
def medquad() -> dict[str, dict]:
    with open(MEDQUAD / "medquad.jsonl", encoding="utf-8") as lines:
        return {row["id"]: row for row in map(json.loads, lines)}


def record(row: dict) -> Record:
    return Record(id=row["id"], question=row["question"], answer=row["answer"], kind="qa",
                  source_file="medquad.jsonl", title=row.get("focus") or "", url=row["url"],
                  extra={"source": row["source"]})


def source(number: int, item: Record) -> Source:
    return Source.from_record(number, item, 1.0, 0.8)


def twitching_reply() -> Record:
    parsed = parse_page(SAMPLE_PAGE.read_text(encoding="utf-8"), "twitching.txt")
    return next(r for r in parsed.records if r.kind == "doctor_reply")


def offline(items: list[Record], query: str, prompts: Prompts, language: str = "en") -> str:
    sources = [source(n, item) for n, item in enumerate(items, start=1)]
    return extractive_body(sources, {i.id: i for i in items}, query,
                           prompts.text("offline", language), prompts.labels(language), language)


def quotes(body: str) -> list[str]:
    return re.findall(r"“(.*?)”", body, re.S)


def assert_whole_sentences(passage: str, answer: str) -> None:
    """Every run of the passage (between "…" gaps) starts and ends where a cleaned sentence of
    the answer does: nothing was cut mid-sentence."""
    units = sentences(answer)
    joined = " ".join(units)
    starts, ends, at = set(), set(), 0
    for unit in units:
        at = joined.index(unit, at)
        starts.add(at)
        ends.add(at + len(unit))
        at += len(unit)
    for run in passage.removesuffix(" …").split(" … "):
        found = joined.find(run)
        assert found in starts and found + len(run) in ends, run
        assert run.endswith(TERMINAL), run


def realistic(medquad: dict[str, dict]) -> list[dict]:
    """Every 40th answered MedQuAD pair: all nine sources, short and long answers."""
    return list(itertools.islice(medquad.values(), 0, None, 40))


@pytest.mark.parametrize("language", ["en", "es", "zh"])
def test_phone_sized_whole_sentences_on_medquad(medquad, prompts, language):
    rows = realistic(medquad)
    assert len({row["source"] for row in rows}) == 9
    for first, second in itertools.pairwise(rows):
        items = [record(first), record(second)]
        body = offline(items, first["question"], prompts, language)
        assert len(body) <= BODY_CHARS, (first["id"], len(body))
        quotable = [item for item in items if sentences(item.answer)]  # not boilerplate only
        assert bool(quotes(body)) == bool(quotable), first["id"]
        assert "  " not in body and " ?" not in body and "(are)" not in body, body
        assert "Human Phenotype Ontology" not in body, body
        for passage, item in zip(quotes(body), quotable, strict=False):
            assert_whole_sentences(passage, item.answer)


def test_upstream_junk_is_cleaned(medquad, prompts):
    diarrhea = record(medquad["NIDDK_0000089_Sec1.txt"])  # "infantsages 0 to 12 months"
    units = sentences(diarrhea.answer)
    assert "Chronic diarrhea can affect children of any age: infants ages 0 to 12 months; " \
           "toddlers ages 1 to 3 years;" in " ".join(units)
    body = offline([diarrhea], "chronic diarrhea in children ages", prompts)
    assert "infantsages" not in body and "  " not in body and " - " not in body
    leukemia = record(medquad["CancerGov_0000001_1_Sec1.txt"])  # "Key Points\n- ... - ..."
    body = offline([leukemia], leukemia.question, prompts)
    assert "Key Points" not in body and " - " not in body
    assert "What is (are)" not in source_line(source(1, leukemia))
    assert clean_title("What is (are) Stomach Disorders ?") == "Stomach Disorders"
    assert clean_title("Who is at risk for Hepatitis A? ?") == "Who is at risk for Hepatitis A?"
    assert clean_title("What are the symptoms of What I need to know about Hepatitis A ?") \
        == "What are the symptoms of Hepatitis A?"
    assert "“Stomach Disorders”" in source_line(source(1, record(
        medquad["MPlusHealthTopics_0000854_Sec1.txt"])))


def test_a_chosen_warning_is_kept_whole_with_its_list(medquad, prompts):
    stomach = record(medquad["MPlusHealthTopics_0000854_Sec1.txt"])
    body = offline([stomach], "my stomach hurts, when should I see a doctor?", prompts)
    assert ("You should see a doctor if you have any of the following: Blood when you have a "
            "bowel movement; Severe abdominal pain; Heartburn not relieved by antacids; "
            "Unintended weight loss; Ongoing vomiting or diarrhea.") in body
    assert "NIH: National Institute" not in body  # MedlinePlus' credit line is no quote


def test_the_same_sentence_is_quoted_once(medquad, prompts):
    leukemia = record(medquad["CancerGov_0000001_1_Sec1.txt"])  # Key Points repeat the text
    text = " ".join(quotes(offline([leukemia], "adult acute lymphoblastic leukemia ALL bone "
                                   "marrow lymphocytes", prompts)))
    first = "Adult acute lymphoblastic leukemia (ALL) is a type of cancer"
    assert text.count(first) <= 1
    twin = record(medquad["NIDDK_0000027_Sec1.txt"])
    copy = record(medquad["NIDDK_0000037_Sec1.txt"])  # the same answer in another document
    assert twin.answer == copy.answer
    body = offline([twin, copy], twin.question, prompts)
    assert len(quotes(body)) == 1 and "[2]" not in body


def test_calm_useful_sentences_before_rare_bad_outcomes(medquad, prompts):
    reply = twitching_reply()
    assert "can lead to muscle death" in reply.answer
    [passage] = quotes(offline([reply], TWITCH, prompts))
    assert "muscle death" not in passage
    assert "ALS is not the primary consideration for your symptoms." in passage
    assert "I recommend visiting a neurology clinic" in passage
    cjd = record(medquad["GARD_0001663_Sec2.txt"])  # "... and can lead to death."
    assert FEAR.search(cjd.answer)
    [calm] = quotes(offline([cjd], "what are the symptoms of Creutzfeldt-Jakob disease", prompts))
    assert not FEAR.search(sentences(calm)[0])
    asked = best_passage(cjd.answer, "can Creutzfeldt-Jakob disease lead to death?")
    assert FEAR.search(asked)  # asked about it: the person gets it


def test_the_doctor_reply_is_attributed_to_its_doctor(prompts):
    reply = twitching_reply()
    body = offline([reply], TWITCH, prompts)
    assert body.startswith(prompts.text("offline", "en"))
    assert "[1] Dr. Jiang Junyi (Neurology) replied to a similar question:" in body


@pytest.mark.parametrize("language", LANGUAGES)
def test_reference_answers_are_never_called_a_doctors_reply(medquad, prompts, language):
    labels = prompts.labels(language)
    doctor_words = {labels("doctor_reply").lower(), labels("said_doctor", who="").strip(" :：")}
    for code in ("MPlusHealthTopics", "GHR", "GARD", "NIDDK", "NINDS", "NHLBI", "CancerGov",
                 "NIHSeniorHealth", "CDC"):
        row = next(r for r in medquad.values() if r["source"] == code)
        item = source(1, record(row))
        texts = [kind_label(item, labels), attribution(item, labels), source_line(item, labels),
                 sources_block([item], labels)]
        for text in texts:
            assert not any(word and word in text.lower() for word in doctor_words), text
            assert code not in text or code in ("GARD", "NIDDK", "NINDS", "NHLBI", "CDC"), text
        if language == "en":
            assert "doctor" not in " ".join(texts).lower() and "Dr." not in " ".join(texts)
            nih = "NIH reference answer" if code != "CDC" else "Reference answer (CDC)"
            assert nih in kind_label(item, labels)
    readable = source(1, record(next(r for r in medquad.values()
                                     if r["source"] == "MPlusHealthTopics")))
    assert "MedlinePlus" in source_line(readable, labels)
    assert "MPlusHealthTopics" not in source_line(readable, labels)

"""The relevance gate: an off-topic source gives "no good match", never an answer from it."""

from __future__ import annotations

import json
from pathlib import Path

from bot.engine import Engine
from bot.ingest import ingest
from bot.knowledge_base import KnowledgeBase
from bot.records import Record
from bot.relevance import good_matches, passes
from bot.retrieval import Hit
from bot.settings import Settings, load_settings
from tests.fakes.embedder import FakeEmbedder

BEDWETTING = {"id": "bed", "focus": "Bedwetting",
              "question": "How many children wet the bed at night for two years or more?",
              "answer": "About 5 million children in the United States wet the bed at night."}
KNEE = {"id": "knee", "focus": "Knee pain",
        "question": "What causes knee pain at night?",
        "answer": "Knee pain at night is often from arthritis; a doctor can examine the joint."}


def hit(title: str, similarity: float) -> Hit:
    record = Record(id="r", question=f"What is {title}?", answer="An answer.", kind="qa",
                    source_file="f.jsonl", title=title)
    return Hit(record=record, score=1.0, similarity=similarity)


def test_a_similar_record_needs_a_title_word_unless_it_is_very_similar() -> None:
    words = {"tsh", "came", "back", "7.8"}
    assert not passes(hit("Recombinant 8 syndrome", 0.374), words, 0.35, 0.55)
    assert passes(hit("TSH test", 0.40), words, 0.35, 0.55)
    assert passes(hit("Thyroid tests", 0.60), words, 0.35, 0.55)  # strong without a shared word
    assert not passes(hit("TSH test", 0.30), words, 0.35, 0.55)  # under the floor
    assert good_matches([hit("TSH test", 0.4)], "my TSH came back 7.8", 0.35, 0.55)


def build(settings: Settings, knowledge_dir: Path, records: list[dict]) -> None:
    (knowledge_dir / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records),
                                           encoding="utf-8")
    assert ingest(settings, embedder=FakeEmbedder(dimension=4096)).exit_code == 0


async def test_an_off_topic_source_gives_no_match_and_an_on_topic_one_answers(
        tmp_path: Path, knowledge_dir: Path) -> None:
    message = "my knee hurts at night for two years or more"
    settings = load_settings(data_dir=tmp_path / "data", knowledge_dir=knowledge_dir,
                             relevance_floor=0.05, relevance_strong=0.9,
                             triage_second_opinion=False)
    build(settings, knowledge_dir, [BEDWETTING])

    def engine() -> Engine:
        return Engine(settings, kb=KnowledgeBase(settings, embedder=FakeEmbedder(dimension=4096)))

    answer = await engine().answer(message)
    assert answer.mode == "no_match" and answer.sources == []
    assert "5 million children" not in answer.text
    build(settings, knowledge_dir, [BEDWETTING, KNEE])
    answer = await engine().answer(message)
    assert answer.mode == "extractive"
    assert [s.id for s in answer.sources] == ["knee"]


def test_one_shared_word_of_a_long_title_is_not_its_topic() -> None:
    words = {"tsh", "came", "back", "7.8", "levothyroxin"}
    assert not passes(hit("Familial hyperthyroidism due to mutations in TSH receptor", 0.45),
                      words, 0.35, 0.55)
    assert passes(hit("Tension headache", 0.40), {"headach", "shoulder"}, 0.35, 0.55)  # 1 of 2
    assert passes(hit("Stuffy or runny nose - adult", 0.40), {"stuffi", "nose"}, 0.35, 0.55)


HPO = {"id": "hpo", "focus": "Knee pain syndrome",
       "question": "What are the symptoms of Knee pain syndrome?",
       "answer": "What are the signs and symptoms of Knee pain syndrome? The Human Phenotype "
                 "Ontology provides the following list of signs and symptoms for Knee pain "
                 "syndrome. Signs and Symptoms Approximate number of patients (when available) "
                 "Knee pain - Arthralgia - The frequency of a sign or symptom is usually listed "
                 "as a rough estimate of the percentage of patients who have that feature."}
# MedQuAD pairs whose answers were removed upstream (two thirds of it), matching word for word.
DRUGS = [{"id": f"drug{n}", "focus": "Knee pain", "question": "What causes knee pain at night?",
          "answer": ""} for n in range(4)]


async def test_sources_with_nothing_to_quote_are_skipped_for_ones_with_an_answer(
        tmp_path: Path, knowledge_dir: Path) -> None:
    message = "What causes knee pain at night?"
    settings = load_settings(data_dir=tmp_path / "data", knowledge_dir=knowledge_dir,
                             relevance_floor=0.05, relevance_strong=0.9, top_k=1,
                             triage_second_opinion=False)
    build(settings, knowledge_dir, [*DRUGS, HPO])
    engine = Engine(settings, kb=KnowledgeBase(settings, embedder=FakeEmbedder(dimension=4096)))
    answer = await engine.answer(message)
    assert answer.mode == "no_match"  # boilerplate and an empty answer are no answer
    assert "Phenotype" not in answer.text
    build(settings, knowledge_dir, [*DRUGS, HPO, KNEE])
    engine = Engine(settings, kb=KnowledgeBase(settings, embedder=FakeEmbedder(dimension=4096)))
    answer = await engine.answer(message)  # found past the question-only pairs
    assert [s.id for s in answer.sources] == ["knee"]
    assert "often from arthritis" in answer.text

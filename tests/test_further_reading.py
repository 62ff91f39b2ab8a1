"""No quotable match, but a question-only record names the page: the answer links it."""

from __future__ import annotations

import json
from pathlib import Path

from bot.engine import Engine
from bot.ingest import ingest
from bot.knowledge_base import KnowledgeBase
from bot.settings import load_settings
from tests.fakes.embedder import FakeEmbedder

URL = "https://medlineplus.gov/druginfo/meds/a682461.html"
DRUG = {"id": "MPlusDrugs_0000701_Sec1.txt", "focus": "Levothyroxine", "source": "MPlusDrugs",
        "question": "How should Levothyroxine be used?", "answer": "", "url": URL}
KNEE = {"id": "knee", "focus": "Knee pain", "source": "MPlusHealthTopics",
        "question": "What causes knee pain?", "url": "https://medlineplus.gov/kneeinjuries.html",
        "answer": "Knee pain is often from arthritis; a doctor can examine the joint."}


async def answer(tmp_path: Path, knowledge_dir: Path, records: list[dict], message: str):
    (knowledge_dir / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records),
                                           encoding="utf-8")
    settings = load_settings(data_dir=tmp_path / "data", knowledge_dir=knowledge_dir,
                             relevance_floor=0.05, relevance_strong=0.9,
                             triage_second_opinion=False)
    assert ingest(settings, embedder=FakeEmbedder(dimension=4096)).exit_code == 0
    engine = Engine(settings, kb=KnowledgeBase(settings, embedder=FakeEmbedder(dimension=4096)))
    return await engine.answer(message)


async def test_a_page_without_text_is_linked_under_no_match(tmp_path, knowledge_dir) -> None:
    found = await answer(tmp_path, knowledge_dir, [DRUG, KNEE],
                         "How should I take my levothyroxine in the morning?")
    assert found.mode == "no_match" and found.sources == []
    assert f"• Levothyroxine (MedlinePlus drug information): {URL}" in found.body
    assert found.text.index(URL) < found.text.index(found.disclaimer)


async def test_no_link_when_a_source_answers_or_nothing_matches(tmp_path, knowledge_dir) -> None:
    found = await answer(tmp_path, knowledge_dir, [DRUG, KNEE], "What causes knee pain?")
    assert found.mode == "extractive" and URL not in found.text
    found = await answer(tmp_path / "b", knowledge_dir, [DRUG, KNEE], "my ears ring at night")
    assert found.mode == "no_match" and "https://" not in found.text

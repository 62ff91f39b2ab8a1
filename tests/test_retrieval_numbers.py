"""Numbers in a message stay whole words for the keyword search: "TSH 7.8" is not "8"."""

from __future__ import annotations

import json
from pathlib import Path

from bot.ingest import ingest
from bot.keyword_index import tokenize
from bot.knowledge_base import KnowledgeBase
from bot.retrieval import Retriever
from bot.settings import Settings
from tests.fakes.embedder import FakeEmbedder


def test_numbers_keep_their_decimals_ratio_and_dose_unit() -> None:
    assert tokenize("TSH came back 7.8") == ["tsh", "came", "back", "7.8"]
    assert tokenize("5mg or 5 mg") == ["5mg", "5mg"]
    assert tokenize("BP 120/80 mmHg") == ["bp", "120/80", "mmhg"]
    assert tokenize("glucosa 7,8 mmol/L") == ["glucosa", "7.8", "mmol"]
    assert tokenize("体温38.5度")[1] == "38.5"
    assert "8" not in tokenize("TSH came back 7.8")


def test_a_lab_value_does_not_find_a_syndrome_named_by_its_digit(settings: Settings,
                                                                  knowledge_dir: Path) -> None:
    records = [
        {"id": "rec8", "focus": "Recombinant 8 syndrome",
         "question": "What is (are) Recombinant 8 syndrome ?",
         "answer": "Recombinant 8 syndrome is a chromosomal condition; 8 of 10 children..."},
        {"id": "tsh", "focus": "Thyroid tests", "question": "What does a high TSH mean?",
         "answer": "A TSH above the normal range (often 4.5 or more) can mean an underactive "
                   "thyroid; a value such as 7.8 is usually rechecked."},
    ]
    (knowledge_dir / "corpus.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    assert ingest(settings, embedder=FakeEmbedder(dimension=4096)).exit_code == 0
    hits = Retriever(KnowledgeBase(settings, embedder=FakeEmbedder(dimension=4096))).search(
        "my TSH came back 7.8, should I worry?", 2).hits
    assert hits[0].record.id == "tsh"
    keyword_ids = [h.record.id for h in hits if "keyword" in h.lists]
    assert "rec8" not in keyword_ids

"""The in-memory maps retrieval reads per message answer what the records table answers."""

from __future__ import annotations

import json
from pathlib import Path

from bot.ingest import ingest
from bot.knowledge_base import KnowledgeBase
from bot.retrieval import Retriever
from bot.settings import Settings
from tests.fakes.embedder import FakeEmbedder

PAIRS = [  # (id, focus, question): a question asked in two documents, a title in two cases
    ("gout-1", "Gout", "What is gout?"),
    ("gout-2", "Gout", "How is gout treated?"),
    ("gard-gout", "GOUT", "What is gout?"),
    ("lupus-1", "Lupus", "What is lupus?"),
    ("lupus-2", "Lupus", "Is lupus inherited?"),
    ("untitled", "", "Why do my knees crack?"),
]


def build(settings: Settings, knowledge_dir: Path) -> None:
    lines = [json.dumps({"id": rid, "focus": focus, "question": question,
                         "answer": f"{question} An answer about it."})
             for rid, focus, question in PAIRS]
    (knowledge_dir / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert ingest(settings, embedder=FakeEmbedder()).exit_code == 0


def test_the_maps_hold_what_the_records_table_says(settings: Settings,
                                                   knowledge_dir: Path) -> None:
    build(settings, knowledge_dir)
    version = KnowledgeBase(settings, embedder=FakeEmbedder()).current()
    maps = version.search_maps
    keys = [key for keys in version.vector_keys.values() for key in keys]
    owners = version.chunk_owners(keys)
    for key in version.vector_keys["q"]:
        assert maps.owners["q"][key] == tuple(rid for rid, part in owners[key] if part == "q")
    shared = next(ids for ids in maps.owners["q"].values() if "gout-1" in ids)
    assert shared == ("gout-1", "gard-gout")  # one question text, two records
    firsts = version.titles([owners[key][0][0] for key in version.vector_keys["t"]])
    assert {maps.title_of_key[key] for key in version.vector_keys["t"]} == {"gout", "lupus"}
    for key in version.vector_keys["t"]:
        assert maps.title_of_key[key] == firsts[owners[key][0][0]]
    titles = list(maps.members)
    assert {t: list(ids) for t, ids in maps.members.items()} == version.records_by_title(titles)
    assert maps.members["gout"] == ("gout-1", "gout-2", "gard-gout")  # index order


def test_a_search_lists_every_section_of_the_focus_document(settings: Settings,
                                                            knowledge_dir: Path) -> None:
    build(settings, knowledge_dir)
    hits = Retriever(KnowledgeBase(settings, embedder=FakeEmbedder())).search(
        "gout treatment", 6).hits
    assert {h.record.id for h in hits[:3]} == {"gout-1", "gout-2", "gard-gout"}
    assert all("focus" in h.lists for h in hits[:3])  # "Gout" and "GOUT": one document focus

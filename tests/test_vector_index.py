"""Exact in-memory search and Chroma's HNSW over the same stored vectors; the title re-rank."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from bot.ingest import ingest
from bot.knowledge_base import KnowledgeBase
from bot.retrieval import Retriever
from bot.settings import Settings, load_settings
from bot.vector_index import ChromaIndex, ExactIndex
from tests.fakes.embedder import FakeEmbedder

TOPICS = ["asthma", "eczema", "gout", "migraine", "anemia", "shingles", "psoriasis", "lupus"]
SECTIONS = ["What is {t}?", "How to treat {t}?", "What causes {t}?", "Is {t} inherited?"]


def write_corpus(folder: Path) -> None:
    """Eight documents of four sections each, as MedQuAD-style JSONL."""
    lines = []
    for t in TOPICS:
        for n, section in enumerate(SECTIONS):
            lines.append(json.dumps({
                "id": f"{t}-{n}", "focus": t.capitalize(), "question": section.format(t=t),
                "answer": f"{t.capitalize()} is a condition; section {n} explains more about it.",
            }))
    (folder / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def wide() -> FakeEmbedder:
    """A fake whose words rarely share a slot, so title similarity means shared words."""
    return FakeEmbedder(dimension=4096)


def build(settings: Settings, knowledge_dir: Path) -> None:
    write_corpus(knowledge_dir)
    assert ingest(settings, embedder=wide()).exit_code == 0


def test_small_index_is_searched_exactly_in_memory_with_chromas_vectors(
    settings: Settings, knowledge_dir: Path
) -> None:
    build(settings, knowledge_dir)
    kb = KnowledgeBase(settings, embedder=wide())
    version = kb.current()
    exact = kb.vector_index(version, "q")
    assert isinstance(exact, ExactIndex)
    assert len(exact.keys) == len(TOPICS) * len(SECTIONS)
    chroma = ChromaIndex(kb.collection(version, "q"))
    query = wide().embed(["how do doctors treat gout"])[0]
    exact_hits = exact.search(query, 5)
    chroma_hits = chroma.search(query, 5)
    assert [k for k, _ in exact_hits] == [k for k, _ in chroma_hits]
    assert np.allclose([s for _, s in exact_hits], [s for _, s in chroma_hits], atol=1e-5)
    key = exact_hits[0][0]
    assert np.allclose(exact.vectors([key])[key], chroma.vectors([key])[key], atol=1e-6)


def test_the_limit_switches_to_chromas_index_with_the_same_answers(
    settings: Settings, knowledge_dir: Path
) -> None:
    build(settings, knowledge_dir)
    hnsw = load_settings(data_dir=settings.data_dir, knowledge_dir=knowledge_dir,
                         exact_search_max_vectors=10)
    kb_exact = KnowledgeBase(settings, embedder=wide())
    kb_hnsw = KnowledgeBase(hnsw, embedder=wide())
    assert isinstance(kb_hnsw.vector_index(kb_hnsw.current(), "q"), ChromaIndex)
    for message in ["what causes migraine headaches", "is lupus inherited in families"]:
        exact_ids = [h.record.id for h in Retriever(kb_exact).search(message, 5).hits]
        hnsw_ids = [h.record.id for h in Retriever(kb_hnsw).search(message, 5).hits]
        assert exact_ids == hnsw_ids
        assert len(exact_ids) == 5


def test_records_of_the_document_whose_title_matches_are_lifted(
    settings: Settings, knowledge_dir: Path
) -> None:
    build(settings, knowledge_dir)
    kb = KnowledgeBase(settings, embedder=wide())
    plain = Retriever(kb)
    plain.config = replace(plain.config, weight_title_similarity=0.0)
    message = "Gout. Inherited? Inherited from my mother? Inherited by my kids?"
    top_plain = [h.record.id for h in plain.search(message, 4).hits]
    top_ranked = [h.record.id for h in Retriever(kb).search(message, 4).hits]
    assert sorted(top_ranked) == ["gout-0", "gout-1", "gout-2", "gout-3"]
    assert not all(rid.startswith("gout-") for rid in top_plain)  # the lists alone mix documents


def test_a_reload_replaces_the_in_memory_vectors(settings: Settings, knowledge_dir: Path) -> None:
    build(settings, knowledge_dir)
    kb = KnowledgeBase(settings, embedder=wide())
    first = kb.current()
    with (knowledge_dir / "corpus.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "rosacea-0", "focus": "Rosacea",
                                 "question": "What is rosacea?",
                                 "answer": "Rosacea is a skin condition."}) + "\n")
    assert ingest(settings, embedder=wide()).exit_code == 0
    second = kb.current()
    assert second.name != first.name
    assert len(kb.vector_index(second, "q").keys) == len(kb.vector_index(first, "q").keys) + 1
    hits = Retriever(kb).search("red face rosacea", 1).hits
    assert hits[0].record.id == "rosacea-0"


def test_a_cold_start_maps_the_saved_matrix_instead_of_reading_chroma(
    settings: Settings, knowledge_dir: Path, monkeypatch
) -> None:
    build(settings, knowledge_dir)
    version = KnowledgeBase(settings, embedder=wide()).current()
    assert (version.folder / "vectors-q.npy").is_file()  # written by the ingest
    expected = [h.record.id for h in Retriever(KnowledgeBase(settings, embedder=wide()))
                .search("how do doctors treat gout", 5).hits]

    def no_chroma(*args, **kwargs):
        raise AssertionError("the vectors were read from Chroma")

    monkeypatch.setattr(ExactIndex, "load", no_chroma)
    kb = KnowledgeBase(settings, embedder=wide())
    index = kb.vector_index(kb.current(), "q")
    assert isinstance(index.matrix, np.memmap)
    assert [h.record.id for h in Retriever(kb).search("how do doctors treat gout", 5).hits] \
        == expected


def test_a_damaged_matrix_file_is_rebuilt_from_chroma(settings: Settings,
                                                      knowledge_dir: Path) -> None:
    build(settings, knowledge_dir)
    folder = KnowledgeBase(settings, embedder=wide()).current().folder
    keys_file = folder / "vectors-q.json"
    saved = json.loads(keys_file.read_text())
    keys_file.write_text(json.dumps({**saved, "keys": saved["keys"][:-1]}))  # one row short
    (folder / "vectors-t.npy").write_bytes(b"not a matrix")
    kb = KnowledgeBase(settings, embedder=wide())
    version = kb.current()
    for role in ("q", "t"):
        index = kb.vector_index(version, role)
        assert not isinstance(index.matrix, np.memmap)  # read from Chroma this time
        assert len(index.keys) == len(version.vector_keys[role])
    assert json.loads(keys_file.read_text())["keys"] == saved["keys"]  # and saved again
    hits = Retriever(kb).search("how do doctors treat gout", 1).hits
    assert hits[0].record.id.startswith("gout-")

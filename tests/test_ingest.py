"""Ingest: versions, incremental reuse, broken files, duplicates, rollback, atomic switch."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from bot import vectors
from bot.index_store import IndexRoot, IndexUnusable
from bot.ingest import ingest
from bot.knowledge_base import KnowledgeBase, rollback, status
from bot.settings import Settings
from tests.fakes.embedder import FakeEmbedder


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def qa(n: int, **extra) -> dict:
    return {"id": f"r{n}", "question": f"question {n} about topic{n} pain",
            "answer": f"answer {n}: rest and see a doctor about topic{n}.", **extra}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Answers are embedded too (EMBED_MAX_CHUNKS=2), so the chunk path is covered."""
    return Settings(**{**settings.model_dump(), "embed_max_chunks": 2})


@pytest.fixture
def corpus(knowledge_dir: Path) -> Path:
    return write_jsonl(knowledge_dir / "a.jsonl", [qa(n) for n in range(1, 6)])


def test_first_ingest_builds_a_version_with_every_record(settings, embedder, corpus):
    report = ingest(settings, embedder=embedder)
    assert report.exit_code == 0, report.error
    assert (report.status, report.version, report.added, report.records) == (
        "updated", "v000001", 5, 5)
    info = status(settings)
    assert info["version"] == "v000001" and info["records"] == 5
    assert info["kinds"] == {"qa": 5} and info["files"] == {"a.jsonl": 5}
    version = KnowledgeBase(settings, embedder=embedder).current()
    assert version.records(["r3"])["r3"].answer.startswith("answer 3")
    assert version.keyword.search("topic3")[0][0] == "r3"


def test_noop_reingest_embeds_nothing(settings, embedder, corpus):
    ingest(settings, embedder=embedder)
    embedder.embedded.clear()
    report = ingest(settings, embedder=embedder)
    assert report.status == "unchanged" and report.exit_code == 0
    assert embedder.embedded == []
    assert (report.unchanged, report.added, report.changed) == (5, 0, 0)
    assert IndexRoot(settings.data_dir).versions() == ["v000001"]


def test_changed_record_is_the_only_text_embedded_again(settings, embedder, corpus):
    ingest(settings, embedder=embedder)
    rows = [qa(n) for n in range(1, 6)]
    rows[1]["answer"] = "a new answer about topic2 from another doctor."
    rows.append(qa(6))
    write_jsonl(corpus, rows[1:])  # r1 removed, r2 changed, r6 added
    embedder.embedded.clear()
    report = ingest(settings, embedder=embedder)
    assert (report.added, report.changed, report.unchanged, report.removed) == (1, 1, 3, 1)
    assert sorted(embedder.embedded) == sorted(
        ["a new answer about topic2 from another doctor.", qa(6)["question"], qa(6)["answer"]])
    assert report.reused == 3 * 2 + 1  # three whole records, and r2's unchanged question


def test_rollback_returns_to_the_previous_version_and_older_ones_go(settings, embedder, corpus):
    for n in range(3):
        write_jsonl(corpus, [qa(i) for i in range(1, 3 + n)])
        assert ingest(settings, embedder=embedder).status == "updated"
    root = IndexRoot(settings.data_dir)
    assert root.versions() == ["v000002", "v000003"]
    assert rollback(settings) == ("v000002", "v000003")
    kb = KnowledgeBase(settings, embedder=embedder)
    assert kb.current().manifest.records == 3
    # the vectors of both kept versions are still there
    for version in (root.open("v000002"), root.open("v000003")):
        for role in ("q", "a"):
            keys = sorted({k for k, _rid, part in version.chunk_rows() if part[0] == role})
            assert len(kb.collection(version, role).get(ids=keys, include=[])["ids"]) == len(keys)


def test_broken_line_keeps_that_records_previous_version(settings, embedder, corpus):
    ingest(settings, embedder=embedder)
    lines = corpus.read_text().splitlines()
    lines[2] = lines[2][:-5]  # r3's line no longer parses
    corpus.write_text("\n".join(lines) + "\n")
    report = ingest(settings, embedder=embedder)
    assert report.exit_code == 1
    assert [(r.file, r.line) for r in report.rejections] == [("a.jsonl", 3)]
    assert report.records == 5 and report.removed == 0
    assert "r3" in KnowledgeBase(settings, embedder=embedder).current().records(["r3"])


def test_unreadable_file_keeps_its_records_until_deleted(settings, embedder, corpus, knowledge_dir):
    write_jsonl(knowledge_dir / "b.jsonl", [qa(7), qa(8)])
    ingest(settings, embedder=embedder)
    (knowledge_dir / "b.jsonl").write_bytes(b"\xff\xfe\x00garbage")
    report = ingest(settings, embedder=embedder)
    assert report.exit_code == 1 and report.records == 7
    assert {f.path: f.status for f in report.files}["b.jsonl"] in ("broken", "partial")
    (knowledge_dir / "b.jsonl").unlink()
    report = ingest(settings, embedder=embedder)
    assert report.exit_code == 0 and report.records == 5 and report.removed == 2
    assert {f.path: f.status for f in report.files}["b.jsonl"] == "removed"


def test_duplicate_ids_across_files_first_file_wins(settings, embedder, corpus, knowledge_dir):
    write_jsonl(knowledge_dir / "b.jsonl", [dict(qa(1), answer="other text"), qa(9)])
    report = ingest(settings, embedder=embedder)
    assert report.exit_code == 1 and report.records == 6
    assert any("duplicate id r1" in r.reason and r.file == "b.jsonl" for r in report.rejections)
    record = KnowledgeBase(settings, embedder=embedder).current().records(["r1"])["r1"]
    assert record.source_file == "a.jsonl"


def test_missing_or_empty_folder_is_a_clear_error_and_keeps_the_index(settings, embedder, corpus):
    assert ingest(settings, embedder=embedder).exit_code == 0
    corpus.unlink()
    report = ingest(settings, embedder=embedder)
    assert report.exit_code == 2 and "no corpus files found" in report.error
    assert "left as it is" in report.error
    assert status(settings)["records"] == 5
    gone = ingest(settings, [settings.knowledge_dir / "nope"], embedder=embedder)
    assert gone.exit_code == 2 and "not found" in gone.error


def test_embedding_failure_midway_leaves_the_active_index(settings, embedder, corpus):
    ingest(settings, embedder=embedder)
    write_jsonl(corpus, [qa(n) for n in range(1, 40)])
    embedder.fail_after = len(embedder.embedded) + 3
    report = ingest(settings, embedder=embedder)
    assert report.exit_code == 2 and "killed for the test" in report.error
    assert status(settings)["version"] == "v000001" and status(settings)["records"] == 5
    embedder.fail_after = None
    report = ingest(settings, embedder=embedder)
    assert report.status == "updated" and report.records == 39


def test_another_model_is_refused_with_a_reingest_hint(settings, embedder, corpus):
    ingest(settings, embedder=embedder)
    other = Settings(**{**settings.model_dump(), "embedding_provider": "openai"})
    with pytest.raises(IndexUnusable, match="symptom-bot ingest"):
        KnowledgeBase(other, embedder=FakeEmbedder("text-embedding-3-small")).current()


def test_switch_is_atomic_for_queries_running_in_other_threads(settings, embedder, corpus):
    ingest(settings, embedder=embedder)
    kb = KnowledgeBase(settings, embedder=embedder)
    problems: list[str] = []
    seen: set[str] = set()
    stop = threading.Event()

    def query() -> None:
        while not stop.is_set():
            version = kb.current()
            try:
                hits = version.keyword.search("pain", limit=50)
                ids = [rid for rid, _ in hits]
                found = version.records(ids)
                if len(found) != len(ids) or len(ids) != version.manifest.records:
                    problems.append(f"{version.name}: {len(found)} of {len(ids)}")
                vector = kb.embedder.embed(["question pain"])[0]
                keys = [k for k, _ in vectors.search(kb.collection(version), vector, 5)]
                if not version.chunk_owners(keys):
                    problems.append(f"{version.name}: vectors without owners")
                seen.add(version.name)
            except Exception as error:  # noqa: BLE001 - any failure is the finding
                problems.append(repr(error))

    threads = [threading.Thread(target=query) for _ in range(3)]
    for thread in threads:
        thread.start()
    for size in range(7, 13):
        write_jsonl(corpus, [qa(n) for n in range(1, size)])
        assert ingest(settings, embedder=embedder).status == "updated"
    stop.set()
    for thread in threads:
        thread.join()
    assert problems == []
    assert len(seen) >= 2


KILLED_INGEST = """
import sys, time
from pathlib import Path
from bot.ingest import ingest
from bot.settings import load_settings
from tests.fakes.embedder import FakeEmbedder

class SlowEmbedder(FakeEmbedder):
    def embed(self, texts):
        with open(sys.argv[2], "a") as marker:  # one line per batch: batch n-1 is in Chroma
            marker.write("batch\\n")
        time.sleep(0.3)
        return super().embed(texts)

root = Path(sys.argv[1])
settings = load_settings(data_dir=root / "data", knowledge_dir=root / "knowledge")
ingest(settings, embedder=SlowEmbedder())
"""


@pytest.mark.parametrize("next_process", ["fresh", "open_during_the_kill"])
def test_a_killed_ingest_leaves_the_active_index_exactly_as_it_was(settings, embedder, corpus,
                                                                    tmp_path, next_process):
    import os
    import signal
    import subprocess
    import sys
    import time

    ingest(settings, embedder=embedder)
    before = (settings.data_dir / "index" / "ACTIVE.json").read_bytes()
    write_jsonl(corpus, [qa(n) for n in range(1, 3000)])
    marker = tmp_path / "embedding-started"
    child = subprocess.Popen([sys.executable, "-c", KILLED_INGEST, str(tmp_path), str(marker)],
                             cwd=Path(__file__).resolve().parents[1])
    deadline = time.monotonic() + 60
    def batches() -> int:
        return len(marker.read_text().splitlines()) if marker.exists() else 0

    while batches() < 3 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)  # two batches of vectors are in Chroma once the third is embedded
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    assert (settings.data_dir / "index" / "ACTIVE.json").read_bytes() == before
    version = KnowledgeBase(settings, embedder=embedder).current()
    assert version.name == "v000001" and version.manifest.records == 5
    assert version.keyword.search("topic3")[0][0] == "r3"
    left = KnowledgeBase(settings, embedder=embedder).collection(version, "q").count() - 5
    assert left > 0  # question vectors the killed ingest stored
    if next_process == "fresh":  # as the next `symptom-bot ingest` is: Chroma opened anew
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    else:  # this process held Chroma open while the killed one wrote: those do not read back
        left = 0
    # the next ingest keeps the vectors it needs and embeds only the rest
    fresh = FakeEmbedder()
    report = ingest(settings, embedder=fresh)
    assert report.status == "updated" and report.records == 2999
    assert report.reused == 10 + left  # the five old records' question and answer vectors too
    assert len(fresh.embedded) == report.embedded == 2994 * 2 - left
    assert not list((settings.data_dir / "index").glob(".building-*"))


def test_abbreviations_the_corpus_spells_out_widen_keyword_search(settings, embedder,
                                                                   knowledge_dir):
    from bot.retrieval import Retriever

    write_jsonl(knowledge_dir / "a.jsonl", [
        {"id": "dvt", "question": "What causes deep vein thrombosis?", "title": "Clots",
         "answer": "A deep vein thrombosis (DVT) is a clot. "
                   "Deep vein thrombosis (DVT) needs care."},
        {"id": "other", "question": "What is a cold?", "answer": "A common viral infection."},
    ])
    ingest(settings, embedder=embedder)
    kb = KnowledgeBase(settings, embedder=embedder)
    assert kb.current().abbreviations == {"dvt": "deep vein thrombosis"}
    hits = Retriever(kb).search("is DVT dangerous", limit=2).hits
    assert hits[0].record.id == "dvt" and "keyword_questions" in hits[0].lists

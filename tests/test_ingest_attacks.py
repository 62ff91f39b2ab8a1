"""Ingest under hostile input: odd records, deep and huge lines, special files, NUL bytes, time."""

from __future__ import annotations

import json
import os
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from bot import vectors
from bot.corpus import parse_file
from bot.corpus.limits import MAX_DOCUMENT_BYTES, MAX_FIELD_CHARS, MAX_LINE_BYTES
from bot.index_store import IndexRoot
from bot.ingest import ingest
from bot.keyword_index import KeywordIndex
from bot.knowledge_base import KnowledgeBase, status
from bot.settings import Settings, SettingsError, load_settings
from tests.fakes.embedder import FakeEmbedder
from tests.shared_paths import FIXTURES
from tests.test_ingest import qa, write_jsonl


@pytest.fixture
def corpus(knowledge_dir: Path) -> Path:
    return write_jsonl(knowledge_dir / "a.jsonl", [qa(n) for n in range(1, 6)])


def finished_within(seconds: float, fn, *args, **kwargs):  # noqa: ANN001, ANN201
    """fn's result, or pytest.fail when it has not returned in time (it may hang forever)."""
    box: list = []
    worker = threading.Thread(target=lambda: box.append(fn(*args, **kwargs)), daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"did not return within {seconds} s")
    return box[0]


# 1. one short record -------------------------------------------------------------------------


def test_one_short_record_does_not_block_a_reload(settings, embedder, corpus, knowledge_dir):
    write_jsonl(knowledge_dir / "0.jsonl", [{"id": "b1", "question": "q", "answer": "a"}])
    write_jsonl(knowledge_dir / "b.jsonl", [qa(n) for n in range(6, 9)])
    report = ingest(settings, embedder=embedder)
    assert report.exit_code == 0, report.error
    assert report.status == "updated" and report.records == 9
    assert {f.path: f.status for f in report.files} == {
        "0.jsonl": "added", "a.jsonl": "added", "b.jsonl": "added"}
    assert KnowledgeBase(settings, embedder=embedder).current().records(["b1"])["b1"].answer == "a"


def test_a_corpus_of_odd_records_builds(settings, embedder, knowledge_dir):
    odd = ["q", "?", "!", "...", "What is it?", "is it", "a", "-", "??", "x y"]
    write_jsonl(knowledge_dir / "a.jsonl",
                [{"id": f"o{n}", "question": q, "answer": ""} for n, q in enumerate(odd)])
    report = ingest(settings, embedder=embedder)
    assert report.exit_code == 0, report.error
    assert report.records == len(odd)


def test_a_broken_keyword_index_still_fails_verification(settings, embedder, corpus, monkeypatch):
    monkeypatch.setattr(KeywordIndex, "search", lambda self, query, limit=50: [])
    report = ingest(settings, embedder=embedder)
    assert report.exit_code == 2 and "keyword probe" in report.error
    assert IndexRoot(settings.data_dir).versions() == []


# 2. deep lines -------------------------------------------------------------------------------


def test_a_deeply_nested_line_is_rejected_alone(settings, embedder, corpus):
    with corpus.open("a") as handle:
        handle.write('{"question": ' + "[" * 100_000 + "]" * 100_000 + ', "answer": ""}\n')
        handle.write(json.dumps(qa(6)) + "\n")
    report = ingest(settings, embedder=embedder)
    assert report.exit_code == 1, report.error
    assert report.records == 6
    [rejection] = report.rejections
    assert (rejection.file, rejection.line) == ("a.jsonl", 6)
    assert "nested too deeply" in rejection.reason


# 3. huge lines and fields --------------------------------------------------------------------


def huge_line_file(path: Path, size: int) -> Path:
    """A JSONL file: a good line, one valid record of about size bytes, another good line."""
    with path.open("w") as handle:
        handle.write(json.dumps(qa(1)) + "\n" + '{"question": "big one", "answer": "')
        block = "pain " * 200_000
        for _ in range(size // len(block) + 1):
            handle.write(block)
        handle.write('"}\n' + json.dumps(qa(2)) + "\n")
    return path


def test_a_huge_line_is_skipped_without_being_held(tmp_path):
    path = huge_line_file(tmp_path / "big.jsonl", 64 << 20)
    tracemalloc.start()
    try:
        parsed = parse_file(path, tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [r.id for r in parsed.records] == ["r1", "r2"]
    [rejection] = parsed.rejections
    assert rejection.line == 2 and f"over the {MAX_LINE_BYTES:,}-byte limit" in rejection.reason
    assert peak < 3 * MAX_LINE_BYTES, f"parsing held {peak / 2**20:.0f} MB"


def test_huge_line_and_field_are_rejected_by_ingest(settings, embedder, knowledge_dir):
    big = huge_line_file(knowledge_dir / "big.jsonl", 8 << 20).read_bytes().split(b"\n")[1]
    write_jsonl(knowledge_dir / "field.jsonl", [
        {"id": "f1", "question": "long answer", "answer": "pain " * (MAX_FIELD_CHARS // 5 + 1)},
        {"id": "f2", "question": "long title", "answer": "", "title": "t" * (MAX_FIELD_CHARS + 1)},
        qa(3)])
    report = ingest(settings, embedder=embedder)
    assert report.exit_code == 1, report.error
    assert report.records == 3
    reasons = {(r.file, r.line): r.reason for r in report.rejections}
    assert set(reasons) == {("big.jsonl", 2), ("field.jsonl", 1), ("field.jsonl", 2)}
    assert reasons["big.jsonl", 2] == f"line is {len(big):,} bytes, over the 1,048,576-byte limit"
    assert reasons["field.jsonl", 1].startswith("field 'answer' is 200,005 characters, over the")
    assert reasons["field.jsonl", 2].startswith("field 'title' is 200,001 characters")


def test_an_oversized_page_or_xml_is_rejected_unread(tmp_path):
    for name in ("huge.txt", "huge.xml"):
        with (tmp_path / name).open("wb") as handle:
            handle.truncate(4 << 30)  # sparse: 4 GB of nothing
        tracemalloc.start()
        try:
            started = time.perf_counter()
            parsed = parse_file(tmp_path / name, tmp_path)
            seconds = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert parsed.fatal and not parsed.records
        assert f"over the {MAX_DOCUMENT_BYTES:,}-byte limit" in parsed.rejections[0].reason
        assert peak < 1 << 20 and seconds < 1


def test_an_overlong_reply_on_a_page_is_rejected_alone(tmp_path):
    page = (FIXTURES / "page_two_replies.txt").read_text(encoding="utf-8")
    filler = "Rest and ice. " * (MAX_FIELD_CHARS // 14 + 1)
    long_page = page.replace("Dear Meihua,\n", "Dear Meihua,\n" + filler + "\n")
    (tmp_path / "p.txt").write_text(long_page, encoding="utf-8")
    parsed = parse_file(tmp_path / "p.txt", tmp_path)
    whole = parse_file(FIXTURES / "page_two_replies.txt", FIXTURES).records
    assert [r.id.rsplit("#")[1] for r in parsed.records] == [
        r.id.rsplit("#")[1] for r in whole if not r.id.endswith("#reply2")]
    [rejection] = parsed.rejections
    assert rejection.element == "page:p#reply2"
    assert rejection.reason.startswith("field 'answer' is 2")
    assert rejection.reason.endswith(f"characters, over the {MAX_FIELD_CHARS:,}-character limit")


# 4. special files, links outside, time bound, cancel -----------------------------------------


def test_a_fifo_is_refused_not_read(settings, embedder, corpus, knowledge_dir):
    fifo = knowledge_dir / "pipe.jsonl"
    os.mkfifo(fifo)
    try:
        report = finished_within(30, ingest, settings, embedder=embedder)
    finally:  # release a reader stuck in open() so the test process can end
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
    assert report.exit_code == 1, report.error
    assert report.records == 5
    [rejection] = report.rejections
    assert rejection.file == "pipe.jsonl" and "not a regular file (FIFO)" in rejection.reason


def test_a_link_to_a_device_is_refused_not_read(settings, embedder, corpus, knowledge_dir):
    (knowledge_dir / "zero.jsonl").symlink_to("/dev/zero")
    (knowledge_dir / "null.txt").symlink_to("/dev/null")
    report = finished_within(30, ingest, settings, embedder=embedder)
    assert report.exit_code == 1, report.error
    assert report.records == 5
    reasons = {Path(r.file).name: r.reason for r in report.rejections}  # a link outside: its path
    assert reasons == dict.fromkeys(
        ("null.txt", "zero.jsonl"),
        "not a regular file (character device); only regular files are read")


def test_a_link_outside_the_knowledge_folder_is_reported(settings, embedder, corpus, tmp_path):
    outside = write_jsonl(tmp_path / "elsewhere.jsonl", [qa(9)])
    (settings.knowledge_dir / "linked.jsonl").symlink_to(outside)
    report = ingest(settings, embedder=embedder)
    assert report.exit_code == 0, report.error
    assert report.records == 6
    [warning] = report.warnings
    assert warning.file.endswith("linked.jsonl")
    assert warning.reason == f"symlink to {outside}, outside the knowledge folder"
    assert report.to_json()["warnings"][0]["reason"] == warning.reason


class SlowEmbedder(FakeEmbedder):
    """Each call takes a while; can set an event after some calls."""

    def __init__(self, pause: float, cancel_after: int | None = None,
                 cancel: threading.Event | None = None) -> None:
        super().__init__()
        self.pause, self.calls, self.cancel_after, self.cancel = pause, 0, cancel_after, cancel

    def embed(self, texts):  # noqa: ANN001, ANN201
        self.calls += 1
        if self.cancel is not None and self.calls == self.cancel_after:
            self.cancel.set()
        time.sleep(self.pause)
        return super().embed(texts)


def test_ingest_timeout_stops_cleanly_and_keeps_the_serving_version(settings, embedder, corpus,
                                                                     monkeypatch):
    assert ingest(settings, embedder=embedder).exit_code == 0
    before = (settings.data_dir / "index" / "ACTIVE.json").read_bytes()
    write_jsonl(corpus, [qa(n) for n in range(1, 60)])
    monkeypatch.setattr(vectors, "EMBED_BATCH", 2)  # 8 texts a batch: many batches
    hurried = Settings(**{**settings.model_dump(), "ingest_timeout": 0.6})
    slow = SlowEmbedder(0.2)
    started = time.perf_counter()
    report = ingest(hurried, embedder=slow)
    assert time.perf_counter() - started < 3
    assert report.exit_code == 2
    assert "INGEST_TIMEOUT (0.6 s) reached while embedding (batch" in report.error
    assert (settings.data_dir / "index" / "ACTIVE.json").read_bytes() == before
    assert status(settings)["records"] == 5
    assert not list((settings.data_dir / "index").glob(".building-*"))
    # what was embedded before the stop is kept for the next ingest
    fresh = FakeEmbedder()
    again = ingest(settings, embedder=fresh)
    assert again.status == "updated" and again.records == 59
    assert 0 < len(slow.embedded) < 54
    assert again.embedded == len(fresh.embedded) == 54 - len(slow.embedded)


def test_a_cancelled_ingest_changes_nothing(settings, embedder, corpus, monkeypatch):
    assert ingest(settings, embedder=embedder).exit_code == 0
    write_jsonl(corpus, [qa(n) for n in range(1, 30)])
    monkeypatch.setattr(vectors, "EMBED_BATCH", 2)
    cancel = threading.Event()
    report = ingest(settings, embedder=SlowEmbedder(0, cancel_after=2, cancel=cancel),
                    cancel=cancel)
    assert report.exit_code == 2 and "ingest cancelled while embedding" in report.error
    assert status(settings)["version"] == "v000001" and status(settings)["records"] == 5


def test_ingest_timeout_setting(monkeypatch, tmp_path):
    assert load_settings().ingest_timeout == 1800
    monkeypatch.setenv("INGEST_TIMEOUT", "90")
    assert load_settings().ingest_timeout == 90
    monkeypatch.setenv("INGEST_TIMEOUT", "0")
    with pytest.raises(SettingsError, match="INGEST_TIMEOUT"):
        load_settings()


# 5. NUL bytes --------------------------------------------------------------------------------


def test_nul_bytes_in_a_page_are_stripped_with_a_warning(settings, embedder, knowledge_dir):
    page = (FIXTURES / "page_minimal.txt").read_bytes()
    at = page.index(b"do not interact")
    (knowledge_dir / "page.txt").write_bytes(page[:at] + b"\x00\x00" + page[at:] + b"\x00")
    report = ingest(settings, embedder=embedder)
    assert report.exit_code == 0, report.error
    [warning] = report.warnings
    assert str(warning) == f"page.txt (offset {at}): 3 NUL bytes removed"
    stored = KnowledgeBase(settings, embedder=embedder).current().iter_records()
    assert all("\x00" not in json.dumps(r.to_json()) for r in stored)
    assert "\\u0000" not in json.dumps(report.to_json())


def test_nul_in_jsonl_is_stripped_when_escaped_and_rejected_when_raw(settings, embedder,
                                                                      knowledge_dir):
    second = json.dumps(qa(2)).encode().replace(b"question 2", b"quest\x00ion 2")
    (knowledge_dir / "a.jsonl").write_bytes(
        json.dumps(qa(1, answer="rest\u0000 well")).encode() + b"\n" + second + b"\n")
    report = ingest(settings, embedder=embedder)
    assert report.exit_code == 1, report.error
    assert [str(w) for w in report.warnings] == [
        "a.jsonl:1: 1 NUL character removed from field 'answer'"]
    assert [str(r) for r in report.rejections] == [
        f"a.jsonl:2: NUL byte at column {second.index(0) + 1} (JSONL must be UTF-8 text)"]
    records = KnowledgeBase(settings, embedder=embedder).current().records(["r1", "r2"])
    assert list(records) == ["r1"] and records["r1"].answer == "rest well"


def test_a_utf16_jsonl_file_is_rejected_as_a_whole(tmp_path):
    text = json.dumps(qa(1)) + "\n" + json.dumps(qa(2)) + "\n"
    (tmp_path / "u.jsonl").write_bytes(text.encode("utf-16"))
    parsed = parse_file(tmp_path / "u.jsonl", tmp_path)
    assert parsed.fatal and not parsed.records
    assert [str(r) for r in parsed.rejections] == [
        "u.jsonl: UTF-16 text (JSONL must be UTF-8; convert the file)"]

"""discover(): walking a knowledge folder, what is parsed, skipped or silently ignored."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.corpus import discover, parse_file
from tests.shared_paths import FIXTURES


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    """A knowledge folder with every kind of file an operator might drop in."""
    root = tmp_path / "knowledge"
    (root / "pages").mkdir(parents=True)
    (root / "medquad" / "99_Demo_QA").mkdir(parents=True)
    (root / ".cache").mkdir()
    shutil.copy(FIXTURES / "page_two_replies.txt", root / "pages" / "b.txt")
    shutil.copy(FIXTURES / "page_minimal.txt", root / "pages" / "a.txt")
    shutil.copy(FIXTURES / "not_a_page.txt", root / "pages" / "notes.txt")
    shutil.copy(FIXTURES / "mixed.jsonl", root / "qa.jsonl")
    shutil.copy(FIXTURES / "xml" / "99_Demo_QA" / "0000042.xml", root / "medquad" / "99_Demo_QA")
    (root / "README.md").write_text("# how to use this folder\n")
    (root / "pages" / "readme.md").write_text("notes\n")
    (root / ".hidden.txt").write_text("Dr. Secret reply X\nhidden\n")
    (root / ".cache" / "c.txt").write_text("Dr. Secret reply X\nhidden\n")
    (root / "report.docx").write_bytes(b"PK\x03\x04")
    (root / "pages" / "guide.rtf").write_text("{\\rtf1 guide}\n")
    (root / "scan.PDF").write_bytes(b"%PDF-1.4")
    return root


def test_walk_is_sorted_relative_and_reports_skips(knowledge: Path):
    parsed, skipped = discover([knowledge], root=knowledge)
    assert [p.path for p in parsed] == [
        "medquad/99_Demo_QA/0000042.xml",
        "pages/a.txt",
        "pages/b.txt",
        "pages/notes.txt",
        "qa.jsonl",
    ]
    reason = ("not a corpus format (expected .txt Q&A page or Q:/A: FAQ, .jsonl, .csv, "
              "Markdown FAQ .md or MedQuAD .xml)")
    assert skipped == [f"pages/guide.rtf: {reason}", f"report.docx: {reason}",
                       f"scan.PDF: {reason}"]
    assert discover([knowledge], root=knowledge) == (parsed, skipped)


def test_records_carry_relative_source_and_ids(knowledge: Path):
    parsed, _ = discover([knowledge], root=knowledge)
    files = {p.path: p for p in parsed}
    page = files["pages/b.txt"]
    assert page.records[0].id == "page:pages/b#reply1"
    assert {r.source_file for r in page.records} == {"pages/b.txt"}
    assert files["qa.jsonl"].records[1].id == "jsonl:qa.jsonl:2"
    assert files["medquad/99_Demo_QA/0000042.xml"].records[0].extra["subfolder"] == "99_Demo_QA"
    bad = files["pages/notes.txt"]
    assert bad.fatal and not bad.records and not bad.clean


def test_hidden_and_readme_files_are_ignored_silently(knowledge: Path):
    parsed, skipped = discover([knowledge], root=knowledge)
    names = [p.path for p in parsed] + skipped
    assert not any("hidden" in n or ".cache" in n or "readme" in n.lower() for n in names)
    assert all("Secret" not in r.doctor for p in parsed for r in p.records)


def test_single_files_missing_paths_and_duplicates(knowledge: Path, tmp_path: Path):
    page = knowledge / "pages" / "a.txt"
    parsed, skipped = discover([page, page, tmp_path / "nope.txt"], root=tmp_path)
    assert [p.path for p in parsed] == ["knowledge/pages/a.txt"]
    assert skipped == ["nope.txt: no such file or folder"]


def test_without_root_paths_are_kept_as_given(knowledge: Path):
    page = knowledge / "pages" / "a.txt"
    parsed = parse_file(page)
    assert parsed.path == page.as_posix()
    assert parsed.records[0].source_file == page.as_posix()


def test_parse_file_on_unsupported_type_is_fatal_not_an_exception(knowledge: Path):
    parsed = parse_file(knowledge / "report.docx", knowledge)
    assert parsed.fatal and parsed.rejections[0].reason.startswith("not a corpus format")


def test_odd_names_links_and_loops_are_reported_not_raised(tmp_path: Path):
    import os

    root = tmp_path / "k"
    root.mkdir()
    shutil.copy(FIXTURES / "page_minimal.txt", root / "ok.txt")
    (root / os.fsdecode(b"bad\xff.jsonl")).write_text('{"question": "q", "answer": ""}\n')
    (root / "loop.jsonl").symlink_to(root / "loop.jsonl")
    (root / "gone.jsonl").symlink_to(root / "nowhere.jsonl")
    parsed, skipped = discover([root], root=root)
    reasons = {p.path: p.rejections[0].reason for p in parsed if p.fatal}
    assert [p.path for p in parsed if not p.fatal] == ["ok.txt"]
    assert reasons == {
        "bad\\xff.jsonl": "file name is not valid UTF-8 (rename the file)",
        "nowhere.jsonl": "cannot read: No such file or directory",  # links go by their target
        "loop.jsonl": "cannot read: Too many levels of symbolic links",
    }

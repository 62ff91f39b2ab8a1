"""A clinic's own FAQ as CSV, Markdown or Q:/A: text: records, per-line errors, the real ingest."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.corpus import discover, parse_file
from bot.corpus.csv_table import parse_csv_bytes
from bot.corpus.limits import MAX_FIELD_CHARS
from bot.corpus.markdown_faq import parse_markdown_bytes
from bot.corpus.text_faq import parse_txt_bytes
from bot.ingest import ingest
from bot.knowledge_base import KnowledgeBase, status
from bot.reports import format_ingest
from bot.retrieval import Retriever
from tests.shared_paths import FIXTURES, REPO_ROOT

KINDS = "doctor_reply, excerpt, article, qa, question_only"


def reasons(parsed) -> list[str]:  # noqa: ANN001
    return [str(r) for r in parsed.rejections]


# CSV -------------------------------------------------------------------------------------------


def test_csv_rows_become_records_with_their_columns():
    parsed = parse_file(FIXTURES / "clinic.csv", FIXTURES)
    assert not parsed.fatal
    assert [r.id for r in parsed.records] == ["csv:clinic#row1", "ped-1", "csv:clinic#row7"]
    cold, flu, adults = parsed.records
    assert cold.answer == ("Most colds clear up in seven to ten days.\n"
                           "Rest, drink plenty of fluids and stay home while you have a fever.")
    assert (cold.kind, cold.doctor, cold.department, cold.hospital, cold.language) == (
        "qa", "", "Family Medicine", "Riverside Clinic", "en")
    assert (flu.kind, flu.doctor, flu.department, flu.replied) == (
        "doctor_reply", "Wu Mingde", "Pediatrics", "2024-10-02")
    assert flu.answer.startswith("yes. Children from six months")
    assert flu.extra == {"clinic_note": "ask at desk 3"}  # unknown columns, as JSONL's extra
    assert "Rivera" not in json.dumps([r.to_json() for r in parsed.records])  # patient column
    assert (adults.kind, adults.answer) == ("question_only", "")


def test_csv_bad_rows_are_rejected_by_line_and_column_the_rest_kept():
    parsed = parse_file(FIXTURES / "clinic.csv", FIXTURES)
    assert reasons(parsed) == [
        'clinic.csv:5: field "answer": empty',
        f'clinic.csv:6: field "kind": "rumour" is not one of {KINDS}',
        'clinic.csv:7: row has 11 cells, the header 10 columns (put quotes around a cell that '
        'contains ",")',
        "clinic.csv:8: duplicate id ped-1 (first at line 4)",
    ]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiter_is_sniffed_and_header_names_are_case_insensitive(delimiter):
    rows = [["QUESTION", " Answer ", "Department"],
            ["Is parking free?", "Yes, for two hours; ask at the desk", "Reception"]]
    text = "\n".join(delimiter.join(f'"{c}"' for c in row) for row in rows) + "\n"
    parsed = parse_csv_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode(), "p.csv")
    assert reasons(parsed) == []
    [record] = parsed.records
    assert (record.question, record.answer, record.department) == (
        "Is parking free?", "Yes, for two hours; ask at the desk", "Reception")


def test_csv_without_question_and_answer_columns_is_rejected_whole_naming_its_columns():
    parsed = parse_csv_bytes(b"Frage,Reply,Doctor\nWas?,Nichts.,Wu\n", "de.csv")
    assert parsed.fatal and parsed.records == []
    assert reasons(parsed) == [
        'de.csv:1: no "question" and "answer" columns in the header row (columns found: '
        '"frage", "reply", "doctor"); a CSV needs "question" and "answer" columns, delimited '
        'by ",", ";" or a tab']
    one = parse_csv_bytes(b"Question;Reply\nWas?;Nichts.\n", "r.csv")
    assert reasons(one)[0].startswith('r.csv:1: no "answer" column in the header row (columns '
                                      'found: "question", "reply")')
    twice = parse_csv_bytes(b"question,answer,Answer\nq,a,b\n", "d.csv")
    assert twice.fatal
    assert reasons(twice) == [
        'd.csv:1: column "answer" appears more than once in the header (columns 2 and 3)']


def test_csv_unclosed_quote_names_the_row_it_opens_in():
    data = b'question,answer\nFirst?,"Fine.\nSecond?,"no quote after it\nThird?,Kept.\n'
    parsed = parse_csv_bytes(data, "q.csv")  # two quotes that pair up: read as csv reads them
    assert [(r.question, r.answer) for r in parsed.records] == [
        ("First?", "Fine.\nSecond?,no quote after it"), ("Third?", "Kept.")]
    parsed = parse_csv_bytes(b'question,answer\nFirst?,Fine.\nSecond?,"open\nThird?,x\n', "q.csv")
    assert [r.question for r in parsed.records] == ["First?"]
    assert reasons(parsed) == [
        "q.csv:3: a quoted cell opened in this row is never closed (the rest of the file was "
        "read as one cell; close the quote)"]


def test_csv_goes_through_the_same_screening_sizes_nul_encoding():
    long = "x" * (MAX_FIELD_CHARS + 5)
    data = f'question,answer\nToo long?,{long}\n"Fine?","Yes."\n'.encode()
    parsed = parse_csv_bytes(data, "big.csv")
    assert [r.question for r in parsed.records] == ["Fine?"]
    assert reasons(parsed) == [f'big.csv:2: field "answer": {MAX_FIELD_CHARS + 5:,} characters, '
                               f"over the {MAX_FIELD_CHARS:,}-character limit"]
    nul = parse_csv_bytes(b"question,answer\nNul?,Ye\x00s.\n", "n.csv")
    assert nul.records[0].answer == "Yes." and [str(w) for w in nul.warnings] == [
        "n.csv (offset 23): 1 NUL byte removed"]
    latin1 = parse_csv_bytes("question,answer\nCaf\xe9?,Non \xe0 la caf\xe9ine.\n".encode("cp1252"),
                             "l.csv")
    assert latin1.fatal and "save it as UTF-8" in reasons(latin1)[0]
    utf16 = parse_csv_bytes("question\tanswer\nFever?\tDrink water.\n".encode("utf-16"), "u.csv")
    assert [r.answer for r in utf16.records] == ["Drink water."]


# Markdown --------------------------------------------------------------------------------------


def test_markdown_headings_are_questions_and_higher_headings_their_titles():
    parsed = parse_file(FIXTURES / "clinic.md", FIXTURES)
    assert [(r.id, r.title, r.question) for r in parsed.records] == [
        ("md:clinic#q1", "Appointments", "Do I need an appointment for a blood test?"),
        ("md:clinic#q3", "Children", "Is there a play corner for children?"),
    ]
    blood, play = parsed.records
    assert blood.answer == (
        "No. Blood tests are done without an appointment from 8 to 11; see our opening hours "
        "and come fasting.\n\n- Bring your insurance card\n- Bring the lab form from your doctor")
    assert play.answer == ("Yes, next to the pediatric waiting room:\n\n1. Toys and books\n"
                           "2. A changing table")
    # front matter: fields of every question, named as in JSONL
    assert {(r.kind, r.hospital, r.extra["source"]) for r in parsed.records} == {
        ("qa", "Riverside Clinic", "Riverside Clinic FAQ")}
    assert reasons(parsed) == [
        'clinic.md:19: heading "Can I cancel an appointment online?" has no answer text below it']


def test_markdown_markup_becomes_plain_text():
    text = """## What should I bring?
Your **card**, the [form](https://x.org/a_(b)) and ![a photo](p.png) of
your _medicines_ (see <https://x.org>) &amp; `a*b*c`; 2*3*4 and snake_case stay.
> A quoted tip.

* one
+ two

| day | hours |
|-----|-------|
| Mon | 8-12  |

```
# a comment, not a heading
```
---
[ref]: https://example.org
"""
    [record] = parse_markdown_bytes(text.encode(), "m.md").records
    assert record.answer == (
        "Your card, the form and a photo of your medicines (see https://x.org) & a*b*c; "
        "2*3*4 and snake_case stay. A quoted tip.\n\n- one\n- two\n\nday | hours\nMon | 8-12"
        "\n\n# a comment, not a heading")


def test_markdown_with_a_doctor_in_front_matter_gives_doctor_replies_and_bad_lines_named():
    text = "---\ndoctor: Wu Mingde\nkind: rumour\nid: x\nnot a field\n---\n# Fever?\nRest.\n"
    parsed = parse_markdown_bytes(text.encode(), "d.md")
    assert [(r.kind, r.doctor) for r in parsed.records] == [("doctor_reply", "Wu Mingde")]
    assert reasons(parsed) == [
        f'd.md:3: front matter: "kind" is "rumour", not one of {KINDS}',
        'd.md:4: front matter: "id" belongs to each question, not to the whole file',
        'd.md:5: front matter: not a "key: value" line',
    ]


def test_markdown_without_headings_is_rejected_and_readme_stays_ignored(tmp_path: Path):
    parsed = parse_markdown_bytes(b"Just some notes.\n", "notes.md")
    assert parsed.fatal and reasons(parsed)[0].startswith("notes.md: no headings")
    (tmp_path / "README.md").write_text("# How to use this folder\nPut files here.\n")
    shutil.copy(FIXTURES / "clinic.md", tmp_path / "faq.md")
    files, skipped = discover([tmp_path], root=tmp_path)
    assert [f.path for f in files] == ["faq.md"] and skipped == []
    files, skipped = discover([tmp_path / "README.md"], root=tmp_path)  # named explicitly
    assert files == [] and skipped == ["README.md: documentation, not a corpus file"]


def test_markdown_question_with_a_subheading_in_its_answer_is_warned_about():
    text = "## Can I take ibuprofen?\nUsually.\n### Dosage\n400 mg.\n"
    parsed = parse_markdown_bytes(text.encode(), "w.md")
    assert [r.question for r in parsed.records] == ["Dosage"]
    assert [str(w) for w in parsed.warnings] == [
        'w.md:1: text under "Can I take ibuprofen?" was left out: questions are the ### '
        "headings (the deepest level in the file)"]


# Plain-text Q:/A: FAQ ----------------------------------------------------------------------------


def test_text_faq_pairs_become_records_and_unpaired_lines_are_named():
    parsed = parse_file(FIXTURES / "clinic_faq.txt", FIXTURES)
    assert [(r.id, r.kind, r.question) for r in parsed.records] == [
        ("faq:clinic_faq#q1", "qa", "How do I get my lab results?"),
        ("faq:clinic_faq#q2", "qa", "Can I get a sick note without seeing a doctor?"),
        ("faq:clinic_faq#q4", "qa", "Is there a pharmacy in the building?"),
    ]
    assert parsed.records[0].answer == (
        "Lab results are ready after two working days.\n"
        "You can collect them at the front desk or read them in the patient portal.")
    assert reasons(parsed) == [
        'clinic_faq.txt:8: question without an answer (no "A:" before the next "Q:")',
        'clinic_faq.txt:11: answer without a question (no "Q:" before this "A:")',
    ]


def test_text_faq_is_told_from_a_qa_page_by_its_first_line():
    tail = parse_txt_bytes(b"\n\nquestion : Fever?\nanswer: Rest.\nQ: Cough?\n", "t.txt")
    assert [r.answer for r in tail.records] == ["Rest."]
    assert reasons(tail) == ['t.txt:5: question without an answer (no "A:" after this "Q:")']
    empty = parse_txt_bytes(b"Q:\nA: Something.\nQ: Fine?\nA:\n", "e.txt")
    assert reasons(empty) == ['e.txt:1: empty question ("Q:" with no text)',
                              'e.txt:4: empty answer ("A:" with no text)']
    page = parse_file(FIXTURES / "page_two_replies.txt", FIXTURES)  # still a Q&A page
    assert page.records and all(r.id.startswith("page:") for r in page.records)
    notes = parse_txt_bytes(b"Shopping list\nQ: milk?\nA: yes\n", "n.txt")
    assert notes.fatal and "not a Q&A page" in reasons(notes)[0]


# All three parsers ---------------------------------------------------------------------------


@pytest.mark.parametrize("parser, sample", [
    (parse_csv_bytes, (FIXTURES / "clinic.csv").read_bytes()),
    (parse_markdown_bytes, (FIXTURES / "clinic.md").read_bytes()),
    (parse_txt_bytes, (FIXTURES / "clinic_faq.txt").read_bytes()),
])
def test_clinic_parsers_never_raise_on_mutated_input(parser, sample):
    rng = random.Random(20240601)
    pieces = [b"\x00", b"\xff", b'"', b",", b";", b"\t", b"\n", b"\r", b"#", b"## ", b"Q: ",
              b"A: ", b"```", b"---\n", b"[", b"](", b"**", b"_", b"<!--", b"\xe4\xbd", b" " * 300]
    started = time.perf_counter()
    for _ in range(300):
        data = bytearray(sample)
        for _ in range(rng.randrange(1, 6)):
            at = rng.randrange(len(data) + 1)
            if rng.randrange(3):
                data[at:at] = rng.choice(pieces) * rng.randrange(1, 40)
            else:
                del data[at : at + rng.randrange(1, 40)]
        parsed = parser(bytes(data), "fuzz/file")
        for record in parsed.records:
            json.dumps(record.to_json(), ensure_ascii=False).encode("utf-8")
            assert "\x00" not in record.question + record.answer
            assert record.question.strip()
    assert time.perf_counter() - started < 15


N = 1_000_000
HOSTILE_LINES = {
    "stars": "*" * N, "underscores": "_" * N, "brackets": "[" * N, "half links": "[a](" * (N // 4),
    "nested parens": "[a](" + "(b" * (N // 2), "tags": "<a " * (N // 3), "comments": "<!--" * N,
    "backticks": "a" + "`" * N, "unclosed bold": "**a" * (N // 3), "tildes": "~~a" * (N // 3),
    "spaces": " " * N + "x", "rule and spaces": "---" + " " * N + "x", "table": "| - " * (N // 4),
    "quotes": "> " * (N // 2) + "x", "escapes": "\\*" * (N // 2), "entities": "&amp" * (N // 4),
}


LINEAR_CHECK = """
import time
from bot.corpus.csv_table import parse_csv_bytes
from bot.corpus.markdown_faq import parse_markdown_bytes
from bot.corpus.text_faq import parse_txt_bytes
from tests.test_corpus_clinic_formats import HOSTILE_LINES

for name, line in HOSTILE_LINES.items():
    data, started = line.encode(), time.perf_counter()
    parse_markdown_bytes(b"## Question?\\n" + data + b"\\n", "slow.md")
    parse_csv_bytes(b"question,answer\\nq," + data + b"\\n", "slow.csv")
    parse_txt_bytes(b"Q: q\\nA: " + data + b"\\n", "slow.txt")
    print(f"{name}: {time.perf_counter() - started:.2f} s", flush=True)
"""


def test_long_lines_of_markup_are_read_in_linear_time():
    # In a child process: a quadratic pattern takes minutes on such a line, and holds the GIL.
    try:
        done = subprocess.run([sys.executable, "-c", LINEAR_CHECK], cwd=REPO_ROOT, timeout=90,
                              capture_output=True, text=True, check=True)
    except subprocess.TimeoutExpired as stuck:
        pytest.fail(f"stuck after: {stuck.stdout!r}")
    times = dict(line.split(": ") for line in done.stdout.splitlines())
    assert times.keys() == HOSTILE_LINES.keys()
    slow = {name: took for name, took in times.items() if float(took.split()[0]) > 5}
    assert not slow, slow


# The real ingest -------------------------------------------------------------------------------


@pytest.fixture
def clinic(knowledge_dir: Path) -> Path:
    for name in ("clinic.csv", "clinic.md", "clinic_faq.txt"):
        shutil.copy(FIXTURES / name, knowledge_dir / name)
    (knowledge_dir / "README.md").write_text("# The knowledge folder\nDocumentation.\n")
    return knowledge_dir


def test_a_folder_of_all_three_formats_is_ingested_and_a_csv_answer_found(settings, embedder,
                                                                          clinic):
    report = ingest(settings, embedder=embedder)
    assert report.status == "updated" and report.exit_code == 1, report.error
    assert {f.path: (f.status, f.records, f.rejected) for f in report.files} == {
        "clinic.csv": ("added", 3, 4), "clinic.md": ("added", 2, 1),
        "clinic_faq.txt": ("added", 3, 2)}
    assert report.skipped == []  # README.md is documentation, ignored silently
    text = format_ingest(report)
    assert "    added  clinic.csv  (3 records, 4 rejected)" in text
    assert '    clinic.csv:5: field "answer": empty' in text
    assert '    clinic_faq.txt:8: question without an answer (no "A:" before the next "Q:")' in text
    info = status(settings)
    assert info["kinds"] == {"doctor_reply": 1, "qa": 6, "question_only": 1}
    kb = KnowledgeBase(settings, embedder=embedder)
    hits = Retriever(kb).search("how long does a common cold last", limit=3).hits
    assert hits[0].record.id == "csv:clinic#row1"
    assert hits[0].record.answer.startswith("Most colds clear up in seven to ten days.")
    found = Retriever(kb).search("is there a play corner for children", limit=3).hits
    assert found[0].record.id == "md:clinic#q3"


@pytest.mark.parametrize("broken", [
    b"Frage,Antwort\nHow long does a common cold last?,Ten days.\n",  # no question/answer columns
    b"question,answer\nHow long does a common cold last?,\"Ten days.\nWhere?,x\n",  # open quote
    "question,answer\nCold?,caf\xe9\n".encode("cp1252"),  # not UTF-8
])
def test_a_broken_csv_never_takes_down_the_active_index(settings, embedder, clinic, broken):
    assert ingest(settings, embedder=embedder).status == "updated"
    before = status(settings)
    (clinic / "clinic.csv").write_bytes(broken)
    report = ingest(settings, embedder=embedder)
    assert report.status in ("updated", "unchanged") and report.exit_code == 1, report.error
    assert any(r.file == "clinic.csv" for r in report.rejections)
    kb = KnowledgeBase(settings, embedder=embedder)
    hit = Retriever(kb).search("how long does a common cold last", limit=3).hits[0]
    assert hit.record.id == "csv:clinic#row1"  # the previous CSV rows stay while it is broken
    assert hit.record.answer.startswith("Most colds clear up")
    assert status(settings)["records"] >= before["records"]

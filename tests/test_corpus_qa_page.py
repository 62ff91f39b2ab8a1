"""Q&A pages: structure, attribution, de-identification, languages and encodings."""

from __future__ import annotations

import re
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from bot.corpus import parse_file
from bot.corpus.qa_page import NOT_A_PAGE, parse_page_bytes
from bot.records import Record
from tests.shared_paths import FIXTURES, SAMPLE_PAGE

needs_sample = pytest.mark.skipif(not SAMPLE_PAGE.exists(), reason="shared sample page missing")
PATIENT_TOKENS = ("Guo", "Tongxue", "Peter", "Zhan")


def fixture(name: str) -> list[Record]:
    """Records of a fixture page, which must parse cleanly."""
    parsed = parse_file(FIXTURES / name, FIXTURES)
    assert parsed.clean, parsed.rejections
    return parsed.records


def by_kind(records: list[Record], kind: str) -> list[Record]:
    return [r for r in records if r.kind == kind]


def all_text(record: Record) -> str:
    """Every stored field of a record, as one string."""
    fields = asdict(record)
    extra = fields.pop("extra")
    return "\n".join([*map(str, fields.values()), *extra.keys(), *extra.values()])


@pytest.fixture(scope="module")
def sample() -> list[Record]:
    parsed = parse_file(SAMPLE_PAGE, SAMPLE_PAGE.parent)
    assert parsed.clean, parsed.rejections
    return parsed.records


@needs_sample
def test_sample_page_gives_reply_article_and_four_excerpts(sample):
    assert [r.kind for r in sample] == ["doctor_reply", "article"] + ["excerpt"] * 4
    assert [r.id for r in sample] == [
        "page:qa-page-muscle-twitching#reply1",
        "page:qa-page-muscle-twitching#article",
        *(f"page:qa-page-muscle-twitching#excerpt{k}" for k in range(1, 5)),
    ]
    assert all(r.source_file == "qa-page-muscle-twitching.txt" for r in sample)


@needs_sample
def test_sample_main_reply_is_attributed_and_trimmed(sample):
    reply = sample[0]
    assert reply.title == "Involuntary muscle twitching?"
    assert reply.question.startswith("Hello doctor, over the past month")
    assert reply.question.endswith("made me even more anxious.")
    assert (reply.doctor, reply.department, reply.hospital) == (
        "Jiang Junyi",
        "Neurology",
        "Taoyuan Hospital",
    )
    assert (reply.asked, reply.replied, reply.language) == ("2023-07-05", "2023-07-05", "en")
    assert reply.answer.startswith("You mentioned feeling")
    assert reply.answer.endswith("Wishing you good health, peace, and joy.")
    assert "Reply Date" not in reply.answer and "Taoyuan" not in reply.answer
    assert reply.extra == {"age_band": "10~19", "sex": "female"}


@needs_sample
def test_sample_article_is_never_attributed_to_a_doctor(sample):
    article = by_kind(sample, "article")[0]
    assert article.title == "More Info: Involuntary muscle twitching?"
    assert (article.doctor, article.department, article.hospital) == ("", "", "")
    assert article.answer.startswith("Muscle twitching, also known as fasciculation")
    assert "Similar Q&A" not in article.answer and "[Read More]" not in article.answer


@needs_sample
def test_sample_excerpts_have_their_own_doctor_and_no_read_more_tail(sample):
    excerpts = by_kind(sample, "excerpt")
    assert [e.doctor for e in excerpts] == [
        "Hong Weibin",
        "Jiang Junyi",
        "Gao Chunde",
        "Lan Shengxing",
    ]
    assert {e.department for e in excerpts} == {"Neurology"}
    assert excerpts[0].title.startswith("Understanding Muscle Twitches: When to Seek")
    for e in excerpts:
        assert "Read More" not in e.answer and not e.answer.endswith("...")
        assert e.extra.get("truncated") == "true"
    assert excerpts[1].answer.startswith("You mentioned that")


@needs_sample
def test_no_patient_name_survives_anywhere(sample):
    for record in sample:
        text = all_text(record)
        for token in PATIENT_TOKENS:
            assert not re.search(token, text, re.IGNORECASE), (record.id, token)


@needs_sample
def test_reparsing_gives_identical_records(sample):
    again = parse_file(SAMPLE_PAGE, SAMPLE_PAGE.parent).records
    assert [r.content_hash() for r in again] == [r.content_hash() for r in sample]


def test_several_replies_each_become_a_record_with_own_signature():
    records = fixture("page_two_replies.txt")
    replies = by_kind(records, "doctor_reply")
    assert [(r.doctor, r.hospital, r.replied) for r in replies] == [
        ("Wu Mingde", "Riverside General Hospital", "2022-03-10"),
        ("Tsai Yiling", "Harbor City Hospital", "2022-03-12"),
    ]
    assert replies[0].asked == "2022-03-09"
    assert replies[0].answer.startswith("Pain and mild swelling")
    assert "\n\nRest from running" in replies[0].answer  # paragraph break kept
    assert replies[1].answer.startswith("Strengthening")
    assert not by_kind(records, "article")
    assert len(by_kind(records, "excerpt")) == 1


def test_names_in_body_salutations_and_excerpts_are_removed():
    records = fixture("page_two_replies.txt")
    for record in records:
        for token in ("Lin", "Meihua", "Chen", "Dawei"):
            assert not re.search(rf"\b{token}\b", all_text(record)), (record.id, token)
    assert records[0].question.endswith("Thanks, [name].")
    assert by_kind(records, "excerpt")[0].answer.startswith("A warm and swollen knee")
    assert "Related FAQ" not in all_text(records[-1]) and "Knee Pain(" not in all_text(records[-1])


def test_minimal_page_without_asker_signature_or_sections():
    [reply] = fixture("page_minimal.txt")
    assert reply.title == "Can I take ibuprofen with green tea?"
    assert reply.question.startswith("I drink green tea")
    assert (reply.doctor, reply.department, reply.hospital) == ("Huang Shuwen", "Pharmacy", "")
    assert (reply.asked, reply.replied) == ("", "")
    assert reply.answer.endswith("on the label.")


@pytest.mark.parametrize(
    ("name", "language", "doctor", "removed"),
    [
        ("page_chinese_body.txt", "zh", "Chou Yating", ("王小明", "小明", "王先生")),
        ("page_spanish_body.txt", "es", "Ramos Elena", ("María", "Fernanda")),
        ("page_zh_markers.txt", "zh", "吳明德", ("陳大為", "大為", "陳先生")),
    ],
)
def test_pages_in_other_languages(name, language, doctor, removed):
    records = fixture(name)
    reply = records[0]
    assert (reply.kind, reply.language, reply.doctor) == ("doctor_reply", language, doctor)
    assert reply.answer and reply.question and reply.hospital and reply.replied
    for record in records:
        for token in removed:
            assert token not in all_text(record), (record.id, token)


def test_traditional_chinese_markers_give_every_section():
    records = fixture("page_zh_markers.txt")
    assert [r.kind for r in records] == ["doctor_reply", "article", "excerpt"]
    reply, article, excerpt = records
    assert (reply.department, reply.hospital) == ("神經內科", "河濱醫院")
    assert reply.answer.startswith("頭痛的原因很多") and reply.answer.endswith("祝您健康平安。")
    assert reply.extra == {"age_band": "30~39", "sex": "male"}
    assert article.doctor == "" and article.answer.startswith("頭痛是很常見的症狀")
    assert (excerpt.doctor, excerpt.department) == ("林志明", "家庭醫學科")
    assert "閱讀更多" not in excerpt.answer


def test_text_that_is_not_a_page_is_a_fatal_rejection():
    parsed = parse_file(FIXTURES / "not_a_page.txt", FIXTURES)
    assert parsed.fatal and not parsed.records
    assert [str(r) for r in parsed.rejections] == [f"not_a_page.txt: {NOT_A_PAGE}"]


def _sample_bytes() -> bytes:
    return (FIXTURES / "page_two_replies.txt").read_bytes()


def test_bom_crlf_and_stray_blank_lines_parse_the_same():
    def comparable(records: list[Record]) -> list[dict]:
        out = [asdict(r) for r in records]
        for d in out:
            for key in ("question", "answer"):
                d[key] = re.sub(r"\n+", "\n", d[key])
        return out

    plain = parse_page_bytes(_sample_bytes(), "p.txt").records
    messy = b"\xef\xbb\xbf" + _sample_bytes().replace(b"\n", b"\r\n\r\n")
    assert comparable(parse_page_bytes(messy, "p.txt").records) == comparable(plain)
    assert len(plain) == 3


def test_big5_and_gb18030_pages_are_decoded():
    text = (FIXTURES / "page_zh_markers.txt").read_text(encoding="utf-8")
    big5 = parse_page_bytes(text.encode("big5"), "b.txt")
    assert big5.clean and big5.records[0].answer.startswith("頭痛的原因很多")
    simplified = text.replace("醫師", "医师").replace("回覆", "回复").replace("頭痛", "头痛")
    gb = parse_page_bytes(simplified.encode("gb18030"), "g.txt")
    assert gb.clean and gb.records[0].doctor == "吳明德"
    assert gb.records[0].answer.startswith("头痛的原因很多")


def test_ambiguous_legacy_bytes_are_rejected_not_guessed():
    body = "中国".encode("gb18030") * 3
    assert body.decode("big5") != body.decode("gb18030")  # both read as plausible Chinese
    data = b"Title\n" + body + b"\nDr. Wu Mingde reply Orthopedics\nRest.\n"
    parsed = parse_page_bytes(data, "a.txt")
    assert parsed.fatal and not parsed.records
    assert parsed.rejections[0].reason == (
        "not valid UTF-8 and not unambiguously Big5 or GB18030 (first bad byte at offset 6)"
    )


def test_random_invalid_bytes_are_rejected(tmp_path: Path):
    path = tmp_path / "garbage.txt"
    path.write_bytes(b"Dr. X reply Y\n\x80\xff\x00\x81" + bytes(range(0x80, 0x100)))
    parsed = parse_file(path, tmp_path)
    assert parsed.fatal and "first bad byte at offset 14" in parsed.rejections[0].reason


def test_prose_mentioning_a_doctor_is_not_taken_for_a_reply_header():
    page = (
        b"Still dizzy?\n"
        b"Last month Dr. Wang replied to my email and said to rest.\n"
        b"Dr. Wang reply was short. I am still dizzy.\n"
        b"Tan Yiru, 50~59 year old male. Ask Date: 2024/02/01\n"
        b"Dr. Hsu Kaiwen reply Otolaryngology\n"
        b"Dizziness that lasts for weeks should be checked by an ENT doctor.\n"
    )
    [reply] = parse_page_bytes(page, "d.txt").records
    assert reply.question.startswith("Last month Dr. Wang replied to my email")
    assert "I am still dizzy." in reply.question
    assert (reply.doctor, reply.department) == ("Hsu Kaiwen", "Otolaryngology")
    assert reply.answer == "Dizziness that lasts for weeks should be checked by an ENT doctor."


def test_long_runs_of_spaces_parse_in_linear_time():
    run = " " * 3000  # the old patterns took 10+ s here, and hours on a 4 MB page
    page = (f"Title\nq a{run}b\nLee, 30 female. Ask Date{run}: 2024/1/1\nDr. X reply Y\n"
            f"a{run}b...\nSimilar Q&A\nT\nQ a{run}b...\nDr. Z reply W\n"
            f"a{run}b{run}...{run}[Read More]{run}T\n")
    started = time.perf_counter()
    parsed = parse_page_bytes(page.encode(), "x.txt")
    assert time.perf_counter() - started < 1
    reply, excerpt = parsed.records
    assert reply.asked == "2024-01-01" and reply.answer.endswith("b...")
    assert excerpt.extra == {"truncated": "true"} and excerpt.answer == "a b"

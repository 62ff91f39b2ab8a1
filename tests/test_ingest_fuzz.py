"""Seeded, bounded fuzzing: random damage beside a good corpus never crashes the ingest, never
loses a good record and never costs unbounded memory."""

from __future__ import annotations

import codecs
import json
import os
import random
import resource
import shutil
import socket
import time
from pathlib import Path

import pytest

from bot.corpus import parse_file
from bot.corpus.jsonl import parse_jsonl_bytes
from bot.corpus.medquad_xml import parse_xml_bytes
from bot.corpus.qa_page import parse_page_bytes
from bot.ingest import ingest
from bot.knowledge_base import KnowledgeBase
from tests.shared_paths import FIXTURES

SEED = int(os.environ.get("FUZZ_SEED", "20240601"))
ROUNDS = 9
MUTATIONS = 400  # per parser, in the parser-only test
RSS_BOUND_MB = 200  # peak RSS growth over all rounds; the damage has 256 MB single lines
XML = FIXTURES / "xml" / "99_Demo_QA" / "0000042.xml"
PAGES = ["page_minimal.txt", "page_two_replies.txt", "page_zh_markers.txt"]


def rows(prefix: str, count: int) -> list[dict]:
    return [{"id": f"{prefix}{n}", "question": f"question {prefix}{n} about knee{n} pain",
             "answer": f"answer {prefix}{n}: rest, ice and see a doctor about knee{n}."}
            for n in range(count)]


def jsonl(items: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in items).encode()


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Damage:
    """Writes damaged files into a folder; remembers the ids of whole lines that must survive."""

    def __init__(self, rng: random.Random, folder: Path, outside: Path, tag: str) -> None:
        self.rng, self.folder, self.outside, self.tag = rng, folder, outside, tag
        self.expected: dict[str, str] = {}  # id -> answer of records that must be kept
        self.count = 0

    def name(self, suffix: str) -> Path:
        self.count += 1
        return self.folder / f"{self.tag}-{self.count}{suffix}"

    def good_rows(self, count: int = 6) -> list[dict]:
        return rows(f"{self.tag}-{self.count}-", count)

    def truncated(self) -> None:
        items = self.good_rows()
        data = jsonl(items)
        cut = self.rng.randrange(1, len(data))
        self.name(".jsonl").write_bytes(data[:cut])
        end = 0
        for item in items:
            end += len(json.dumps(item)) + 1
            if end - 1 <= cut:  # the whole line (its newline may be cut) is there
                self.expected[item["id"]] = item["answer"]
        page = (FIXTURES / self.rng.choice(PAGES)).read_bytes()
        self.name(".txt").write_bytes(page[: self.rng.randrange(len(page))])
        xml = XML.read_bytes()
        (self.name(".xml")).write_bytes(xml[: self.rng.randrange(len(xml))])

    def random_bytes(self) -> None:
        for suffix in (".jsonl", ".txt", ".xml"):
            self.name(suffix).write_bytes(self.rng.randbytes(self.rng.randrange(1, 5000)))
        data = bytearray(jsonl(self.good_rows()))
        for _ in range(self.rng.randrange(1, 8)):
            data[self.rng.randrange(len(data))] = self.rng.randrange(256)
        self.name(".jsonl").write_bytes(bytes(data))

    def huge(self) -> None:
        before, after = self.good_rows(2), rows(f"{self.tag}-{self.count}-after-", 2)
        big = b'{"question": "big", "answer": "' + b"pain " * self.rng.randrange(250_000, 600_000)
        self.name(".jsonl").write_bytes(jsonl(before) + big + b'"}\n' + jsonl(after))
        self.expected.update({r["id"]: r["answer"] for r in before + after})
        long_field = {"question": "long", "answer": "x" * 300_000}
        self.name(".jsonl").write_bytes(jsonl([long_field]))
        for suffix in (".jsonl", ".txt", ".xml"):  # 256 MB (over RSS_BOUND_MB), sparse
            with self.name(suffix).open("wb") as handle:
                handle.truncate(256 << 20)

    def deep(self) -> None:
        depth = self.rng.randrange(2_000, 200_000)
        kept = self.good_rows(2)
        lines = [b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth,
                 b'{"question": "q", "answer": "", "extra": ' + b"[" * depth + b"]" * depth + b"}"]
        self.name(".jsonl").write_bytes(b"\n".join(lines) + b"\n" + jsonl(kept))
        self.expected.update({r["id"]: r["answer"] for r in kept})
        self.name(".xml").write_bytes(b"<Document>" + b"<a>" * depth + b"</a>" * depth
                                      + b"</Document>")

    def encodings(self) -> None:
        items = self.good_rows(3)
        text = jsonl(items).decode()
        self.name(".jsonl").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
        self.name(".jsonl").write_bytes(text.encode("utf-16-be"))
        self.name(".jsonl").write_bytes(b"\xc0\xaf\xed\xa0\x80" + text.encode()[:40] + b"\n")
        self.name(".jsonl").write_bytes(b'{"question": "\\ud83d", "answer": "\\udc00"}\n'
                                        b'{"id": ' + b"9" * 10_000 + b', "question": "q"}\n')
        page = (FIXTURES / "page_chinese_body.txt").read_text(encoding="utf-8")
        codec = self.rng.choice(["gb18030", "big5", "utf-16", "latin-1", "cp1252"])
        self.name(".txt").write_bytes(page.encode(codec, errors="replace"))
        kept = self.good_rows(2)
        self.name(".jsonl").write_bytes(codecs.BOM_UTF8 + jsonl(kept).replace(b"\n", b"\r\n"))
        self.expected.update({r["id"]: r["answer"] for r in kept})

    def nul(self) -> None:
        items = self.good_rows(4)
        for item in items[:2]:  # escaped NUL characters are stripped: the records are kept
            at = self.rng.randrange(len(item["answer"]) + 1)
            item["answer"] = item["answer"][:at] + "\u0000" + item["answer"][at:]
        self.expected.update({r["id"]: r["answer"].replace("\u0000", "") for r in items})
        broken = jsonl(self.good_rows(2))  # raw NUL bytes: those lines are rejected
        at = self.rng.randrange(len(broken))
        self.name(".jsonl").write_bytes(jsonl(items) + broken[:at] + b"\x00" + broken[at:])
        page = bytearray((FIXTURES / self.rng.choice(PAGES)).read_bytes())
        for _ in range(self.rng.randrange(1, 6)):
            page.insert(self.rng.randrange(len(page)), 0)
        self.name(".txt").write_bytes(bytes(page))

    def links(self) -> None:
        fifo = self.outside / f"{self.tag}-fifo"
        os.mkfifo(fifo)
        target = self.outside / f"{self.tag}-outside.jsonl"
        items = self.good_rows(2)
        target.write_bytes(jsonl(items))
        self.expected.update({r["id"]: r["answer"] for r in items})
        for suffix, to in ((".jsonl", "/dev/zero"), (".txt", "/dev/urandom"), (".xml", "/dev/null"),
                           (".jsonl", str(fifo)), (".jsonl", str(target)),
                           (".txt", "/proc/self/status"), (".jsonl", "/nonexistent"),
                           (".jsonl", str(self.outside))):
            self.name(suffix).symlink_to(to)
        loop = self.name(".txt")
        loop.symlink_to(loop)

    def special(self) -> None:
        for suffix in (".jsonl", ".txt", ".xml"):
            os.mkfifo(self.name(suffix))
        os.mkfifo(self.folder / f".{self.tag}-hidden.jsonl")
        where = self.name(".xml")
        if len(str(where)) < 100:
            sock = socket.socket(socket.AF_UNIX)
            sock.bind(str(where))
            sock.close()
        (self.folder / os.fsdecode(f"{self.tag}-\xff.jsonl".encode("latin-1"))).write_bytes(
            jsonl(self.good_rows(1)))
        self.name(".jsonl").write_bytes(b"")
        self.name(".jsonl").write_bytes(b"\n" * 200_000 + b"{}\n" * 20_000)
        self.name(".jsonl").mkdir()

    def slow_text(self) -> None:
        run = self.rng.choice([" ", "\t", "\u3000", "\u00a0"]) * self.rng.randrange(20_000, 150_000)
        self.name(".txt").write_text(
            f"T\nq a{run}b\nLee, 30 female. Ask Date{run}: 2024/1/1\nDr. X reply Y\na{run}b...\n"
            f"Similar Q&A\nT\nQ a{run}b...\nDr. Z reply W\na{run}b{run}...{run}[Read More]{run}T\n")
        item = {"id": f"{self.tag}-{self.count}-run", "question": f"a{run}b", "answer": "ok"}
        self.name(".jsonl").write_bytes(jsonl([item]))
        self.expected[item["id"]] = "ok"

    KINDS = ("truncated", "random_bytes", "huge", "deep", "encodings", "nul", "links", "special",
             "slow_text")


def test_random_damage_never_crashes_loses_records_or_blows_memory(settings, embedder, tmp_path):
    rng = random.Random(SEED)
    knowledge, outside = settings.knowledge_dir, tmp_path / "outside"
    outside.mkdir()
    good = rows("good-", 20)
    (knowledge / "good.jsonl").write_bytes(jsonl(good))
    for page in PAGES:
        shutil.copy(FIXTURES / page, knowledge / page)
    (knowledge / "99_Demo_QA").mkdir()
    shutil.copy(XML, knowledge / "99_Demo_QA" / XML.name)
    pristine = {r.id: r.to_json() for pf in (parse_file(p, knowledge) for p in sorted(
        knowledge.rglob("*.*"))) for r in pf.records}
    assert len(pristine) > 25
    assert ingest(settings, embedder=embedder).status == "updated"  # warm up: imports, Chroma,
    list(KnowledgeBase(settings, embedder=embedder).current().iter_records())  # and reading
    rss_before, started, seen = _max_rss_mb(), time.perf_counter(), set()
    for number in range(ROUNDS):
        folder = knowledge / f"damage{number}"
        folder.mkdir()
        damage = Damage(rng, folder, outside, f"r{number}")
        kinds = [Damage.KINDS[number % len(Damage.KINDS)],
                 *rng.sample(Damage.KINDS, rng.randrange(1, 4))]
        for kind in dict.fromkeys(kinds):
            getattr(damage, kind)()
            seen.add(kind)
        report = ingest(settings, embedder=embedder)
        assert report.status in ("updated", "unchanged"), (kinds, report.error)
        assert report.exit_code in (0, 1)
        stored = {r.id: r for r in KnowledgeBase(settings, embedder=embedder).current()
                  .iter_records()}
        lost = [rid for rid in pristine if stored.get(rid) is None
                or stored[rid].to_json() != pristine[rid]]
        assert not lost, (number, kinds, lost)
        missing = {rid for rid, answer in damage.expected.items()
                   if rid not in stored or stored[rid].answer != answer}
        assert not missing, (number, kinds, sorted(missing), [str(r) for r in report.rejections])
        assert not any("\x00" in json.dumps(r.to_json()) for r in stored.values())
        json.dumps(report.to_json(), ensure_ascii=False).encode("utf-8")  # printable as is
        shutil.rmtree(folder)
        for child in outside.iterdir():
            child.unlink()
    seconds, growth = time.perf_counter() - started, _max_rss_mb() - rss_before
    print(f"fuzz: {ROUNDS} rounds in {seconds:.1f} s, peak RSS growth {growth:.0f} MB")
    assert seen == set(Damage.KINDS)
    assert growth < RSS_BOUND_MB, f"peak RSS grew by {growth:.0f} MB"
    assert seconds < 30


@pytest.mark.parametrize("parser, sample", [
    (parse_jsonl_bytes, jsonl(rows("m-", 5))),
    (parse_page_bytes, (FIXTURES / "page_two_replies.txt").read_bytes()),
    (parse_xml_bytes, XML.read_bytes()),
])
def test_parsers_never_raise_on_mutated_input(parser, sample):
    rng = random.Random(SEED)
    started = time.perf_counter()
    pieces = [b"\x00", b"\xff", b"[", b"{", b"<a>", b"\\u0000", b"\\ud800", b"\n", b"\r", b'"',
              b"\xe4\xbd", b"Dr. X reply Y\n", b"&#0;", b"]]>", "\u2028".encode(), b" " * 500,
              b"...", b"[Read More]", b"Ask Date:", b"Similar Q&A\n"]
    for _ in range(MUTATIONS):
        data = bytearray(sample)
        for _ in range(rng.randrange(1, 6)):
            at = rng.randrange(len(data) + 1)
            action = rng.randrange(4)
            if action == 0:
                data[at:at] = rng.choice(pieces) * rng.randrange(1, 50)
            elif action == 1:
                del data[at : at + rng.randrange(1, 40)]
            elif action == 2 and at < len(data):
                data[at] = rng.randrange(256)
            else:
                data[at:at] = rng.randbytes(rng.randrange(1, 20))
        parsed = parser(bytes(data), "fuzz/file")
        for record in parsed.records:
            json.dumps(record.to_json(), ensure_ascii=False).encode("utf-8")
            assert "\x00" not in record.question + record.answer
    assert time.perf_counter() - started < 10

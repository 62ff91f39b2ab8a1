"""Parse a Markdown FAQ: a heading per question, the text below it the answer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.corpus.csv_table import field_name
from bot.corpus.jsonl import LineError, fields_record
from bot.corpus.limits import SourceFile, nul_note
from bot.corpus.markdown_text import FENCE, inline, plain_text
from bot.corpus.text import DecodeError, clean_newlines, decode_without_nul, normalise_whitespace
from bot.records import KINDS, Rejection

NO_HEADINGS = ('no headings (a Markdown FAQ has a heading per question, e.g. "## Do I need an '
               'appointment?", with the answer below it)')
MAX_FRONT_MATTER_LINES = 100
_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]|$)")
_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
_PER_QUESTION = frozenset({"id", "question", "answer"})


@dataclass
class _Block:
    """A heading and the lines below it."""

    line: int
    level: int
    text: str
    body: list[str] = field(default_factory=list)


def parse_markdown_bytes(data: bytes, rel: str) -> SourceFile:
    """Decode and parse one Markdown FAQ; NUL bytes are removed, with a warning."""
    try:
        text, nuls, first = decode_without_nul(data)
    except DecodeError as exc:
        return SourceFile(rel, rejections=[Rejection(rel, str(exc))], fatal=True)
    parsed = parse_markdown(clean_newlines(text), rel)
    if nuls:
        parsed.warnings.append(Rejection(rel, nul_note(nuls), element=f"offset {first}"))
    return parsed


def parse_markdown(text: str, rel: str) -> SourceFile:
    """Questions are the deepest heading level, the nearest higher heading their title."""
    parsed = SourceFile(rel)
    lines = text.split("\n")
    meta, start = _front_matter(lines, rel, parsed)
    blocks = _blocks(lines, start)
    if not blocks:
        return SourceFile(rel, rejections=[Rejection(rel, NO_HEADINGS)], fatal=True)
    level = max(b.level for b in blocks)
    base = rel[:-3] if rel.lower().endswith(".md") else rel
    sections: dict[int, str] = {}
    position = 0
    for block in blocks:
        heading = normalise_whitespace(inline(block.text))
        if block.level < level:
            sections = {lv: t for lv, t in sections.items() if lv < block.level}
            sections[block.level] = heading
            if heading.endswith(("?", "？")) and plain_text(block.body):
                # Most likely a question whose answer uses a deeper heading of its own.
                parsed.warnings.append(Rejection(
                    rel, f'text under "{heading[:60]}" was left out: questions are the '
                    f"{'#' * level} headings (the deepest level in the file)", line=block.line))
            continue
        position += 1
        answer = plain_text(block.body)
        try:
            if not heading:
                raise LineError("heading without text")
            if not answer:
                raise LineError(f'heading "{heading[:60]}" has no answer text below it')
            title = sections[max(sections)] if sections else meta.get("title", "")
            fields = {**meta, "question": heading, "answer": answer, "title": title}
            parsed.records.append(fields_record(fields, rel, f"md:{base}#q{position}"))
        except LineError as exc:
            parsed.rejections.append(Rejection(rel, str(exc), line=block.line))
    return parsed


def _blocks(lines: list[str], start: int) -> list[_Block]:
    """Every heading outside code fences, with the lines under it (an introduction is left out)."""
    blocks: list[_Block] = []
    fence = ""
    for number, line in enumerate(lines[start:], start + 1):
        mark = FENCE.match(line)
        if mark and (not fence or mark[1].startswith(fence)):
            fence = "" if fence else mark[1]
        elif not fence and (heading := _HEADING.match(line)):
            blocks.append(_Block(number, len(heading[1]), _heading_text(line[heading.end() :])))
            continue
        if blocks:
            blocks[-1].body.append(line)
    return blocks


def _heading_text(rest: str) -> str:
    """A heading's text without the optional closing #s."""
    text = rest.strip()
    bare = text.rstrip("#")
    if not bare or bare.endswith((" ", "\t")):
        text = bare.rstrip()
    return text


def _front_matter(lines: list[str], rel: str, parsed: SourceFile) -> tuple[dict[str, str], int]:
    """(fields of every question, first line after them) from 'key: value' front matter."""
    if not lines or lines[0].strip() != "---":
        return {}, 0
    ends = (i for i in range(1, min(len(lines), MAX_FRONT_MATTER_LINES)) if
            lines[i].strip() in ("---", "..."))
    end = next(ends, None)
    if end is None:
        return {}, 0
    meta: dict[str, str] = {}
    for number in range(2, end + 1):
        line = lines[number - 1].strip()
        if not line or line.startswith("#"):
            continue
        key, colon, value = line.partition(":")
        key, value = field_name(key), value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1].strip()
        if not colon or not _KEY.fullmatch(key):
            problem = 'front matter: not a "key: value" line'
        elif key in _PER_QUESTION:
            problem = f'front matter: "{key}" belongs to each question, not to the whole file'
        elif key == "kind" and value not in KINDS:
            problem = f'front matter: "kind" is "{value[:40]}", not one of {", ".join(KINDS)}'
        else:
            if value:
                meta[key] = value
            continue
        parsed.rejections.append(Rejection(rel, problem, line=number))
    return meta, end + 1

"""Parse a plain-text FAQ of Q:/A: pairs; any other .txt file is read as a Q&A page."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.corpus.jsonl import LineError, fields_record
from bot.corpus.limits import SourceFile, nul_note
from bot.corpus.qa_page import parse_page_bytes
from bot.corpus.text import DecodeError, clean_newlines, decode_without_nul, normalise_whitespace
from bot.records import Rejection

_MARK = re.compile(r"[ \t]*(q|question|a|answer)[ \t]*[:：][ \t]*", re.I)
_LEADING_SPACE = re.compile(r"\s*")


@dataclass
class _Part:
    """A Q: or A: line and the lines after it up to the next marker."""

    line: int
    is_question: bool
    lines: list[str] = field(default_factory=list)

    def text(self) -> str:
        """The part's text, whitespace normalised."""
        return normalise_whitespace("\n".join(self.lines))


def is_faq(text: str) -> bool:
    """True when the first non-blank line starts with Q: or Question: (any case)."""
    text = text.lstrip("\ufeff")
    mark = _MARK.match(text, _LEADING_SPACE.match(text).end())
    return bool(mark) and mark[1].lower() in ("q", "question")


def parse_txt_bytes(data: bytes, rel: str) -> SourceFile:
    """A .txt file: a Q:/A: FAQ when it starts with a question, else a Q&A page."""
    try:
        text, nuls, first = decode_without_nul(data)
    except DecodeError:
        return parse_page_bytes(data, rel)  # which words the rejection
    if not is_faq(text):
        return parse_page_bytes(data, rel)
    parsed = parse_faq(clean_newlines(text), rel)
    if nuls:
        parsed.warnings.append(Rejection(rel, nul_note(nuls), element=f"offset {first}"))
    return parsed


def parse_faq(text: str, rel: str) -> SourceFile:
    """Each Q: (its text may go on over several lines) needs an A: before the next Q:."""
    parsed = SourceFile(rel)
    base = rel[:-4] if rel.lower().endswith(".txt") else rel
    parts = _parts(text.split("\n"))
    position = 0
    question: _Part | None = None
    for part in parts:
        if part.is_question:
            if question is not None:
                _reject(parsed, question, 'question without an answer (no "A:" before the next '
                        '"Q:")')
            position += 1
            question = part
        elif question is None:
            _reject(parsed, part, 'answer without a question (no "Q:" before this "A:")')
        else:
            _pair(parsed, question, part, f"faq:{base}#q{position}")
            question = None
    if question is not None:
        _reject(parsed, question, 'question without an answer (no "A:" after this "Q:")')
    return parsed


def _parts(lines: list[str]) -> list[_Part]:
    """The Q: and A: parts, in order."""
    parts: list[_Part] = []
    for number, line in enumerate(lines, 1):
        mark = _MARK.match(line)
        if mark:
            parts.append(_Part(number, mark[1].lower() in ("q", "question"), [line[mark.end() :]]))
        elif parts:
            parts[-1].lines.append(line)
    return parts


def _pair(parsed: SourceFile, question: _Part, answer: _Part, record_id: str) -> None:
    """One question and its answer as a record, or a rejection naming the line at fault."""
    q, a = question.text(), answer.text()
    if not q:
        _reject(parsed, question, 'empty question ("Q:" with no text)')
    elif not a:
        _reject(parsed, answer, 'empty answer ("A:" with no text)')
    else:
        try:
            parsed.records.append(fields_record({"question": q, "answer": a}, parsed.path,
                                                record_id))
        except LineError as exc:
            parsed.rejections.append(Rejection(parsed.path, str(exc), line=question.line))


def _reject(parsed: SourceFile, part: _Part, reason: str) -> None:
    parsed.rejections.append(Rejection(parsed.path, reason, line=part.line))

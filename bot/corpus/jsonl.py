"""Parse JSONL corpus files (one question/answer object a line, e.g. MedQuAD)."""

from __future__ import annotations

import json

from bot.corpus.text import Scrubber, detect_language, name_tokens, normalise_date, strip_salutation
from bot.records import KINDS, ParsedFile, Record, Rejection

META = ("title", "doctor", "department", "hospital", "asked", "replied", "language", "url")
CORE = frozenset({"id", "question", "answer", "kind", "source_file", "extra", *META})
# Fields that name a person: used to scrub the text, never stored.
PERSON_KEYS = frozenset({"asker", "patient", "patient_name", "name", "user", "username", "author"})


class LineError(ValueError):
    """A line that cannot become a record; the message names the field."""


def parse_jsonl_bytes(data: bytes, rel: str) -> ParsedFile:
    """Parse every line; bad lines become Rejections with their 1-based line number."""
    parsed = ParsedFile(rel)
    first_line: dict[str, int] = {}
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for number, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            record = _record(_load(raw), rel, number)
        except LineError as exc:
            parsed.rejections.append(Rejection(rel, str(exc), line=number))
            continue
        if record.id in first_line:
            reason = f"duplicate id {record.id} (first at line {first_line[record.id]})"
            parsed.rejections.append(Rejection(rel, reason, line=number))
            continue
        first_line[record.id] = number
        parsed.records.append(record)
    return parsed


def _load(raw: bytes) -> dict:
    """The JSON object on one line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LineError(f"not valid UTF-8 (bad byte at column {exc.start + 1})") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LineError(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise LineError(f"not a JSON object (got {type(obj).__name__})")
    return obj


def _record(obj: dict, rel: str, number: int) -> Record:
    """Validate one object and map it onto a Record."""
    question, answer = obj.get("question"), obj.get("answer")
    if not isinstance(question, str) or not question.strip():
        raise LineError("field 'question' missing or empty (must be a non-empty string)")
    if "answer" not in obj:
        raise LineError("field 'answer' missing (use \"\" for a question without answer)")
    if not isinstance(answer, str):
        raise LineError(f"field 'answer' must be a string, not {type(answer).__name__}")
    meta = {}
    for key in META:
        value = obj.get(key)
        if value is not None and not isinstance(value, str):
            raise LineError(f"field '{key}' must be a string, not {type(value).__name__}")
        meta[key] = (value or "").strip()
    extra = _extra(obj)
    if not meta["title"]:
        meta["title"] = extra.get("focus", "")
    kind = _kind(obj.get("kind"), answer, meta["doctor"])
    question, answer = _deidentify(obj, question.strip(), answer.strip())
    if not meta["language"]:
        meta["language"] = detect_language(f"{question}\n{answer}")
    for key in ("asked", "replied"):
        meta[key] = normalise_date(meta[key]) if meta[key] else ""
    return Record(
        id=_id(obj.get("id"), rel, number),
        question=question,
        answer=answer,
        kind=kind,
        source_file=rel,
        extra=extra,
        **meta,
    )


def _id(value: object, rel: str, number: int) -> str:
    """The line's own id, or one made from the file and line."""
    if isinstance(value, bool) or not isinstance(value, str | int | type(None)):
        raise LineError(f"field 'id' must be a string, not {type(value).__name__}")
    value = str(value).strip() if value is not None else ""
    return value or f"jsonl:{rel}:{number}"


def _kind(value: object, answer: str, doctor: str) -> str:
    """An explicit valid kind wins; else question_only / doctor_reply / qa."""
    if value is not None and value != "":
        if value not in KINDS:
            raise LineError(f"field 'kind' is {value!r}, not one of {', '.join(KINDS)}")
        return str(value)
    if not answer.strip():
        return "question_only"
    return "doctor_reply" if doctor else "qa"


def _extra(obj: dict) -> dict[str, str]:
    """Other string fields (and an 'extra' object's string values); no nulls, no person names."""
    extra = {
        k: v
        for k, v in obj.items()
        if k not in CORE and k not in PERSON_KEYS and isinstance(v, str)
    }
    nested = obj.get("extra")
    if isinstance(nested, dict):
        extra.update(
            {k: v for k, v in nested.items() if isinstance(v, str) and k not in PERSON_KEYS}
        )
    return extra


def _deidentify(obj: dict, question: str, answer: str) -> tuple[str, str]:
    """Drop named salutations and any name given in a person field."""
    tokens: set[str] = set()
    for key in PERSON_KEYS & obj.keys():
        if isinstance(obj[key], str):
            tokens |= name_tokens(obj[key])
    question, found_q = strip_salutation(question, tokens)
    answer, found_a = strip_salutation(answer, tokens)
    tokens |= found_q | found_a
    scrub = Scrubber(tokens) if tokens else _TITLES_ONLY
    return scrub(question), scrub(answer)


_TITLES_ONLY = Scrubber()

"""Parse JSONL corpus files (one question/answer object a line, e.g. MedQuAD)."""

from __future__ import annotations

import io
import json
import sys

from bot.corpus.limits import (
    MAX_FIELD_CHARS,
    MAX_LINE_BYTES,
    NO_DEADLINE,
    Source,
    SourceFile,
    field_problem,
    nul_note,
)
from bot.corpus.text import Scrubber, detect_language, name_tokens, normalise_date, strip_salutation
from bot.records import KINDS, Record, Rejection

META = ("title", "doctor", "department", "hospital", "asked", "replied", "language", "url")
CORE = frozenset({"id", "question", "answer", "kind", "source_file", "extra", *META})
# Fields that name a person: used to scrub the text, never stored.
PERSON_KEYS = frozenset({"asker", "patient", "patient_name", "name", "user", "username", "author"})
UTF16 = (b"\xff\xfe", b"\xfe\xff")


class LineError(ValueError):
    """A line that cannot become a record; the message names the field."""


def parse_jsonl_bytes(data: bytes, rel: str) -> SourceFile:
    """Parse JSONL held in memory (see parse_jsonl)."""
    return parse_jsonl(Source(io.BytesIO(data), len(data), rel, NO_DEADLINE))


def parse_jsonl(source: Source) -> SourceFile:
    """Parse line by line; bad lines become Rejections with their 1-based line number."""
    rel = source.rel
    parsed = SourceFile(rel)
    first_line: dict[str, int] = {}
    for number, raw, size in source.lines():
        if number % 4096 == 0:
            source.deadline.check(f"reading {rel} (line {number:,})")
        if raw is None:
            reason = f"line is {size:,} bytes, over the {MAX_LINE_BYTES:,}-byte limit"
            parsed.rejections.append(Rejection(rel, reason, line=number))
            continue
        if number == 1:
            if raw.startswith(UTF16):
                reason = "UTF-16 text (JSONL must be UTF-8; convert the file)"
                return SourceFile(rel, rejections=[Rejection(rel, reason)], fatal=True)
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        if not raw.strip():
            continue
        notes: list[str] = []
        try:
            record = fields_record(_screened(_load(raw), notes), rel, f"jsonl:{rel}:{number}")
        except LineError as exc:
            parsed.rejections.append(Rejection(rel, str(exc), line=number))
            continue
        parsed.warnings.extend(Rejection(rel, note, line=number) for note in notes)
        if record.id in first_line:
            reason = f"duplicate id {record.id} (first at line {first_line[record.id]})"
            parsed.rejections.append(Rejection(rel, reason, line=number))
            continue
        first_line[record.id] = number
        parsed.records.append(record)
    parsed.digest = source.digest
    return parsed


def _load(raw: bytes) -> dict:
    """The JSON object on one line."""
    if b"\x00" in raw:
        raise LineError(f"NUL byte at column {raw.index(0) + 1} (JSONL must be UTF-8 text)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LineError(f"not valid UTF-8 (bad byte at column {exc.start + 1})") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LineError(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise LineError("invalid JSON: nested too deeply") from None
    except ValueError:  # an integer over Python's digit limit
        limit = sys.get_int_max_str_digits()
        raise LineError(f"invalid JSON: a number is too long (over {limit:,} digits)") from None
    if not isinstance(obj, dict):
        raise LineError(f"not a JSON object (got {type(obj).__name__})")
    return obj


def _screened(obj: dict, notes: list[str]) -> dict:
    """String fields checked against the caps and for valid Unicode; NUL characters removed."""
    nul = False
    for key, value in obj.items():
        if isinstance(value, str):
            odd = not (value.isascii() and key.isascii()) or len(value) > MAX_FIELD_CHARS
            if odd and (problem := field_problem(key, value) or field_problem(key, key)):
                raise LineError(problem)
            nul = nul or "\x00" in value or "\x00" in key
        elif key == "extra" and isinstance(value, dict):
            obj[key] = _screened({k: v for k, v in value.items() if isinstance(v, str)}, notes)
    if not nul:
        return obj
    out = {}
    for key, value in obj.items():
        if isinstance(value, str) and ("\x00" in value or "\x00" in key):
            clean = key.replace("\x00", "")
            notes.append(f"{nul_note((key + value).count(chr(0)), 'character')} from field "
                         f"'{clean}'")
            key, value = clean, value.replace("\x00", "")
        out[key] = value
    return out


def fields_record(obj: dict, rel: str, default_id: str) -> Record:
    """Validate JSONL fields (a line, a CSV row, a FAQ entry) and map them onto a Record."""
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
        id=_id(obj.get("id"), default_id),
        question=question,
        answer=answer,
        kind=kind,
        source_file=rel,
        extra=extra,
        **meta,
    )


def _id(value: object, default_id: str) -> str:
    """The line's own id, or the one made from where it is in the file."""
    if isinstance(value, bool) or not isinstance(value, str | int | type(None)):
        raise LineError(f"field 'id' must be a string, not {type(value).__name__}")
    value = str(value).strip() if value is not None else ""
    return value or default_id


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

"""Parse a CSV table of questions and answers whose header row names JSONL's fields."""

from __future__ import annotations

import csv
import re
from collections import Counter

from bot.corpus.jsonl import CORE, LineError, fields_record
from bot.corpus.limits import (
    MAX_FIELD_CHARS,
    MAX_TABLE_BYTES,
    NO_DEADLINE,
    Deadline,
    SourceFile,
    nul_note,
)
from bot.corpus.text import DecodeError, clean_newlines, decode_without_nul, normalise_whitespace
from bot.records import KINDS, Record, Rejection

DELIMITERS = (",", ";", "\t")
_SHOWN = {",": '","', ";": '";"', "\t": "a tab"}
_NAME_GAPS = re.compile(r"[\s-]+")
# csv's own cell cap (131,072 characters) is below ours, and its error loses the rest of the
# line: any cell a .csv can hold must reach the check below, which names its column and size.
csv.field_size_limit(max(csv.field_size_limit(), MAX_TABLE_BYTES))


def field_name(text: str) -> str:
    """A header (or front-matter key) as a field name: 'Patient Name' -> 'patient_name'."""
    return _NAME_GAPS.sub("_", text.strip().lower())


def parse_csv_bytes(data: bytes, rel: str, deadline: Deadline = NO_DEADLINE) -> SourceFile:
    """Decode and parse one CSV file; each bad row is rejected with the line it starts on."""
    try:
        text, nuls, first = decode_without_nul(data)
    except DecodeError as exc:
        reason = f'{exc}; save it as UTF-8 (in Excel: "CSV UTF-8")'
        return SourceFile(rel, rejections=[Rejection(rel, reason)], fatal=True)
    parsed = _parse(clean_newlines(text), rel, deadline)
    if nuls:
        parsed.warnings.append(Rejection(rel, nul_note(nuls), element=f"offset {first}"))
    return parsed


class _Lines:
    """The text's lines for csv.reader; `done` once it asked for more than there is."""

    def __init__(self, text: str) -> None:
        self.text, self.at, self.done = text, 0, False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.at >= len(self.text):
            self.done = True
            raise StopIteration
        end = self.text.find("\n", self.at)
        end = len(self.text) if end < 0 else end + 1
        line, self.at = self.text[self.at : end], end
        return line


def sniff(text: str) -> str:
    """The delimiter that splits the header into question and answer (else into most columns)."""
    header = next((line for line in text.split("\n", 50)[:50] if line.strip()), "")
    splits = [(d, [field_name(c) for c in next(csv.reader([header], delimiter=d))])
              for d in DELIMITERS]
    for d, names in splits:
        if {"question", "answer"} <= set(names):
            return d
    return max(splits, key=lambda split: len(split[1]))[0]


def _parse(text: str, rel: str, deadline: Deadline) -> SourceFile:
    """Rows after the header as records; a bad header rejects the whole file."""
    parsed = SourceFile(rel)
    delimiter = sniff(text)
    lines = _Lines(text)
    reader = csv.reader(lines, delimiter=delimiter, skipinitialspace=True)
    names: list[str] | None = None
    last = position = 0
    first_line: dict[str, int] = {}
    while True:
        try:
            row = next(reader)
            problem = None
        except StopIteration:
            break
        except csv.Error as exc:
            row, problem = [], f"malformed CSV: {exc}"
        start, last = last + 1, reader.line_num
        if lines.done:  # the reader reached the end inside a quoted cell
            problem = ("a quoted cell opened in this row is never closed (the rest of the file "
                       "was read as one cell; close the quote)")
        if problem is None and not any(cell.strip() for cell in row):
            continue
        if names is None:
            names, fatal = _header(row, problem)
            if fatal:
                return SourceFile(rel, rejections=[Rejection(rel, fatal, line=start)], fatal=True)
            continue
        position += 1
        if position % 4096 == 0:
            deadline.check(f"reading {rel} (line {start:,})")
        try:
            if problem:
                raise LineError(problem)
            record = _record(row, names, rel, position, delimiter)
        except LineError as exc:
            parsed.rejections.append(Rejection(rel, str(exc), line=start))
            continue
        if record.id in first_line:
            reason = f"duplicate id {record.id} (first at line {first_line[record.id]})"
            parsed.rejections.append(Rejection(rel, reason, line=start))
            continue
        first_line[record.id] = start
        parsed.records.append(record)
    return parsed


def _header(row: list[str], problem: str | None) -> tuple[list[str], str | None]:
    """The column names, or why the header row cannot be used."""
    if problem:
        return [], f"header row: {problem}"
    names = [field_name(cell) for cell in row]
    for name, count in Counter(names).items():
        if name and count > 1:
            where = " and ".join(str(i + 1) for i, n in enumerate(names) if n == name)
            return [], f'column "{name}" appears more than once in the header (columns {where})'
    missing = [n for n in ("question", "answer") if n not in names]
    if missing:
        found = ", ".join(f'"{n[:40]}"' for n in names[:20] if n) or "none"
        wanted = " and ".join(f'"{n}"' for n in missing)
        plural = "columns" if len(missing) > 1 else "column"
        return [], (f"no {wanted} {plural} in the header row (columns found: {found}); a CSV "
                    'needs "question" and "answer" columns, delimited by ",", ";" or a tab')
    return names, None


def _record(row: list[str], names: list[str], rel: str, position: int, delimiter: str) -> Record:
    """One data row as a Record; LineError names the column at fault."""
    if len(row) > len(names):  # an unquoted delimiter in a cell shifts the cells after it
        raise LineError(f"row has {len(row)} cells, the header {len(names)} columns (put "
                        f"quotes around a cell that contains {_SHOWN[delimiter]})")
    fields: dict[str, str] = {}
    for name, cell in zip(names, row, strict=False):
        value = cell.strip()
        if len(value) > MAX_FIELD_CHARS:
            raise LineError(f'field "{name[:40]}": {len(value):,} characters, over the '
                            f"{MAX_FIELD_CHARS:,}-character limit")
        if name and (value or name in CORE):  # an empty cell is no value
            fields[name] = value
    fields["question"] = normalise_whitespace(fields.get("question", ""))
    fields["answer"] = normalise_whitespace(fields.get("answer", ""))
    kind = fields.get("kind", "")
    if kind and kind not in KINDS:
        raise LineError(f'field "kind": "{kind[:40]}" is not one of {", ".join(KINDS)}')
    if not fields["question"]:
        raise LineError('field "question": empty')
    if not fields["answer"] and kind != "question_only":
        raise LineError('field "answer": empty')
    base = rel[:-4] if rel.lower().endswith(".csv") else rel
    return fields_record(fields, rel, f"csv:{base}#row{position}")

"""What reading the corpus may cost: regular files only, read once and hashed as read, bounded
lines, fields and documents, and a time bound with cancellation (INGEST_TIMEOUT)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from bot.records import ParsedFile, Record, Rejection

# Caps a real corpus never reaches (MedQuAD's longest line and field: 27 KB).
MAX_LINE_BYTES = 1 << 20  # one JSONL line
MAX_FIELD_CHARS = 200_000  # one question, answer, title or other text field
MAX_DOCUMENT_BYTES = 4 << 20  # one whole .txt, .md or .xml document (real ones: < 100 KB)
MAX_TABLE_BYTES = 32 << 20  # one whole .csv file (read whole: a quoted cell may span lines)
_BLOCK = 1 << 16
_CHECK_EVERY = 1 << 26  # bytes read between two looks at the deadline
_NOT_REGULAR = ((stat.S_ISDIR, "folder"), (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"),
                (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"))


class Unreadable(Exception):
    """The file cannot be read safely; the message says why."""


class Stopped(Exception):
    """The ingest ran past INGEST_TIMEOUT or was cancelled."""


class Deadline:
    """INGEST_TIMEOUT counted from now, and a cancel flag; check() between files and batches."""

    def __init__(self, seconds: float | None = None, cancel: threading.Event | None = None) -> None:
        self.seconds, self.cancel = seconds, cancel
        self._end = time.monotonic() + seconds if seconds else None

    def check(self, doing: str) -> None:
        """Raise Stopped when the ingest was cancelled or its time is up."""
        if self.cancel is not None and self.cancel.is_set():
            raise Stopped(f"ingest cancelled while {doing}")
        if self._end is not None and time.monotonic() > self._end:
            raise Stopped(f"INGEST_TIMEOUT ({self.seconds:g} s) reached while {doing}; the "
                          "new version was abandoned (raise INGEST_TIMEOUT for a larger corpus)")


NO_DEADLINE = Deadline()


@dataclass
class SourceFile(ParsedFile):
    """A parsed file, the hash of its bytes, and what was repaired in it (warnings)."""

    digest: str = ""
    warnings: list[Rejection] = field(default_factory=list)


def as_source(parsed: ParsedFile) -> SourceFile:
    """The same parse result as a SourceFile."""
    if isinstance(parsed, SourceFile):
        return parsed
    return SourceFile(parsed.path, parsed.records, parsed.rejections, parsed.fatal)


class Source:
    """Bytes of one file, at most the size it had when opened, hashed as they are read."""

    def __init__(self, handle: BinaryIO, size: int, rel: str, deadline: Deadline) -> None:
        self.handle, self.size, self.left = handle, size, size
        self.rel, self.deadline = rel, deadline
        self._hash, self._since = hashlib.sha256(), 0

    @classmethod
    def open(cls, path: Path, rel: str, deadline: Deadline = NO_DEADLINE) -> Source:
        """Open a regular file; anything else (FIFO, device, socket, folder) is Unreadable."""
        _must_be_regular(_stat(os.stat, path))
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # a FIFO never blocks
        except OSError as exc:
            raise Unreadable(f"cannot read: {exc.strerror or exc}") from None
        try:
            info = _stat(os.fstat, fd)
            _must_be_regular(info)  # it may have been swapped since the stat above
            os.set_blocking(fd, True)
            return cls(os.fdopen(fd, "rb", buffering=_BLOCK), info.st_size, rel, deadline)
        except BaseException:
            os.close(fd)
            raise

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.handle.close()

    @property
    def digest(self) -> str:
        """Hash of what was read (the whole file once it was read to the end)."""
        return self._hash.hexdigest()[:32]

    def _took(self, data: bytes) -> bytes:
        self.left -= len(data)
        self._hash.update(data)
        self._since += len(data)
        if self._since >= _CHECK_EVERY:
            self._since = 0
            self.deadline.check(f"reading {self.rel}")
        return data

    def read_all(self, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
        """The whole file, or Unreadable when it is larger than limit (nothing is read then)."""
        if self.size > limit:
            raise Unreadable(f"file is {self.size:,} bytes, over the {limit:,}-byte limit")
        return self._took(self.handle.read(self.left))

    def lines(self, limit: int = MAX_LINE_BYTES) -> Iterator[tuple[int, bytes | None, int]]:
        """(number, line, size) for each line; line is None when it is over limit (skipped
        in blocks, never held)."""
        number = 0
        while self.left > 0:
            line = self._took(self.handle.readline(min(limit + 1, self.left)))
            if not line:
                return  # the file shrank while it was read
            number += 1
            if len(line) <= limit or line.endswith(b"\n"):
                yield number, line, len(line)
                continue
            size = len(line)
            while not line.endswith(b"\n") and self.left > 0:
                line = self._took(self.handle.readline(min(_BLOCK, self.left)))
                if not line:
                    break
                size += len(line)
            yield number, None, size - line.endswith(b"\n")


def _stat(call, target) -> os.stat_result:  # noqa: ANN001
    try:
        return call(target)
    except OSError as exc:
        raise Unreadable(f"cannot read: {exc.strerror or exc}") from None


def _must_be_regular(info: os.stat_result) -> None:
    for test, kind in _NOT_REGULAR:
        if test(info.st_mode):
            raise Unreadable(f"not a regular file ({kind}); only regular files are read")
    if not stat.S_ISREG(info.st_mode):
        raise Unreadable("not a regular file; only regular files are read")


def field_problem(name: str, value: str) -> str | None:
    """Why a text field cannot be stored (too long, not valid Unicode), or None."""
    if len(value) > MAX_FIELD_CHARS:
        return (f"field '{name[:40]}' is {len(value):,} characters, over the "
                f"{MAX_FIELD_CHARS:,}-character limit")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"field '{name[:40]}' is not valid Unicode (a lone surrogate)"
    return None


def nul_note(count: int, what: str = "byte") -> str:
    """'3 NUL bytes removed'."""
    return f"{count} NUL {what}{'s' if count != 1 else ''} removed"


def screen(parsed: SourceFile) -> SourceFile:
    """Reject records with a field that cannot be stored; strip NUL characters, with a warning."""
    kept: list[Record] = []
    for record in parsed.records:
        texts = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)
                 if isinstance(getattr(record, f.name), str)}
        texts.update({f"extra.{k}": v for k, v in record.extra.items()})
        problems = (field_problem(k, v) or field_problem(k, k) for k, v in texts.items())
        if problem := next((p for p in problems if p), None):
            parsed.rejections.append(Rejection(parsed.path, problem, element=record.id))
            continue
        nuls = sum(v.count("\x00") for v in texts.values())
        if nuls:
            parsed.warnings.append(Rejection(parsed.path, nul_note(nuls, "character"),
                                             element=record.id))
            strip = {k: v.replace("\x00", "") for k, v in texts.items() if "." not in k}
            extra = {k.replace("\x00", ""): v.replace("\x00", "") for k, v in record.extra.items()}
            record = dataclasses.replace(record, **strip, extra=extra)
        kept.append(record)
    parsed.records = kept
    return parsed

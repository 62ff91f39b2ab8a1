"""The one record type every corpus format is parsed into."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from typing import Literal

Kind = Literal["doctor_reply", "excerpt", "article", "qa", "question_only"]
KINDS: tuple[str, ...] = ("doctor_reply", "excerpt", "article", "qa", "question_only")


@dataclass(frozen=True)
class Record:
    """One question/answer unit of the knowledge base, free of patient names."""

    id: str
    question: str
    answer: str
    kind: Kind
    source_file: str
    title: str = ""
    doctor: str = ""
    department: str = ""
    hospital: str = ""
    asked: str = ""
    replied: str = ""
    language: str = ""
    url: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def content_hash(self) -> str:
        """Hash of everything stored for the record except where it came from."""
        data = self.to_json()
        data.pop("source_file")
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]

    def to_json(self) -> dict:
        """A plain dict, for storage (what dataclasses.asdict gives, without its deep copies:
        it was most of a no-op re-ingest's time)."""
        data = {name: getattr(self, name) for name in _FIELDS}
        data["extra"] = dict(self.extra)
        return data

    @classmethod
    def from_json(cls, data: dict) -> Record:
        """The inverse of to_json."""
        return cls(**data)


_FIELDS = tuple(f.name for f in fields(Record))


@dataclass(frozen=True)
class Rejection:
    """Something in a corpus file that could not be taken, and where."""

    file: str
    reason: str
    line: int | None = None
    element: str | None = None

    def where(self) -> str:
        """'file:line' or 'file (element)', for messages."""
        if self.line is not None:
            return f"{self.file}:{self.line}"
        if self.element:
            return f"{self.file} ({self.element})"
        return self.file

    def __str__(self) -> str:
        return f"{self.where()}: {self.reason}"


@dataclass
class ParsedFile:
    """What one corpus file gave: its records and what was rejected in it."""

    path: str
    records: list[Record] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    fatal: bool = False  # the whole file could not be read

    @property
    def clean(self) -> bool:
        """True when nothing in the file was rejected."""
        return not self.rejections and not self.fatal

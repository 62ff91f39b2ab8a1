"""What the engine returns, and the code-side rules every answer passes through:
citations checked, sources listed, the fixed disclaimer last."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Literal

from bot.records import Record

Level = Literal["emergency", "urgent", "routine"]
Mode = Literal["llm", "extractive", "emergency", "no_match", "empty_kb"]

_CITATION = re.compile(r"\[(\d+(?:\s*[,;–-]\s*\d+)*)\]")

KIND_LABEL = {
    "doctor_reply": "doctor reply",
    "excerpt": "excerpt of a doctor reply",
    "article": "article (not a doctor's reply)",
    "qa": "reference answer",
    "question_only": "question only",
}


@dataclass
class Source:
    """A numbered source given to the answer, safe to show (records carry no patient names)."""

    number: int
    id: str
    kind: str
    title: str
    doctor: str
    department: str
    hospital: str
    replied: str
    url: str
    score: float
    similarity: float
    passage: str = ""
    origin: str = ""  # where a reference answer comes from (e.g. NINDS); never a patient

    @classmethod
    def from_record(cls, number: int, record: Record, score: float, similarity: float) -> Source:
        """Attribution only where the record is a doctor's own words."""
        attributed = record.kind in ("doctor_reply", "excerpt")
        # A reference answer is best named by the question it answers.
        title = record.title or record.question[:80]
        if record.kind == "qa" and 0 < len(record.question) <= 120:
            title = record.question
        return cls(
            number=number, id=record.id, kind=record.kind, title=title,
            origin=(record.extra or {}).get("source", "") if not attributed else "",
            doctor=record.doctor if attributed else "",
            department=record.department if attributed else "",
            hospital=record.hospital if attributed else "",
            replied=record.replied if attributed else "", url=record.url,
            score=round(score, 6), similarity=round(similarity, 4),
        )

    def describe(self) -> str:
        """One line for the sources list."""
        if self.kind in ("doctor_reply", "excerpt") and self.doctor:
            who = ", ".join(p for p in (f"Dr. {self.doctor}", self.department, self.hospital) if p)
            when = f", replied {self.replied}" if self.replied else ""
            lead = "Excerpt of a reply by " if self.kind == "excerpt" else ""
            return f"[{self.number}] {lead}{who}{when}: “{self.title}”"
        label = KIND_LABEL.get(self.kind, self.kind).capitalize()
        origin = f" ({self.origin})" if self.origin else ""
        return f"[{self.number}] {label}{origin}: “{self.title}”"


@dataclass
class Answer:
    """A complete answer: `text` is exactly what the person sees, disclaimer last."""

    text: str
    triage: Level
    mode: Mode
    body: str
    disclaimer: str
    notice: str = ""
    category: str = ""
    sources: list[Source] = field(default_factory=list)
    standalone_question: str = ""
    index_version: str | None = None
    language: str = ""  # the person's language, as the triage detected it
    flags: list[dict] = field(default_factory=list)  # the triage's red flags (layer, id, words)

    def to_json(self) -> dict:
        """The `ask --json` object."""
        data = asdict(self)
        data["answer"] = data.pop("text")
        return data


def check_citations(text: str, count: int) -> str:
    """Keep [n] that point at one of `count` sources; drop the rest; [1, 2] becomes [1][2]."""

    def repair(match: re.Match) -> str:
        numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
        kept = [n for n in numbers if 1 <= n <= count]
        return "".join(f"[{n}]" for n in dict.fromkeys(kept))

    fixed = _CITATION.sub(repair, text)
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", fixed).strip()


def sources_block(sources: list[Source]) -> str:
    """The sources list appended under an answer."""
    if not sources:
        return ""
    return "Sources:\n" + "\n".join(s.describe() for s in sources)


def compose(
    body: str, disclaimer: str, notice: str = "", sources: list[Source] | None = None
) -> str:
    """notice, body, sources, then the fixed disclaimer as the very last thing."""
    parts = [notice.strip(), body.strip(), sources_block(sources or [])]
    return "\n\n".join(p for p in parts if p) + "\n\n" + disclaimer.strip()

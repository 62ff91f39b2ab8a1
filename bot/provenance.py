"""What each source is, said honestly in the person's language: a doctor's reply only when a
doctor wrote it, an NIH reference answer by its readable origin, an article as an article."""

from __future__ import annotations

import functools
import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.answer import Source
    from bot.knowledge_base import KnowledgeBase

log = logging.getLogger(__name__)

SHIPPED_LABELS = Path(__file__).resolve().parents[1] / "prompts" / "labels.toml"
TITLE_CHARS = 80  # a title in the compact sources list

# MedQuAD's `source` codes: the readable name, and whether the text is the NIH's own.
ORIGINS: dict[str, tuple[str, bool]] = {
    "MPlusHealthTopics": ("MedlinePlus", True),
    "GHR": ("Genetics Home Reference", True),
    "GARD": ("GARD", True),
    "NIDDK": ("NIDDK", True),
    "NINDS": ("NINDS", True),
    "NHLBI": ("NHLBI", True),
    "CancerGov": ("National Cancer Institute", True),
    "NIHSeniorHealth": ("NIH SeniorHealth", True),
    "SeniorHealth": ("NIH SeniorHealth", True),
    "CDC": ("CDC", False),  # a public health agency, but not part of the NIH
    # Licensed to MedlinePlus by their publishers (their answers are not in MedQuAD's release).
    "ADAM": ("A.D.A.M. Medical Encyclopedia", False),
    "MPlusDrugs": ("MedlinePlus drug information", False),
    "MPlusHerbsSupplements": ("MedlinePlus herbs and supplements", False),
}
DOCTOR_KINDS = ("doctor_reply", "excerpt")


@dataclass(frozen=True)
class Labels:
    """The short texts around sources in one language (every key there: English fills gaps)."""

    language: str
    texts: Mapping[str, str]

    def __call__(self, key: str, **values: str) -> str:
        """The label, its {placeholders} filled in."""
        return self.texts[key].format(**values) if values else self.texts[key]


def read_labels(path: Path) -> dict[str, str]:
    """One labels file: flat `key = "text"` pairs."""
    values = tomllib.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in values.items() if isinstance(v, str)}


@functools.cache
def english() -> Labels:
    """The shipped English labels, for callers that have no Prompts at hand."""
    return Labels("en", read_labels(SHIPPED_LABELS))


def origin_name(code: str) -> str:
    """"MPlusHealthTopics" -> "MedlinePlus"; an unknown origin as it was given."""
    return ORIGINS.get(code, (code.strip()[:40], False))[0]


def _named(source: Source) -> bool:
    return source.kind in DOCTOR_KINDS and bool(source.doctor)


def doctor(source: Source, labels: Labels, with_place: bool = True) -> str:
    """"Dr. Jiang Junyi, Neurology, Taoyuan Hospital" in the language's form."""
    from bot.answer import doctor_name

    name = labels("doctor", name=doctor_name(source.doctor))
    place = (source.department, source.hospital) if with_place else ()
    return ", ".join(p for p in (name, *place) if p)


def kind_label(source: Source, labels: Labels) -> str:
    """What the source is: "Doctor reply", "NIH reference answer (MedlinePlus)", …"""
    if source.kind in DOCTOR_KINDS:
        named = "" if _named(source) else "_unnamed"
        return labels(("doctor_reply" if source.kind == "doctor_reply" else "excerpt") + named)
    if source.kind == "qa":
        return _reference(source, labels, "nih_answer", "reference_from", "reference")
    if source.kind in ("article", "question_only"):
        return labels(source.kind)
    return labels("reference")


def _reference(source: Source, labels: Labels, nih: str, other: str, plain: str) -> str:
    if not source.origin:
        return labels(plain)
    name = origin_name(source.origin)
    return labels(nih if ORIGINS.get(source.origin, ("", False))[1] else other, origin=name)


def short_title(title: str, limit: int = TITLE_CHARS) -> str:
    """A title for the compact list: cut at a word, marked with "…"."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    return title[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def source_line(source: Source, labels: Labels | None = None) -> str:
    """One line of the compact sources list: "[1] Dr. X, Neurology, replied …: “Title”"."""
    labels = labels or english()
    title = short_title(source.title)
    if _named(source):
        who = doctor(source, labels)
        if source.replied:
            who = f"{who}, {labels('replied', date=source.replied)}"
        if source.kind == "excerpt":
            who = labels("excerpt_by", who=who)
        return f"[{source.number}] {who}{labels('colon')}“{title}”"
    return f"[{source.number}] {kind_label(source, labels)}{labels('colon')}“{title}”"


def attribution(source: Source, labels: Labels) -> str:
    """Who says the quoted passage: "Dr. X (Neurology) replied to a similar question"."""
    if _named(source) and source.kind == "doctor_reply":
        who = doctor(source, labels, with_place=False)
        who = f"{who} ({source.department})" if source.department else who
        return labels("said_doctor", who=who)
    if _named(source):  # an excerpt: its label says so in brackets already
        who = ", ".join(p for p in (doctor(source, labels, False), source.department) if p)
        return labels("said_excerpt", who=who)
    if source.kind in DOCTOR_KINDS:
        return labels("said_reply")
    if source.kind == "article":
        return labels("said_article")
    return _reference(source, labels, "said_nih", "said_reference_from", "said_reference")


def prompt_label(source: Source) -> str:
    """What the LLM is told a source is (in English, like its rules)."""
    if source.kind == "qa" and source.origin:
        nih = ORIGINS.get(source.origin, ("", False))[1]
        return f"{'NIH ' if nih else ''}reference answer from {origin_name(source.origin)}"
    return ""


def holdings(kinds: Mapping[str, int] | None) -> str:
    """Which knowledge-base description fits an index with these record counts by kind."""
    if not kinds:
        return "both"
    doctors = any(kinds.get(k, 0) for k in DOCTOR_KINDS)
    references = any(kinds.get(k, 0) for k in ("qa", "article"))
    if doctors and not references:
        return "doctors"
    if references and not doctors:
        return "reference"
    return "both"


class Holdings:
    """What the searched index versions hold, learnt from their manifests' counts by kind."""

    def __init__(self) -> None:
        self.key = "both"  # until a search says otherwise
        self._by_version: dict[str, str] = {}

    def learn(self, kb: KnowledgeBase, version: str | None) -> None:
        """Note what `version` (just searched) holds; its manifest is read once."""
        if version is not None and version not in self._by_version:
            try:
                current = kb.current()
                kinds = current.manifest.kinds if current and current.name == version else None
            except Exception as error:  # noqa: BLE001 - the wording falls back to "both"
                log.warning("cannot read the kinds of index %s (%s); the disclaimer names both "
                            "kinds", version, type(error).__name__)
                kinds = {}
            if kinds is not None:  # None: the index switched meanwhile, ask again next time
                self._by_version[version] = holdings(kinds)
        self.key = self._by_version.get(version or "", self.key)

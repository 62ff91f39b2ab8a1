"""What the engine returns, and the code-side rules every answer passes through: the model's
own source lists and disclaimers removed, citations checked, sources listed, the fixed
disclaimer last."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Literal

from bot.provenance import Labels, english, source_line
from bot.records import Record
from bot.text_cleanup import clean_title

Level = Literal["emergency", "urgent", "routine"]
Mode = Literal["llm", "extractive", "emergency", "no_match", "empty_kb", "off_topic", "greeting"]

_CITATION = re.compile(r"\[(\d+(?:\s*[,;–-]\s*\d+)*)\]")
_TITLE = re.compile(r"^(?:dr\.\s*|dr\s+|doctor\s+)", re.IGNORECASE)

# What code alone writes, in the forms a model writes it anyway: a sources heading (the list
# under it goes too), a trailing block of "[n] ..." lines, a disclaimer paragraph.
LIST_WORDS = (
    "sources", "source", "references", "reference", "citations", "bibliography", "works cited",
    "quellen", "quellenangaben", "quelle", "literatur", "referenzen", "fuentes", "fuente",
    "referencias", "bibliografía", "références", "fonti", "fontes", "referências", "источники",
    "литература", "kaynaklar", "kaynakça", "nguồn", "nguồn tham khảo", "tài liệu tham khảo",
    "sumber", "referensi", "المصادر", "المراجع", "स्रोत", "संदर्भ", "출처", "참고문헌", "出典",
    "参考文献", "參考文獻", "来源", "來源", "资料来源", "資料來源", "参考资料", "參考資料", "参考",
    "參考",
)
DISCLAIMER_WORDS = (
    "disclaimer", "medical disclaimer", "haftungsausschluss", "descargo de responsabilidad",
    "aviso legal", "aviso médico", "avertissement", "clause de non-responsabilité", "免责声明",
    "免責聲明", "免責事項", "면책 조항",
)
_MARKUP = " \t#>*_【["


def _heading(words: tuple[str, ...]) -> re.Pattern:
    alternatives = "|".join(re.escape(w).replace("\\ ", r"\s*") for w in words)
    return re.compile(rf"^[\s#>*_【\[]*(?:{alternatives})[\s*_】\]]*(?:[:：]|$)", re.I)


_LIST_HEADING = _heading(LIST_WORDS)
_DISCLAIMER_HEADING = _heading(DISCLAIMER_WORDS)
_REFERENCE_LINE = re.compile(r"^\s*(?:[-*•]\s*)?\[\^?\d+\]:?\s+(?!.*\[\d+\])\S")
_NOT_ADVICE = re.compile(
    r"\bnot\b[^.!?\n]{0,50}\bmedical advice|"
    r"\bno (?:es|constituye|sustituye|reemplaza)\b[^.!?\n]{0,40}\b(?:consejo|asesoramiento|"
    r"consulta|diagnóstico) médic|"
    r"\b(?:keine?|nicht)\b[^.!?\n]{0,40}\b(?:ärztliche|medizinische)n? (?:Beratung|Rat|Diagnose)|"
    r"\bne (?:constitue|remplace) pas\b[^.!?\n]{0,40}\b(?:avis|conseil|consultation) médical|"
    r"n'est pas un avis médical|"
    r"(?:不构成|不構成|不能替代|不能代替|不可替代|并非|並非|不是)[^。\n]{0,20}"
    r"(?:医疗|醫療|医学|醫學|专业|專業)(?:建议|建議|意见|意見)",
    re.I)
_NEGATION = re.compile(r"\b(?:not|no|nicht|keine?|ne|n'est)\b|不|并非|並非", re.I)
DISCLAIMER_WINDOW = 80  # a disclaimer paragraph says so near its start
HOLD_PARAGRAPH = 160  # a streamed paragraph that might be one is held back up to this length

KIND_LABEL = {  # what the LLM's prompt calls each kind (the person sees bot/provenance.py's)
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
        # A reference answer is best named by the question it answers, cleaned of upstream
        # templates ("What is (are) Stomach Disorders ?" is "Stomach Disorders").
        title = clean_title(record.title) or clean_title(record.question[:80])
        if record.kind == "qa" and 0 < len(record.question) <= 120:
            title = clean_title(record.question) or title
        return cls(
            number=number, id=record.id, kind=record.kind, title=title,
            origin=(record.extra or {}).get("source", "") if not attributed else "",
            doctor=record.doctor if attributed else "",
            department=record.department if attributed else "",
            hospital=record.hospital if attributed else "",
            replied=record.replied if attributed else "", url=record.url,
            score=round(score, 6), similarity=round(similarity, 4),
        )

    def describe(self, labels: Labels | None = None) -> str:
        """One line for the compact sources list, in the labels' language."""
        return source_line(self, labels)


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
    # LLM steps that failed or gave nothing usable ("rewrite", "second_opinion", "answer");
    # "answer" means the person got the quoted replies instead of the LLM's answer
    llm_failures: list[str] = field(default_factory=list)
    # what the message is about (bot/intent): "health", "medication.child_dose", "off_topic",
    # "greeting.thanks", …; "" for an emergency, which is answered before it is asked
    intent: str = ""

    def to_json(self) -> dict:
        """The `ask --json` object."""
        data = asdict(self)
        data["answer"] = data.pop("text")
        return data


def doctor_name(name: str) -> str:
    """A doctor's name without a leading "Dr."/"Dr"/"Doctor" (stripped once), for "Dr. {name}"."""
    return _TITLE.sub("", name.strip(), count=1).strip()


def _disclaimer(paragraph: str) -> bool:
    if _DISCLAIMER_HEADING.match(paragraph):
        return True
    found = _NOT_ADVICE.search(paragraph)
    return bool(found and found.start() < DISCLAIMER_WINDOW and not _CITATION.search(paragraph))


def strip_extras(text: str) -> str:
    """The model's text without the source list, reference block or disclaimer it wrote."""
    lines = text.split("\n")
    cut = next((i for i, line in enumerate(lines) if _LIST_HEADING.match(line)), len(lines))
    paragraphs = re.split(r"\n[ \t]*\n", "\n".join(lines[:cut]))
    lines = "\n\n".join(p for p in paragraphs if not _disclaimer(p)).rstrip().split("\n")
    while lines and (not lines[-1].strip() or _REFERENCE_LINE.match(lines[-1])):
        lines.pop()
    return "\n".join(lines).strip()


def _opens_extra(line: str) -> bool:
    """An unfinished line that could still become a sources heading or a reference line."""
    bare = line.strip().lstrip(_MARKUP).lower()
    if line.lstrip().startswith(("[", "- [", "* [", "• [")):
        return True
    return bool(bare) and any(w.startswith(bare) for w in LIST_WORDS + DISCLAIMER_WORDS)


def _may_disclaim(paragraph: str) -> bool:
    """An unfinished paragraph that could still become a disclaimer."""
    text = paragraph.strip()
    return (len(text) < HOLD_PARAGRAPH and not _CITATION.search(text)
            and bool(_NEGATION.search(text[:DISCLAIMER_WINDOW])))


def settled(text: str) -> str:
    """What of a growing answer can be shown now: its extras stripped, and an unfinished line
    or paragraph that could still turn into one held back."""
    head, _, line = text.rpartition("\n")
    before, _, paragraph = text.rpartition("\n\n")
    if _may_disclaim(paragraph):
        text = before
    elif _opens_extra(line):
        text = head
    return strip_extras(text)


def check_citations(text: str, count: int) -> str:
    """Keep [n] that point at one of `count` sources; drop the rest; [1, 2] becomes [1][2]."""

    def repair(match: re.Match) -> str:
        numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
        kept = [n for n in numbers if 1 <= n <= count]
        return "".join(f"[{n}]" for n in dict.fromkeys(kept))

    fixed = _CITATION.sub(repair, text)
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", fixed).strip()


def sources_block(sources: list[Source], labels: Labels | None = None) -> str:
    """The short numbered sources list appended under an answer."""
    if not sources:
        return ""
    labels = labels or english()
    heading = labels("sources") + labels("colon").rstrip()
    return heading + "\n" + "\n".join(s.describe(labels) for s in sources)


def compose(
    body: str, disclaimer: str, notice: str = "", sources: list[Source] | None = None,
    labels: Labels | None = None,
) -> str:
    """notice, body, sources, then the fixed disclaimer as the very last thing."""
    parts = [notice.strip(), body.strip(), sources_block(sources or [], labels)]
    return "\n\n".join(p for p in parts if p) + "\n\n" + disclaimer.strip()

"""The offline answer: the most relevant passages of the best replies, quoted and attributed."""

from __future__ import annotations

import re

from bot.answer import Source
from bot.keyword_index import tokenize
from bot.records import Record

_SENTENCES = re.compile(r"(?<=[.!?。！？])\s*|\n+")
MAX_QUOTES = 3
SENTENCES_PER_QUOTE = 3
MAX_QUOTE_CHARS = 500


def best_passage(answer: str, query: str, sentences: int = SENTENCES_PER_QUOTE) -> str:
    """The answer's sentences that share most words with the query, in their own order."""
    parts = [s.strip() for s in _SENTENCES.split(answer) if s and len(s.strip()) > 1]
    if not parts:
        return ""
    wanted = set(tokenize(query))
    scored = []
    for position, sentence in enumerate(parts):
        overlap = len(wanted & set(tokenize(sentence)))
        scored.append((overlap, -position, position))
    chosen = sorted(p for _, _, p in sorted(scored, reverse=True)[:sentences])
    pieces: list[str] = []
    for i, position in enumerate(chosen):
        if i and position != chosen[i - 1] + 1:
            pieces.append("…")
        pieces.append(parts[position])
    passage = " ".join(pieces)
    if len(passage) > MAX_QUOTE_CHARS:
        passage = passage[:MAX_QUOTE_CHARS].rsplit(" ", 1)[0] + " …"
    return passage


def _attribution(source: Source, record: Record) -> str:
    if source.kind == "doctor_reply" and source.doctor:
        where = f" ({source.department})" if source.department else ""
        return f"Dr. {source.doctor}{where} replied to a similar question"
    if source.kind == "excerpt" and source.doctor:
        return f"From a reply by Dr. {source.doctor} (excerpt)"
    if source.kind == "article":
        return "A background article (not a doctor's reply) says"
    origin = record.extra.get("source", "") if record.extra else ""
    return f"A reference answer{f' from {origin}' if origin else ''} says"


def extractive_body(sources: list[Source], records: dict[str, Record], query: str,
                    intro: str) -> str:
    """Quotes from up to three sources with text, each attributed and cited."""
    blocks = [intro.strip()]
    for source in sources:
        record = records[source.id]
        if not record.answer.strip():
            continue
        passage = source.passage or best_passage(record.answer, query)
        if not passage:
            continue
        blocks.append(f"[{source.number}] {_attribution(source, record)}:\n“{passage}”")
        if len(blocks) > MAX_QUOTES:
            break
    return "\n\n".join(blocks)

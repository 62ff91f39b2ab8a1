"""The offline answer: the most relevant passages of the best replies, quoted and attributed."""

from __future__ import annotations

import re

from bot.answer import Source
from bot.keyword_index import tokenize
from bot.records import Record

_BOUNDARY = re.compile(r"[.!?。！？][\"”’)\]]*(\s+|(?=[^\x00-\x7f]))|\n+")
MAX_QUOTES = 3
SENTENCES_PER_QUOTE = 3
MAX_QUOTE_CHARS = 500
# A doctor's conclusion and advice are what a worried person needs most from a reply.
_ADVICE = re.compile(
    r"\b(recommend|suggest|advis|should|must|see a|visit|consult|seek|unlikely|not the|"
    r"no need|is not|are not|don't|do not|emergency|as soon as)|建議|應該|就醫|門診|不是|不需要|"
    r"\b(recomiendo|recomendable|debe|consulte|acuda|no es)\b",
    re.IGNORECASE,
)
ADVICE_BONUS = 1.5


def split_sentences(text: str) -> list[str]:
    """Sentences with their closing punctuation and quotes kept."""
    found, start = [], 0
    for match in _BOUNDARY.finditer(text):
        end = match.end() if match.group(0).startswith("\n") else match.start(1)
        found.append(text[start:end].strip())
        start = match.end()
    found.append(text[start:].strip())
    return [s for s in found if s]


def best_passage(answer: str, query: str, sentences: int = SENTENCES_PER_QUOTE) -> str:
    """The answer's sentences that share most words with the query, in their own order."""
    parts = [s for s in split_sentences(answer) if len(s) > 1]
    if not parts:
        return ""
    wanted = set(tokenize(query))
    scored = []
    for position, sentence in enumerate(parts):
        score = len(wanted & set(tokenize(sentence)))
        score += ADVICE_BONUS if _ADVICE.search(sentence) else 0.0
        scored.append((score, -position, position))
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
        if (record.extra or {}).get("truncated") and not passage.endswith("…"):
            passage += " …"  # the corpus itself cut this excerpt short
        blocks.append(f"[{source.number}] {_attribution(source, record)}:\n“{passage}”")
        if len(blocks) > MAX_QUOTES:
            break
    return "\n\n".join(blocks)

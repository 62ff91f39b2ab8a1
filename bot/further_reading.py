"""Pages the knowledge base names but cannot quote: when no record with text matches, a
question-only record that does (MedQuAD keeps the title and address of MedlinePlus' drug and
encyclopedia pages, not their text) is offered as a link, never as an answer."""

from __future__ import annotations

from bot.index_store import title_key
from bot.keyword_index import tokenize
from bot.provenance import Labels, origin_name
from bot.records import Record
from bot.relevance import passes
from bot.retrieval import Hit
from bot.text_cleanup import clean_title

MAX_PAGES = 1  # the best one: a second is usually a side topic ("Green Coffee")


def pages(hits: list[Hit], query: str, floor: float, strong: float) -> list[Record]:
    """The question-only records with a web address that pass the relevance gate, one per
    title, best first."""
    words = set(tokenize(query))
    found: dict[str, Record] = {}
    for hit in hits:
        record = hit.record
        if (record.kind == "question_only" and record.url.startswith("https://")
                and title_key(record.title) not in found and passes(hit, words, floor, strong)):
            found[title_key(record.title)] = record
            if len(found) == MAX_PAGES:
                break
    return list(found.values())


def block(records: list[Record], labels: Labels) -> str:
    """The pages as the lines under a no-match answer, or '' when there are none."""
    if not records:
        return ""
    lines = [labels("further_reading")]
    for record in records:
        origin = origin_name((record.extra or {}).get("source", ""))
        name = clean_title(record.title or record.question)
        lines.append(f"• {name}" + (f" ({origin})" if origin else "") + f": {record.url}")
    return "\n".join(lines)

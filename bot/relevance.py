"""Is a found record a good enough match to answer from? Better "no good match" than an
off-topic source (a "TSH 7.8" message once got a chromosome syndrome named by its digit).

A record passes when its question or title is similar enough to the message (dense cosine at
least RELEVANCE_FLOOR) and the message names what the record is about (a word of its title),
or, without a shared title word, when the similarity is strong (RELEVANCE_STRONG). On LiveQA-Med
DEV every top-4 record graded relevant shares a title word with the message; of the ungraded
ones, 11 of 85 have neither a title word nor a similarity of 0.5 (bench/experiments.md §11).
"""

from __future__ import annotations

from bot.keyword_index import tokenize
from bot.records import Record
from bot.retrieval import Hit


def title_words(record: Record) -> set[str]:
    """The keywords of what a record is about: its title, else its question."""
    return set(tokenize(record.title or record.question))


def passes(hit: Hit, message_words: set[str], floor: float, strong: float) -> bool:
    """The gate for one hit."""
    if hit.similarity < floor:
        return False
    return hit.similarity >= strong or bool(message_words & title_words(hit.record))


def good_matches(hits: list[Hit], search_text: str, floor: float, strong: float) -> list[Hit]:
    """The hits with an answer that pass the gate, in their order."""
    words = set(tokenize(search_text))
    return [h for h in hits if h.record.answer.strip() and passes(h, words, floor, strong)]

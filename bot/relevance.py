"""Is a found record a good enough match to answer from? Better "no good match" than an
off-topic source (a "TSH 7.8" message once got a chromosome syndrome named by its digit).

A record passes when it has something to quote (MedQuAD's question-only pairs and its
boilerplate-only answers do not) and its question or title is similar enough to the message
(dense cosine at least RELEVANCE_FLOOR) and the message names what the record is about: more
than a third of its title's words, or two of them ("TSH" alone does not make "familial
hyperthyroidism due to mutations in TSH receptor" the topic). Without that, a strong similarity
(RELEVANCE_STRONG) still passes. On LiveQA-Med DEV (en and es, answerable records) every top-4
record graded relevant that passed before still passes; 35 of 325 ungraded ones no longer do
(bench/experiments.md §13).
"""

from __future__ import annotations

import functools
import re

from bot.keyword_index import tokenize
from bot.records import Record
from bot.retrieval import Hit
from bot.text_cleanup import sentences

# NIDDK's titles frame the topic ("What I need to know about Hepatitis A"): the frame is no topic.
_FRAME = re.compile(r"^\s*what i need to know about\s+", re.IGNORECASE)


def title_words(record: Record) -> set[str]:
    """The keywords of what a record is about: its title, else its question."""
    return set(tokenize(_FRAME.sub("", record.title or record.question)))


def passes(hit: Hit, message_words: set[str], floor: float, strong: float) -> bool:
    """The gate for one hit."""
    if hit.similarity < floor:
        return False
    if hit.similarity >= strong:
        return True
    title = title_words(hit.record)
    shared = len(message_words & title)
    return shared >= 2 or 3 * shared > len(title)  # two words, or more than a third


@functools.lru_cache(maxsize=4096)
def quotable(answer: str) -> bool:
    """The answer has a sentence to quote (not empty, not boilerplate only); cached, because
    cleaning a long answer costs a millisecond and the same records come up again and again."""
    return bool(sentences(answer))


def good_matches(hits: list[Hit], search_text: str, floor: float, strong: float,
                 limit: int | None = None) -> list[Hit]:
    """The hits with an answer that pass the gate, in their order (the first `limit`)."""
    words = set(tokenize(search_text))
    found: list[Hit] = []
    for hit in hits:
        if passes(hit, words, floor, strong) and quotable(hit.record.answer):
            found.append(hit)
            if limit is not None and len(found) == limit:
                break
    return found

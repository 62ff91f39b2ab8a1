"""Cut a message into the sentences the semantic layer scores one by one."""

from __future__ import annotations

import re

# A full stop ends a sentence only before a space or the end ("38.5" and "e.g" stay whole).
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|[\n\r]+|(?<=[。！？；;])\s*|\s+[-–—]\s+")
MAX_WORDS = 40  # longer run-on sentences are cut into pieces of this many words
MAX_CHARS_NO_SPACES = 80  # the same for scripts without spaces (Chinese, Japanese)
MIN_CHARS = 10  # shorter fragments ("ok.", "help!") are joined to their neighbour


def _size(text: str) -> int:
    """Length with wide (CJK) characters counted twice (six Chinese characters are a sentence)."""
    return len(text) + sum(1 for c in text if ord(c) >= 0x2E80)


def _pieces(sentence: str) -> list[str]:
    """A long sentence as pieces of at most MAX_WORDS words (or MAX_CHARS_NO_SPACES chars)."""
    words = sentence.split()
    if len(words) > MAX_WORDS:
        step = MAX_WORDS * 3 // 4  # overlapping, so a symptom on a cut is whole in one piece
        return [" ".join(words[i:i + MAX_WORDS]) for i in range(0, len(words) - MAX_WORDS // 4,
                                                                  step)]
    if len(words) <= 2 and len(sentence) > 2 * MAX_CHARS_NO_SPACES:
        step = MAX_CHARS_NO_SPACES * 3 // 4
        return [sentence[i:i + MAX_CHARS_NO_SPACES]
                for i in range(0, len(sentence) - MAX_CHARS_NO_SPACES // 4, step)]
    return [sentence]


def sentences(text: str, limit: int = 64) -> list[str]:
    """The message's sentences in order, short fragments joined to the one before, at most
    `limit` of them (the whole message is still scored by the rules)."""
    out: list[str] = []
    for raw in _SENTENCE_END.split(text):
        raw = " ".join((raw or "").split())
        if not raw:
            continue
        if out and (_size(raw) < MIN_CHARS or _size(out[-1]) < MIN_CHARS):
            out[-1] = f"{out[-1]} {raw}"
        else:
            out.append(raw)
    pieces = [piece for sentence in out for piece in _pieces(sentence)]
    return pieces[:limit]

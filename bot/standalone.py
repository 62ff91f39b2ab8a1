"""A follow-up made standalone: by a rule without an LLM (join it to the previous question),
and the checks an LLM rewrite must pass before it may steer the search."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.keyword_index import tokenize

_FOLLOW_UP = re.compile(
    r"^\s*(and|also|what about|how about|but|so|then|is it|is that|does it|could it|should i|"
    r"what if|y\b|¿?y (si|qué|que)|también|pero|那|還有|还有|那麼|那么|如果)",
    re.IGNORECASE,
)
_PRONOUN = re.compile(
    r"\b(it|that|this|those|these|they|them|the same|eso|esto|ello)\b|它|這|这|那", re.IGNORECASE
)


def rule_standalone(message: str, history: Sequence[tuple[str, str]]) -> str:
    """Previous user question + the follow-up, when the message reads like a follow-up."""
    previous = next((text for role, text in reversed(history) if role == "user"), "")
    short = len(message.split()) <= 12 or len(message) <= 40
    if previous and (short or _FOLLOW_UP.match(message) or _PRONOUN.search(message[:60])):
        return f"{previous.strip()} {message.strip()}"
    return message


def related(rewrite: str, message: str, previous: str = "") -> bool:
    """True when the rewrite shares a content word with the message or the previous question."""
    words = set(tokenize(rewrite))
    return bool(words & set(tokenize(message)) or words & set(tokenize(previous)))


def search_text(message: str, question: str) -> str:
    """What retrieval searches: the standalone question and the message itself, together."""
    if message.strip() in question:
        return question
    return f"{question.strip()}\n{message.strip()}"

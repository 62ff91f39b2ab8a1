"""Without an LLM, a follow-up becomes standalone by a rule: join it to the previous question."""

from __future__ import annotations

import re
from collections.abc import Sequence

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

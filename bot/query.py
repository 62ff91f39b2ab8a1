"""Turning a person's message into a search query: drop greetings, thanks and sign-offs."""

from __future__ import annotations

import re

_NOISE = [
    r"^\s*(hello|hi|hey|dear|good (morning|afternoon|evening))\b[^.!?\n,:]{0,30}[,.!:]?",
    r"\b(thanks?( you)?( so much| very much)?( in advance)?|many thanks|thx)\b[^.!?\n]{0,40}[.!]?",
    r"\b(best |kind |warm )?regards\b.*$",
    r"\bsent from my \w+.*$",
    r"\b(i hope (you|this) (can|could|will)[^.!?\n]{0,40}[.!?]?)",
    r"^\s*(hola|buen(os|as) (d[ií]as|tardes|noches)|estimad[oa] doctor)[,.!:]?",
    r"(muchas )?gracias[^.!?\n]{0,30}[.!]?",
    r"^\s*(醫生|大夫|醫師)?(您好|你好)[，,:：!！]?",
    r"(謝謝|感謝|谢谢)[^。！？\n]{0,15}[。！]?",
]
_NOISE_RE = [re.compile(p, re.IGNORECASE | re.MULTILINE) for p in _NOISE]
_SPACES = re.compile(r"\s+")


def clean_query(message: str, max_chars: int = 2000) -> str:
    """The message without pleasantries, whitespace collapsed, cut to a sane length."""
    text = message
    for pattern in _NOISE_RE:
        text = pattern.sub(" ", text)
    text = _SPACES.sub(" ", text).strip(" ,.;:-")
    if len(text) < 3:  # all pleasantries: search with what was there
        text = _SPACES.sub(" ", message).strip()
    return text[:max_chars]

"""Query expansion from the corpus itself: abbreviations it spells out, like
"deep vein thrombosis (DVT)", so a message saying "DVT" also finds "deep vein thrombosis"."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from bot.keyword_index import STOPWORDS

_DEFINED = re.compile(r"\(([A-Z][A-Za-z]{1,6})\)")
_WORDS = re.compile(r"[A-Za-z][\w'-]*")
_TOKEN = re.compile(r"\b[A-Za-z]{2,7}\b")
MIN_USES = 2  # a definition seen once may be a one-off; twice is the corpus's own usage


def mine(texts: Iterable[str]) -> dict[str, str]:
    """abbreviation (lower case) -> the long form the corpus uses most for it."""
    seen: dict[str, Counter] = defaultdict(Counter)
    for text in texts:
        for match in _DEFINED.finditer(text):
            before = text[max(0, match.start() - 80) : match.start()]
            if before[-1:] != " ":
                continue
            words, short = _WORDS.findall(before)[-6:], match.group(1).lower()
            for size in range(1, len(words) + 1):  # the shortest tail whose initials spell it
                tail = words[-size:]
                if "".join(w[0].lower() for w in tail) == short:
                    seen[short][" ".join(tail).lower()] += 1
                    break
    found = {}
    for short, forms in seen.items():
        form, uses = forms.most_common(1)[0]
        if uses >= MIN_USES:
            found[short] = form
    return found


def expand(query: str, abbreviations: dict[str, str]) -> str:
    """The query plus the long forms of the abbreviations in it (for keyword search)."""
    if not abbreviations:
        return query
    extra = []
    for token in _TOKEN.findall(query):
        short = token.lower()
        if short in abbreviations and (token.isupper() or short not in STOPWORDS):
            extra.append(abbreviations[short])
    return f"{query}\n{' '.join(dict.fromkeys(extra))}" if extra else query

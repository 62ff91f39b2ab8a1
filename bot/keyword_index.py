"""A BM25 keyword index over records, built and saved beside each index version."""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from functools import cache
from pathlib import Path

import numpy as np

# A number stays one token with its decimals, ratio and unit: "7.8", "5mg", "120/80",
# "160mg/dl". Split, "TSH 7.8" matched "recombinant 8 syndrome" (measured, issue 10).
# Dose units stick to their number; a rate ("mg/dl") or other unit stays a word of its own.
_UNIT = r"(?:mcg|µg|ug|mg|kg|g|ml|l|iu|%)"
_NUMBER = rf"\d+(?:[.,]\d+)*(?:/\d+(?:[.,]\d+)*)*(?:\s?{_UNIT}(?![^\W\d_]|/))?"
_WORD = re.compile(rf"{_NUMBER}|[^\W\d_]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_ASCII_WORD = re.compile(rf"{_NUMBER}|[a-z]+")  # _WORD for lower-cased ASCII text
_NUMBER_SPACE = re.compile(r"(?<=\d)\s+(?=[a-zµ%])")

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over
    own same she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself yourselves hello hi dear doctor thanks thank
    please el la los las de del y en que un una por con para es""".split()
)


@cache
def _stemmer():  # noqa: ANN202
    import Stemmer

    return Stemmer.Stemmer("english")


def _kept(word: str) -> bool:
    """Not a stopword, and not a lone letter."""
    return word not in STOPWORDS and (len(word) > 1 or word.isdigit())


def _number(token: str) -> str:
    """A number token in one spelling: "7,8" is "7.8", "5 mg" is "5mg"."""
    if not token[0].isdigit():
        return token
    return _NUMBER_SPACE.sub("", token).replace(",", ".")


def tokenize(text: str) -> list[str]:
    """Lower-cased stemmed words without stopwords; CJK text as character bigrams."""
    text = unicodedata.normalize("NFKC", text).lower()
    if text.isascii():  # the common case, with a simpler pattern (ingest tokenizes 100k+ texts)
        tokens = [_number(w) for w in _ASCII_WORD.findall(text) if _kept(w)]
        return _stemmer().stemWords(tokens) if tokens else tokens
    tokens: list[str] = []
    for word in _WORD.findall(text):
        if _CJK.search(word):
            chars = [c for c in word if _CJK.match(c)]
            tokens.extend(a + b for a, b in zip(chars, chars[1:], strict=False))
            tokens.extend(chars if len(chars) == 1 else [])
        elif _kept(word):
            tokens.append(_number(word))
    return _stemmer().stemWords(tokens) if tokens else tokens


class KeywordIndex:
    """BM25 over one text per record; ids are record ids in index order."""

    def __init__(self, retriever, ids: list[str]) -> None:  # noqa: ANN001
        self._retriever = retriever
        self.ids = ids

    @classmethod
    def build(cls, ids: list[str], texts: list[str], k1: float = 1.2, b: float = 0.75):
        """Index texts (one per id)."""
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every build at DEBUG
        retriever = bm25s.BM25(k1=k1, b=b)
        corpus = [tokenize(t) or ["\u2205"] for t in texts]
        if corpus:
            retriever.index(corpus, show_progress=False)
        return cls(retriever, list(ids))

    def save(self, folder: Path) -> None:
        """Write the index and its ids under folder."""
        folder.mkdir(parents=True, exist_ok=True)
        if self.ids:
            self._retriever.save(str(folder))
        (folder / "ids.json").write_text(json.dumps(self.ids), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex:
        """Read an index written by save (memory-mapped)."""
        import bm25s

        ids = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        retriever = bm25s.BM25.load(str(folder), mmap=True) if ids else None
        return cls(retriever, ids)

    def search(self, query: str, limit: int = 50) -> list[tuple[str, float]]:
        """The best records for a query as (record id, BM25 score), best first."""
        tokens = tokenize(query)
        if not tokens or self._retriever is None:
            return []
        known = [t for t in tokens if t in self._retriever.vocab_dict]
        if not known:
            return []
        scores = self._retriever.get_scores(known)
        limit = min(limit, len(scores))
        top = np.argpartition(-scores, limit - 1)[:limit]
        top = top[np.argsort(-scores[top])]
        found = scores[top]
        kept = found > 0  # whole arrays: reading numpy scalars one by one took 0.25 ms a search
        return [(self.ids[i], s) for i, s in zip(top[kept].tolist(), found[kept].tolist(),
                                                 strict=True)]

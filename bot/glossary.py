"""Dictionary query translation: the English health terms a non-English message names, from the
glossaries in prompts/glossary (LANG.toml), so keyword and English vector search find sources."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

GLOSSARY_DIR = Path(__file__).resolve().parents[1] / "prompts" / "glossary"
_END, _STEMS = "", "*"  # trie node keys: "a key ends here", "stem* words below, by 3 letters"
_SPEC = {"code", "match", "fold_accents", "unaccented", "prefixes", "suffixes", "article"}
# Letters and digits plus the combining marks \w misses (Hindi vowel signs, Arabic vowel marks).
_WORD = re.compile(r"(?:\w|[\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u0900-\u0963"
                   r"\u0966-\u0dff])+")
_KEY_WORD = re.compile(_WORD.pattern + r"\*?")  # a key's word may end in * (any ending)
_BAD_STAR = re.compile(r"(?:^|\s)[^\s*]{0,2}\*|\*(?=\S)")  # a short stem, or * mid-word
_SPACES = re.compile(r"[\s'’`´\-‐‑–—_/]+")
# One spelling per letter: Arabic taa marbuta, alef maqsura, Persian yeh and kaf, tatweel;
# Devanagari nukta (often left out) and candrabindu (often typed as anusvara).
_LETTERS = str.maketrans({"ة": "ه", "ى": "ي", "ی": "ي", "ک": "ك", "ـ": None, "\u093c": None,
                          "\u0901": "\u0902"})
_PLAIN = str.maketrans({"ı": "i", "đ": "d", "ø": "o", "ł": "l"})
_RARE = re.compile(r"[ةىیکـ\u093c\u0901ıđøł]")  # what the tables change (translate is slow)
_MARKS = re.compile(r"[\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_ACCENTED = re.compile(r"[\u0300-\u036fđĐ]")


class GlossaryError(ValueError):
    """A glossary file is malformed."""


@dataclass
class Glossary:
    """One language's terms as a trie over words (as one regex for scripts without spaces)."""

    substring: bool  # keys match anywhere in the text, not as whole words
    fold_accents: bool
    prefixes: dict[str, list[str]] = field(default_factory=dict)  # by their first letter
    suffixes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # (ending, then)
    trie: dict = field(default_factory=dict)
    plain: dict = field(default_factory=dict)  # unaccented keys, for messages typed without any
    regex: re.Pattern[str] | None = None
    keys: dict[str, str] = field(default_factory=dict)  # substring key (no spaces) -> English
    size: int = 0

    def units(self, text: str, plain: bool = False, key: bool = False) -> list[list[str]]:
        """The normalised text as the trie walks it: per word, its forms (see _forms)."""
        text = _SPACES.sub(" ", normalise(text, self.fold_accents or plain)).strip()
        if self.substring:  # each character is its own one form
            return text  # type: ignore[return-value]
        return [[w] if key else self._forms(w) for w in (_KEY_WORD if key else _WORD).findall(text)]

    def _forms(self, word: str) -> list[str]:
        """The word, and the word without a listed prefix or suffix (Arabic "وال", Malay "nya")."""
        forms = [word] + [word[len(p):] for p in self.prefixes.get(word[0], ())
                          if word.startswith(p) and len(word) - len(p) >= 2]
        if self.suffixes:
            forms += [f[: -len(end)] + then for f in list(forms)
                      for end, then in self.suffixes.get(f[-1], ())
                      if f.endswith(end) and len(f) - len(end) >= 2]
        return forms


def normalise(text: str, fold_accents: bool) -> str:
    """NFKC and case-folded, one spelling per letter; accents dropped when asked."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.translate(_LETTERS) if _RARE.search(text) else text
    if fold_accents:
        text = unicodedata.normalize("NFC", _MARKS.sub("", unicodedata.normalize("NFD", text)))
        text = text.translate(_PLAIN) if _RARE.search(text) else text
    return text


def _longest(node: dict, units: list[list[str]], i: int) -> tuple[int, str]:
    """How many words from i on spell the longest key below node, and its English term; exact
    words come before stems, longer stems before shorter."""
    best = (0, node.get(_END, ""))
    if i < len(units):
        children = [node[f] for f in units[i] if f in node]
        for f in units[i] if _STEMS in node else ():
            children += [node[f[:n] + "*"] for n in node[_STEMS].get(f[:3], ())
                         if len(f) >= n and f[:n] + "*" in node]
        for child in children:
            n, term = _longest(child, units, i + 1)
            if term and n + 1 > best[0]:
                best = (n + 1, term)
    return best


def _scan(trie: dict, units: list[list[str]]) -> list[str]:
    """The English terms of the trie's keys in the words, leftmost-longest, not overlapping."""
    terms, i, stems = [], 0, _STEMS in trie
    while i < len(units):  # most words start no key: skip the call for them
        n, term = (_longest(trie, units, i) if stems or len(units[i]) > 1 or units[i][0] in trie
                   else (0, ""))
        terms += [term] if n else []
        i += n or 1
    return terms


def _pattern(node: dict) -> str:
    """The trie below a node as a regex matching the longest key there; a space in a key may be
    left out in the text ("눈 떨림" finds "눈떨림")."""
    branches = [(" ?" if unit == " " else re.escape(unit)) + _pattern(child)
                for unit, child in node.items() if unit != _END]
    body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})" if branches else ""
    return f"(?:{body})?" if _END in node and body else body


def _insert(trie: dict, units: list[list[str]], english: str, article: str = "") -> None:
    """Add one key's words to the trie; a word after the first may also go without the article
    ("ألم في المعدة" finds "ألم في معدتي")."""
    node = trie
    for i, (unit,) in enumerate(units):
        if unit.endswith("*"):
            stems = node.setdefault(_STEMS, {})
            stems[unit[:3]] = tuple(sorted({*stems.get(unit[:3], ()), len(unit) - 1}, reverse=True))
        child = node.setdefault(unit, {})
        if i and article and unit.startswith(article) and len(unit) - len(article) >= 2:
            node.setdefault(unit[len(article):], child)
        node = child
    node.setdefault(_END, english)  # where unaccented keys clash, the first one wins


def load(path: Path) -> Glossary:
    """Read and compile one LANG.toml; a malformed file raises GlossaryError saying where."""
    raw = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as error:  # its message ends "(at line N, column M)"
        raise GlossaryError(f"{path}: not valid TOML: {error}") from None

    def fail(what: str, key: str) -> GlossaryError:
        lines = "\n" + raw  # the line a key or [table] is on: the newlines up to it
        at = max(lines.find(n) for n in (f'"{key}"', f"'{key}'", f"\n{key}", f"\n[{key}]"))
        where = f", line {lines.count(chr(10), 0, at + 1)}" if at >= 0 else ""
        return GlossaryError(f"{path}{where}: {what}")

    spec = data.pop("language", None)
    unknown = sorted(set(spec) - _SPEC) if isinstance(spec, dict) else []
    if not isinstance(spec, dict) or unknown or spec.get("code") != path.stem:
        raise fail(f"needs a [language] table with code = {path.stem!r}"
                   f"{f', not the keys {unknown}' if unknown else ''}", "language")
    if spec.get("match", "words") not in ("words", "substring"):
        raise fail("match must be 'words' or 'substring'", "match")
    fold = bool(spec.get("fold_accents"))
    article = normalise(spec.get("article", ""), fold)
    glossary = Glossary(spec.get("match") == "substring", fold)
    for p in (normalise(p, fold) for p in spec.get("prefixes", [])):
        glossary.prefixes.setdefault(p[0], []).append(p)
    for end, then in ((*normalise(s, fold).split(">"), "")[:2] for s in spec.get("suffixes", [])):
        glossary.suffixes.setdefault(end[-1], []).append((end, then))  # "تي>ه": معدتي = معده
    seen: dict[str, str] = {}
    for section, terms in data.items():
        if not isinstance(terms, dict):
            raise fail(f"{section!r} must be a [table] of \"term\" = \"English term\"", section)
        for key, english in terms.items():
            where = f"[{section}] {key!r}"
            if not isinstance(english, str) or not english.strip() or not english.isascii():
                raise fail(f"{where}: the value must be an English term in ASCII", key)
            if _BAD_STAR.search(key) or (glossary.substring and "*" in key):
                raise fail(f"{where}: '*' may only end a word stem of 3 or more letters", key)
            units = glossary.units(key, key=True)
            spelled = " ".join(u for (u,) in units if u != " ")
            if not units or spelled in seen:
                raise fail(f"{where}: {'no word' if not units else 'also ' + seen[spelled]}", key)
            seen[spelled], english = where, english.strip()
            if glossary.substring:
                glossary.keys[spelled.replace(" ", "")] = english
            _insert(glossary.trie, units, english, article)
            if spec.get("unaccented") and len(units) > 1:
                _insert(glossary.plain, glossary.units(key, plain=True, key=True), english)
            glossary.size += 1
    if glossary.substring and glossary.trie:  # the regex engine walks a trie far faster
        glossary.regex = re.compile(_pattern(glossary.trie))
    return glossary


@cache
def glossaries(folder: Path = GLOSSARY_DIR) -> dict[str, Glossary]:
    """Every LANG.toml of the folder, compiled once."""
    return {path.stem: load(path) for path in sorted(Path(folder).glob("*.toml"))}


def english_terms(text: str, language: str) -> list[str]:
    """The English terms for the glossary words the message uses, once each, in text order."""
    glossary = glossaries().get(language)
    if glossary is None or not text:
        return []
    if glossary.regex:
        found = glossary.regex.finditer(glossary.units(text))  # type: ignore[arg-type]
        return list(dict.fromkeys(glossary.keys[m[0].replace(" ", "")] for m in found))
    terms = _scan(glossary.trie, glossary.units(text))
    if glossary.plain and not _ACCENTED.search(unicodedata.normalize("NFD", text)):
        terms += _scan(glossary.plain, glossary.units(text, plain=True))  # typed without accents
    return list(dict.fromkeys(terms))


def search_text(text: str, language: str) -> str:
    """The message, then a line of the English terms it names (the message alone if none)."""
    terms = english_terms(text, language)
    return f"{text}\n{' '.join(terms)}" if terms else text

"""The intent's cue lists: the TOML files of prompts/intent, one per language, compiled once."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bot.triage.rules import fold

CUES_DIR = Path(__file__).resolve().parents[2] / "prompts" / "intent"
# What each list holds; README-style notes are in prompts/intent/en.toml.
GROUPS = ("medicine", "generic", "partner", "take", "combine", "child", "pregnancy",
          "breastfeeding", "health", "off_topic", "hello", "thanks", "filler")
_LANG_KEYS = {"code", "words", "marks"}
_UPPER = re.compile(r"(?<!\\)[A-Z]")
# French and Italian elided articles and pronouns: "l'", "d'", "qu'", "dell'", "un'"
_ELISION = re.compile(
    r"(?<!\w)(l|d|j|m|n|s|t|c|qu|dell|dall|nell|sull|all|un|quest|quell)['’](?=\w)", re.IGNORECASE)


def _strip_marks(text: str, keep: bool = False) -> str:
    """What `fold` does to a pattern's letters: NFKC, then accents and other marks removed
    (kept, as composed characters, with `keep`)."""
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text))
    if not keep:
        text = "".join(c for c in text if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", text).replace("ı", "i")


def _sources(value: object, where: str, keep_marks: bool = False) -> list[str]:
    """A checked list of patterns, marks stripped (or kept) the way the text's are."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(p, str) and p.strip() for p in value):
        raise ValueError(f"{where}: expected a list of non-empty strings")
    out = []
    for raw in value:
        if _UPPER.search(raw) or "'" in raw:
            raise ValueError(f"{where}: pattern {raw!r} must be lower case without apostrophes")
        source = _strip_marks(raw, keep_marks)
        try:
            re.compile(source)
        except re.error as error:
            raise ValueError(f"{where}: bad pattern {raw!r}: {error}") from None
        out.append(source)
    return out


def _join(sources: list[str], words: bool) -> re.Pattern[str] | None:
    """One alternation (inside word boundaries when the language has spaces), or None."""
    if not sources:
        return None
    alternation = "|".join(f"(?:{s})" for s in sources)
    return re.compile(rf"(?<!\w)(?:{alternation})(?!\w)" if words else alternation)


@dataclass(frozen=True)
class Language:
    """One language file: its code and a compiled pattern per cue group."""

    code: str
    words: bool
    marks: bool  # matched on the text with its accents kept (Vietnamese tones tell words apart)
    groups: dict[str, re.Pattern[str]]
    sources: dict[str, list[str]]

    def find(self, group: str, text: Text) -> list[str]:
        """The distinct matches of a group in the message."""
        pattern = self.groups.get(group)
        if pattern is None:
            return []
        return list(dict.fromkeys(m.group() for m in pattern.finditer(text.view(self.marks))))


@dataclass(frozen=True)
class CueSet:
    """Every language's cues; a message is read with all of them (people mix languages, and the
    detector misreads short messages)."""

    languages: tuple[Language, ...]
    # whole-message patterns by (words, "any" or "hello": greetings without thanks)
    greeting: dict[tuple[bool, str], re.Pattern[str]]
    # every language's patterns of a group in one, per matching mode: (marks, pattern) pairs
    merged: dict[str, tuple[tuple[bool, re.Pattern[str]], ...]]

    @classmethod
    def from_dir(cls, folder: Path = CUES_DIR) -> CueSet:
        """Load and check every *.toml file of `folder`; a bad file raises ValueError."""
        files = sorted(Path(folder).glob("*.toml"))
        if not files:
            raise ValueError(f"{folder}: no *.toml cue files")
        languages: list[Language] = []
        parts: dict[tuple[bool, str], list[str]] = defaultdict(list)
        for path in files:
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
                raise ValueError(f"{path}: not valid TOML: {error}") from None
            spec, cues = data.get("language", {}), data.get("cues", {})
            if set(data) - {"language", "cues"} or set(spec) - _LANG_KEYS \
                    or set(cues) - set(GROUPS):
                raise ValueError(f"{path}: unknown keys (allowed: [language] code, words; "
                                 f"[cues] {', '.join(GROUPS)})")
            if not isinstance(spec.get("code"), str):
                raise ValueError(f"{path}: [language] needs a code")
            words, marks = bool(spec.get("words", True)), bool(spec.get("marks", False))
            sources = {g: _sources(cues.get(g), f"{path}: [cues] {g}", marks) for g in GROUPS}
            groups = {g: p for g in GROUPS if (p := _join(sources[g], words)) is not None}
            languages.append(Language(spec["code"], words, marks, groups, sources))
            # one pattern for marked and folded files: "ok cam on" mixes them
            parts[words, "any"] += sources["hello"] + sources["thanks"] + sources["filler"]
            parts[words, "hello"] += sources["hello"] + sources["filler"]
        greeting = {}
        for (words, kind), sources in parts.items():
            alternation = "|".join(f"(?:{s})" for s in sorted(set(sources), key=len, reverse=True))
            unit = rf"(?:{alternation})(?!\w)" if words else f"(?:{alternation})"
            greeting[words, kind] = re.compile(rf"\s*(?:{unit}\s*)+")
        merged = {}
        for group in GROUPS:
            modes: dict[tuple[bool, bool], list[str]] = defaultdict(list)
            for lang in languages:
                modes[lang.marks, lang.words] += lang.sources[group]
            # longer patterns first: "vitamin d" is one medicine, not "vitamin" and "vitamin d"
            merged[group] = tuple(
                (marks, pattern) for (marks, words), sources in modes.items()
                if (pattern := _join(sorted(set(sources), key=len, reverse=True), words)))
        return cls(tuple(languages), greeting, merged)

    def hits(self, group: str, text: Text) -> list[str]:
        """The distinct matches of a group's patterns, every language's, in the message."""
        found = [m.group() for marks, pattern in self.merged[group]
                 for m in pattern.finditer(text.view(marks))]
        return list(dict.fromkeys(found))

    def find(self, group: str, text: Text) -> dict[str, list[str]]:
        """Matches of a group in the message, by language (languages without any left out;
        a language may have several files, as Hindi in Devanagari and in Latin letters)."""
        found: dict[str, list[str]] = {}
        for lang in self.languages:
            if hits := lang.find(group, text):
                found[lang.code] = list(dict.fromkeys(found.get(lang.code, []) + hits))
        return found

    def greeting_only(self, text: Text, kind: str = "any") -> bool:
        """True when the message, without punctuation, is nothing but greetings, thanks and
        fillers (with kind "hello": greetings and fillers, in one language's files or another's;
        "你好" holds the 好 of thanks, "ciao" is both)."""
        views = {text.bare(False), text.bare(True)} - {""}
        return any(p.fullmatch(view) for (_, k), p in self.greeting.items() if k == kind
                   for view in views)


@dataclass(frozen=True)
class Text:
    """A message as the cues read it: folded (the triage's fold: lower case, no accents or
    apostrophes), and lower-cased with its accents kept."""

    folded: str
    marked: str

    @classmethod
    def of(cls, text: str) -> Text:
        text = _ELISION.sub(r"\1 ", text)  # "l'Imodium" is two words, not "limodium"
        marked = unicodedata.normalize("NFC", unicodedata.normalize("NFKC", text).lower())
        marked = re.sub(r"[-–—~()\[\]]", " ", marked.replace("'", "").replace("’", ""))
        # Turkish's dotless ı is read as i (people type either; no other language uses it).
        return cls(fold(text).replace("ı", "i"), " ".join(marked.split()))

    def view(self, marks: bool) -> str:
        return self.marked if marks else self.folded

    def bare(self, marks: bool) -> str:
        """Punctuation, symbols and emoji turned into spaces (for greetings); vowel signs, which
        are marks, stay."""
        text = self.view(marks)
        return " ".join("".join(" " if unicodedata.category(c)[0] in "PS" else c
                                for c in text).split())

"""The medication cautions: well-established "do not"s (NSAIDs with a blood thinner, aspirin for
a child, …) recognised by the patterns of prompts/medication_cautions, each a fixed text in the
person's language."""

from __future__ import annotations

import functools
import logging
import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bot.chinese_script import text_code
from bot.intent.cues import Text, _join, _sources
from bot.prompts import LANGUAGES

log = logging.getLogger(__name__)

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
AGE = ("baby", "child", "teen", "age_years", "age_months")
PREGNANCY = ("pregnancy", "pregnancy_early", "pregnancy_late", "pregnancy_week",
             "pregnancy_month")
NUMERIC = ("age_years", "age_months", "pregnancy_week", "pregnancy_month")
GROUPS = ("nsaid", "aspirin", "low_dose_aspirin", "anticoagulant", "antidepressant",
          "st_johns_wort", "contraceptive", "loperamide", "metronidazole", "opioid", "alcohol",
          *AGE, *PREGNANCY, "breastfeeding", "stomach", "kidney")
TEEN = 13  # a teen word alone says the age is at least this
WEEKS_A_MONTH = 4.3
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


@dataclass(frozen=True)
class Rule:
    """One caution: groups that must all be met (each by one of its alternatives), and an age
    or a stage of pregnancy when it has one."""

    id: str
    when: tuple[tuple[str, ...], ...]
    child_under: float | None = None
    pregnant_from_week: float | None = None

    def groups(self) -> set[str]:
        """Every group the rule reads (a follow-up must name one of them itself)."""
        named = {g for alternatives in self.when for g in alternatives}
        return named | set(AGE if self.child_under else ()) | set(
            PREGNANCY if self.pregnant_from_week else ())

    def fires(self, found: Found) -> bool:
        return all(any(found.get(g) for g in alternatives) for alternatives in self.when) \
            and (self.child_under is None or found.young(self.child_under)) \
            and (self.pregnant_from_week is None or found.pregnant_from(self.pregnant_from_week))


class Found(dict[str, list[str]]):
    """A message's matches by group."""

    def numbers(self, group: str, scale: float = 1.0) -> list[float]:
        return [float(n.group().replace(",", ".")) * scale
                for hit in self.get(group, []) if (n := _NUMBER.search(hit))]

    def young(self, under: float) -> bool:
        ages = self.numbers("age_years") + self.numbers("age_months", 1 / 12)
        if any(age < under for age in ages) or self.get("baby"):
            return True
        return not ages and bool(self.get("child") or (under > TEEN and self.get("teen")))

    def pregnant_from(self, week: float) -> bool:
        if not any(self.get(g) for g in PREGNANCY):
            return False
        if stated := self.numbers("pregnancy_week") + self.numbers("pregnancy_month",
                                                                   WEEKS_A_MONTH):
            return max(stated) >= week
        return bool(self.get("pregnancy_late")) or not self.get("pregnancy_early")


@dataclass(frozen=True)
class Cautions:
    """The rules, every language's patterns (all read on every message, as the intent's cues:
    one pattern per group and matching mode) and each caution's text by language."""

    rules: tuple[Rule, ...]
    patterns: dict[str, tuple[tuple[bool, re.Pattern[str]], ...]]  # group: (marks, pattern)s
    texts: dict[str, dict[str, str]]

    @classmethod
    def load(cls, rules: Path = PROMPTS / "medication_cautions.toml",
             folder: Path = PROMPTS / "medication_cautions") -> Cautions:
        """Read and check the rules and every LANG.toml; a bad file raises ValueError."""
        loaded = tuple(_rule(c, rules) for c in _toml(rules).get("caution", []))
        ids = {r.id for r in loaded}
        if not loaded or len(ids) != len(loaded):
            raise ValueError(f"{rules}: needs [[caution]] entries with distinct ids")
        modes: dict[tuple[str, bool, bool], list[str]] = defaultdict(list)
        texts: dict[str, dict[str, str]] = {}
        for path in sorted(Path(folder).glob("*.toml")):
            code, marks, words, sources, own = _language(path, ids)
            for group, found in sources.items():
                modes[group, marks, words] += found
            if own and code in texts:
                raise ValueError(f"{path}: a second [texts] for {code}")
            if own:
                texts[code] = own
        if missing := [code for code in LANGUAGES if code not in texts]:
            raise ValueError(f"{folder}: no [texts] for {', '.join(missing)}")
        patterns: dict[str, list[tuple[bool, re.Pattern[str]]]] = defaultdict(list)
        for (group, marks, words), found in modes.items():
            # longer patterns first: "aspirin 81" is read whole, not as "aspirin"
            if joined := _join(sorted(set(found), key=len, reverse=True), words):
                patterns[group].append((marks, joined))
        return cls(loaded, {g: tuple(p) for g, p in patterns.items()}, texts)

    def found(self, text: str) -> Found:
        """The matches of every group in a message, in all languages' patterns."""
        norm, found = Text.of(text), Found()
        for group, patterns in self.patterns.items():
            if hits := [m.group() for marks, p in patterns for m in p.finditer(norm.view(marks))]:
                found[group] = hits
        return found

    def matching(self, text: str, context: str = "") -> list[str]:
        """The ids of the cautions the message calls for; `context`, the person's previous
        message, may hold the other half ("I take warfarin", then "and ibuprofen?")."""
        now = self.found(text)
        both = self.found(f"{context}\n{text}") if context.strip() else now
        return [r.id for r in self.rules if r.fires(both) and any(now.get(g) for g in r.groups())]

    def for_text(self, text: str, language: str, context: str = "") -> list[str]:
        """The texts of the cautions the message calls for, in `language` (and its script:
        zh-hant.toml for Chinese in Traditional characters), else English."""
        ids = self.matching(text, context)
        if not ids:
            return []
        log.info("medication cautions %s (%s)", ", ".join(ids), language or "en")
        code = next(c for c in (text_code(language), str(language), "en") if c in self.texts)
        return [self.texts[code][i] for i in ids]


def _toml(path: Path) -> dict:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not readable TOML: {error}") from None


def _rule(entry: object, path: Path) -> Rule:
    """One [[caution]], checked: known keys and groups, numbers where numbers go."""
    keys = {"id", "when", "child_under", "pregnant_from_week"}
    when = entry.get("when") if isinstance(entry, dict) else None
    if not isinstance(entry, dict) or set(entry) - keys or not isinstance(entry.get("id"), str) \
            or not isinstance(when, list) or not when \
            or not all(isinstance(a, list) and a and set(a) <= set(GROUPS) for a in when) \
            or not all(isinstance(entry.get(k, 0), int | float) for k in keys - {"id", "when"}):
        raise ValueError(f"{path}: bad [[caution]] {entry!r}")
    return Rule(entry["id"], tuple(tuple(a) for a in when), entry.get("child_under"),
                entry.get("pregnant_from_week"))


def _language(path: Path, ids: set[str]) -> tuple[str, bool, bool, dict, dict | None]:
    """One LANG.toml, checked: its code, matching mode, patterns by group, and texts if any."""
    data = _toml(path)
    spec, patterns, texts = data.get("language", {}), data.get("patterns", {}), data.get("texts")
    if set(data) - {"language", "patterns", "texts"} or set(patterns) - set(GROUPS) \
            or not isinstance(spec.get("code"), str):
        raise ValueError(f"{path}: needs [language] code, and [patterns] of the groups "
                         f"{', '.join(GROUPS)}")
    marks = bool(spec.get("marks", False))
    sources = {g: _sources(patterns.get(g), f"{path}: {g}", marks) for g in GROUPS}
    if any("\\d" not in s for g in NUMERIC for s in sources[g]):
        raise ValueError(f"{path}: every {', '.join(NUMERIC)} pattern needs a \\d")
    if texts is not None and (set(texts) != ids or not all(
            isinstance(t, str) and t.strip() for t in texts.values())):
        raise ValueError(f"{path}: [texts] needs exactly the ids {', '.join(sorted(ids))}")
    own = {k: " ".join(t.split()) for k, t in texts.items()} if texts else None
    return spec["code"], marks, bool(spec.get("words", True)), sources, own


@functools.cache
def load_default() -> Cautions:
    """The shipped cautions, loaded once."""
    return Cautions.load()


def cautions_for(text: str, language: str, context: str = "") -> list[str]:
    """The caution texts a message calls for, in the person's language ([] for most)."""
    return load_default().for_text(text, language, context)

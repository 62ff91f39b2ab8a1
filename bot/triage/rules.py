"""The rule layer of the triage: textbook combinations, negation and figures of speech, kept in
the TOML files of prompts/triage."""

from __future__ import annotations

import bisect
import functools
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.triage.verdict import RANK, ROUTINE, Flag, Level, TriageResult

MIN_FUZZY = 6  # key words this long tolerate one edit; one letter shorter, only a letter swap
_PUNCT = str.maketrans("。、｡､’‘`“”「」『』—–-~()[]", ".,.,'''" + '"' * 6 + ",," + " " * 6)
_PUNCT_BREAK = r"[.,;:!?\n\"/]+"
_MACRO = re.compile(r"\{([A-Z][A-Z0-9_]*)\}")
_TOKEN = re.compile(r"[a-z]+")
_WORD = re.compile(r"[a-z]{5,}")
_UPPER = re.compile(r"(?<!\\)[A-Z]")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_CUES = ("negation_before", "negation_after", "pseudo_negation", "negation_clause")
_RULE_KEYS = {"id", "level", "category", "all_of", "context", "none_of", "priority"}
_LANG_KEYS = {"code", "words", "window", "after_window", "clause_breaks", "idioms", "typos",
              "fuzzy", "protect", "replace", "chars", *_CUES}


@dataclass(frozen=True)
class _Rule:
    """A compiled rule: all_of groups match un-negated, context groups match, none_of doesn't."""

    id: str
    level: Level
    category: str
    priority: int
    groups: tuple[re.Pattern[str], ...]
    context: tuple[re.Pattern[str], ...]
    none_of: re.Pattern[str] | None
    words: bool  # the rule file's language separates words by spaces
    windows: tuple[int, int]  # words (or characters) searched for cues before and after a match


def fold(text: str) -> str:
    """NFKC, ASCII punctuation, lower case, accents and apostrophes removed, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).translate(_PUNCT).lower()
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return " ".join(unicodedata.normalize("NFC", text).replace("'", "").split())


def _variants(word: str) -> set[str]:
    """Strings one insertion, deletion, substitution or swap from `word` (short: swaps only)."""
    cuts = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    swaps = {a + b[1] + b[0] + b[2:] for a, b in cuts if b[1:]}
    if len(word) < MIN_FUZZY:
        return swaps
    return (swaps | {a + b[1:] for a, b in cuts if b}
            | {a + c + b for a, b in cuts for c in _LETTERS}
            | {a + c + b[1:] for a, b in cuts if b for c in _LETTERS})


def _expand(pattern: str, defs: dict[str, str], where: str) -> str:
    """Replace {NAME} by its [define] entry, recursively; unknown names raise ValueError."""
    for _ in range(10):
        if missing := [n for n in _MACRO.findall(pattern) if n not in defs]:
            raise ValueError(f"{where}: unknown {{{missing[0]}}} (not in [define])")
        pattern, count = _MACRO.subn(lambda m: defs[m.group(1)], pattern)
        if not count:
            return pattern
    raise ValueError(f"{where}: [define] entries nest too deeply")


def _sources(pats: Any, words: bool, defs: dict[str, str], where: str) -> list[str]:
    """Check and expand a list of patterns (strip accents, expand {NAME}); `_join` compiles."""
    pats = [] if pats is None else pats
    if not isinstance(pats, list) or not all(isinstance(p, str) and p.strip() for p in pats):
        raise ValueError(f"{where}: expected a list of non-empty strings")
    out = []
    for raw in pats:
        src = _expand("".join(c for c in unicodedata.normalize("NFD", raw)
                              if not unicodedata.combining(c)), defs, where)
        if _UPPER.search(src) or "'" in src:
            raise ValueError(f"{where}: pattern {raw!r} must be lower case without apostrophes")
        out.append(unicodedata.normalize("NFC", src))
    return out


def _join(sources: list[str], words: bool = False, where: str = "") -> re.Pattern[str] | None:
    """One alternation of the sources (inside word boundaries if `words`), or None; a bad
    source is named. Each source is parsed once, in the alternation: parsing them one by one
    first doubled the rules' share of a cold start (2.5 s of it, measured)."""
    if not sources:
        return None
    alternation = "|".join(f"(?:{s})" for s in sources)
    try:
        return re.compile(f"(?<![a-z0-9])(?:{alternation})(?![a-z0-9])" if words
                          else alternation)
    except re.error:
        for src in sources:
            try:
                re.compile(src)
            except re.error as err:
                raise ValueError(f"{where}: bad pattern {src!r}: {err}") from None
        raise


class RuleTriage:
    """A compiled rule set; `classify` is pure, fast and does no I/O."""

    def __init__(self, rules: list[_Rule], cues: dict[bool, tuple[re.Pattern[str] | None, ...]],
                 fixes: dict[str, str], replace: dict[str, str], idioms: list[str],
                 breaks: list[str]) -> None:
        """Keep the compiled parts; build one with `from_dir` or `load_default`."""
        self.rules = sorted(rules, key=lambda r: (-RANK[r.level], -r.priority))
        self._cues, self._fixes, self._replacements = cues, fixes, replace
        self._replace = _join([re.escape(k) for k in sorted(replace, key=len, reverse=True)])
        self._idioms = _join(idioms)
        self._breaks = re.compile("|".join([_PUNCT_BREAK, *breaks]))

    @classmethod
    def from_dir(cls, rules_dir: Path) -> RuleTriage:
        """Load and validate every *.toml file of `rules_dir`; a bad file raises ValueError."""
        files = sorted(Path(rules_dir).glob("*.toml"))
        if not files:
            raise ValueError(f"{rules_dir}: no *.toml rule files")
        rules: dict[str, tuple[_Rule, Path]] = {}
        cues: dict[bool, list[list[str]]] = {w: [[] for _ in _CUES] for w in (True, False)}
        idioms, breaks, keywords, protect = list[str](), list[str](), set[str](), set[str]()
        typos, replace = dict[str, str](), dict[str, str]()
        for path in files:
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
                raise ValueError(f"{path}: not valid TOML: {err}") from None
            spec, defs = data.get("language", {}), data.get("define", {})
            if not (isinstance(spec, dict) and isinstance(defs, dict)
                    and all(isinstance(v, str) for v in defs.values())):
                raise ValueError(f"{path}: [language] must be a table, [define] one of strings")
            for unknown, what in ((set(data) - {"language", "define", "rule"}, "top-level"),
                                  (set(spec) - _LANG_KEYS, "[language]")):
                if unknown:
                    raise ValueError(f"{path}: {what} unknown keys {sorted(unknown)}")
            words = bool(spec.get("words", True))
            windows = int(spec.get("window", 4)), int(spec.get("after_window", 4))
            src = functools.partial(_sources, words=words, defs=defs)
            for i, key in enumerate(_CUES):
                found = src(spec.get(key), where=f"{path}: [language] {key}")
                _join(found, words, f"{path}: [language] {key}")  # checked here, merged below
                cues[words][i] += found
            for key, into in (("idioms", idioms), ("clause_breaks", breaks)):
                where = f"{path}: [language] {key}"
                joined = _join(src(spec.get(key), where=where), words, where)
                into += [joined.pattern] if joined else []
            for kw in map(fold, spec.get("fuzzy", [])):
                if len(kw) < MIN_FUZZY - 1 or not kw.isalpha():
                    raise ValueError(f"{path}: fuzzy {kw!r} is too short; list it in typos")
                keywords.add(kw)
            protect |= {fold(w) for w in spec.get("protect", [])}
            typos.update({fold(k): fold(v) for k, v in spec.get("typos", {}).items()})
            replace.update({fold(k): fold(v) for k, v in spec.get("replace", {}).items()})
            replace.update({p[0]: p[1] for p in spec.get("chars", "").split() if len(p) == 2})
            for i, raw in enumerate(data.get("rule", [])):
                name = raw.get("id", f"#{i + 1}") if isinstance(raw, dict) else f"#{i + 1}"
                rule = _rule(raw, words, windows, defs, f"{path}: rule {name!r}")
                if rule.id in rules:
                    raise ValueError(f"{path}: rule {rule.id!r} is already in {rules[rule.id][1]}")
                rules[rule.id] = (rule, path)
        patterns = [g.pattern for r, _ in rules.values() for g in (*r.groups, *r.context)]
        patterns += idioms
        known = keywords | protect | set(_WORD.findall(" ".join(patterns)))
        fixes = {v: kw for kw in sorted(keywords, reverse=True) for v in _variants(kw) - known
                 if len(v) >= MIN_FUZZY - 1}
        merged = {w: tuple(_join(c, w) for c in lists) for w, lists in cues.items()}
        return cls([r for r, _ in rules.values()], merged, {**fixes, **typos}, replace, idioms,
                   breaks)

    def normalise(self, text: str) -> str:
        """The text rules see: folded, characters replaced, typos fixed, idioms removed."""
        text = fold(text)
        if self._replace:
            text = self._replace.sub(lambda m: self._replacements[m.group()], text)
        text = _TOKEN.sub(lambda m: self._fixes.get(m.group(), m.group()), text)
        return " ".join(self._idioms.sub(" ", text).split()) if self._idioms else text

    def classify(self, text: str) -> TriageResult:
        """The most serious rule that fires on `text`, or routine when none does."""
        norm = self.normalise(text)
        if not norm:
            return ROUTINE
        spans = [m.span() for m in self._breaks.finditer(norm)]
        bounds = ([s for s, _ in spans], [e for _, e in spans])
        for rule in self.rules:
            if not all(g.search(norm) for g in rule.context) or (
                    rule.none_of and rule.none_of.search(norm)):
                continue
            spans = [self._hit(g, norm, rule, bounds) for g in rule.groups]
            if all(spans):
                words = " … ".join(norm[a:b] for a, b in sorted(set(spans)))  # type: ignore[misc]
                flag = Flag("rules", rule.id, rule.category, rule.level, words)
                return TriageResult(rule.level, rule.category, rule.id, (flag,))
        return ROUTINE

    def _hit(self, group: re.Pattern[str], text: str, rule: _Rule,
             bounds: tuple[list[int], list[int]]) -> tuple[int, int] | None:
        """Where `group` matches in `text` with no negation cue in its clause, or None."""
        before_cue, after_cue, pseudo, clause_cue = self._cues[rule.words]
        (starts, ends), (window, after_window) = bounds, rule.windows
        for m in group.finditer(text):
            i, j = bisect.bisect_right(ends, m.start()), bisect.bisect_left(starts, m.end())
            before = text[ends[i - 1] if i else 0:m.start()]
            after = text[m.end():starts[j] if j < len(starts) else len(text)]
            before = (pseudo.sub(" ", before) if pseudo else before).strip()
            if clause_cue and clause_cue.search(before):
                continue
            if rule.words:
                before = " ".join(before.split()[-window:])
                after = " ".join(after.split()[:after_window])
            else:
                before, after = before[-window:], after.strip()[:after_window]
            if not ((before_cue and before_cue.search(before))
                    or (after_cue and after_cue.search(after))):
                return m.span()
        return None


def _rule(raw: Any, words: bool, windows: tuple[int, int], defs: dict[str, str],
          where: str) -> _Rule:
    """Validate and compile one [[rule]] table; any problem raises ValueError naming it."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: a rule must be a table")
    if set(raw) - _RULE_KEYS:
        raise ValueError(f"{where}: unknown keys {sorted(set(raw) - _RULE_KEYS)}")
    rid, level, category = raw.get("id"), raw.get("level"), raw.get("category")
    for bad, problem in ((not isinstance(rid, str) or not rid, "missing id"),
                         (level not in ("emergency", "urgent"), f"level {level!r} is not "
                          "'emergency' or 'urgent'"),
                         (not isinstance(category, str) or not category, "missing category"),
                         (not isinstance(raw.get("priority", 0), int), "priority is not an int")):
        if bad:
            raise ValueError(f"{where}: {problem}")
    compiled: dict[str, tuple[re.Pattern[str], ...]] = {}
    for key in ("all_of", "context"):
        groups = raw.get(key, [])
        if not isinstance(groups, list) or (key == "all_of" and not groups):
            raise ValueError(f"{where}: {key} must be a list of pattern lists (all_of non-empty)")
        srcs = [_sources(g, words, defs, f"{where} {key}[{i}]") for i, g in enumerate(groups)]
        if not all(srcs):
            raise ValueError(f"{where}: {key} has an empty group")
        compiled[key] = tuple(_join(s, words, f"{where} {key}[{i}]")  # type: ignore[misc]
                              for i, s in enumerate(srcs))
    none_of = _join(_sources(raw.get("none_of"), words, defs, f"{where} none_of"), words,
                    f"{where} none_of")
    return _Rule(rid, level, category, raw.get("priority", 0), compiled["all_of"],
                 compiled["context"], none_of, words, windows)


RULES_DIR = Path(__file__).resolve().parents[2] / "prompts" / "triage"


@functools.cache
def load_rules() -> RuleTriage:
    """The rules shipped in prompts/triage, loaded once."""
    return RuleTriage.from_dir(RULES_DIR)

"""Prompt and message texts, read once from the prompts folder at start; every fixed text a
person sees exists per language (prompts/NAME.LANG.md, labels.LANG.toml), English filling gaps."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from bot.chinese_script import text_code
from bot.provenance import SHIPPED_LABELS, Labels, read_labels
from bot.settings import Settings

# The numbers put into the emergency and crisis texts when EMERGENCY_NUMBER / CRISIS_LINE are
# unset: per language, in it, for the regions where it is spoken (English's for the others).
SHIPPED_NUMBERS = Path(__file__).resolve().parents[1] / "prompts" / "numbers.toml"
NUMBER_KEYS = ("emergency_number", "crisis_line")

LANGUAGES = ("en", "zh", "es", "fr", "de", "pt", "it", "vi", "ja", "ko", "ar", "hi", "ru", "tr",
             "id")
# Fixed texts in a second script of a language and the language they fall back to: "zh" is
# Simplified, a message in Traditional characters gets NAME.zh-hant.md (bot/chinese_script.py).
VARIANTS = {"zh-hant": "zh"}
# What the LLM is told the person writes in (the triage detects the language of the message).
LANGUAGE_NAMES = {
    "en": "English", "zh": "Chinese (in the same script, Traditional or Simplified, as the "
    "person's message)", "es": "Spanish", "fr": "French", "de": "German", "pt": "Portuguese",
    "it": "Italian", "vi": "Vietnamese", "ja": "Japanese", "ko": "Korean", "ar": "Arabic",
    "hi": "Hindi", "ru": "Russian", "tr": "Turkish", "id": "Indonesian",
}
LOCALIZED = ("emergency", "crisis", "urgent", "reason", "offline", "no_match", "empty_kb",
             "disclaimer")
REQUIRED = ("system", "answer", "condense", "disclaimer", "emergency", "crisis", "urgent",
            "reason", "no_match", "offline", "empty_kb")
# The intent's fixed replies and safety lines (bot/intent), per language like LOCALIZED; the
# medication rule is the LLM's (English), added to its rules for a medication question.
INTENT_TEXTS = ("off_topic", "greeting", "greeting.thanks", "medication_safety",
                "medication_safety.interaction", "medication_safety.child_dose",
                "medication_safety.pregnancy", "medication_safety.breastfeeding",
                "medication_rule")
NUMBERED = ("emergency", "crisis")  # texts whose {emergency_number} / {crisis_line} are filled in
# texts whose {knowledge} says what the index holds
KNOWLEDGE = ("disclaimer", "no_match", "greeting", "off_topic")
HOLDINGS = ("doctors", "reference", "both")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class PromptError(Exception):
    """A prompt file is missing or unusable."""


def placeholders(text: str) -> set[str]:
    """The {names} a text expects to be filled in."""
    return set(_PLACEHOLDER.findall(text))


@dataclass(frozen=True)
class Prompts:
    """Every text the engine uses; emergency texts have their numbers filled in; the English
    disclaimer and no_match attributes describe an index of both kinds."""

    system: str
    answer: str
    condense: str
    disclaimer: str
    emergency: str
    crisis: str
    urgent: str
    reason: str  # "You mention {flags}.": why the triage raised the level
    no_match: str
    offline: str
    empty_kb: str
    # The LOCALIZED texts by language, English included: {"zh": {"emergency": ...}, ...}
    localized: dict[str, dict[str, str]] = field(default_factory=dict)
    label_sets: dict[str, Labels] = field(default_factory=dict)

    def text(self, name: str, language: str, holds: str = "both") -> str:
        """A fixed text in the person's language (and script) when prompts/ has it, else
        English; a KNOWLEDGE text says what the index holds ("doctors", "reference", "both")."""
        text = next((self.localized[code][name] for code in _fallbacks(language)
                     if name in self.localized.get(code, {})), None) or getattr(self, name)
        if name in KNOWLEDGE:
            text = text.replace("{knowledge}", self.labels(language)(f"knowledge_{holds}"))
        return text

    def labels(self, language: str) -> Labels:
        """The source labels in the person's language and script (English where it has none)."""
        return next(self.label_sets[code] for code in _fallbacks(language)
                    if code in self.label_sets)

    @classmethod
    def load(cls, settings: Settings) -> Prompts:
        """Read prompts/*.md and labels*.toml; fail with the file name when one is missing,
        empty, or lacks (or adds) a placeholder of its English original."""
        folder = Path(settings.prompts_dir)
        texts = {name: _read(folder / f"{name}.md") for name in REQUIRED}
        for name, fields in (("answer", ("sources", "question", "language")),
                             ("reason", ("flags",)), ("condense", ("history", "question")),
                             ("disclaimer", ("knowledge",)), ("no_match", ("knowledge",))):
            missing = [f for f in fields if "{" + f + "}" not in texts[name]]
            if missing:
                raise PromptError(f"prompt file {folder / name}.md lacks {missing}")
        numbers = _numbers(folder)
        configured = {"emergency_number": settings.emergency_number,
                      "crisis_line": settings.crisis_line}
        localized: dict[str, dict[str, str]] = {"en": {n: texts[n] for n in LOCALIZED}}
        localized["en"].update({n: _read(folder / f"{n}.md") for n in INTENT_TEXTS})
        for path in sorted(folder.glob("*.*.md")):
            # the language is the last part: "greeting.thanks.de.md"; "greeting.thanks.md" is
            # the English one
            name, _, language = path.stem.rpartition(".")
            if (language in LANGUAGES or language in VARIANTS) and (
                    name in LOCALIZED or name in INTENT_TEXTS):
                text = _read(path)
                if placeholders(text) != placeholders(localized["en"][name]):
                    raise PromptError(f"prompt file {path} has the placeholders "
                                      f"{sorted(placeholders(text))}, not those of {name}.md: "
                                      f"{sorted(placeholders(localized['en'][name]))}")
                localized.setdefault(language, {})[name] = text
        for language, by_name in localized.items():
            # a number the operator set wins in every language
            values = {key: configured[key] or next(numbers[code][key] for code in
                                                   _fallbacks(language) if code in numbers)
                      for key in NUMBER_KEYS}
            for name in NUMBERED:
                if name in by_name:
                    by_name[name] = by_name[name].format(**values)
        label_sets = _labels(folder)
        for name in NUMBERED:
            texts[name] = localized["en"][name]
        for name in ("disclaimer", "no_match"):
            texts[name] = texts[name].replace("{knowledge}", label_sets["en"]("knowledge_both"))
        return cls(**texts, localized=localized, label_sets=label_sets)


def _fallbacks(language: str) -> tuple[str, ...]:
    """The codes whose texts serve a language, best first: "zh-hant", "zh", "en"."""
    code = text_code(language)
    return tuple(dict.fromkeys(c for c in (code, VARIANTS.get(code), "en") if c))


def _numbers(folder: Path) -> dict[str, dict[str, str]]:
    """numbers.toml (the shipped one when the folder has none): per language, both numbers;
    English's are required."""
    path = folder / "numbers.toml"
    path = path if path.exists() else SHIPPED_NUMBERS
    try:
        tables = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PromptError(f"prompt file {path} cannot be read: {error}") from error
    for language, table in tables.items():
        if not isinstance(table, dict) or set(table) != set(NUMBER_KEYS) or not all(
                isinstance(v, str) and v.strip() for v in table.values()):
            raise PromptError(f"prompt file {path}: [{language}] needs exactly "
                              f"{list(NUMBER_KEYS)}, each a text")
    if "en" not in tables:
        raise PromptError(f"prompt file {path} lacks the [en] numbers")
    return tables


def _read(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise PromptError(f"prompt file {path} cannot be read: {error}") from error
    if not text:
        raise PromptError(f"prompt file {path} is empty")
    return text


def _labels(folder: Path) -> dict[str, Labels]:
    """labels.toml (the shipped one when the folder has none) and every labels.LANG.toml."""
    base_path = folder / "labels.toml"
    try:
        base = read_labels(base_path if base_path.exists() else SHIPPED_LABELS)
    except (OSError, ValueError) as error:
        raise PromptError(f"prompt file {base_path} cannot be read: {error}") from error
    sets = {"en": Labels("en", base)}
    for path in sorted(folder.glob("labels.*.toml")):
        language = path.name.split(".")[1]
        try:
            values = read_labels(path)
        except (OSError, ValueError) as error:
            raise PromptError(f"prompt file {path} cannot be read: {error}") from error
        for key, text in values.items():
            if key in base and placeholders(text) != placeholders(base[key]):
                raise PromptError(f"prompt file {path}: {key!r} has the placeholders "
                                  f"{sorted(placeholders(text))}, not "
                                  f"{sorted(placeholders(base[key]))}")
        sets[language] = Labels(language, {**base, **{k: v for k, v in values.items() if v}})
    return sets

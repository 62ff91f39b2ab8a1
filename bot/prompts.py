"""Prompt and message texts, read once from the prompts folder at start."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.settings import Settings

DEFAULT_EMERGENCY_NUMBERS = (
    "112 (Europe and most countries), 911 (US and Canada), 119 (Taiwan, Japan)"
)
DEFAULT_CRISIS_LINES = (
    "988 (US), 1925 (Taiwan), 116 123 (UK and Ireland), or your local crisis line"
)

LOCALIZED = ("emergency", "crisis", "urgent", "reason")
REQUIRED = ("system", "answer", "condense", "disclaimer", "emergency", "crisis", "urgent",
            "reason", "no_match", "offline", "empty_kb")
NUMBERED = ("emergency", "crisis")  # texts whose {emergency_number} / {crisis_line} are filled in


class PromptError(Exception):
    """A prompt file is missing or unusable."""


@dataclass(frozen=True)
class Prompts:
    """Every text the engine uses; emergency texts have their numbers filled in."""

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
    # Emergency, crisis and urgent texts in other languages: {"zh": {"emergency": ...}, ...}
    localized: dict[str, dict[str, str]] = field(default_factory=dict)

    def text(self, name: str, language: str) -> str:
        """A safety text in the person's language when prompts/ has it, else the default."""
        return self.localized.get(language, {}).get(name) or getattr(self, name)

    @classmethod
    def load(cls, settings: Settings) -> Prompts:
        """Read prompts/*.md; fail with the file name when one is missing or empty."""
        folder = Path(settings.prompts_dir)
        texts: dict[str, str] = {}
        for name in REQUIRED:
            path = folder / f"{name}.md"
            try:
                text = path.read_text(encoding="utf-8").strip()
            except OSError as error:
                raise PromptError(f"prompt file {path} cannot be read: {error}") from error
            if not text:
                raise PromptError(f"prompt file {path} is empty")
            texts[name] = text
        numbers = {
            "emergency_number": settings.emergency_number or DEFAULT_EMERGENCY_NUMBERS,
            "crisis_line": settings.crisis_line or DEFAULT_CRISIS_LINES,
        }
        for name in NUMBERED:
            texts[name] = texts[name].format(**numbers)
        localized: dict[str, dict[str, str]] = {}
        for path in sorted(folder.glob("*.*.md")):
            name, language = path.stem.split(".", 1)
            if name in LOCALIZED:
                text = path.read_text(encoding="utf-8").strip()
                text = text.format(**numbers) if name in NUMBERED else text
                localized.setdefault(language, {})[name] = text
        for name, fields in (("answer", ("sources", "question")), ("reason", ("flags",)),
                             ("condense", ("history", "question"))):
            missing = [f for f in fields if "{" + f + "}" not in texts[name]]
            if missing:
                raise PromptError(f"prompt file {folder / name}.md lacks {missing}")
        return cls(**texts, localized=localized)

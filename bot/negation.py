"""Findings a person says they do not have ("no fever", "sin fiebre", "Температуры нет"), left
out of the search text: a negated word otherwise finds its own pages (Q fever for "no fever
that we noticed"). The cue lists live in prompts/negation.toml; the triage never sees this."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path

NEGATION_FILE = Path(__file__).resolve().parents[1] / "prompts" / "negation.toml"


class NegationError(ValueError):
    """The negation file is malformed."""


@cache
def patterns(path: Path = NEGATION_FILE) -> dict[str, tuple[re.Pattern[str], ...]]:
    """Language code -> its compiled negated-span patterns; a bad file raises NegationError."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise NegationError(f"{path}: cannot read the negation cues: {error}") from None
    compiled: dict[str, tuple[re.Pattern[str], ...]] = {}
    for language, table in data.items():
        found = table.get("patterns") if isinstance(table, dict) else None
        if not isinstance(found, list) or not all(isinstance(p, str) for p in found):
            raise NegationError(f"{path}: [{language}] needs patterns = [...] of strings")
        try:
            compiled[language] = tuple(re.compile(p, re.IGNORECASE) for p in found)
        except re.error as error:
            raise NegationError(f"{path}: [{language}] bad pattern: {error}") from None
    return compiled


def without_negated(text: str, language: str) -> str:
    """The text with the spans it negates taken out (unchanged for a language without cues)."""
    for pattern in patterns().get(language or "en", ()):
        text = pattern.sub(" ", text)
    return " ".join(text.split(" ")).strip() if text else text

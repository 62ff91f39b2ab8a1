"""The triage verdict: a level, a category, and the red flags that led to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Level = Literal["emergency", "urgent", "routine"]
RANK: dict[str, int] = {"routine": 0, "urgent": 1, "emergency": 2}
# Categories whose answer leads with the crisis line (rules and model name them differently).
CRISIS_CATEGORIES = frozenset({"suicide_self_harm", "suicidal_intent", "suicidal_ideation",
                               "self_harm_bleeding", "self_harm_minor"})


@dataclass(frozen=True)
class Flag:
    """One red flag: which layer raised it, its id, category and level, and the words it saw."""

    layer: str  # "rules", "model" or "llm"
    id: str
    category: str
    level: Level
    words: str = ""
    score: float | None = None

    def public(self) -> dict[str, object]:
        """The flag as JSON for `triage --file` and `ask --json`."""
        out: dict[str, object] = {"layer": self.layer, "id": self.id, "category": self.category,
                                  "level": self.level, "words": self.words}
        if self.score is not None:
            out["score"] = round(self.score, 3)
        return out

    def loggable(self) -> str:
        """The flag without the person's words: safe for logs."""
        score = f"@{self.score:.2f}" if self.score is not None else ""
        return f"{self.layer}:{self.id}{score}"


@dataclass(frozen=True)
class TriageResult:
    """The verdict: level, category ("" when routine), the deciding flag's id, every flag raised,
    and the person's language (for the safety texts)."""

    level: Level
    category: str
    matched: str = ""
    flags: tuple[Flag, ...] = field(default=())
    language: str = ""

    @property
    def crisis(self) -> bool:
        """True when the answer should lead with the crisis line."""
        return self.category in CRISIS_CATEGORIES or any(
            f.category in CRISIS_CATEGORIES and f.level != "routine" for f in self.flags)

    def public(self) -> dict[str, object]:
        """The verdict as JSON."""
        return {"level": self.level, "category": self.category or "none",
                "flags": [f.public() for f in self.flags], "language": self.language}


ROUTINE = TriageResult("routine", "")


def most_serious(flags: list[Flag], language: str = "") -> TriageResult:
    """The verdict of a set of flags: the most serious level wins; rules before model before LLM
    at equal level (their categories are the most specific)."""
    if not flags:
        return TriageResult("routine", "", "", (), language)
    order = {"rules": 0, "model": 1, "llm": 2}
    ranked = sorted(flags, key=lambda f: (-RANK[f.level], order.get(f.layer, 3),
                                          -(f.score or 0.0)))
    top = ranked[0]
    if top.level == "routine":
        return TriageResult("routine", "", "", tuple(ranked), language)
    return TriageResult(top.level, top.category, top.id, tuple(ranked), language)

"""Red-flag triage by code, before any search or LLM: rules and a semantic model, in the
person's language; the most serious verdict of the layers wins."""

from __future__ import annotations

import functools
import logging

from bot.triage.language import detect
from bot.triage.rules import RuleTriage, fold, load_rules
from bot.triage.semantic import ModelError, SemanticTriage, load_semantic
from bot.triage.verdict import RANK, ROUTINE, Flag, Level, TriageResult, most_serious

__all__ = ["RANK", "ROUTINE", "Flag", "Level", "ModelError", "RuleTriage", "SemanticTriage",
           "Triage", "TriageResult", "fold", "load_default", "load_rules"]
log = logging.getLogger(__name__)


class Triage:
    """Rules and (unless switched off) the semantic model; `classify` does no I/O."""

    def __init__(self, rules: RuleTriage, semantic: SemanticTriage | None) -> None:
        self.rules, self.semantic = rules, semantic

    def classify(self, text: str) -> TriageResult:
        """Every code layer's flags and the most serious verdict, with the person's language."""
        rule = self.rules.classify(text)
        flags = list(rule.flags)
        # An emergency the rules found cannot get more serious: it never waits for the model.
        if self.semantic is not None and text.strip() and rule.level != "emergency":
            flags += self.semantic.flags(text)
        return most_serious(flags, self.language(text, rule.matched))

    @staticmethod
    def language(text: str, rule_id: str = "") -> str:
        """The language for the safety texts: the detector's (a rule file's patterns are shared by
        related languages, so the rule that fired is only the fallback)."""
        from_rule = rule_id.split(".", 1)[0] if "." in rule_id else ""
        return detect(text, from_rule if from_rule not in ("", "model", "llm") else "en")


@functools.cache
def load_default(semantic: bool = True) -> Triage:
    """The shipped rules and, with `semantic`, the shipped model and encoder (loaded once)."""
    return Triage(load_rules(), load_semantic() if semantic else None)

"""What a non-emergency message is about: a medication-safety question, something off topic, a
greeting, or (the default, whenever unsure) a health question."""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from bot.intent.cues import CueSet, Text
from bot.triage.clauses import sentences

__all__ = ["HEALTH", "KINDS", "Intent", "IntentClassifier", "load_default"]
log = logging.getLogger(__name__)

Label = Literal["health", "medication", "off_topic", "greeting"]
KINDS = {"medication": ("interaction", "child_dose", "pregnancy", "breastfeeding", "dose"),
         "greeting": ("hello", "thanks")}
# Cue groups whose words vote for the language of the fixed texts (a word in several
# languages' files, "ok" or "ibuprofen", votes for none).
_VOTING = ("medicine", "generic", "partner", "take", "combine", "child", "pregnancy",
           "breastfeeding", "health", "off_topic", "hello", "thanks")
_THANKS_EMOJI = frozenset("👍🙏👌❤💙💚🧡💛💜🤍😊🙂☺😀😃😄😁🥰😍💯✅✔🤝👏")
MAX_SENTENCES = 48  # as the triage's semantic layer: about 4,000 characters
SHORT = 6  # words: the detector reads longer messages well, shorter ones often not


@dataclass(frozen=True)
class Intent:
    """The label, its sub-kind ("" for health and off_topic), and the language the message's cue
    words point to ("" when they do not settle it; the triage's language is then used)."""

    label: Label
    kind: str = ""
    language: str = ""

    @property
    def name(self) -> str:
        """"medication.child_dose", "off_topic", …: for `ask --json`, logs and statistics."""
        return f"{self.label}.{self.kind}" if self.kind else self.label

    @property
    def text(self) -> str:
        """The name of its fixed text in prompts/ ("" for health): the off-topic reply, the
        greeting or thank-you reply, or the medication safety line of its sub-kind (a plain
        dose question has the general one)."""
        if self.label == "medication":
            return "medication_safety" if self.kind == "dose" else f"medication_safety.{self.kind}"
        if self.label == "greeting":
            return "greeting.thanks" if self.kind == "thanks" else "greeting"
        return "off_topic" if self.label == "off_topic" else ""


HEALTH = Intent("health")


class IntentClassifier:
    """The cue lists of prompts/intent; `classify` does no I/O and takes about a millisecond.
    (An e5 logistic regression beside them added no off-topic recall at thresholds that refuse
    no more health questions: bench/intent_results.md.)"""

    def __init__(self, cues: CueSet) -> None:
        self.cues = cues

    def classify(self, text: str, level: str = "routine", language: str = "",
                 context: str = "") -> Intent:
        """The intent of a message the triage did not call an emergency (`level`, `language`:
        its verdict); `context` is the person's previous message (a follow-up may name the
        medicine only there)."""
        norm = Text.of(text)
        if not norm.folded:
            return HEALTH
        if level == "routine" and not any(c.isalnum() for c in norm.folded):
            # "👍", "🙏🙏", "?": an acknowledgement, or a look at what the bot does
            thanked = any(c in _THANKS_EMOJI for c in text)
            return Intent("greeting", "thanks" if thanked else "hello")
        if level == "routine" and self._greeting(norm):
            hello = self.cues.greeting_only(norm, "hello") or not self._hits("thanks", norm)
            return Intent("greeting", "hello" if hello else "thanks",
                          self._language(norm, language))
        kind = self._medication(text, norm, context)
        if kind:
            return Intent("medication", kind, self._language(norm, language))
        if level == "routine" and self._off_topic(norm):
            return Intent("off_topic", "", self._language(norm, language))
        return HEALTH

    def _greeting(self, text: Text) -> bool:
        """Nothing but greetings, thanks and fillers, with at least one greeting or thanks."""
        return self.cues.greeting_only(text) and bool(
            self._hits("hello", text) or self._hits("thanks", text))

    def _hits(self, group: str, text: Text) -> list[str]:
        return self.cues.hits(group, text)

    def _medication(self, text: str, norm: Text, context: str) -> str:
        """The medication sub-kind, or '' when the message asks nothing about taking one: a
        medicine and a question about taking or combining it in one sentence ("the kids fought
        over the tablet" and "we took the back roads" are not one), or a medicine and a pregnancy
        or breastfeeding anywhere."""
        mentioned = asked = combined = False
        for part in sentences(text, MAX_SENTENCES) or [text]:
            unit = Text.of(part)
            named, generic = set(self._hits("medicine", unit)), self._hits("generic", unit)
            if not (named or generic):
                continue
            partners = set(self._hits("partner", unit))
            combine, two = self._hits("combine", unit), len(named | partners) >= 2
            mentioned = True
            asked = asked or bool(two or combine or self._hits("take", unit))
            combined = combined or two or bool(combine and (named or partners))
        pregnancy, breastfeeding = self._hits("pregnancy", norm), self._hits("breastfeeding", norm)
        if not mentioned and context.strip() and (pregnancy or breastfeeding or self._hits(
                "take", norm) or self._hits("combine", norm)):
            # "is it safe while breastfeeding?" after a message that named the medicine
            before = Text.of(context)
            mentioned = asked = bool(self._hits("medicine", before)
                                     or self._hits("generic", before))
        if not mentioned:
            return ""
        if pregnancy:
            return "pregnancy"
        if breastfeeding:
            return "breastfeeding"
        if not asked:
            return ""
        if self._hits("child", norm):
            return "child_dose"
        return "interaction" if combined else "dose"

    def _off_topic(self, norm: Text) -> bool:
        """An off-topic cue, and no health cue, medicine, pregnancy or breastfeeding."""
        if not self._hits("off_topic", norm):
            return False
        return not any(self._hits(group, norm) for group in
                       ("health", "medicine", "generic", "pregnancy", "breastfeeding"))

    def _language(self, norm: Text, detected: str) -> str:
        """A better language than the detector's for the fixed texts, or '': the one language
        whose own cue words the message uses most, when that is not the detector's and the
        message is short (the detector misreads short messages: "hola" as Turkish, "ciao!" as
        Vietnamese) or the cue words outvote it by two."""
        found: dict[str, set[str]] = {}
        for group in _VOTING:
            for code, hits in self.cues.find(group, norm).items():
                for hit in hits:
                    found.setdefault(hit, set()).add(code)
        votes = Counter(next(iter(codes)) for codes in found.values() if len(codes) == 1)
        ranked = votes.most_common(2)
        if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
            return ""
        best, count = ranked[0]
        short = len(re.findall(r"\w+", norm.folded)) <= SHORT
        if best == detected or not (short or count >= votes[detected] + 2):
            return ""
        return best


@functools.cache
def load_default() -> IntentClassifier:
    """The shipped cue lists, loaded once."""
    return IntentClassifier(CueSet.from_dir())

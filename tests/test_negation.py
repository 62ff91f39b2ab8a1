"""What a person says they do not have is not searched for ("no fever" finds no Q fever)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.crosslingual import search_query
from bot.negation import NegationError, patterns, without_negated


@pytest.mark.parametrize(("text", "language", "gone", "kept"), [
    ("he is confused. no fever that we noticed. he lives with my mum", "en", "fever", "confused"),
    ("lump in my neck, moves around, not painful", "en", "painful", "lump"),
    ("Заложен нос и болит лоб. Температуры нет.", "ru", "Температуры", "лоб"),
    ("el ácido úrico en 8,2 pero nunca he tenido dolor en las articulaciones", "es", "dolor",
     "úrico"),
    ("空腹血糖6.5，没有发烧", "zh", "发烧", "血糖"),
    ("熱はないです。頭痛がします", "ja", "熱", "頭痛"),
    ("बुखार नहीं है लेकिन खांसी है", "hi", "बुखार", "खांसी"),
    ("Pas de fièvre, mais une toux", "fr", "fièvre", "toux"),
    ("kein Fieber, aber Husten", "de", "Fieber", "Husten"),
])
def test_a_negated_finding_leaves_the_search_text(text, language, gone, kept) -> None:
    searched = without_negated(text, language)
    assert gone not in searched and kept in searched


@pytest.mark.parametrize("text", [
    "no appetite and no energy, no periods for 3 months",  # these are the symptoms
    "I have no idea why and he can no longer walk",
    "I can't breathe",
])
def test_symptoms_said_with_no_stay(text) -> None:
    assert without_negated(text, "en") == text


def test_the_glossary_adds_no_english_term_for_a_negated_word() -> None:
    searched = search_query("Уже неделю заложен нос. Температуры нет.", "ru")
    assert "fever" not in searched.lower() and "nose" in searched.lower()
    assert "fever" in search_query("У меня температура и заложен нос.", "ru").lower()


def test_a_broken_cue_file_names_the_file_and_language(tmp_path: Path) -> None:
    bad = tmp_path / "negation.toml"
    bad.write_text("[en]\npatterns = ['(unclosed']\n", encoding="utf-8")
    with pytest.raises(NegationError, match=r"negation.toml: \[en\] bad pattern"):
        patterns(bad)

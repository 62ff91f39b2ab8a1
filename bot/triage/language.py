"""The person's language, for the safety texts: lingua's detector over the 15 languages the
triage covers, with script and word hints where a message is too short for it."""

from __future__ import annotations

import functools
import re

from bot.chinese_script import chinese

LANGUAGES = ("en", "es", "zh", "fr", "de", "pt", "it", "vi", "ja", "ko", "ar", "hi", "ru", "tr",
             "id")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN_WORD = re.compile(r"[^\W\d_]+")
# Words that settle a very short Latin-script message (lingua needs a few words to be sure).
_SHORT_HINTS = {
    "en": "help chest pain cant breathe my is not bleeding heart attack stroke baby dying".split(),
    "es": "ayuda dolor pecho no puedo respirar mi me duele sangre bebé ahogo".split(),
    "pt": "socorro dor peito não consigo respirar meu minha sangue bebê".split(),
    "fr": "aide au secours douleur poitrine je ne peux respirer mon ma sang bébé".split(),
    "de": "hilfe schmerzen brust ich kann nicht atmen mein meine blut baby".split(),
    "it": "aiuto dolore petto non riesco respirare mio mia sangue".split(),
    "tr": "yardım imdat ağrı göğüs nefes alamıyorum kan bebek".split(),
    "id": "tolong sakit dada sesak napas tidak bisa darah bayi saya".split(),
    "vi": "cứu đau ngực khó thở không máu em bé tôi".split(),
}


@functools.cache
def _detector():  # noqa: ANN202 - a lingua LanguageDetector
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [getattr(IsoCode639_1, code.upper()) for code in LANGUAGES]
    # Low-accuracy mode: trigram models only, about 25 MB instead of 350; as accurate on the
    # sentences people send, and short messages are settled by the hints below.
    return (LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
            .with_preloaded_language_models().with_low_accuracy_mode().build())


def _by_script(text: str) -> str:
    """The language a non-Latin script settles on its own, or ''."""
    if _KANA.search(text):
        return "ja"
    if _HANGUL.search(text):
        return "ko"
    for pattern, code in ((_HAN, "zh"), (_ARABIC, "ar"), (_DEVANAGARI, "hi"),
                          (_CYRILLIC, "ru")):
        if pattern.search(text):
            return code
    return ""


def detect(text: str, default: str = "en") -> str:
    """The message's language code (one of LANGUAGES), or `default` when nothing tells."""
    sample = text[:600]
    script = _by_script(sample)
    if script:
        return chinese(sample) if script == "zh" else script  # "zh" knowing its script
    words = [w.lower() for w in _LATIN_WORD.findall(sample)]
    if not words:
        return default
    if len(words) <= 4:
        hits = {code: sum(w in hints for w in words) for code, hints in _SHORT_HINTS.items()}
        best = max(hits, key=lambda c: hits[c])
        if hits[best] and list(hits.values()).count(hits[best]) == 1:
            return best
    language = _detector().detect_language_of(sample)
    if language is None:
        return default
    return language.iso_code_639_1.name.lower()

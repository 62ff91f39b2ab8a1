"""Text helpers shared by the corpus parsers: decoding, whitespace, language, de-identification."""

from __future__ import annotations

import re
from collections.abc import Iterable

BOM = "\ufeff"
_LEGACY = (("Big5", ("big5", "cp950")), ("GB18030", ("gb18030",)))


class DecodeError(ValueError):
    """The bytes are not text we can read without guessing."""


def decode_bytes(data: bytes) -> str:
    """UTF-8 (BOM optional), else exactly one plausible Big5/GB18030 reading, else DecodeError."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DecodeError(f"bad UTF-16 (first bad byte at offset {exc.start})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        offset = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
    readings: dict[str, str] = {}
    for label, codecs in _LEGACY:
        for codec in codecs:
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                continue
            if is_plausible(text):
                readings[label] = text
            break
    if len(set(readings.values())) == 1:
        return next(iter(readings.values()))
    raise DecodeError(
        f"not valid UTF-8 and not unambiguously Big5 or GB18030 (first bad byte at offset {offset})"
    )


def decode_without_nul(data: bytes) -> tuple[str, int, int]:
    """(text, NUL characters removed, byte offset of the first) as decode_bytes reads it."""
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    first = -1 if utf16 else data.find(b"\x00")
    count = data.count(b"\x00") if first >= 0 else 0
    if count:  # a 0 byte is never part of another character in UTF-8, Big5 or GB18030
        data = data.replace(b"\x00", b"")
    text = decode_bytes(data)
    if utf16 and "\x00" in text:
        count = text.count("\x00")
        first = 2 + len(text[: text.index("\x00")].encode("utf-16-le"))
        text = text.replace("\x00", "")
    return text, count, first


def _is_expected(ch: str) -> bool:
    """True for characters normal in Chinese or Latin-script text."""
    o = ord(ch)
    return (
        o < 0x250  # ASCII, Latin-1, Latin Extended
        or 0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0xF900 <= o <= 0xFAFF
        or 0x3000 <= o <= 0x303F  # CJK punctuation
        or 0xFF00 <= o <= 0xFFEF  # full-width forms
        or 0x2000 <= o <= 0x206F  # general punctuation
    )


def is_plausible(text: str) -> bool:
    """Mostly CJK/Latin text with no control or private-use characters."""
    odd = total = 0
    for ch in text:
        if ch.isspace():
            continue
        o = ord(ch)
        if o < 0x20 or 0x7F <= o < 0xA0 or 0xE000 <= o <= 0xF8FF:
            return False
        total += 1
        if not _is_expected(ch):
            odd += 1
    return odd <= max(1, total // 50)


def clean_newlines(text: str) -> str:
    """Drop a BOM and turn CRLF / CR into LF."""
    return text.lstrip(BOM).replace("\r\n", "\n").replace("\r", "\n")


_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_BLANKS = re.compile(r"\n{3,}")


def normalise_whitespace(text: str) -> str:
    """Lines trimmed, runs of spaces collapsed, blank-line runs kept as one paragraph break."""
    lines = [_SPACES.sub(" ", line).strip() for line in clean_newlines(text).split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")


def normalise_date(value: str) -> str:
    """'2023/7/5' -> '2023-07-05'; anything else is returned stripped."""
    m = _DATE.search(value)
    if not m:
        return value.strip()
    y, mo, d = m.groups()
    return f"{y}-{int(mo):02d}-{int(d):02d}"


_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[a-záéíóúñü]+")
_LETTER = re.compile(r"[^\W\d_]")
_ES = frozenset(
    "el la los las que del por para con una es está están pero muy tengo tiene hace desde"
    " cuando como más también hola gracias dolor médico años mi mis sus usted le se lo al"
    " hay sin sobre puede estoy".split()
)
_EN = frozenset("the and is of to in my have with for it that this was are be you i".split())


def detect_language(text: str) -> str:
    """'zh' when mostly CJK, 'es' when Spanish words dominate, else 'en' ('' if no letters)."""
    sample = text[:400]
    if not sample.isascii():
        letters = len(_LETTER.findall(sample))
        if letters and len(_CJK.findall(sample)) * 3 > letters:
            return "zh"
    words = _WORD.findall(sample.lower())
    if not words:
        return "zh" if _CJK.search(sample) else ""
    es = sum(map(_ES.__contains__, words))
    en = sum(map(_EN.__contains__, words))
    return "es" if es >= 3 and es > en else "en"


# --- de-identification -------------------------------------------------------------------------

NAME_MARK = "[name]"
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "sr", "sra", "srta"})
_NOT_NAMES = frozenset(
    "doctor dr doc sir madam there everyone all friend friends team professor prof nurse"
    " doctora señor señora amigo amiga".split()
)
_ZH_TITLES = re.compile("(?:先生|小姐|女士|同學|同学|太太|媽媽|妈妈|爸爸|阿姨|伯伯)$")
_ZH_NOT_NAMES = ("醫師", "医师", "醫生", "医生", "大家", "各位", "老師", "老师", "Doctor", "doctor")
_GREETING = re.compile(
    r"^\s*(?:hello|hi|hey|dear|greetings|good\s+(?:morning|afternoon|evening)|hola|"
    r"buen[oa]s\s+(?:d[ií]as|tardes|noches)|estimad[oa]|querid[oa])\b[\s,]*",
    re.IGNORECASE,
)
_ADDRESSEE = re.compile(r"(?P<who>[^\n,:;!，：；！]{0,40}?)\s*(?:[,:;!，：；！]|$)", re.MULTILINE)
_ZH_GREETING = re.compile(
    r"^\s*(?P<who>[^\W\d_]{1,8}?)\s*(?:您好|你好)(?:[\s，,：:！!。]+|$)", re.MULTILINE
)
_TITLED = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx)\.?\s+[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)?")
_REPEATED = re.compile(r"\[name\](?:\s*\[name\])+")
_SPLIT = re.compile(r"[\s,，.、;:]+")


def name_tokens(name: str) -> set[str]:
    """The parts of a person's name worth scrubbing (never single letters or titles)."""
    name = name.strip()
    tokens: set[str] = set()
    for part in _SPLIT.split(name):
        if len(part) < 2 or part.lower().strip(".") in _TITLES:
            continue
        tokens.add(part)
        if _CJK.match(part):
            core = _ZH_TITLES.sub("", part)
            if core != part and len(core) >= 2:
                tokens.add(core)
            if len(core) >= 3:
                tokens.add(core[1:])  # the given name without the surname
    return tokens


def strip_salutation(text: str, tokens: Iterable[str] = ()) -> tuple[str, set[str]]:
    """Remove an opening salutation that names a person; return (text, names found in it)."""
    m = _ZH_GREETING.match(text)
    if m and not any(w in m["who"] for w in _ZH_NOT_NAMES):
        return text[m.end() :].lstrip(), name_tokens(m["who"])
    m = _GREETING.match(text)
    if not m:
        return text, set()
    a = _ADDRESSEE.match(text, m.end())
    if not a or not a["who"].strip():
        return text, set()
    words = a["who"].split()
    bare = [w.strip(".").lower() for w in words]
    named = bool({t.lower() for t in tokens}.intersection(bare))
    if not named and len(words) <= 4 and bare[0] not in _NOT_NAMES:
        proper = [w for w, b in zip(words, bare, strict=True) if b not in _TITLES]
        named = (
            bool(proper)
            and all(w[0].isupper() for w in proper)
            and not all(b in _NOT_NAMES for b in bare)
        )
    if not named:
        return text, set()
    found = {w.strip(".") for w, b in zip(words, bare, strict=True) if b not in _TITLES}
    return text[a.end() :].lstrip(" \t\n"), name_tokens(" ".join(found))


class Scrubber:
    """Replaces known patient-name tokens (and 'Mr. X'-style names) with a neutral mark."""

    def __init__(self, tokens: Iterable[str] = ()) -> None:
        variants: set[str] = set()
        for tok in tokens:
            if _CJK.match(tok):
                variants.add(tok)
                continue
            variants.update({tok.capitalize(), tok.upper()})
            if not tok.islower():
                variants.add(tok)
        alts = "|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True))
        self._names = re.compile(alts) if alts else None
        self._cjk = {v for v in variants if _CJK.match(v)}

    def __call__(self, text: str) -> str:
        """The text with every name replaced."""
        if not text:
            return text
        if "Mr" in text or "Ms" in text or "Miss" in text or "Mx" in text:
            text = _TITLED.sub(NAME_MARK, text)
        if self._names is not None:
            text = self._names.sub(self._replace, text)
        return _REPEATED.sub(NAME_MARK, text) if NAME_MARK in text else text

    def _replace(self, m: re.Match[str]) -> str:
        """Latin tokens only on word boundaries; CJK tokens anywhere."""
        word, (start, end), s = m.group(0), m.span(), m.string
        bounded = not (start and _latin(s[start - 1])) and not (end < len(s) and _latin(s[end]))
        return NAME_MARK if bounded or word in self._cjk else word


def _latin(ch: str) -> bool:
    """A letter or digit of a Latin script (names in those end at anything else)."""
    return ch.isalnum() and ord(ch) < 0x250

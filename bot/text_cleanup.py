"""Upstream text made quotable: run-together words, bullet junk and headings repaired, and the
text split into whole sentences (a list keeps its lead-in: a warning is never cut off)."""

from __future__ import annotations

import re

# "infantsages 0 to 12 months": a list's label and its value run together upstream.
_AGES = re.compile(r"\b([A-Za-z-]{2,}(?:ts|rs|ns|ren|ies|men))(ages?\s+\d)")
# "the abdomenthe area between the chest and hips": a dash lost before a definition (NIDDK).
_DEFINITION = re.compile(r"\b([a-z]{2,})the\b")
_THE_WORDS = frozenset("breathe soothe clothe unclothe bathe sunbathe loathe lathe seethe teethe"
                       " writhe tithe scythe blithe lithe swathe".split())
# "forAmericans", "hemophiliaYou": two words whose space was lost.
_CAMEL = re.compile(r"\b([a-z]{3,})([A-Z][a-z]{2,})\b")
# "options.The": a sentence end whose space was lost (not in "www.Smokefree.gov").
_DOT = re.compile(r"(?<![./:@\w])([A-Za-z][a-z]+(?:\.[a-z]+)*)\.([A-Z][a-z]+)")
_SPACE_BEFORE = re.compile(r"[ \t]+([?.,;:!])(?=\s|$)")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BULLET = re.compile(r"^\s*(?:[-*•·▪●◦]|\d{1,2}[.)])\s+")
_INLINE_BULLET = re.compile(r"\s+[-•·▪]\s+(?=\S)")
_SUMMARY = re.compile(r"^\s*Summary\s*:\s*")  # MedlinePlus' opening label
_TRAILER = re.compile(r"\n?\s*NIH: National [^\n]*$")  # MedlinePlus' own credit line
_MOJIBAKE = {"Sjgren": "Sjögren", "Espaol": "Español", "Mnire": "Ménière", "Guillain-Barr ":
             "Guillain-Barré "}
_ABBREVIATIONS = frozenset(
    "dr mr mrs ms prof st vs e.g i.e etc approx no fig dept jr sr inc ltd u.s u.k a.m p.m"
    " ca cf al".split())
_END = re.compile(r"([.!?。！？।][\"”’)\]]*)(\s+|(?=[^\x00-\x7f]))")
TERMINAL = (".", "!", "?", "。", "！", "？", "।", "”", "\"", ")", "’")
_FOOTNOTE = re.compile(r"(?<=[\w,.;:)])\*+(?=[\s,.;:]|$)")  # "diabetes,* the"
_TITLE_ARE = re.compile(r"^\s*what (?:is|are) \((?:are|is)\)\s*(.*?)\s*\?*\s*$", re.I)
_TITLE_ABOUT = re.compile(r"^\s*do you have information about\s+(.+?)\s*\?*\s*$", re.I)
_NEED_TO_KNOW = re.compile(r"(?<=\S )what I need to know about ", re.I)  # a NIDDK focus
# The sentence after a list glued to its last item upstream: "…and feet Shock is a …".
_GLUED = re.compile(r"[a-z] (?=[A-Z][a-z]+ (?:is|are|can|may|has|have|does|do|will|should|"
                    r"was|were|usually|often)\b[^.!?]*[.!?])")
# Where a MedQuAD answer turns into boilerplate: GARD's phenotype tables with their note on
# frequencies, GHR's lists of links. A fifth of MedQuAD's answers end this way.
_BOILERPLATE_TAIL = re.compile(
    r"(?:The Human Phenotype Ontology provides the following list"
    r"|These resources address the diagnosis or management of"
    r"|These resources from MedlinePlus offer information about)")
# The question restated at the top of a reference answer ("What are the signs and symptoms
# of ABCD syndrome?"): quoting it tells the person nothing.
_RESTATED = re.compile(r"^(?:What|How|Is|Are|Can|Who|Do|Does|When|Where|Why)\b[^?]*\?$")
LIST_UNIT_CHARS = 450  # a lead-in and its list up to this length stay one sentence


def repair(text: str) -> str:
    """Run-together words, lost spaces, spaces before punctuation and known mojibake fixed."""
    for wrong, right in _MOJIBAKE.items():
        text = text.replace(wrong, right)
    text = _FOOTNOTE.sub("", text)
    text = _DEFINITION.sub(lambda m: m.group(0) if m.group(0) in _THE_WORDS
                           else f"{m.group(1)}—the", text)
    text = _AGES.sub(r"\1 \2", text)
    text = _CAMEL.sub(r"\1 \2", text)
    text = _DOT.sub(_split_dot, text)
    text = re.sub(r"\b(is|are) \((?:are|is)\) ", r"\1 ", text)
    text = _SPACE_BEFORE.sub(r"\1", text)
    return _SPACES.sub(" ", text)


def _split_dot(match: re.Match) -> str:
    word = match.group(1)
    if word.lower() in ("www", "e.g", "i.e") or "." in word:  # a domain or an abbreviation
        return match.group(0)
    return f"{word}. {match.group(2)}"


def clean_title(title: str) -> str:
    """A readable title: "What is (are) Stomach Disorders ?" becomes "Stomach Disorders"."""
    text = " ".join(title.split())
    for pattern in (_TITLE_ARE, _TITLE_ABOUT):
        if match := pattern.match(text):
            text = match.group(1).strip(" ?")
            break
    text = _NEED_TO_KNOW.sub("", text)
    text = re.sub(r"\s*\?(?:\s*\?)*$", "?", repair(text)).strip()
    return text[:1].upper() + text[1:]


def _lines(text: str) -> list[str]:
    """The text's lines with inline bullets ("- a - b - c") split into lines of their own."""
    out: list[str] = []
    for line in text.split("\n"):
        bulleted = bool(_BULLET.match(line))
        pieces = _INLINE_BULLET.split(line)
        if bulleted or len(pieces) > 2:
            out.extend(("- " + _BULLET.sub("", p)) if i or bulleted else p
                       for i, p in enumerate(pieces))
        else:
            out.append(line)
    return [line.strip() for line in out]


def _split(line: str) -> list[str]:
    """One line's sentences, closing punctuation kept; not after "Dr." or "e.g.", nor before a
    lower-case word."""
    found, start = [], 0
    for match in _END.finditer(line):
        before = line[start:match.start(1)].rsplit(" ", 1)[-1].lower().rstrip(".")
        after = line[match.end():match.end() + 1]
        if match.group(1).startswith(".") and (before in _ABBREVIATIONS or after.islower()):
            continue
        found.append(line[start:match.end(1)].strip())
        start = match.end()
    found.append(line[start:].strip())
    return [s for s in found if s]


def is_heading(line: str) -> bool:
    """A short line without closing punctuation: "Key Points", "Outlook", "Physical Exam"."""
    return len(line.split()) <= 6 and not line.endswith(TERMINAL) and not line.endswith(":")


def sentences(text: str) -> list[str]:
    """Whole, cleaned sentences; a lead-in ending in ":" keeps a short list under it as one
    unit ("See a doctor if you have: blood in the stool; severe pain.")."""
    text = _TRAILER.sub("", _SUMMARY.sub("", text.replace("\r", "")))
    text = _BOILERPLATE_TAIL.split(text, maxsplit=1)[0]
    units: list[str] = []
    items: list[str] = []
    lead = ""

    def close() -> None:
        nonlocal lead, items
        tail = ""
        if items and (glued := _GLUED.search(items[-1])):  # "- Cool feet Shock is an emergency."
            items[-1], tail = items[-1][:glued.start() + 1], items[-1][glued.start() + 2:]
        joined = f"{lead} {'; '.join(i.rstrip(' .;') for i in items)}."
        if lead and items and len(joined) <= LIST_UNIT_CHARS:
            units.append(joined)
        else:  # too long to quote as one: its parts (a lone lead-in is never quoted)
            units.extend([lead] if lead else [])
            units.extend(s for item in items for s in _split(item))
        units.extend(_split(tail))
        lead, items = "", []

    for line in _lines(repair(text)):
        if not line:
            continue
        if line.startswith("- "):
            items.append(line[2:].strip())
            continue
        close()
        parts = _split(line)
        if len(parts) == 1 and is_heading(parts[0]):
            continue
        units.extend(parts[:-1])
        if parts[-1].endswith(":") or not parts[-1].endswith(TERMINAL):  # a list may follow
            lead = parts[-1]
        else:
            units.append(parts[-1])
    close()
    if units and _RESTATED.match(units[0]):
        units = units[1:]
    return [u for u in units if len(u) > 1]

"""Parse one MedQuAD XML file (all three upstream schemas) into records with MedQuAD ids."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import PurePosixPath

from bot.corpus.text import detect_language, normalise_whitespace
from bot.records import ParsedFile, Record, Rejection

NOT_MEDQUAD = "not a MedQuAD document"
MAX_XML_ELEMENTS = 50_000  # MedQuAD documents have a few dozen
_FEED = 1 << 16
ROOTS = frozenset({"document", "doc", "diseasefile"})
# The LiveQA-Med qrels spell this one source differently.
PREFIXES = {"MPlusHerbsSupplements": "MPlusHerbsSuppls"}


def record_id(source: str, stem: str, position: int) -> str:
    """'{SourcePrefix}_{file stem}_Sec{n}.txt', n the 1-based position of the pair in the file."""
    return f"{PREFIXES.get(source, source)}_{stem}_Sec{position}.txt"


def parse_xml_bytes(data: bytes, rel: str) -> ParsedFile:
    """Parse a MedQuAD XML file; rel's parent folder is the upstream subfolder."""
    parsed = ParsedFile(rel)
    try:
        root = _tree(data)
    except TooManyElements:
        return _fatal(parsed, f"more than {MAX_XML_ELEMENTS:,} XML elements (not a MedQuAD "
                      "document)")
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else None
        return _fatal(parsed, f"malformed XML: {exc}", line=line)
    except (LookupError, ValueError) as exc:  # an unknown or impossible declared encoding
        return _fatal(parsed, f"malformed XML: {exc}", line=1)
    pairs = _child(root, "qapairs")
    if _tag(root) not in ROOTS or pairs is None:
        return _fatal(parsed, NOT_MEDQUAD)
    source = (root.get("source") or root.get("corpus") or "").strip()
    if not source:
        return _fatal(parsed, "MedQuAD document without a 'source' attribute")
    path = PurePosixPath(rel)
    subfolder = path.parent.name
    common = {
        "source": source,
        "subfolder": subfolder,
        "doc": f"{subfolder}/{path.name}" if subfolder else path.name,
        "focus": _text(_child(root, "focus", "doctitle-focus")),
    }
    category = _text(_child(_child(root, "focusannotations"), "category"))
    if category:
        common["focus_category"] = category
    url = (root.get("url") or "").strip()
    position = 0
    for pair in pairs:
        if _tag(pair) not in ("qapair", "pair"):
            continue
        position += 1
        try:
            parsed.records.append(_record(pair, position, path.stem, rel, url, common))
        except ValueError as exc:
            parsed.rejections.append(Rejection(rel, str(exc), element=f"QAPair #{position}"))
    return parsed


class TooManyElements(ValueError):
    """The document has more elements than any MedQuAD document."""


def _tree(data: bytes) -> ET.Element:
    """The document's root element, parsed in blocks so that a flood of elements stops early."""
    parser = ET.XMLPullParser(events=("start",))
    root, count = None, 0
    for at in range(0, len(data) or 1, _FEED):
        parser.feed(data[at : at + _FEED])
        for _event, element in parser.read_events():
            root = element if root is None else root
            count += 1
        if count > MAX_XML_ELEMENTS:
            raise TooManyElements
    parser.close()
    return root


def _record(
    pair: ET.Element, position: int, stem: str, rel: str, url: str, common: dict[str, str]
) -> Record:
    """One QAPair (or pair) element as a Record."""
    q = _child(pair, "question")
    question = normalise_whitespace(_text(q))
    if not question:
        raise ValueError("no question text")
    answer = normalise_whitespace(_text(_child(pair, "answer")))
    extra = dict(common)
    extra["pid"] = pair.get("pid", "")
    extra["qid"] = q.get("qid", "") if q is not None else ""
    extra["question_type"] = q.get("qtype", "") if q is not None else ""
    extra = {k: v for k, v in extra.items() if v}
    return Record(
        id=record_id(common["source"], stem, position),
        question=question,
        answer=answer,
        kind="qa" if answer else "question_only",
        source_file=rel,
        title=common["focus"],
        url=url,
        language=detect_language(f"{question}\n{answer}"),
        extra=extra,
    )


def _tag(el: ET.Element) -> str:
    """Lower-case local tag name."""
    return el.tag.rsplit("}", 1)[-1].lower() if isinstance(el.tag, str) else ""


def _child(el: ET.Element | None, *names: str) -> ET.Element | None:
    """First direct child whose tag is one of names (case-insensitive)."""
    if el is None:
        return None
    return next((c for c in el if _tag(c) in names), None)


def _text(el: ET.Element | None) -> str:
    """All text inside an element, stripped ('' when missing)."""
    return "".join(el.itertext()).strip() if el is not None else ""


def _fatal(parsed: ParsedFile, reason: str, line: int | None = None) -> ParsedFile:
    """Mark the whole file as unreadable."""
    parsed.rejections.append(Rejection(parsed.path, reason, line=line))
    parsed.fatal = True
    return parsed

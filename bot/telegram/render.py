"""Telegram HTML: every text escaped, bold headings, sources in an expandable quote, the
disclaimer last, split into valid parts of at most 4,096 characters on paragraph boundaries."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable

from bot.answer import Answer, Source
from bot.provenance import Labels, doctor, english, kind_label

LIMIT = 4096
Style = Callable[[str], str]

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_BOLD = re.compile(r"\*\*(?=\S)([^*\n]+?)(?<=\S)\*\*")
_PARAGRAPHS = re.compile(r"\n[ \t]*\n+")


def escape(text: str) -> str:
    """Text safe inside Telegram HTML: <, > and & escaped."""
    return html.escape(text, quote=False)


def size(markup: str) -> int:
    """Length as Telegram may count it (UTF-16 units); the markup is never shorter than the
    text it shows, so a part within the limit here is within it after parsing too."""
    return len(markup.encode("utf-16-le")) // 2


def plain(text: str) -> str:
    """Escaped text."""
    return escape(text)


def bold(text: str) -> str:
    """Escaped text in bold."""
    return f"<b>{escape(text)}</b>"


def italic(text: str) -> str:
    """Escaped text in italics."""
    return f"<i>{escape(text)}</i>"


def quote(text: str) -> str:
    """Escaped text as a block quote."""
    return f"<blockquote>{escape(text)}</blockquote>"


def folded(title: str) -> Style:
    """A bold heading over an expandable block quote (Bot API 7.4+): a few lines shown,
    the rest a tap away."""
    return lambda text: (f"<b>{escape(title)}</b>\n"
                         f"<blockquote expandable>{escape(text)}</blockquote>")


def prose(text: str) -> str:
    """Escaped text where Markdown headings and **bold** (within a line) become bold."""
    lines = []
    for line in text.split("\n"):
        heading = _HEADING.match(line)
        if heading:
            lines.append(f"<b>{escape(heading.group(1))}</b>" if heading.group(1) else "")
        else:
            lines.append(_BOLD.sub(r"<b>\1</b>", escape(line)))
    return "\n".join(lines)


def _units(text: str, separator: str) -> list[str]:
    pieces = text.split(separator)
    units = [p + separator for p in pieces[:-1]] + [pieces[-1]]
    return [u for u in units if u]


def fit(text: str, style: Style = plain, limit: int = LIMIT) -> list[str]:
    """`text` rendered with `style` in pieces of at most `limit`, cut at lines, sentences,
    words, and only as a last resort inside a word; each piece is valid on its own."""
    text = text.strip()
    if not text:
        return []
    rendered = style(text)
    if size(rendered) <= limit:
        return [rendered]
    for separator in ("\n", ". ", " "):
        units = _units(text, separator)
        if len(units) > 1:
            break
    else:
        step = max(1, (limit - size(style(""))) // 6)  # "&amp;" is the worst case: 5 for 1
        units = [text[i:i + step] for i in range(0, len(text), step)]
    pieces: list[str] = []
    current = ""
    for unit in units:
        if current and size(style((current + unit).strip())) > limit:
            pieces.extend(fit(current, style, limit))
            current = ""
        current += unit
    pieces.extend(fit(current, style, limit))
    return pieces


def pack(blocks: Iterable[str], limit: int = LIMIT, separator: str = "\n\n") -> list[str]:
    """Join rendered blocks (blank lines between) into as few parts of at most `limit`."""
    parts: list[str] = []
    current = ""
    for block in blocks:
        joined = f"{current}{separator}{block}" if current else block
        if size(joined) <= limit:
            current = joined
            continue
        if current:
            parts.append(current)
        current = block
    if current:
        parts.append(current)
    return parts


def answer_parts(answer: Answer, limit: int = LIMIT, labels: Labels | None = None) -> list[str]:
    """An Answer as Telegram HTML parts: notice, body, the compact sources list (folded), then
    the disclaimer last; labels in the answer's language."""
    labels = labels or english()
    blocks = fit(answer.notice, bold, limit)
    for paragraph in _PARAGRAPHS.split(answer.body):
        blocks += fit(paragraph, prose, limit)
    if answer.sources:
        lines = "\n".join(s.describe(labels) for s in answer.sources)
        blocks += fit(lines, folded(labels("sources")), limit)
    blocks += fit(answer.disclaimer, italic, limit)
    return pack(blocks, limit)


def _link(url: str) -> str:
    if not re.match(r"https?://\S+$", url or ""):
        return ""
    return f'<a href="{html.escape(url, quote=True)}">{escape(url)}</a>'


def _source(stored: dict) -> Source:
    """A stored source (a dict, from any version of the bot) as a Source."""
    values = {"number": 0, "id": "", "kind": "", "title": "", "doctor": "", "department": "",
              "hospital": "", "replied": "", "url": "", "score": 0.0, "similarity": 0.0}
    values.update({k: v for k, v in stored.items() if k in values or k in ("passage", "origin")})
    return Source(**{k: v if v is not None else "" for k, v in values.items()})


def source_detail(source: dict, passage_chars: int, labels: Labels | None = None) -> str:
    """One cited source in detail: title, kind, doctor, department, date, link, passage."""
    labels = labels or english()
    item = _source(source)
    title = (item.title or "Untitled")[:300]
    lines = [f"<b>[{source.get('number', '?')}] {escape(title)}</b>",
             italic(kind_label(item, labels))]
    who = ", ".join(p for p in (item.department, item.hospital) if p)
    if item.doctor and item.kind in ("doctor_reply", "excerpt"):
        lines.append(escape(doctor(item, labels, with_place=False))
                     + (f" — {escape(who)}" if who else ""))
    if item.replied:
        lines.append(escape(labels("replied_on", date=item.replied)))
    if len(source.get("url") or "") < 500 and (link := _link(source.get("url", ""))):
        lines.append(link)
    passage = (source.get("passage") or "").strip()
    if len(passage) > passage_chars:
        passage = passage[: max(0, passage_chars - 1)].rstrip() + "…"
    if passage.strip("…"):
        lines.append(quote(passage))
    return "\n".join(lines)


def sources_parts(sources: list[dict], limit: int = LIMIT,
                  labels: Labels | None = None) -> list[str]:
    """The Sources button's message: each source in detail, passages shortened to fit."""
    labels = labels or english()
    if not sources:
        return [escape(labels("no_sources"))]
    title = bold(labels("sources_title"))
    chars = max(120, (limit - 200) // len(sources) - 300)
    while True:  # shorten the passages until everything fits one message
        parts = pack([title] + [source_detail(s, chars, labels) for s in sources], limit)
        if len(parts) == 1 or chars <= 60:
            return parts
        chars = chars * 4 // 5


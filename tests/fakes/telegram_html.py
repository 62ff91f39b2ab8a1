"""Telegram text-formatting parsers for the fake Bot API server.

Telegram turns ``text`` + ``parse_mode`` into plain text plus a list of ``MessageEntity``
objects, and answers ``400 Bad Request: can't parse entities: ...`` when the markup is broken.
This module reproduces that step closely enough for tests:

* :func:`parse_html` - the tags Telegram supports (``b strong i em u ins s strike del
  span class="tg-spoiler" tg-spoiler a tg-emoji code pre blockquote``, plus ``tg-time``),
  balanced and properly nested; HTML entities ``&lt; &gt; &amp; &quot;`` and numeric ones.
  In *strict* mode (the default) a bare ``&`` or ``>`` in the text is rejected too. Telegram
  itself tolerates those two, but a bot that sends them almost always forgot to escape user
  or model text, and the next message containing a ``<`` will fail for real.
* :func:`parse_markdown_v2` - a port of tdlib's MarkdownV2 parser (reserved characters must
  be escaped with ``\\``), including ``>`` / ``**>`` block quotes.
* :func:`parse_markdown` - legacy ``Markdown``.

Entity offsets and lengths are in UTF-16 code units, as in the real API.
Error texts follow tdlib's wording ("Unsupported start tag "foo" at byte offset 0", ...).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "EntityParseError",
    "escape_html",
    "ParsedText",
    "normalize_parse_mode",
    "parse_formatted",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "utf16_len",
]

SUPPORTED_PARSE_MODES = {"html": "HTML", "markdown": "Markdown", "markdownv2": "MarkdownV2"}


class EntityParseError(ValueError):
    """The markup could not be parsed; ``str(exc)`` is the tdlib-style reason."""


@dataclass
class ParsedText:
    """Result of entity parsing: what the user sees and the entities on it."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (the unit of entity offsets)."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def normalize_parse_mode(parse_mode: str | None) -> str | None:
    """Return the canonical parse mode name, ``None`` for "no parse mode".

    Raises:
        EntityParseError: the mode is not one Telegram knows (case-insensitive, like Telegram).
    """
    if parse_mode is None or parse_mode == "":
        return None
    try:
        return SUPPORTED_PARSE_MODES[parse_mode.lower()]
    except KeyError:
        raise EntityParseError(f"unsupported parse_mode {parse_mode!r}") from None


def parse_formatted(text: str, parse_mode: str | None, *, strict: bool = True) -> ParsedText:
    """Parse ``text`` according to ``parse_mode`` (``None``/"" = plain text)."""
    mode = normalize_parse_mode(parse_mode)
    if mode is None:
        return ParsedText(text, [])
    if mode == "HTML":
        return parse_html(text, strict=strict)
    if mode == "MarkdownV2":
        return parse_markdown_v2(text)
    return parse_markdown(text)


class _Builder:
    """Accumulates plain text and tracks the UTF-16 offset."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.offset = 0
        self.entities: list[dict[str, Any]] = []

    def add(self, chunk: str) -> None:
        if chunk:
            self.parts.append(chunk)
            self.offset += utf16_len(chunk)

    def entity(self, etype: str, start: int, **extra: Any) -> None:
        length = self.offset - start
        if length <= 0:  # Telegram silently drops empty entities
            return
        ent: dict[str, Any] = {"type": etype, "offset": start, "length": length}
        ent.update({k: v for k, v in extra.items() if v is not None})
        self.entities.append(ent)

    def text_since(self, start_part: int) -> str:
        return "".join(self.parts[start_part:])

    def result(self) -> ParsedText:
        ents = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.parts), ents)


# --------------------------------------------------------------------------------------- HTML

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-time": "date_time",
}
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot);|#(\d{1,7});|#[xX]([0-9a-fA-F]{1,6});)")
_TAG_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_END_TAG_RE = re.compile(r"</([A-Za-z][A-Za-z0-9-]*)\s*>")
_ATTR_NAME_RE = re.compile(r"[A-Za-z0-9_-]+")


@dataclass
class _OpenTag:
    name: str
    start: int
    byte_offset: int
    attrs: dict[str, str]
    language: str | None = None


def _decode_entity(match: re.Match[str]) -> str:
    named, dec, hexa = match.groups()
    if named:
        return {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}[named]
    code = int(dec) if dec else int(hexa, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return chr(code)


def _unescape_attr(value: str) -> str:
    return _ENTITY_RE.sub(_decode_entity, value)


def parse_html(text: str, *, strict: bool = True) -> ParsedText:
    """Parse Telegram-flavoured HTML into plain text + entities.

    Args:
        text: the markup.
        strict: also reject a bare ``&`` that does not start a supported entity and a bare
            ``>`` outside tags (Telegram tolerates both; see the module docstring).

    Raises:
        EntityParseError: unsupported/unbalanced/crossed tags, an unescaped ``<`` (and in
            strict mode ``&``/``>``), a ``span`` without ``class="tg-spoiler"``, etc.
    """
    out = _Builder()
    stack: list[_OpenTag] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "&":
            m = _ENTITY_RE.match(text, i)
            if m:
                out.add(_decode_entity(m))
                i = m.end()
                continue
            if strict:
                raise EntityParseError(
                    f"Character '&' at byte offset {_byte_offset(text, i)} must be escaped "
                    "as &amp; (or start one of &lt; &gt; &amp; &quot; &#NNN;)"
                )
            out.add(c)
            i += 1
            continue
        if c == ">":
            if strict:
                raise EntityParseError(
                    f"Character '>' at byte offset {_byte_offset(text, i)} must be escaped as &gt;"
                )
            out.add(c)
            i += 1
            continue
        if c != "<":
            j = i + 1
            while j < n and text[j] not in "<>&":
                j += 1
            out.add(text[i:j])
            i = j
            continue

        begin = i
        if text.startswith("</", i):
            m = _END_TAG_RE.match(text, i)
            if not m:
                raise EntityParseError(
                    f"Unexpected end tag at byte offset {_byte_offset(text, begin)}"
                )
            name = m.group(1).lower()
            if not stack:
                raise EntityParseError(
                    f'Unexpected end tag "</{name}>" at byte offset {_byte_offset(text, begin)}'
                )
            top = stack[-1]
            if top.name != name:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                    f'expected "</{top.name}>", found "</{name}>"'
                )
            stack.pop()
            _close_html_tag(out, top, stack)
            i = m.end()
            continue

        m = _TAG_NAME_RE.match(text, i + 1)
        if not m:
            shown = text[i + 1 : i + 2]
            raise EntityParseError(
                f'Unsupported start tag "{shown}" at byte offset {_byte_offset(text, begin)}'
                " (escape a literal '<' as &lt;)"
            )
        name = m.group(0).lower()
        if name not in _HTML_TAGS:
            raise EntityParseError(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, begin)}'
            )
        i = m.end()
        attrs: dict[str, str] = {}
        while True:
            while i < n and text[i].isspace():
                i += 1
            if i >= n:
                raise EntityParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
                )
            if text[i] == ">":
                i += 1
                break
            am = _ATTR_NAME_RE.match(text, i)
            if not am:
                raise EntityParseError(
                    f'Unexpected character in tag "{name}" at byte offset {_byte_offset(text, i)}'
                )
            attr_name = am.group(0).lower()
            i = am.end()
            while i < n and text[i].isspace():
                i += 1
            value = ""
            if i < n and text[i] == "=":
                i += 1
                while i < n and text[i].isspace():
                    i += 1
                if i < n and text[i] in "\"'":
                    quote = text[i]
                    end = text.find(quote, i + 1)
                    if end < 0:
                        raise EntityParseError(
                            f"Unclosed end of attribute value at byte offset "
                            f"{_byte_offset(text, i)}"
                        )
                    value = _unescape_attr(text[i + 1 : end])
                    i = end + 1
                else:
                    j = i
                    while j < n and not text[j].isspace() and text[j] != ">":
                        j += 1
                    if j == i:
                        raise EntityParseError(
                            f"Empty attribute value at byte offset {_byte_offset(text, i)}"
                        )
                    value = _unescape_attr(text[i:j])
                    i = j
            attrs[attr_name] = value

        byte_begin = _byte_offset(text, begin)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {byte_begin}'
            )
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise EntityParseError(
                f"Invalid custom emoji identifier specified at byte offset {byte_begin}"
            )
        if name == "tg-time" and not attrs.get("unix", "").lstrip("-").isdigit():
            raise EntityParseError(f"Invalid unix time specified at byte offset {byte_begin}")
        stack.append(_OpenTag(name, out.offset, byte_begin, attrs))

    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return out.result()


def _close_html_tag(out: _Builder, tag: _OpenTag, stack: list[_OpenTag]) -> None:
    etype = _HTML_TAGS[tag.name]
    attrs = tag.attrs
    if tag.name == "a":
        href = attrs.get("href", "")
        if not href:
            return  # Telegram drops a link without URL, keeping its text
        user = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if user:
            out.entity("text_mention", tag.start, user={"id": int(user.group(1))})
        else:
            out.entity("text_link", tag.start, url=href)
        return
    if tag.name == "code":
        lang = attrs.get("class", "")
        if lang.startswith("language-") and stack and stack[-1].name == "pre":
            if stack[-1].start == tag.start:
                stack[-1].language = lang[len("language-") :]
                return
        out.entity("code", tag.start)
        return
    if tag.name == "pre":
        out.entity("pre", tag.start, language=tag.language)
        return
    if tag.name == "blockquote":
        etype = "expandable_blockquote" if "expandable" in attrs else "blockquote"
        out.entity(etype, tag.start)
        return
    if tag.name == "tg-emoji":
        out.entity(etype, tag.start, custom_emoji_id=attrs["emoji-id"])
        return
    if tag.name == "tg-time":
        out.entity(
            etype,
            tag.start,
            unix_time=int(attrs["unix"]),
            date_time_format=attrs.get("format") or None,
        )
        return
    out.entity(etype, tag.start)


def escape_html(text: str) -> str:
    """Escape ``<``, ``>`` and ``&`` the way Telegram expects (quotes left alone)."""
    return html.escape(text, quote=False)


# --------------------------------------------------------------------------------- MarkdownV2

_MDV2_RESERVED = "_*[]()~`>#+-=|{}.!"
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


@dataclass
class _MdEntity:
    type: str
    start: int
    byte_offset: int
    part_index: int
    language: str | None = None


def _reserved_error(char: str) -> EntityParseError:
    return EntityParseError(
        f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
    )


def parse_markdown_v2(text: str) -> ParsedText:
    """Parse MarkdownV2 like tdlib does (port of ``parse_markdown_v2``).

    Raises:
        EntityParseError: an unescaped reserved character, an unterminated entity, a link
            without closing ``)``.
    """
    out = _Builder()
    stack: list[_MdEntity] = []
    n = len(text)

    def at(j: int) -> str:
        return text[j] if 0 <= j < n else ""

    quote_start: int | None = None
    quote_expandable = False
    i = 0
    while i < n:
        c = text[i]
        in_code = bool(stack) and stack[-1].type in ("code", "pre")
        # Block quotes: a line starting with '>' (or '**>' for an expandable one).
        if not in_code and (i == 0 or text[i - 1] == "\n"):
            marker = 0
            if c == ">":
                marker = 1
            elif text.startswith("**>", i):
                marker = 3
            if marker:
                if quote_start is None:
                    quote_start = out.offset
                    quote_expandable = marker == 3
                i += marker
                continue
            if quote_start is not None:
                # the previous line ended the quote; it excludes the trailing newline
                out.offset -= 1
                out.entity(
                    "expandable_blockquote" if quote_expandable else "blockquote", quote_start
                )
                out.offset += 1
                quote_start = None
        if (
            quote_start is not None
            and quote_expandable
            and not in_code
            and text.startswith("||", i)
            and at(i + 2) in ("", "\n")
        ):
            out.entity("expandable_blockquote", quote_start)
            quote_start = None
            i += 2
            continue

        if c == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.add(text[i + 1])
            i += 2
            continue
        reserved = "`" if in_code else _MDV2_RESERVED
        if c == "\n":
            out.add(c)
            i += 1
            continue
        if c not in reserved:
            j = i + 1
            while j < n and text[j] not in reserved and text[j] not in "\\\n":
                j += 1
            out.add(text[i:j])
            i = j
            continue

        is_end = False
        if stack:
            top = stack[-1].type
            is_end = {
                "bold": c == "*",
                "italic": c == "_" and at(i + 1) != "_",
                "code": c == "`",
                "pre": c == "`" and at(i + 1) == "`" and at(i + 2) == "`",
                "text_link": c == "]",
                "underline": c == "_" and at(i + 1) == "_",
                "strikethrough": c == "~",
                "spoiler": c == "|" and at(i + 1) == "|",
                "custom_emoji": c == "]",
            }[top]

        if not is_end:
            byte_offset = _byte_offset(text, i)
            language: str | None = None
            if c == "_":
                if at(i + 1) == "_":
                    etype = "underline"
                    i += 1
                else:
                    etype = "italic"
            elif c == "*":
                etype = "bold"
            elif c == "~":
                etype = "strikethrough"
            elif c == "|":
                if at(i + 1) != "|":
                    raise _reserved_error(c)
                etype = "spoiler"
                i += 1
            elif c == "[":
                etype = "text_link"
            elif c == "`":
                if at(i + 1) == "`" and at(i + 2) == "`":
                    etype = "pre"
                    i += 3
                    end = i
                    while end < n and not text[end].isspace() and text[end] != "`":
                        end += 1
                    if end != i and end < n and text[end] != "`":
                        language = text[i:end]
                        i = end
                    if at(i) in ("\n", "\r"):
                        if at(i + 1) in ("\n", "\r") and at(i) != at(i + 1):
                            i += 2
                        else:
                            i += 1
                    stack.append(_MdEntity(etype, out.offset, byte_offset, 0, language))
                    continue
                etype = "code"
            elif c == "!":
                if at(i + 1) != "[":
                    raise _reserved_error(c)
                etype = "custom_emoji"
                i += 1
            else:
                raise _reserved_error(c)
            stack.append(_MdEntity(etype, out.offset, byte_offset, len(out.parts)))
            i += 1
            continue

        ent = stack.pop()
        extra: dict[str, Any] = {}
        if ent.type in ("underline", "spoiler"):
            i += 1
        elif ent.type == "pre":
            i += 2
            extra["language"] = ent.language
        elif ent.type in ("text_link", "custom_emoji"):
            if at(i + 1) != "(":
                if ent.type == "custom_emoji":
                    raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
                url = out.text_since(ent.part_index)
            else:
                i += 2
                url_begin = i
                chars: list[str] = []
                while i < n and text[i] != ")":
                    if text[i] == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
                        chars.append(text[i + 1])
                        i += 2
                        continue
                    chars.append(text[i])
                    i += 1
                if i >= n:
                    raise EntityParseError(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, url_begin)}"
                    )
                url = "".join(chars)
            if ent.type == "custom_emoji":
                em = re.fullmatch(r"tg://emoji\?id=(\d+)", url)
                if not em:
                    raise EntityParseError("Custom emoji URL must have an emoji identifier")
                extra["custom_emoji_id"] = em.group(1)
            else:
                user = re.fullmatch(r"tg://user\?id=(\d+)", url)
                if user:
                    out.entity("text_mention", ent.start, user={"id": int(user.group(1))})
                    i += 1
                    continue
                extra["url"] = url
        out.entity(ent.type, ent.start, **extra)
        i += 1

    if stack:
        ent = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MDV2_NAMES[ent.type]} entity at byte offset {ent.byte_offset}"
        )
    if quote_start is not None:
        out.entity("expandable_blockquote" if quote_expandable else "blockquote", quote_start)
    return out.result()


# ------------------------------------------------------------------------------ legacy Markdown


def parse_markdown(text: str) -> ParsedText:
    """Parse legacy ``Markdown`` (``*bold* _italic_ `code` ```pre``` [text](url)``).

    Raises:
        EntityParseError: an entity that is never closed.
    """
    out = _Builder()
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        if c not in "_*`[":
            out.add(c)
            i += 1
            continue
        begin = i
        end_char = "]" if c == "[" else c
        i += 1
        is_pre = False
        language: str | None = None
        if c == "`" and text.startswith("``", i):
            i += 2
            is_pre = True
            end = i
            while end < n and not text[end].isspace() and text[end] != "`":
                end += 1
            if end != i and end < n and text[end] != "`":
                language = text[i:end]
                i = end
            if i < n and text[i] in "\r\n":
                i += 2 if text[i : i + 2] in ("\r\n", "\n\r") else 1
        start = out.offset
        start_part = len(out.parts)
        while i < n and (text[i] != end_char or (is_pre and not text.startswith("```", i))):
            out.add(text[i])
            i += 1
        if i >= n:
            raise EntityParseError(
                f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
            )
        if c == "[":
            url = out.text_since(start_part)
            if text.startswith("(", i + 1):
                close = text.find(")", i + 2)
                if close >= 0:
                    url = text[i + 2 : close]
                    i = close
            out.entity("text_link", start, url=url)
        elif is_pre:
            out.entity("pre", start, language=language)
            i += 2
        else:
            out.entity({"*": "bold", "_": "italic", "`": "code"}[c], start)
        i += 1
    return out.result()

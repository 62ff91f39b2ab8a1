"""Markdown reduced to plain text: links to their text, emphasis markers off, lists as lines."""

from __future__ import annotations

import html
import re

from bot.corpus.text import normalise_whitespace

# Every repeated part excludes the character that ends it, or never gives back what it took
# (possessive), so that a long line of markup characters is scanned in linear time.
FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_RULE = re.compile(r" {0,3}([-*_=])[ \t]*+(?:\1[ \t]*+){2,}+$")  # --- *** ___ and === underlines
_TABLE_RULE = re.compile(
    r"[ \t]*+(?:\|[ \t]*+)?:?-++:?[ \t]*+(?:\|[ \t]*+:?-++:?[ \t]*+)*+(?:\|[ \t]*+)?$")
_REF_DEF = re.compile(r" {0,3}\[[^\[\]\n]{1,200}\]:[ \t]*\S")
_QUOTE = re.compile(r" {0,3}>[ \t]?")
_BULLET = re.compile(r"[ \t]*[-*+][ \t]+")
_NUMBER = re.compile(r"[ \t]*(\d{1,9})[.)][ \t]+")
_CODE = re.compile(r"(?<!`)`++([^`\n]+)`++")
_INLINE = [
    (re.compile(r"!?\[([^\[\]\n]*)\](?:\((?:[^()\n]|\([^()\n]*\))*\)|\[[^\[\]\n]*\])"), r"\1"),
    (re.compile(r"<((?:https?|mailto):[^<>\s]*)>"), r"\1"),
    (re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>\n]*)?/?>"), ""),
    (re.compile(r"(?<!\\)\*\*(?=\S)([^*\n]+)(?<=\S)\*\*"), r"\1"),
    (re.compile(r"(?<![\\\w])__(?=\S)([^_\n]+)(?<=\S)__(?!\w)"), r"\1"),
    (re.compile(r"(?<![\\\w*])\*(?![\s*])([^*\n]+)(?<![\s\\])\*"), r"\1"),
    (re.compile(r"(?<![\\\w])_(?![\s_])([^_\n]+)(?<![\s\\])_(?!\w)"), r"\1"),
    (re.compile(r"~~([^~\n]+)~~"), r"\1"),
    (re.compile(r"\\([!-/:-@\[-`{-~])"), r"\1"),
]


def inline(text: str) -> str:
    """One line's inline markup removed; code spans keep their text as written."""
    parts = _CODE.split(text)
    for i in range(0, len(parts), 2):
        for pattern, replacement in _INLINE:
            parts[i] = pattern.sub(replacement, parts[i])
        parts[i] = html.unescape(parts[i])
    return "".join(parts)


def plain_text(lines: list[str]) -> str:
    """Block markup removed; a paragraph becomes one line, list items and table rows stay lines."""
    out: list[str] = []
    joinable = fenced = False
    fence = ""
    for raw in _without_comments(lines):
        if fenced or FENCE.match(raw):
            mark = FENCE.match(raw)
            if mark and (not fenced or mark[1].startswith(fence)):
                fenced, fence = not fenced, mark[1]
            elif fenced:
                out.append(raw.rstrip())
            joinable = False
            continue
        at = 0
        while quote := _QUOTE.match(raw, at):
            at = quote.end()
        line = raw[at:]
        if not line.strip():
            out.append("")
            joinable = False
            continue
        if _RULE.match(line) or _TABLE_RULE.match(line) or _REF_DEF.match(line):
            joinable = False
            continue
        hard = raw.endswith("  ") or raw.rstrip().endswith("\\")
        text = line.strip().removesuffix("\\").rstrip()
        if bullet := _BULLET.match(line):
            out.append("- " + inline(line[bullet.end() :].strip()))
        elif number := _NUMBER.match(line):
            out.append(f"{number[1]}. " + inline(line[number.end() :].strip()))
        elif text.startswith("|") and text.endswith("|") and len(text) > 1:
            out.append(" | ".join(inline(c.strip()) for c in text[1:-1].split("|")))
            hard = True
        elif joinable:
            out[-1] += " " + inline(text)
        else:
            out.append(inline(text))
        joinable = not hard
    return normalise_whitespace("\n".join(out))


def _without_comments(lines: list[str]) -> list[str]:
    """The lines with <!-- … --> comments cut out (they may span lines)."""
    out: list[str] = []
    inside = False
    for line in lines:
        kept, at, cut = "", 0, inside
        while True:
            if inside:
                end = line.find("-->", at)
                if end < 0:
                    break
                inside, at = False, end + 3
            start = line.find("<!--", at)
            if start < 0:
                kept += line[at:]
                break
            kept += line[at:start]
            inside, at, cut = True, start + 4, True
        if kept.strip() or not cut:  # a line that held only a comment goes
            out.append(kept)
    return out

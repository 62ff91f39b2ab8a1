"""Find corpus files and parse each into records: Q&A pages (.txt), JSONL, MedQuAD XML."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from bot.corpus.jsonl import parse_jsonl_bytes
from bot.corpus.medquad_xml import parse_xml_bytes
from bot.corpus.qa_page import parse_page_bytes
from bot.records import ParsedFile, Rejection

__all__ = ["PARSERS", "discover", "parse_file", "relative_name"]

PARSERS: dict[str, Callable[[bytes, str], ParsedFile]] = {
    ".txt": parse_page_bytes,
    ".jsonl": parse_jsonl_bytes,
    ".xml": parse_xml_bytes,
}
NOT_CORPUS = "not a corpus format (expected .txt Q&A page, .jsonl or MedQuAD .xml)"


def relative_name(path: Path, root: Path | None = None) -> str:
    """Posix path relative to root when under it, else the path as given."""
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def parse_file(path: Path, root: Path | None = None) -> ParsedFile:
    """Parse one corpus file; problems become Rejections, never exceptions."""
    path = Path(path)
    rel = relative_name(path, root)
    parser = PARSERS.get(path.suffix.lower())
    if parser is None:
        return ParsedFile(rel, rejections=[Rejection(rel, NOT_CORPUS)], fatal=True)
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = f"cannot read: {exc.strerror or exc}"
        return ParsedFile(rel, rejections=[Rejection(rel, reason)], fatal=True)
    return parser(data, rel)


def discover(paths: list[Path], root: Path | None = None) -> tuple[list[ParsedFile], list[str]]:
    """Walk files/folders in sorted order; return (parsed files, 'path: reason' for skips)."""
    parsed: list[ParsedFile] = []
    skipped: list[str] = []
    seen: set[Path] = set()
    for given in paths:
        given = Path(given)
        if not given.exists():
            skipped.append(f"{relative_name(given, root)}: no such file or folder")
            continue
        for path, walked in _files(given):
            key = path.resolve()
            if key in seen or (walked and _ignored(path)):
                continue
            seen.add(key)
            if path.suffix.lower() in PARSERS:
                parsed.append(parse_file(path, root))
            else:
                skipped.append(f"{relative_name(path, root)}: {_skip_reason(path)}")
    return parsed, skipped


def _files(given: Path) -> list[tuple[Path, bool]]:
    """(file, found by walking) pairs under given, sorted by path, hidden folders pruned."""
    if not given.is_dir():
        return [(given, False)]
    found = []
    for folder, dirs, files in os.walk(given):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [(Path(folder) / name, True) for name in files]
    return sorted(found)


def _ignored(path: Path) -> bool:
    """Hidden files and README.md files are skipped silently."""
    return path.name.startswith(".") or path.name.lower() == "readme.md"


def _skip_reason(path: Path) -> str:
    """Why a file is not parsed."""
    if path.name.lower() == "readme.md":
        return "documentation, not a corpus file"
    return NOT_CORPUS

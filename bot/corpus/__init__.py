"""Find corpus files and parse each into records: Q&A pages and Q:/A: FAQs (.txt), JSONL, CSV,
Markdown FAQs (.md), MedQuAD XML."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from bot.corpus.csv_table import parse_csv_bytes
from bot.corpus.jsonl import parse_jsonl
from bot.corpus.limits import (
    MAX_TABLE_BYTES,
    NO_DEADLINE,
    Deadline,
    Source,
    SourceFile,
    Stopped,
    Unreadable,
    as_source,
    screen,
)
from bot.corpus.markdown_faq import parse_markdown_bytes
from bot.corpus.medquad_xml import parse_xml_bytes
from bot.corpus.text_faq import parse_txt_bytes
from bot.records import Rejection

__all__ = ["PARSERS", "discover", "gather", "parse_file", "real_path", "relative_name"]

log = logging.getLogger(__name__)

# JSONL is read line by line and checked as it goes; the others are read whole (bounded; a CSV
# cell may span lines), then their records are screened (field sizes, Unicode, NUL characters).
PARSERS: dict[str, Callable[[Source], SourceFile]] = {
    ".txt": lambda source: screen(parse_txt_bytes(source.read_all(), source.rel)),
    ".jsonl": parse_jsonl,
    ".csv": lambda source: screen(
        parse_csv_bytes(source.read_all(MAX_TABLE_BYTES), source.rel, source.deadline)),
    ".md": lambda source: screen(parse_markdown_bytes(source.read_all(), source.rel)),
    ".xml": lambda source: screen(as_source(parse_xml_bytes(source.read_all(), source.rel))),
}
NOT_CORPUS = ("not a corpus format (expected .txt Q&A page or Q:/A: FAQ, .jsonl, .csv, "
              "Markdown FAQ .md or MedQuAD .xml)")


def real_path(path: Path) -> Path:
    """The path with every link resolved; a link loop resolves as far as it can."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return path.parent.resolve() / path.name


def relative_name(path: Path, root: Path | None = None) -> str:
    """Posix path relative to root when under it, else the path as given."""
    if root is not None:
        try:
            return real_path(path).relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def _shown(rel: str) -> str:
    """A file name as text: undecodable bytes as \\xNN."""
    return os.fsencode(rel).decode("utf-8", "backslashreplace")


def parse_file(path: Path, root: Path | None = None,
               deadline: Deadline = NO_DEADLINE) -> SourceFile:
    """Parse one corpus file; problems become Rejections, never exceptions (but Stopped)."""
    path = Path(path)
    rel = relative_name(path, root)
    parser = None if is_readme(path) else PARSERS.get(path.suffix.lower())
    if _shown(rel) != rel:
        return _fatal(_shown(rel), "file name is not valid UTF-8 (rename the file)")
    if parser is None:
        return _fatal(rel, _skip_reason(path))
    try:
        with Source.open(path, rel, deadline) as source:
            parsed = parser(source)
            parsed.digest = source.digest
    except Unreadable as exc:
        return _fatal(rel, str(exc))
    except Stopped:
        raise
    except OSError as exc:
        return _fatal(rel, f"cannot read: {exc.strerror or exc}")
    except Exception as exc:  # a parser's bug must not stop the other files
        log.exception("parsing %s failed", rel)
        return _fatal(rel, f"cannot be parsed ({type(exc).__name__}: {str(exc)[:200]})")
    return parsed


def _fatal(rel: str, reason: str) -> SourceFile:
    return SourceFile(rel, rejections=[Rejection(rel, reason)], fatal=True)


def discover(paths: list[Path], root: Path | None = None,
             deadline: Deadline = NO_DEADLINE) -> tuple[list[SourceFile], list[str]]:
    """Walk files/folders in sorted order; return (parsed files, 'path: reason' for skips)."""
    parsed: list[SourceFile] = []
    skipped: list[str] = []
    seen: set[Path] = set()
    for given in paths:
        given = Path(given)
        if not given.exists():
            skipped.append(f"{_shown(relative_name(given, root))}: no such file or folder")
            continue
        for path, walked in _files(given):
            key = real_path(path)
            if key in seen or (walked and _ignored(path)):
                continue
            seen.add(key)
            if path.suffix.lower() not in PARSERS or is_readme(path):
                skipped.append(f"{_shown(relative_name(path, root))}: {_skip_reason(path)}")
                continue
            deadline.check(f"reading {_shown(relative_name(path, root))}")
            parsed.append(found := parse_file(path, root, deadline))
            outside = root is not None and not key.is_relative_to(root.resolve())
            if outside and path.is_symlink() and not found.fatal:
                found.warnings.append(
                    Rejection(found.path, f"symlink to {key}, outside the knowledge folder"))
    return parsed, skipped


def gather(paths: list[Path], knowledge_dir: Path,
           deadline: Deadline = NO_DEADLINE) -> tuple[list[SourceFile], list[str]]:
    """discover() each path, named relative to the knowledge folder when inside it; sorted."""
    parsed: list[SourceFile] = []
    skipped: list[str] = []
    home = knowledge_dir.resolve()
    for path in paths:
        real = real_path(Path(path))
        root = home if real == home or home in real.parents else None
        files, skip = discover([path], root=root, deadline=deadline)
        parsed.extend(files)
        skipped.extend(skip)
    parsed.sort(key=lambda pf: pf.path)
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
    return path.name.startswith(".") or is_readme(path)


def is_readme(path: Path) -> bool:
    """README.md files document a folder (knowledge/README.md does); never a Markdown FAQ."""
    return path.name.lower() == "readme.md"


def _skip_reason(path: Path) -> str:
    """Why a file is not parsed."""
    if is_readme(path):
        return "documentation, not a corpus file"
    return NOT_CORPUS

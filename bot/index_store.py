"""Index versions on disk: a records table, a keyword index and a manifest per version,
and an ACTIVE pointer switched atomically."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from bot.keyword_index import KeywordIndex
from bot.records import Record
from bot.search_maps import SearchMaps

_VERSION = re.compile(r"^v(\d{6})$")
# Bumped when what a version holds changes, so the next ingest rebuilds even if no record did.
LAYOUT = 4  # 4: numbers with their decimals, ratio and dose unit are one keyword


def title_key(title: str) -> str:
    """Titles that differ only in case or spacing name the same focus."""
    return " ".join(title.lower().split())

SCHEMA = """
CREATE TABLE records (id TEXT PRIMARY KEY, pos INTEGER, hash TEXT, kind TEXT,
                      source_file TEXT, title TEXT, data TEXT);  -- title: title_key()
CREATE INDEX records_title ON records(title);
CREATE TABLE chunks (key TEXT, record_id TEXT, part TEXT);
CREATE INDEX chunks_key ON chunks(key);
CREATE TABLE files (path TEXT PRIMARY KEY, hash TEXT, status TEXT, records INTEGER);
"""


class IndexUnusable(Exception):
    """The index on disk cannot be used as it is."""


@dataclass
class Manifest:
    """What a version holds and how it was built."""

    version: str
    created: str
    model: str
    dimension: int
    collection: str
    records: int
    chunks: int
    kinds: dict[str, int] = field(default_factory=dict)
    by_file: dict[str, int] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    layout: int = 1


class IndexRoot:
    """The folder of all versions: DATA_DIR/index."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "index"
        self.active_file = self.path / "ACTIVE.json"
        self.lock_file = self.path / ".ingest.lock"

    def pointer(self) -> dict:
        """{'version': ..., 'previous': ...}, or {} when nothing was ever built."""
        try:
            return json.loads(self.active_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            raise IndexUnusable(f"{self.active_file} is unreadable: {error}") from error

    def switch(self, version: str, previous: str | None) -> None:
        """Point ACTIVE at version in one atomic rename."""
        tmp = self.active_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"version": version, "previous": previous}), encoding="utf-8")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, self.active_file)

    def versions(self) -> list[str]:
        """Complete versions on disk, oldest first."""
        if not self.path.is_dir():
            return []
        return sorted(p.name for p in self.path.iterdir() if _VERSION.match(p.name))

    def next_version(self) -> str:
        """A name after every version on disk, finished or not."""
        numbers = [int(m.group(1)) for p in (self.path.iterdir() if self.path.is_dir() else [])
                   if (m := re.search(r"v(\d{6})$", p.name))]
        return f"v{max(numbers, default=0) + 1:06d}"

    def building_dir(self, version: str) -> Path:
        """Where a version is built before it is complete."""
        return self.path / f".building-{version}"

    def prune(self, keep: set[str]) -> list[str]:
        """Delete versions not in keep, and leftovers of interrupted builds."""
        removed = []
        for child in self.path.iterdir() if self.path.is_dir() else []:
            if child.name.startswith(".building-") or (
                _VERSION.match(child.name) and child.name not in keep
            ):
                shutil.rmtree(child, ignore_errors=True)
                removed.append(child.name)
        return removed

    def open(self, version: str) -> IndexVersion:
        """A finished version, ready to read."""
        folder = self.path / version
        if not (folder / "manifest.json").is_file():
            raise IndexUnusable(f"index version {version} is missing or incomplete at {folder}")
        return IndexVersion(folder)


class IndexVersion:
    """One finished, read-only version: records, chunk keys and keyword index."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.name = folder.name
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        self.manifest = Manifest(**data)
        self._db = sqlite3.connect(
            f"file:{folder / 'records.db'}?mode=ro", uri=True, check_same_thread=False
        )
        self._lock = threading.Lock()

    @cached_property
    def keyword(self) -> KeywordIndex:
        """BM25 over title, question and answer, loaded on first use."""
        return KeywordIndex.load(self.folder / "bm25")

    @cached_property
    def keyword_questions(self) -> KeywordIndex:
        """BM25 over title and question only (consumer questions match questions best)."""
        return KeywordIndex.load(self.folder / "bm25_questions")

    @cached_property
    def keyword_titles(self) -> KeywordIndex:
        """BM25 over the distinct titles (document focus); its ids are the titles."""
        return KeywordIndex.load(self.folder / "bm25_titles")

    @cached_property
    def abbreviations(self) -> dict[str, str]:
        """Abbreviations the corpus spells out (see bot/abbreviations.py)."""
        path = self.folder / "abbreviations.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    @cached_property
    def unanswerable(self) -> frozenset[str]:
        """Ids of the records with no answer to show (questions only)."""
        return frozenset(rid for (rid,) in self._rows(
            "SELECT id FROM records WHERE kind = 'question_only'"))

    def load_keyword_indexes(self) -> None:
        """Load every keyword index now rather than on a person's first query."""
        _ = (self.keyword, self.keyword_questions, self.keyword_titles, self.abbreviations,
             self.unanswerable)

    def titles(self, ids: list[str]) -> dict[str, str]:
        """Record id -> title key, for these ids."""
        found: dict[str, str] = {}
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            marks = ",".join("?" * len(batch))
            found.update(self._rows(f"SELECT id, title FROM records WHERE id IN ({marks})", batch))
        return found

    def records_by_title(self, titles: list[str]) -> dict[str, list[str]]:
        """For each title key, its record ids in index order."""
        found: dict[str, list[str]] = {}
        for start in range(0, len(titles), 500):
            batch = titles[start : start + 500]
            marks = ",".join("?" * len(batch))
            sql = f"SELECT title, id FROM records WHERE title IN ({marks}) ORDER BY pos"
            for title, rid in self._rows(sql, batch):
                found.setdefault(title, []).append(rid)
        return found

    def _rows(self, sql: str, args: tuple | list = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def records(self, ids: list[str]) -> dict[str, Record]:
        """The records with these ids (missing ids are left out)."""
        found: dict[str, Record] = {}
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            marks = ",".join("?" * len(batch))
            sql = f"SELECT id, data FROM records WHERE id IN ({marks})"
            for rid, data in self._rows(sql, batch):
                found[rid] = Record.from_json(json.loads(data))
        return found

    def chunk_owners(self, keys: list[str]) -> dict[str, list[tuple[str, str]]]:
        """For each vector key, the (record id, part) pairs that use it."""
        owners: dict[str, list[tuple[str, str]]] = {}
        for start in range(0, len(keys), 500):
            batch = keys[start : start + 500]
            marks = ",".join("?" * len(batch))
            sql = f"SELECT key, record_id, part FROM chunks WHERE key IN ({marks})"
            for key, rid, part in self._rows(sql, batch):
                owners.setdefault(key, []).append((rid, part))
        return owners

    def record_hashes(self) -> dict[str, tuple[str, str]]:
        """Every record id -> (content hash, source file)."""
        rows = self._rows("SELECT id, hash, source_file FROM records")
        return {rid: (h, src) for rid, h, src in rows}

    def iter_records(self, source_file: str | None = None) -> Iterator[Record]:
        """All records, or those of one source file, in index order."""
        if source_file is None:
            rows = self._rows("SELECT data FROM records ORDER BY pos")
        else:
            rows = self._rows("SELECT data FROM records WHERE source_file = ? ORDER BY pos",
                              (source_file,))
        for (data,) in rows:
            yield Record.from_json(json.loads(data))

    def chunk_keys(self) -> set[str]:
        """Every vector key this version uses."""
        return {key for (key,) in self._rows("SELECT DISTINCT key FROM chunks")}

    def chunk_rows(self) -> list[tuple[str, str, str]]:
        """(key, record id, part) for every chunk."""
        return self._rows("SELECT key, record_id, part FROM chunks")

    @cached_property
    def vector_keys(self) -> dict[str, list[str]]:
        """Role ('q', 't', 'a') -> this version's distinct vector keys of that role."""
        keys: dict[str, dict[str, None]] = {}
        for key, _, part in self.chunk_rows():
            keys.setdefault(part[0], {})[key] = None
        return {role: list(found) for role, found in keys.items()}

    @cached_property
    def search_maps(self) -> SearchMaps:
        """Key, title and member maps for retrieval, in memory (see bot/search_maps.py)."""
        with self._lock:  # rows streamed, not fetched into lists first
            return SearchMaps.build(
                self._db.execute("SELECT id, title FROM records ORDER BY pos"),
                self._db.execute("SELECT key, record_id, part FROM chunks"))

    @cached_property
    def title_vector_keys(self) -> dict[str, str]:
        """Record id -> the key of its title's vector (records without a title are left out)."""
        return dict(self._rows("SELECT record_id, key FROM chunks WHERE part = 't'"))

    def files(self) -> dict[str, dict]:
        """Source file -> {'hash', 'status', 'records'} as of this version."""
        rows = self._rows("SELECT path, hash, status, records FROM files")
        return {p: {"hash": h, "status": s, "records": n} for p, h, s, n in rows}

    def close(self) -> None:
        """Release the database handle."""
        with self._lock:
            self._db.close()


def write_version(
    folder: Path,
    manifest: Manifest,
    records: list[tuple[Record, str]],
    chunks: list[tuple[str, str, str]],
    files: dict[str, dict],
    keyword: dict[str, KeywordIndex],
    abbreviations: dict[str, str],
) -> None:
    """Write a complete version into folder (records with their hashes, chunk keys, files)."""
    folder.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(folder / "records.db")
    try:
        db.executescript(SCHEMA)
        db.executemany(
            "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                (r.id, pos, h, r.kind, r.source_file, title_key(r.title),
                 json.dumps(r.to_json(), ensure_ascii=False))
                for pos, (r, h) in enumerate(records)
            ),
        )
        db.executemany("INSERT INTO chunks VALUES (?, ?, ?)", chunks)
        db.executemany(
            "INSERT INTO files VALUES (?, ?, ?, ?)",
            ((p, f["hash"], f["status"], f["records"]) for p, f in files.items()),
        )
        db.commit()
    finally:
        db.close()
    for name, index in keyword.items():
        index.save(folder / name)
    (folder / "abbreviations.json").write_text(
        json.dumps(abbreviations, ensure_ascii=False, sort_keys=True), encoding="utf-8"
    )
    (folder / "manifest.json").write_text(
        json.dumps(manifest.__dict__, indent=2, ensure_ascii=False), encoding="utf-8"
    )

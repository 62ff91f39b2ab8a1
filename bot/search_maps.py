"""What retrieval looks up for every message, held in memory once per index version.

Vector key -> its records, a title vector -> its document's title, a title -> its records in
index order. Asked of SQLite per message these took about 5 ms of a MedQuAD search (400 keys,
records and titles, bench/experiments.md §12); built from two table scans at load.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

TITLE = "t"  # the role of title vectors, which the focus list maps to titles, not records


@dataclass(frozen=True)
class SearchMaps:
    """One version's key and title maps (read-only)."""

    owners: dict[str, dict[str, tuple[str, ...]]]  # role -> key -> records with that chunk
    title_of_key: dict[str, str]  # title vector key -> title key of its first record
    members: dict[str, tuple[str, ...]]  # title key -> record ids in index order

    @classmethod
    def build(cls, records: Iterable[tuple[str, str]],
              chunks: Iterable[tuple[str, str, str]]) -> SearchMaps:
        """From (record id, title key) rows by position and (key, record id, part) chunk rows
        in table order (the order a query by key returns them in)."""
        title_of: dict[str, str] = {}
        same: dict[str, str] = {}  # one string object per record id, shared by the maps
        members: dict[str, list[str]] = {}
        for rid, title in records:
            title_of[rid] = title
            same[rid] = rid
            members.setdefault(title, []).append(rid)
        owners: dict[str, dict[str, list[str]]] = {}
        title_of_key: dict[str, str] = {}
        first: dict[str, str] = {}  # vector key -> its first record, whatever the part
        for key, rid, part in chunks:
            rid = same.get(rid, rid)
            first.setdefault(key, rid)
            if part[0] == TITLE:
                title_of_key.setdefault(key, title_of.get(first[key], ""))
            else:
                owners.setdefault(part[0], {}).setdefault(key, []).append(rid)
        return cls(owners={role: {key: tuple(ids) for key, ids in keyed.items()}
                           for role, keyed in owners.items()},
                   title_of_key=title_of_key,
                   members={title: tuple(ids) for title, ids in members.items()})

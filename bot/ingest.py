"""Build a new index version from corpus files, verify it, and switch to it atomically."""

from __future__ import annotations

import fcntl
import logging
import resource
import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot import abbreviations, vectors
from bot.chroma_store import StoreUnavailable, collection_prefix, open_client
from bot.chunking import record_chunks, text_key
from bot.corpus import gather
from bot.corpus.limits import Deadline, SourceFile, Stopped
from bot.embeddings import Embedder, make_embedder
from bot.index_store import LAYOUT, IndexRoot, IndexVersion, Manifest, title_key, write_version
from bot.keyword_index import KeywordIndex
from bot.records import Record, Rejection
from bot.settings import Settings
from bot.vector_index import open_index

log = logging.getLogger(__name__)


class IngestError(Exception):
    """Nothing changed: the reason is in the message."""


@dataclass
class FileReport:
    """What happened to one source file."""

    path: str
    status: str  # added / changed / unchanged / removed / broken / partial
    records: int
    rejected: int = 0


@dataclass
class IngestReport:
    """The outcome of one ingest, for people (str) and programs (to_json)."""

    status: str = "failed"  # updated / unchanged / failed
    version: str | None = None
    previous: str | None = None
    records: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    rejected: int = 0
    embedded: int = 0
    reused: int = 0
    seconds: float = 0.0
    peak_memory_mb: float = 0.0
    files: list[FileReport] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    warnings: list[Rejection] = field(default_factory=list)  # repaired, taken (NUL bytes, links)
    skipped: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def exit_code(self) -> int:
        """0 all taken, 1 some files or lines rejected, 2 nothing changed because of an error."""
        if self.status == "failed":
            return 2
        return 1 if self.rejections else 0

    def to_json(self) -> dict:
        """A plain dict for --json."""
        lists = ("files", "rejections", "warnings")
        data = {k: v for k, v in self.__dict__.items() if k not in lists}
        data["files"] = [f.__dict__ for f in self.files]
        for name in lists[1:]:
            data[name] = [{"file": r.file, "line": r.line, "element": r.element,
                           "reason": r.reason} for r in getattr(self, name)]
        data["exit_code"] = self.exit_code
        return data


def _resolve(parsed: list[SourceFile], active: IndexVersion | None, report: IngestReport):
    """Pick the records of the new version; keep a broken file's previous records."""
    taken: dict[str, Record] = {}
    owner: dict[str, str] = {}
    old_files = active.files() if active else {}
    for pf in parsed:
        report.rejections.extend(pf.rejections)
        report.warnings.extend(pf.warnings)
        for warning in pf.warnings:
            log.warning("%s (repaired and taken)", warning)
        records = list(pf.records)
        if (pf.fatal or pf.rejections) and pf.path in old_files:
            new_ids = {r.id for r in records}
            kept = [r for r in active.iter_records(pf.path) if r.id not in new_ids]
            if kept:
                log.warning("%s has errors: keeping its %d previous records", pf.path, len(kept))
            records.extend(kept)
        for record in records:
            if record.id in taken:
                report.rejections.append(
                    Rejection(pf.path, f"duplicate id {record.id} (kept the one in "
                              f"{owner[record.id]})")
                )
                continue
            taken[record.id] = record
            owner[record.id] = pf.path
    report.rejected = len(report.rejections)
    return list(taken.values())


def _file_reports(parsed, active, counts) -> tuple[list[FileReport], dict[str, dict]]:  # noqa: ANN001
    old = active.files() if active else {}
    reports, table = [], {}
    for pf in parsed:
        bad = len(pf.rejections)
        if pf.fatal:
            status = "broken"
        elif pf.path not in old:
            status = "added"
        elif bad:
            status = "partial"
        else:
            status = "unchanged" if old[pf.path]["hash"] == pf.digest else "changed"
        reports.append(FileReport(pf.path, status, counts.get(pf.path, 0), bad))
        table[pf.path] = {"hash": pf.digest, "status": status,
                          "records": counts.get(pf.path, 0)}
    seen = {pf.path for pf in parsed}
    reports.extend(FileReport(p, "removed", 0) for p in sorted(set(old) - seen))
    return reports, table


def _lock(root: IndexRoot):  # noqa: ANN202 - an open file
    root.path.mkdir(parents=True, exist_ok=True)
    handle = open(root.lock_file, "w")  # noqa: SIM115 - held for the whole ingest
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise IngestError("another ingest is running; try again when it has finished") from None
    return handle


def ingest(
    settings: Settings,
    paths: list[Path] | None = None,
    *,
    embedder: Embedder | None = None,
    client=None,  # noqa: ANN001 - a chromadb client; tests pass a server's
    progress: bool | None = None,
    cancel: threading.Event | None = None,
) -> IngestReport:
    """Parse, embed what is new, build and verify a version, switch to it; never raises.
    It stops, changing nothing, after INGEST_TIMEOUT seconds or as soon as cancel is set."""
    started = time.perf_counter()
    deadline = Deadline(settings.ingest_timeout, cancel)
    report = IngestReport()
    root = IndexRoot(settings.data_dir)
    try:
        lock = _lock(root)
    except (IngestError, OSError) as error:
        report.error = str(error)
        return report
    try:
        _build(settings, paths or [settings.knowledge_dir], root, report, embedder, client,
               progress, deadline)
    except (IngestError, StoreUnavailable, Stopped) as error:
        report.status, report.error = "failed", str(error)
    except Exception as error:  # an unexpected failure must still leave the index as it was
        log.exception("ingest failed")
        report.status, report.error = "failed", f"{type(error).__name__}: {error}"
    finally:
        lock.close()
        report.seconds = round(time.perf_counter() - started, 2)
        report.peak_memory_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return report


def _build(settings, paths, root, report, embedder, client, progress, deadline) -> None:  # noqa: ANN001
    pointer = root.pointer()
    active = root.open(pointer["version"]) if pointer.get("version") else None
    report.previous = active.name if active else None
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise IngestError(f"not found: {', '.join(missing)} (put corpus files in KNOWLEDGE_DIR; "
                          "see knowledge/README.md)")
    parsed, report.skipped = gather(paths, settings.knowledge_dir, deadline)
    if not parsed:
        where = ", ".join(str(p) for p in paths)
        kept = f"; the active index ({active.manifest.records} records) was left as it is" \
            if active else ""
        raise IngestError(f"no corpus files found in {where}{kept} (see knowledge/README.md)")
    records = _resolve(parsed, active, report)
    hashed = [(r, r.content_hash()) for r in records]
    old = active.record_hashes() if active else {}
    new_ids = {r.id for r in records}
    for record, digest in hashed:
        if record.id not in old:
            report.added += 1
        elif old[record.id][0] != digest:
            report.changed += 1
        else:
            report.unchanged += 1
    report.removed = len(set(old) - new_ids)
    report.records = len(records)
    counts = Counter(r.source_file for r in records)
    report.files, file_table = _file_reports(parsed, active, counts)

    embedder = embedder or make_embedder(settings)
    model = embedder.name
    same_build = (active is not None and active.manifest.model == model
                  and active.manifest.layout == LAYOUT)
    nothing_new = not (report.added or report.changed or report.removed)
    if same_build and nothing_new and active.files().keys() == file_table.keys():
        report.status, report.version = "unchanged", active.name
        report.previous = pointer.get("previous")
        return

    chunks = [(text_key(model, text), r.id, part, text) for r in records
              for part, text in record_chunks(r, settings.embed_max_chunks)]
    client = client or open_client(settings)
    collections = vectors.open_collections(client, embedder)
    # Vectors neither a kept version nor this build uses go first (left by a killed ingest);
    # those this build uses stay, whoever stored them: a vector's key is its text's hash.
    kept = [root.open(v) for v in (pointer.get("version"), pointer.get("previous"))
            if v and v in root.versions()]
    vectors.collect_garbage(collections, kept, wanted=chunks)
    for handle in kept:
        handle.close()
    report.embedded, report.reused = vectors.store_chunks(
        collections, embedder, chunks, progress=progress,
        add_batch=max(1, min(client.get_max_batch_size(), 4096)), check=deadline.check,
    )
    version = root.next_version()
    building = root.building_dir(version)
    try:
        deadline.check("writing the new version")
        _write(building, version, records, hashed, chunks, file_table, paths, embedder)
        deadline.check("verifying the new version")
        built = IndexVersion(building)
        try:
            vectors.verify(built, collections, chunks)
            for role in ("q", "t"):  # the serving matrices, so a cold start need not read Chroma
                open_index(collections[role], built.vector_keys.get(role, []),
                           settings.exact_search_max_vectors, folder=building, role=role)
        finally:
            built.close()
        deadline.check("switching to the new version")
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    _switch(root, building, version, report, collections)


def _write(building, version, records, hashed, chunks, file_table, paths, embedder) -> None:  # noqa: ANN001
    """Write a complete version into its building folder."""
    kinds = Counter(r.kind for r in records)
    counts = Counter(r.source_file for r in records)
    manifest = Manifest(
        version=version, created=datetime.now(UTC).isoformat(timespec="seconds"),
        model=embedder.name, dimension=embedder.dimension,
        collection=collection_prefix(embedder.name),
        records=len(records), chunks=len(chunks), kinds=dict(sorted(kinds.items())),
        by_file=dict(sorted(counts.items())), sources=[str(p) for p in paths], layout=LAYOUT,
    )
    write_version(building, manifest, hashed, [(k, rid, part) for k, rid, part, _ in chunks],
                  file_table, keyword_indexes(records),
                  abbreviations.mine(r.answer for r in records))


def _switch(root, building, version, report, collections) -> None:  # noqa: ANN001
    """Make the verified version active; drop what no kept version needs."""
    building.rename(root.path / version)
    root.switch(version, report.previous)
    report.status, report.version = "updated", version
    keep = {version} | ({report.previous} if report.previous else set())
    root.prune(keep)
    kept = [root.open(v) for v in sorted(keep)]
    vectors.collect_garbage(collections, kept)
    for handle in kept:
        handle.close()


def keyword_indexes(records: list[Record]) -> dict[str, KeywordIndex]:
    """The BM25 indexes of a version: whole records, questions only, and distinct titles."""
    ids = [r.id for r in records]
    titles = sorted({title_key(r.title) for r in records if r.title.strip()})
    whole = [" ".join((r.title, r.question, r.answer)) for r in records]
    return {
        "bm25": KeywordIndex.build(ids, whole),
        "bm25_questions": KeywordIndex.build(ids, [f"{r.title} {r.question}" for r in records]),
        "bm25_titles": KeywordIndex.build(titles, titles),
    }

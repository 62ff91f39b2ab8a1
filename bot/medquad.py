"""`ingest --medquad`: the published MedQuAD archive, downloaded and unpacked safely into
KNOWLEDGE_DIR/medquad (only the XML of its 12 folders, atomically, with its attribution)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
import zlib
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from bot import download
from bot.corpus.limits import MAX_DOCUMENT_BYTES
from bot.settings import Settings

FOLDERS = frozenset({
    "1_CancerGov_QA", "2_GARD_QA", "3_GHR_QA", "4_MPlus_Health_Topics_QA", "5_NIDDK_QA",
    "6_NINDS_QA", "7_SeniorHealth_QA", "8_NHLBI_QA_XML", "9_CDC_QA", "10_MPlus_ADAM_QA",
    "11_MPlusDrugs_QA", "12_MPlusHerbsSupplements_QA",
})
TARGET = "medquad"  # KNOWLEDGE_DIR/medquad
PART = ".medquad-download.part"  # hidden: ingest never reads it
MARKER = ".medquad.json"
# Caps far above the real archive (about 11,000 XML files, each under 100 KB).
MAX_ARCHIVE_BYTES = 512 << 20
MAX_FILES = 100_000
MAX_TOTAL_BYTES = 1 << 30
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.xml")
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError,
            RuntimeError)

ATTRIBUTION = """\
# MedQuAD

The XML files in this folder are MedQuAD, by Asma Ben Abacha and Dina Demner-Fushman
(U.S. National Library of Medicine), from https://github.com/abachaa/MedQuAD, licensed under
the Creative Commons Attribution 4.0 International License (CC BY 4.0,
https://creativecommons.org/licenses/by/4.0/).

Downloaded by `symptom-bot ingest --medquad` from {url} (commit {commit}) on {date}.
Only the XML files of the 12 question-answer folders were extracted, unchanged.

Paper: Asma Ben Abacha and Dina Demner-Fushman. A Question-Entailment Approach to Question
Answering. BMC Bioinformatics 20, 511 (2019). https://doi.org/10.1186/s12859-019-3119-4
"""


class MedquadError(Exception):
    """MedQuAD could not be fetched; KNOWLEDGE_DIR/medquad is as it was. One line."""


class Refused(Exception):
    """The archive is not a MedQuAD archive that can be unpacked safely."""


def fetch_medquad(settings: Settings, progress: bool | None = None) -> str:
    """Make KNOWLEDGE_DIR/medquad hold MedQuAD from MEDQUAD_URL; return what was done."""
    home, url = settings.knowledge_dir, settings.medquad_url
    try:
        home.mkdir(parents=True, exist_ok=True)
        lock = os.open(home, os.O_RDONLY)
    except OSError as error:
        raise MedquadError(f"cannot use the knowledge folder {home}: {error.strerror}") from None
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise MedquadError("another `ingest --medquad` is downloading; try again when it "
                               "has finished") from None
        return _fetch(settings, home, url, progress)
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        raise MedquadError(f"cannot write MedQuAD into {home}: {where}{error.strerror or error}"
                           ) from None
    finally:
        os.close(lock)


def _fetch(settings: Settings, home: Path, url: str, progress: bool | None) -> str:
    target = home / TARGET
    if (files := present(target, url)) is not None:
        return (f"MedQuAD already downloaded ({files:,} XML files in {target} from {url}); "
                f"ingesting (delete {target / MARKER} to download it again)")
    for pattern in (".medquad-extract-*", ".medquad-old-*"):  # a run killed while unpacking
        for leftover in home.glob(pattern):
            shutil.rmtree(leftover, ignore_errors=True)
    part = home / PART
    started = time.perf_counter()
    try:
        size = download.fetch(url, part, max_bytes=MAX_ARCHIVE_BYTES, progress=progress,
                              label="MedQuAD")
    except download.DownloadError as error:
        advice = " (check MEDQUAD_URL)" if error.status and 400 <= error.status < 500 else ""
        raise MedquadError(f"MedQuAD download failed: {error}{advice}; run again to resume"
                           ) from None
    took = time.perf_counter() - started
    digest = _sha256(part)
    expected = settings.medquad_sha256.lower()
    if expected and digest != expected:
        download.forget(part)
        raise MedquadError(f"MedQuAD archive from {url} has SHA-256 {digest}, not the "
                           f"MEDQUAD_SHA256 {expected}; deleted it, run again to download "
                           "it anew")
    marker = {"url": url, "commit": _commit(url), "sha256": digest, "bytes": size,
              "downloaded": datetime.now(UTC).isoformat(timespec="seconds")}
    unpacking = time.perf_counter()
    try:
        files = _unpack(part, home, target, marker)
    except Refused as error:
        download.forget(part)
        raise MedquadError(f"MedQuAD archive from {url} refused: {error}; deleted it, run "
                           "again to download it anew") from None
    download.forget(part)
    return (f"MedQuAD downloaded: {size / 1e6:.1f} MB in {took:.1f} s, {files:,} XML files "
            f"unpacked into {target} in {time.perf_counter() - unpacking:.1f} s; ingesting")


def present(target: Path, url: str) -> int | None:
    """How many XML files an earlier download from url left in target, or None if it did not."""
    try:
        marker = json.loads((target / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("url") != url:
        return None
    found = sum(1 for _ in target.rglob("*.xml"))
    return found if found == marker.get("files") else None


def _commit(url: str) -> str | None:
    match = re.search(r"\b[0-9a-f]{40}\b", url)
    return match.group(0) if match else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def members(infos: list[zipfile.ZipInfo]) -> list[tuple[zipfile.ZipInfo, str, str]]:
    """(member, folder, file name) of the XML files to unpack; Refused for an unsafe archive."""
    chosen, total = [], 0
    for info in infos:
        name = info.filename
        parts = PurePosixPath(name).parts
        if (name.startswith("/") or "\\" in name or "\x00" in name or ".." in parts
                or (parts and ":" in parts[0])):
            raise Refused(f"member {name!r} would be written outside its folder")
        if info.is_dir() or len(parts) not in (2, 3) or parts[-2] not in FOLDERS:
            continue  # the repository's other files: its README, the LiveQA qrels zip, ...
        if not _FILE_NAME.fullmatch(parts[-1]):
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            raise Refused(f"member {name!r} is a symbolic link")
        if info.file_size > MAX_DOCUMENT_BYTES:
            raise Refused(f"member {name!r} is {info.file_size:,} bytes, over the "
                          f"{MAX_DOCUMENT_BYTES:,}-byte limit")
        total += info.file_size
        chosen.append((info, parts[-2], parts[-1]))
    if not chosen:
        raise Refused("it holds none of the MedQuAD folders (1_CancerGov_QA … "
                      "12_MPlusHerbsSupplements_QA)")
    if len(chosen) > MAX_FILES or total > MAX_TOTAL_BYTES:
        raise Refused(f"{len(chosen):,} XML files, {total:,} bytes: over the limits "
                      f"({MAX_FILES:,} files, {MAX_TOTAL_BYTES:,} bytes)")
    return chosen


def _unpack(archive: Path, home: Path, target: Path, marker: dict) -> int:
    """Unpack into a hidden folder beside target, then put it in target's place."""
    try:
        opened = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, EOFError, ValueError) as error:
        raise Refused(f"not a zip archive ({error})") from None
    temp = Path(tempfile.mkdtemp(prefix=".medquad-extract-", dir=home))
    try:
        with opened:
            chosen = members(opened.infolist())
            for info, folder, name in chosen:
                (temp / folder).mkdir(exist_ok=True)
                try:  # "x": a name given twice is refused, never overwritten
                    with opened.open(info) as source, open(temp / folder / name, "xb") as out:
                        out.write(source.read(MAX_DOCUMENT_BYTES + 1))
                except FileExistsError:
                    raise Refused(f"member {info.filename!r} is given twice") from None
                except _DAMAGED as error:
                    raise Refused(f"member {info.filename!r} is damaged ({error})") from None
        (temp / "README.md").write_text(ATTRIBUTION.format(
            url=marker["url"], commit=marker["commit"] or "unknown",
            date=marker["downloaded"][:10]), encoding="utf-8")
        marker["files"] = len(chosen)
        (temp / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        _replace(temp, target)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return len(chosen)


def _replace(temp: Path, target: Path) -> None:
    """Rename temp to target; an older target is moved aside first and then deleted."""
    old = None
    if target.exists() or target.is_symlink():
        old = target.with_name(f".medquad-old-{os.getpid()}")
        target.rename(old)
    temp.rename(target)
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink()

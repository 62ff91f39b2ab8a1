"""A resumable HTTP download into a `.part` file: Range requests, a progress bar, clear errors."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import httpx

log = logging.getLogger(__name__)

LOG_EVERY_BYTES = 8 << 20  # without a known size, a log line every 8 MiB
TIMEOUT = httpx.Timeout(30.0, read=60.0)


class DownloadError(Exception):
    """The download stopped; what arrived is kept for the next run. The message is one line."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status of an error answer


class _Bar:
    """Bytes on a tqdm bar on a terminal, a log line every 10% (or 8 MiB) otherwise."""

    def __init__(self, total: int | None, done: int, enabled: bool | None, label: str) -> None:
        self.total, self.done, self.label = total, done, label
        self._next = self._step(done)
        tty = sys.stderr.isatty() if enabled is None else enabled
        self._bar = None
        if tty:
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=done, unit="B", unit_scale=True,
                             unit_divisor=1024, desc=label, leave=False)

    def _step(self, done: int) -> int:
        every = self.total // 10 if self.total else LOG_EVERY_BYTES
        return (done // max(every, 1) + 1) * max(every, 1)

    def update(self, count: int) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(count)
        elif self.done >= self._next:
            of = f" of {self.total / 1e6:.1f} MB" if self.total else ""
            log.info("%s: %.1f MB%s downloaded", self.label, self.done / 1e6, of)
            self._next = self._step(self.done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _total(response: httpx.Response, start: int) -> int | None:
    """The full size of the file, from Content-Range or Content-Length."""
    spec = response.headers.get("content-range", "")
    if "/" in spec and spec.rsplit("/", 1)[1].strip().isdigit():
        return int(spec.rsplit("/", 1)[1])
    length = response.headers.get("content-length", "")
    return start + int(length) if length.isdigit() else None


def _range_start(response: httpx.Response) -> int | None:
    """Where a 206 answer starts ('bytes 100-199/200' → 100)."""
    spec = response.headers.get("content-range", "").removeprefix("bytes ").split("-", 1)[0]
    return int(spec) if spec.strip().isdigit() else None


def _validator(response: httpx.Response) -> str:
    """A strong ETag or Last-Modified, sent back in If-Range so a changed file is not spliced."""
    etag = response.headers.get("etag", "")
    return etag if etag and not etag.startswith("W/") else response.headers.get(
        "last-modified", "")


def fetch(url: str, part: Path, *, max_bytes: int, progress: bool | None = None,
          label: str = "download") -> int:
    """Download url into part, resuming from what part already holds; return its size.
    Raises DownloadError with the URL and the HTTP status or network error."""
    meta = part.with_name(part.name + ".json")  # the URL and validator the bytes came from
    try:
        known = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    have = part.stat().st_size if part.exists() else 0
    if have and known.get("url") != url:
        have = 0  # bytes of another URL (or of unknown origin) are never continued
    # Identity: Range offsets count the bytes as stored, never a compressed transfer.
    headers = {"Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
    if have and known.get("validator"):
        headers["If-Range"] = known["validator"]
    try:
        with httpx.Client(follow_redirects=True, timeout=TIMEOUT) as client:
            with client.stream("GET", url, headers=headers) as response:
                if response.status_code == 416 and have:
                    if _total(response, 0) == have:
                        return have  # the last run got every byte but stopped before using them
                    part.unlink(missing_ok=True)
                    return fetch(url, part, max_bytes=max_bytes, progress=progress, label=label)
                if response.status_code not in (200, 206):
                    raise DownloadError(f"{url}: HTTP {response.status_code} "
                                        f"{response.reason_phrase}", response.status_code)
                start = have if response.status_code == 206 else 0
                if response.status_code == 206 and _range_start(response) != have:
                    forget(part)  # the next run starts from the first byte
                    raise DownloadError(f"{url}: the server resumed at the wrong offset "
                                        f"({response.headers.get('content-range')!r})")
                if start == 0 and have:
                    log.info("%s: the server sent the whole file again; starting over", label)
                elif start:
                    log.info("%s: resuming at %.1f MB", label, start / 1e6)
                meta.write_text(json.dumps({"url": url, "validator": _validator(response)}),
                                encoding="utf-8")
                return _write(response, part, start, max_bytes, progress, label)
    except httpx.HTTPError as error:
        raise DownloadError(f"{url}: {type(error).__name__}: {str(error) or 'network error'}"
                            ) from None


def _write(response: httpx.Response, part: Path, start: int, max_bytes: int,
           progress: bool | None, label: str) -> int:
    """Stream the body onto part (appended from start); refuse more than max_bytes."""
    total = _total(response, start)
    if total is not None and total > max_bytes:
        raise DownloadError(f"{response.url}: {total:,} bytes, over the {max_bytes:,}-byte "
                            "limit")
    bar = _Bar(total, start, progress, label)
    size = start
    try:
        with open(part, "ab" if start else "wb") as out:
            for chunk in response.iter_raw():  # as it arrives: a cut keeps every byte
                size += len(chunk)
                if size > max_bytes:
                    break
                out.write(chunk)
                bar.update(len(chunk))
    finally:
        bar.close()
    if size > max_bytes:
        forget(part)  # resuming it would only hit the limit again
        raise DownloadError(f"{response.url}: more than {max_bytes:,} bytes")
    if total is not None and size < total:  # a server that closed early without an error
        raise DownloadError(f"{response.url}: connection closed after {size:,} of "
                            f"{total:,} bytes")
    return size


def forget(part: Path) -> None:
    """Delete a partial download and what is known about it."""
    part.unlink(missing_ok=True)
    part.with_name(part.name + ".json").unlink(missing_ok=True)

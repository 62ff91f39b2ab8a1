"""A loopback HTTP server for one file: Range and If-Range like a real one, or ignoring Range,
cutting the connection after N bytes, or answering an error; it records what was asked."""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FileServer:
    """Serves `body` at /file.zip (and a redirect to it at /redirect) on 127.0.0.1."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.honour_range = True
        self.cut_after: int | None = None  # the next answer stops after this many body bytes
        self.status: int | None = None  # answer every request with this status instead
        self.requests: list[dict[str, str | None]] = []  # path, Range and If-Range of each GET
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server._answer(self)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/file.zip"

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        asked = handler.headers.get("Range")
        self.requests.append({"path": handler.path, "range": asked,
                              "if_range": handler.headers.get("If-Range")})
        if handler.path == "/redirect":
            handler.send_response(302)
            handler.send_header("Location", "/file.zip")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        if self.status is not None or handler.path != "/file.zip":
            handler.send_error(self.status or 404)
            return
        body, start = self.body, 0
        if_range = handler.headers.get("If-Range")
        if asked and self.honour_range and if_range in (None, self.etag):
            start = int(asked.removeprefix("bytes=").split("-")[0])
            if start >= len(body):
                handler.send_response(416)
                handler.send_header("Content-Range", f"bytes */{len(body)}")
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            handler.send_response(206)
            handler.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            handler.send_response(200)
        handler.send_header("Accept-Ranges", "bytes" if self.honour_range else "none")
        handler.send_header("ETag", self.etag)
        handler.send_header("Content-Type", "application/zip")
        handler.send_header("Content-Length", str(len(body) - start))
        handler.end_headers()
        sent = body[start:]
        if self.cut_after is not None:
            sent, self.cut_after = sent[: self.cut_after], None
            handler.close_connection = True
        handler.wfile.write(sent)
        handler.wfile.flush()

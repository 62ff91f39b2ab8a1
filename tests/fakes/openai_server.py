"""A loopback fake of the OpenAI HTTP API (chat completions, embeddings, audio transcriptions,
models) for tests."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email
import email.policy
import hashlib
import inspect
import json
import math
import random
import re
import struct
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

Responder = str | list[str] | Callable[[dict], str | Awaitable[str]]

_ERRORS: dict[int, tuple[str, str, str | None]] = {
    400: ("We could not parse your request.", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    429: ("Rate limit reached for requests.", "requests", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request.", "server_error", None),
    503: ("The engine is currently overloaded.", "server_error", "service_unavailable"),
}


def fake_embedding(text: str, dim: int = 8) -> list[float]:
    """Unit vector: normalised sum of sha256-seeded Gaussian vectors of the lowercase words."""
    total = [0.0] * dim
    for token in re.findall(r"\w+", text.lower()) or [text]:
        rng = random.Random(int.from_bytes(hashlib.sha256(token.encode()).digest()[:8], "big"))
        total = [t + rng.gauss(0.0, 1.0) for t in total]
    norm = math.sqrt(sum(v * v for v in total)) or 1.0
    return [v / norm for v in total]


# The formats OpenAI's transcriptions endpoint takes, by file name (".oga" is refused there)
AUDIO_FORMATS = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "ogg", "opus", "wav", "webm")


def parse_form(content_type: str, raw: bytes) -> dict[str, Any]:
    """A multipart/form-data body: text fields as str, files as {filename, content_type, data}."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.message_from_bytes(head + raw, policy=email.policy.HTTP)
    form: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        form[str(name)] = data.decode() if filename is None else {
            "filename": filename, "content_type": part.get_content_type(), "data": data}
    return form


def split_words(text: str) -> list[str]:
    """The streamed pieces of a reply: one word each with its spaces; joined they give text."""
    return re.findall(r"\s*\S+\s*", text) or ([text] if text else [])


@dataclass
class RecordedRequest:
    """One request received: method, path, headers (case-insensitive) and parsed JSON, the form
    fields of a multipart request (see parse_form), or None."""

    method: str
    path: str
    headers: CIMultiDict[str]
    body: Any

    @property
    def authorization(self) -> str:
        """The Authorization header, e.g. 'Bearer test'."""
        return self.headers.get("Authorization", "")


_RECORD = web.RequestKey("record", RecordedRequest)


class FakeOpenAI:
    """Fake OpenAI-compatible server on 127.0.0.1; use `async with FakeOpenAI(reply) as llm:`."""

    def __init__(
        self,
        reply: Responder = "This is a fake answer.",
        *,
        model: str = "fake-gpt",
        embedding_dim: int = 8,
        delay: float = 0.0,
        chunk_delay: float = 0.0,
        api_key: str | None = None,
    ) -> None:
        self.reply = reply  # str, list popped from the front, or callable(request_json)
        self.model, self.embedding_dim, self.api_key = model, embedding_dim, api_key
        self.delay = delay  # seconds before a chat answer starts
        self.chunk_delay = chunk_delay  # seconds between streamed text chunks
        self.hang = False  # chat requests are accepted and never answered (until stop)
        self.cut_off_after: int | None = None  # stream the role chunk + N text chunks, then drop
        self.finish_reason = "stop"  # e.g. "length": the model stopped at its token limit
        self.end_early_after: int | None = None  # N text chunks, then end: no finish, no [DONE]
        self.stall_after: int | None = None  # N text chunks, then silence (until stop)
        self.malformed = False  # chat answers are broken JSON (the body, or every SSE event)
        # transcriptions: str, list popped from the front, or callable(form) -> the text heard
        self.transcript: Responder = "This is a fake transcript."
        self.audio_endpoint = True  # False: 404 for transcriptions, like a chat-only server
        self.transcription_hang = False  # transcriptions accepted and never answered (until stop)
        self.requests: list[RecordedRequest] = []
        self.port = 0
        self._failures: list[tuple[str, int, str | None, float | None]] = []
        self._lock = threading.Lock()
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()

    @property
    def base_url(self) -> str:
        """The URL to give OpenAI clients as base_url."""
        return f"http://127.0.0.1:{self.port}/v1"

    def env(self) -> dict[str, str]:
        """Environment variables pointing a subprocess (the bot's settings) at this server."""
        key = self.api_key or "test"
        return {"OPENAI_BASE_URL": self.base_url, "OPENAI_API_KEY": key, "OPENAI_MODEL": self.model}

    @property
    def chat_requests(self) -> list[dict]:
        """JSON bodies of every chat completion request, failed ones included."""
        return [r.body for r in self.requests if r.path.endswith("/chat/completions")]

    @property
    def chat_calls(self) -> int:
        """How many chat completion requests arrived."""
        return len(self.chat_requests)

    @property
    def embedding_requests(self) -> list[dict]:
        """JSON bodies of every embeddings request."""
        return [r.body for r in self.requests if r.path.endswith("/embeddings")]

    @property
    def transcription_requests(self) -> list[dict]:
        """Form fields of every transcription request; `file` is {filename, content_type, data}."""
        return [r.body for r in self.requests if r.path.endswith("/audio/transcriptions")]

    def last_messages(self) -> list[dict]:
        """The messages of the last chat completion request."""
        if not self.chat_requests:
            raise AssertionError("FakeOpenAI received no chat completion request")
        return self.chat_requests[-1]["messages"]

    def last_prompt(self) -> str:
        """All text of the last chat request's messages, one message per line."""
        texts = []
        for message in self.last_messages():
            content = message.get("content") or ""
            if isinstance(content, list):
                content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
            texts.append(content)
        return "\n".join(texts)

    def fail_next(
        self,
        status: int = 500,
        count: int = 1,
        retry_after: float | None = None,
        message: str | None = None,
        endpoint: str = "chat",
    ) -> None:
        """Answer the next `count` requests to endpoint ('chat' | 'embeddings' |
        'transcriptions') with an error."""
        with self._lock:
            self._failures += [(endpoint, status, message, retry_after)] * count

    def reset(self) -> None:
        """Forget recorded requests and pending failures."""
        with self._lock:
            self.requests.clear()
            self._failures.clear()

    async def start(self) -> FakeOpenAI:
        """Listen on a free loopback port."""
        self._closing = asyncio.Event()
        # OpenAI takes audio files up to 25 MB (aiohttp's default limit is 1 MB)
        app = web.Application(middlewares=[self._record], client_max_size=26 * 2**20)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_post("/v1/audio/transcriptions", self._transcriptions)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        """Wake hanging or sleeping handlers and shut down."""
        self._closing.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeOpenAI:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @classmethod
    def start_in_thread(cls, *args: Any, **kwargs: Any) -> FakeOpenAIThread:
        """Serve from a background thread (for sync tests and CLI subprocesses)."""
        return FakeOpenAIThread(cls(*args, **kwargs))

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        if request.content_type == "multipart/form-data":
            body = parse_form(request.headers["Content-Type"], raw)
        record = RecordedRequest(request.method, request.path, CIMultiDict(request.headers), body)
        with self._lock:
            self.requests.append(record)
        request[_RECORD] = record
        return await handler(request)

    def _error(
        self,
        status: int,
        message: str | None = None,
        retry_after: float | None = None,
        should_retry: bool | None = None,
    ) -> web.Response:
        default, kind, code = _ERRORS.get(status, ("Error.", "server_error", None))
        headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        if should_retry is not None:
            headers["x-should-retry"] = str(should_retry).lower()
        error = {"message": message or default, "type": kind, "param": None, "code": code}
        return web.json_response({"error": error}, status=status, headers=headers)

    def _precheck(self, request: web.Request, endpoint: str) -> web.Response | None:
        record = request[_RECORD]
        if not isinstance(record.body, dict):
            return self._error(400, "The request body is not a JSON object.")
        if self.api_key is not None and record.authorization != f"Bearer {self.api_key}":
            return self._error(401)
        with self._lock:
            found = next((f for f in self._failures if f[0] == endpoint), None)
            if found is not None:
                self._failures.remove(found)
        return None if found is None else self._error(*found[1:])

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), seconds)

    async def _answer(self, body: dict, responder: Responder | None = None) -> str:
        responder = self.reply if responder is None else responder
        if callable(responder):
            result = responder(body)
            return str(await result if inspect.isawaitable(result) else result)
        if isinstance(responder, list):
            with self._lock:
                if not responder:
                    raise LookupError("the list of replies is used up")
                return responder.pop(0)
        return responder

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        if (error := self._precheck(request, "chat")) is not None:
            return error
        if self.hang:
            await self._closing.wait()
            return self._error(503, "FakeOpenAI is shutting down.")
        body: dict = request[_RECORD].body
        await self._sleep(self.delay)
        try:
            text = await self._answer(body)
        except Exception as exc:  # a broken responder is the test's bug: say so, do not retry
            return self._error(500, f"FakeOpenAI responder failed: {exc!r}", should_retry=False)
        prompt = sum(len(split_words(str(m.get("content")))) for m in body.get("messages", []))
        done = len(split_words(text))
        usage = {"prompt_tokens": prompt, "completion_tokens": done, "total_tokens": prompt + done}
        base = {
            "id": f"chatcmpl-fake{len(self.requests)}",
            "created": int(time.time()),
            "model": body.get("model") or self.model,
            "system_fingerprint": "fp_fake",
        }
        if body.get("stream"):
            return await self._stream(request, body, text, base, usage)
        if self.malformed:
            return web.Response(text='{"id": "x", "choices": [', content_type="application/json")
        message = {"role": "assistant", "content": text, "refusal": None}
        choice = {"index": 0, "message": message, "logprobs": None,
                  "finish_reason": self.finish_reason}
        return web.json_response(
            {**base, "object": "chat.completion", "choices": [choice], "usage": usage}
        )

    async def _stream(
        self, request: web.Request, body: dict, text: str, base: dict, usage: dict
    ) -> web.StreamResponse:
        with_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        base = {**base, "object": "chat.completion.chunk"} | ({"usage": None} if with_usage else {})

        def chunk(delta: dict, finish: str | None = None) -> dict:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return {**base, "choices": [choice]}

        pieces = split_words(text)
        events = [chunk({"role": "assistant", "content": "", "refusal": None})]
        events += [chunk({"content": piece}) for piece in pieces]
        events.append(chunk({}, self.finish_reason))
        if with_usage:
            events.append({**base, "choices": [], "usage": usage})
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        try:
            for i, event in enumerate(events):
                if self.cut_off_after is not None and i > self.cut_off_after:
                    request.transport.close()  # drop the connection mid-stream
                    return response
                if self.end_early_after is not None and i > self.end_early_after:
                    await response.write_eof()  # a well-formed HTTP end, but no end marker
                    return response
                if self.stall_after is not None and i > self.stall_after:
                    await self._closing.wait()  # tokens stop coming; the connection stays
                    return response
                if 1 < i <= len(pieces):
                    await self._sleep(self.chunk_delay)
                data = "{broken" if self.malformed else json.dumps(event)
                await response.write(f"data: {data}\n\n".encode())
            await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
        except ConnectionError:  # the client went away (e.g. its timeout)
            pass
        return response

    async def _embeddings(self, request: web.Request) -> web.StreamResponse:
        if (error := self._precheck(request, "embeddings")) is not None:
            return error
        body: dict = request[_RECORD].body
        inputs = body.get("input")
        if isinstance(inputs, str) or (
            isinstance(inputs, list) and inputs and isinstance(inputs[0], int)
        ):
            inputs = [inputs]  # one text, or one list of token ids
        if not isinstance(inputs, list) or not inputs:
            return self._error(400, "'input' must be a string or a non-empty list.")
        texts = [x if isinstance(x, str) else " ".join(map(str, x)) for x in inputs]
        dim = int(body.get("dimensions") or self.embedding_dim)
        data = []
        for i, text in enumerate(texts):
            vector: Any = fake_embedding(text, dim)
            if body.get("encoding_format") == "base64":
                vector = base64.b64encode(struct.pack(f"<{dim}f", *vector)).decode()
            data.append({"object": "embedding", "index": i, "embedding": vector})
        tokens = sum(len(split_words(t)) for t in texts)
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": body.get("model"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    async def _transcriptions(self, request: web.Request) -> web.StreamResponse:
        if not self.audio_endpoint:
            raise web.HTTPNotFound()
        if (error := self._precheck(request, "transcriptions")) is not None:
            return error
        form: dict = request[_RECORD].body
        upload = form.get("file")
        if not isinstance(upload, dict):
            return self._error(400, "'file' must be a file upload.")
        if not form.get("model"):
            return self._error(400, "you must provide a model parameter")
        extension = upload["filename"].rsplit(".", 1)[-1].lower()
        if extension not in AUDIO_FORMATS:
            formats = list(AUDIO_FORMATS)
            return self._error(400, f"Invalid file format. Supported formats: {formats}")
        kind = form.get("response_format") or "json"
        if kind not in ("json", "text", "verbose_json"):
            return self._error(400, f"FakeOpenAI does not make response_format {kind!r}.")
        if self.transcription_hang:
            await self._closing.wait()
            return self._error(503, "FakeOpenAI is shutting down.")
        try:
            text = await self._answer(form, self.transcript)
        except Exception as exc:  # a broken responder is the test's bug: say so, do not retry
            return self._error(500, f"FakeOpenAI responder failed: {exc!r}", should_retry=False)
        if kind == "text":
            return web.Response(text=text + "\n", content_type="text/plain")
        extra = {"task": "transcribe", "language": "english", "duration": 1.0, "segments": []}
        return web.json_response({"text": text} | (extra if kind == "verbose_json" else {}))

    async def _models(self, request: web.Request) -> web.StreamResponse:
        data = [
            {"id": m, "object": "model", "created": 0, "owned_by": "fake"}
            for m in (self.model, "fake-embedding")
        ]
        return web.json_response({"object": "list", "data": data})


class FakeOpenAIThread:
    """A FakeOpenAI served by a background thread's loop; attributes pass through to it."""

    def __init__(self, fake: FakeOpenAI) -> None:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="fake-openai", daemon=True)
        self.__dict__.update(fake=fake, _loop=loop, _thread=thread)
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(fake.start(), loop).result(10)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Shut the server down and join its thread."""
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self.fake.stop(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()

    def __enter__(self) -> FakeOpenAIThread:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fake, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.fake, name, value)

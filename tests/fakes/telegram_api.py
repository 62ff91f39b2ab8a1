"""A loopback fake of the Telegram Bot API for end-to-end tests.

:class:`FakeBotApi` is a small aiohttp server on ``127.0.0.1`` (a free port) that speaks the
Bot API wire protocol well enough for the *real* python-telegram-bot ``Application`` to run
against it: ``getMe``, real long polling in ``getUpdates``, ``sendMessage``, edits, inline
buttons, drafts, commands, chat actions, files. Every call is checked against the machine
readable Bot API spec (``bot-api.json``): unknown method, unknown or missing parameter, wrong
type, length limits after entity parsing, broken HTML/MarkdownV2 - each answered with a
Telegram-style ``400`` *and* recorded in :attr:`FakeBotApi.errors`, so a test can end with
``assert api.errors == []``.

Usage::

    async with FakeBotApi() as api:
        app = (
            ApplicationBuilder()
            .token("123:ABC")
            .base_url(api.base_url)
            .base_file_url(api.base_file_url)
            .build()
        )
        ...  # add handlers, initialize/start the app, start polling
        api.send_text(42, "/start")
        [reply] = await api.wait_for_messages(chat_id=42, count=1)
        assert reply.text == "Hello!"
        api.press_button(42, reply.message_id, "ping")
        await api.wait_for(lambda: api.callback_answers)
        assert api.errors == []

From synchronous code use ``with FakeBotApi() as api:`` - the server then runs in its own
thread and event loop; :meth:`FakeBotApi.wait_for_sync` waits for a condition.

Faults: ``api.fail_next("sendMessage", status=429, retry_after=1)`` (also 500/502/403...),
``api.add_flood_rule(max_calls=3, per_seconds=1)`` (per-chat 429 for too many edits),
``api.hold_acks = True`` (a poll that would confirm delivered updates waits until released).
Note that python-telegram-bot 22 does *not* retry a request that got ``429``: it raises
``telegram.error.RetryAfter`` to the caller (only the Updater's own ``getUpdates`` loop waits
``retry_after + 0.5`` s and polls again). A bot that must survive flood control needs a
``BaseRateLimiter`` (``AIORateLimiter(max_retries=...)``, which needs the ``aiolimiter``
extra, or a small custom one) set with ``ApplicationBuilder().rate_limiter(...)``.

Deliberate simplifications: updates are only delivered by ``getUpdates`` (a webhook is stored,
never called); text lengths are counted in code points; leading/trailing whitespace is not
stripped from sent text; a bot may message any chat id (positive ids are private chats,
``-100...`` supergroups, other negative ids groups); unknown nested fields are rejected even
though Telegram ignores them (it catches typos such as ``callback_date``).

The spec is read from ``spec_path=``, else ``$TELEGRAM_BOT_API_SPEC``,
``tests/fakes/bot-api.json`` or ``../shared/telegram/bot-api.json`` next to the repository
(first that exists).
"""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import logging
import os
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from .telegram_html import EntityParseError, ParsedText, parse_formatted, utf16_len

__all__ = [
    "ApiCall",
    "ApiError",
    "BotApiSpec",
    "CallbackAnswer",
    "ChatActionRecord",
    "Draft",
    "FakeBotApi",
    "FaultRule",
    "FloodRule",
    "SentMessage",
    "UploadedFile",
    "load_spec",
]

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

_SPEC_ENV = "TELEGRAM_BOT_API_SPEC"
_SPEC_CANDIDATES = (
    Path(__file__).with_name("bot-api.json"),
    # the folder `shared` next to the repository (see tests/shared_paths.py)
    Path(__file__).resolve().parents[2].parent / "shared" / "telegram" / "bot-api.json",
)
_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_PRIMITIVES = {"Integer", "String", "Boolean", "Float", "InputFile"}
_LIMIT_RE = re.compile(r"(\d+)-(\d+) (characters?|bytes?)")
_DISCRIMINATOR_RE = re.compile(r'(?:always|must be) "?([a-z_]+)"?')
_DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
EDIT_METHODS = ("editMessageText", "editMessageCaption", "editMessageReplyMarkup")
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_FAULT_DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


# ------------------------------------------------------------------------------------- spec


class BotApiSpec:
    """The Bot API description loaded from ``bot-api.json``.

    Attributes:
        version: e.g. ``"Bot API 10.1"``.
        methods: method name -> spec entry (``fields``, ``returns``).
        types: type name -> spec entry (``fields`` or ``subtypes``).
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self.version: str = data.get("version", "?")
        self.methods: dict[str, dict[str, Any]] = data["methods"]
        self.types: dict[str, dict[str, Any]] = data["types"]
        self._by_lower = {name.lower(): spec for name, spec in self.methods.items()}

    def method(self, name: str) -> dict[str, Any] | None:
        """The spec of ``name`` (case-insensitive, like Telegram), or ``None``."""
        return self._by_lower.get(name.lower())

    def returns(self, name: str) -> list[str]:
        """The documented return types of method ``name``."""
        spec = self.method(name)
        return list(spec.get("returns", [])) if spec else []

    @functools.cached_property
    def discriminators(self) -> dict[str, tuple[str, str]]:
        """Subtype name -> (discriminating field, value), e.g. ``("type", "chat")``."""
        found: dict[str, tuple[str, str]] = {}
        for name, spec in self.types.items():
            if "subtype_of" not in spec:
                continue
            for fld in spec.get("fields", []):
                if fld["name"] in ("type", "status", "source") and fld["types"] == ["String"]:
                    m = _DISCRIMINATOR_RE.search(fld.get("description", ""))
                    if m:
                        found[name] = (fld["name"], m.group(1))
                        break
        return found


@functools.lru_cache(maxsize=4)
def load_spec(path: str | None = None) -> BotApiSpec:
    """Load (and cache) the spec from ``path`` or the default locations."""
    candidates = [Path(path)] if path else []
    if not path and os.environ.get(_SPEC_ENV):
        candidates.append(Path(os.environ[_SPEC_ENV]))
    candidates.extend(_SPEC_CANDIDATES)
    for candidate in candidates:
        if candidate.is_file():
            return BotApiSpec(json.loads(candidate.read_text(encoding="utf-8")))
    raise FileNotFoundError(
        f"bot-api.json not found (looked at {[str(c) for c in candidates]}); set ${_SPEC_ENV}"
    )


# --------------------------------------------------------------------------------- records


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class ApiCall:
    """One request the bot made. ``status`` is ``None`` while a long poll is still waiting."""

    method: str
    params: dict[str, Any]
    time: float
    status: int | None = None
    result: Any = None
    description: str | None = None
    injected: bool = False


@dataclass
class ApiError:
    """A request the fake (or Telegram) would reject.

    ``kind`` is one of ``validation`` (bad method/params/markup), ``semantic`` (e.g. message to
    edit not found, not modified, unknown callback query), ``flood`` (a :class:`FloodRule`
    tripped), ``conflict`` (two pollers / getUpdates with a webhook), ``auth`` (bad token),
    ``internal`` (a bug in the fake itself).
    """

    method: str
    params: dict[str, Any]
    status: int
    description: str
    kind: str


@dataclass
class SentMessage:
    """A message the bot created, kept up to date with later edits and deletion.

    ``text`` is what the bot sent (markup included, caption for media), ``plain_text`` what the
    user sees after entity parsing, ``message`` the current Message JSON.
    """

    chat_id: int
    message_id: int
    method: str
    text: str | None
    parse_mode: str | None
    plain_text: str | None
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    reply_to_message_id: int | None
    params: dict[str, Any]
    message: dict[str, Any]
    history: list[str | None] = field(default_factory=list)
    edit_count: int = 0
    deleted: bool = False
    files: dict[str, UploadedFile] = field(default_factory=dict)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """The inline keyboard buttons, row by row, flattened."""
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("inline_keyboard") or self.reply_markup.get("keyboard")
        return [dict(b) if isinstance(b, dict) else {"text": b} for row in rows or [] for b in row]

    @property
    def callback_data(self) -> list[str]:
        """``callback_data`` of every inline button."""
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]


@dataclass
class Draft:
    """One ``sendMessageDraft`` call (a streamed partial message)."""

    chat_id: int
    draft_id: int
    text: str | None
    parse_mode: str | None
    plain_text: str
    entities: list[dict[str, Any]]
    message_thread_id: int | None
    time: float


@dataclass
class ChatActionRecord:
    """One ``sendChatAction`` call."""

    chat_id: int | str
    action: str
    message_thread_id: int | None
    time: float


@dataclass
class CallbackAnswer:
    """One ``answerCallbackQuery`` call."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None
    time: float


@dataclass
class FaultRule:
    """An injected failure: the next ``count`` calls to ``method`` fail with ``status``."""

    method: str | None
    status: int
    remaining: int
    retry_after: float | None = None
    description: str | None = None
    body: str | None = None

    def matches(self, method: str) -> bool:
        if self.remaining <= 0:
            return False
        if self.method is None:
            return method.lower() != "getupdates"
        return self.method.lower() == method.lower()

    def response(self) -> tuple[int, dict[str, Any]]:
        if self.status == 429:
            retry = self.retry_after if self.retry_after is not None else 1
            body: dict[str, Any] = {
                "ok": False,
                "error_code": 429,
                "description": self.description or f"Too Many Requests: retry after {retry}",
                "parameters": {"retry_after": retry},
            }
            return 429, body
        description = self.description or _FAULT_DESCRIPTIONS.get(self.status)
        if description is None:
            try:
                description = HTTPStatus(self.status).phrase
            except ValueError:
                description = "Error"
        return self.status, {"ok": False, "error_code": self.status, "description": description}


@dataclass
class FloodRule:
    """Per-chat rate limit: more than ``max_calls`` of ``methods`` within ``per_seconds`` in one
    chat -> ``429 retry after`` (and the chat stays blocked for ``retry_after`` seconds)."""

    max_calls: int
    per_seconds: float
    methods: frozenset[str]
    retry_after: int
    _history: dict[Any, deque[float]] = field(default_factory=dict, repr=False)
    _blocked_until: dict[Any, float] = field(default_factory=dict, repr=False)

    def check(self, method: str, chat_key: Any, now: float) -> int | None:
        """Register a call; return ``retry_after`` when it must be refused."""
        if method.lower() not in self.methods:
            return None
        blocked = self._blocked_until.get(chat_key, 0.0)
        if now < blocked:
            return max(1, round(blocked - now))
        history = self._history.setdefault(chat_key, deque())
        while history and now - history[0] >= self.per_seconds:
            history.popleft()
        if len(history) >= self.max_calls:
            self._blocked_until[chat_key] = now + self.retry_after
            return self.retry_after
        history.append(now)
        return None


class ApiRequestError(Exception):
    """Raised by a method implementation to answer with a Telegram error."""

    def __init__(
        self,
        description: str,
        status: int = 400,
        kind: str = "semantic",
        parameters: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.status = status
        self.kind = kind
        self.parameters = parameters


class _Superseded(Exception):
    """A waiting getUpdates was replaced by a newer one."""


# ------------------------------------------------------------------------------- validation


@dataclass
class _Validated:
    params: dict[str, Any]
    parsed: dict[str, ParsedText]


class _Mismatch(Exception):
    def __init__(self, path: str, description: str) -> None:
        super().__init__(description)
        self.path = path
        self.description = description


def _parse_mode_field(name: str) -> str:
    return "parse_mode" if name in ("text", "caption", "message_text") else f"{name}_parse_mode"


def _entities_field(name: str) -> str:
    if name in ("text", "message_text"):
        return "entities"
    return f"{name}_entities"


class _Validator:
    """Checks parameters against the spec and converts form strings to Python values."""

    def __init__(self, spec: BotApiSpec, strict_html: bool) -> None:
        self.spec = spec
        self.strict_html = strict_html

    def validate(
        self,
        method: dict[str, Any],
        raw: dict[str, Any],
        textual: set[str],
        files: dict[str, UploadedFile],
    ) -> _Validated:
        name = method["name"]
        fields = {f["name"]: f for f in method.get("fields", [])}
        attach_names = self._attach_names(raw)
        for key in raw:
            if key not in fields:
                raise _Mismatch(key, f'unknown parameter "{key}" for method {name}')
        for key in files:
            if key not in fields and key not in attach_names:
                raise _Mismatch(key, f'unknown file part "{key}" for method {name}')
        for fld in fields.values():
            if fld["required"] and fld["name"] not in raw and fld["name"] not in files:
                if fld["name"] == "text":
                    raise _Mismatch("text", "message text is empty")
                raise _Mismatch(fld["name"], f'parameter "{fld["name"]}" is required')

        params: dict[str, Any] = {}
        for key, fld in fields.items():
            if key in files and key not in raw:
                if "InputFile" not in fld["types"]:
                    raise _Mismatch(key, f'parameter "{key}" can\'t be a file upload')
                params[key] = files[key]
                continue
            if key not in raw:
                continue
            params[key] = self._coerce(raw[key], fld["types"], key, key in textual, files)
        parsed = self._check_texts(fields, params, "", name)
        return _Validated(params, parsed)

    # -- helpers

    def _attach_names(self, value: Any) -> set[str]:
        found: set[str] = set()
        if isinstance(value, str):
            if value.startswith("attach://"):
                found.add(value[len("attach://") :])
            elif value[:1] in "[{":
                try:
                    found |= self._attach_names(json.loads(value))
                except ValueError:
                    pass
        elif isinstance(value, dict):
            for item in value.values():
                found |= self._attach_names(item)
        elif isinstance(value, list):
            for item in value:
                found |= self._attach_names(item)
        return found

    def _coerce(
        self,
        value: Any,
        types: list[str],
        path: str,
        textual: bool,
        files: dict[str, UploadedFile],
    ) -> Any:
        mismatches: list[_Mismatch] = []
        for type_name in types:
            try:
                return self._coerce_one(value, type_name, path, textual, files)
            except _Mismatch as exc:
                mismatches.append(exc)
        # report the candidate that got furthest (deepest path), e.g. a bad inline button
        best = max(mismatches, key=lambda m: len(m.path))
        if best.path == path and len(types) > 1:
            for mismatch in mismatches:
                if mismatch.description.startswith("can't parse"):
                    raise mismatch
            raise _Mismatch(path, f'field "{path}" must be of type {" or ".join(types)}')
        raise best

    def _coerce_one(
        self,
        value: Any,
        type_name: str,
        path: str,
        textual: bool,
        files: dict[str, UploadedFile],
    ) -> Any:
        if type_name == "Integer":
            if textual and isinstance(value, str):
                if re.fullmatch(r"-?\d+", value.strip()):
                    return int(value)
            elif isinstance(value, int) and not isinstance(value, bool):
                return value
            elif isinstance(value, str) and re.fullmatch(r"-?\d+", value):
                return int(value)
            raise _Mismatch(path, f'field "{path}" must be of type Integer')
        if type_name == "Float":
            if textual and isinstance(value, str):
                try:
                    return float(value)
                except ValueError:
                    pass
            elif isinstance(value, int | float) and not isinstance(value, bool):
                return value
            raise _Mismatch(path, f'field "{path}" must be of type Float')
        if type_name == "Boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
                return value.lower() in ("true", "1")
            raise _Mismatch(path, f'field "{path}" must be of type Boolean')
        if type_name == "String":
            if isinstance(value, str):
                return value
            raise _Mismatch(path, f'field "{path}" must be of type String')
        if type_name == "InputFile":
            if isinstance(value, UploadedFile):
                return value
            if isinstance(value, str) and value.startswith("attach://"):
                name = value[len("attach://") :]
                if name in files:
                    return value
                raise _Mismatch(path, f'file "{name}" referenced in "{path}" was not uploaded')
            raise _Mismatch(path, f'field "{path}" must be a file upload')

        if textual and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                kind = "array" if type_name.startswith("Array of") else "object"
                raise _Mismatch(path, f'can\'t parse "{path}": not a JSON {kind}') from None
        if type_name.startswith("Array of "):
            inner = type_name[len("Array of ") :]
            if not isinstance(value, list):
                raise _Mismatch(path, f'field "{path}" must be a JSON array of {inner}')
            return [
                self._coerce_one(item, inner, f"{path}[{i}]", False, files)
                for i, item in enumerate(value)
            ]
        if type_name not in self.spec.types:
            return value  # a type the spec does not describe: accept as is
        if not isinstance(value, dict):
            raise _Mismatch(path, f'field "{path}" must be a JSON object ({type_name})')
        return self._validate_object(value, type_name, path, files)

    def _validate_object(
        self, obj: dict[str, Any], type_name: str, path: str, files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        tspec = self.spec.types[type_name]
        if "subtypes" in tspec and "fields" not in tspec:
            candidates = []
            for sub in tspec["subtypes"]:
                disc = self.spec.discriminators.get(sub)
                if disc and obj.get(disc[0]) == disc[1]:
                    candidates.append(sub)
            if not candidates:
                disc_field = next(
                    (
                        self.spec.discriminators[s][0]
                        for s in tspec["subtypes"]
                        if s in self.spec.discriminators
                    ),
                    "type",
                )
                raise _Mismatch(
                    path,
                    f'unsupported {type_name} {disc_field} {obj.get(disc_field)!r} in "{path}"',
                )
            errors: list[_Mismatch] = []
            for sub in candidates:
                try:
                    return self._validate_object(obj, sub, path, files)
                except _Mismatch as exc:
                    errors.append(exc)
            raise max(errors, key=lambda m: len(m.path))

        fields = {f["name"]: f for f in tspec.get("fields", [])}
        for key in obj:
            if key not in fields:
                raise _Mismatch(f"{path}.{key}", f'unknown field "{key}" in {type_name} "{path}"')
        out: dict[str, Any] = {}
        for key, fld in fields.items():
            if key not in obj or obj[key] is None:
                if fld["required"]:
                    raise _Mismatch(
                        f"{path}.{key}", f'{type_name} "{path}" lacks required field "{key}"'
                    )
                continue
            out[key] = self._coerce(obj[key], fld["types"], f"{path}.{key}", False, files)
        self._check_texts(fields, out, f"{path}.", type_name)
        if type_name == "InlineKeyboardButton":
            actions = set(out) - {"text", "icon_custom_emoji_id", "style"}
            if len(actions) != 1:
                raise _Mismatch(
                    f"{path}.text",
                    f'inline button "{path}" must have exactly one action field '
                    f"(callback_data, url, ...), has {sorted(actions) or 'none'}",
                )
        if type_name == "BotCommand" and not re.fullmatch(r"[a-z0-9_]{1,32}", out["command"]):
            raise _Mismatch(
                f"{path}.command",
                f"BOT_COMMAND_INVALID: {out['command']!r} (1-32 chars of a-z, 0-9, _)",
            )
        return out

    def _check_texts(
        self, fields: dict[str, dict[str, Any]], values: dict[str, Any], prefix: str, owner: str
    ) -> dict[str, ParsedText]:
        """Parse formatted fields and apply the documented length limits."""
        parsed: dict[str, ParsedText] = {}
        for key, fld in fields.items():
            value = values.get(key)
            if not isinstance(value, str) or "String" not in fld["types"]:
                continue
            pm_field = _parse_mode_field(key)
            if pm_field in fields and isinstance(values.get(pm_field), str):
                if _entities_field(key) in values:
                    parsed[key] = ParsedText(value, list(values[_entities_field(key)]))
                else:
                    try:
                        parsed[key] = parse_formatted(
                            value, values[pm_field], strict=self.strict_html
                        )
                    except EntityParseError as exc:
                        if str(exc).startswith("unsupported parse_mode"):
                            raise _Mismatch(prefix + pm_field, str(exc)) from None
                        raise _Mismatch(prefix + key, f"can't parse entities: {exc}") from None
            elif pm_field in fields:
                entities = values.get(_entities_field(key))
                parsed[key] = ParsedText(value, list(entities or []))
            description = fld.get("description", "")
            limit = _LIMIT_RE.search(description)
            if not limit:
                continue
            low, high, unit = int(limit.group(1)), int(limit.group(2)), limit.group(3)
            if unit.startswith("byte"):
                size = len(value.encode("utf-8"))
            elif "after entit" in description and key in parsed:
                size = len(parsed[key].text)
            else:
                size = len(value)
            shown = parsed[key].text if key in parsed else value
            if low >= 1 and key in ("text", "caption", "message_text") and not shown.strip():
                raise _Mismatch(prefix + key, "message text is empty")
            if low <= size <= high:
                continue
            if key == "callback_data":
                raise _Mismatch(
                    prefix + key,
                    f'BUTTON_DATA_INVALID: "{prefix}{key}" is {size} bytes, must be {low}-{high}',
                )
            if key == "text" and owner in ("sendMessage", "editMessageText") and size > high:
                raise _Mismatch(
                    prefix + key, f"message is too long ({size} characters, at most {high})"
                )
            if key == "caption" and size > high:
                raise _Mismatch(
                    prefix + key,
                    f"message caption is too long ({size} characters, at most {high})",
                )
            raise _Mismatch(
                prefix + key,
                f'"{prefix}{key}" must be {low}-{high} {unit} long, got {size}',
            )
        return parsed


# --------------------------------------------------------------------------------- helpers

_ENTITY_PATTERNS = (
    ("bot_command", re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{4,32}")),
    ("hashtag", re.compile(r"(?<![\w#])#\w+")),
    ("url", re.compile(r"https?://[^\s]+")),
)


def detect_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram's clients attach to a typed message: commands, mentions, hashtags,
    URLs (offsets in UTF-16 code units)."""
    found: list[dict[str, Any]] = []
    for etype, pattern in _ENTITY_PATTERNS:
        for m in pattern.finditer(text):
            found.append(
                {
                    "type": etype,
                    "offset": utf16_len(text[: m.start()]),
                    "length": utf16_len(m.group(0)),
                }
            )
    return sorted(found, key=lambda e: e["offset"])


def _strip_reply(message: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(message)
    out.pop("reply_to_message", None)
    return out


_MEDIA_KIND = {
    "sendPhoto": "photo",
    "sendDocument": "document",
    "sendVoice": "voice",
    "sendAudio": "audio",
    "sendVideo": "video",
    "sendAnimation": "animation",
    "sendSticker": "sticker",
    "sendVideoNote": "video_note",
    "sendLocation": "location",
    "sendVenue": "venue",
    "sendContact": "contact",
    "sendDice": "dice",
}


# ------------------------------------------------------------------------------------ server


class FakeBotApi:
    """A fake Telegram Bot API server on ``127.0.0.1`` for end-to-end tests.

    Args:
        token: accept only this bot token (others get ``401``). ``None`` accepts any
            well-formed token; the bot id is then the numeric prefix of the first token seen.
        bot_username: the bot's ``@username`` (without ``@``), used in ``getMe``.
        bot_name: the bot's first name.
        spec_path: path of ``bot-api.json`` (default: see module docstring).
        strict_html: reject a bare ``&`` / ``>`` in HTML text as well (Telegram tolerates
            them, but they mean "forgot to escape"). ``<`` is always rejected.
        privacy_mode: like BotFather's privacy mode - in groups the bot only receives
            commands, mentions of itself and replies to its messages.
        first_update_id: the ``update_id`` of the first simulated update.

    Recorded state (read it from tests; lists only grow):
        ``calls`` (:class:`ApiCall`), ``errors`` (:class:`ApiError`), ``sent``
        (:class:`SentMessage`), ``drafts`` (chat id -> [:class:`Draft`]), ``chat_actions``,
        ``callback_answers``, ``commands`` (scope key -> commands, see :meth:`scope_key`),
        ``updates`` (every simulated update), ``dropped_updates``, ``faults`` (injected
        failures that were served), ``webhook``.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        bot_username: str = "fake_test_bot",
        bot_name: str = "Fake Bot",
        spec_path: str | None = None,
        strict_html: bool = True,
        privacy_mode: bool = False,
        first_update_id: int = 100,
    ) -> None:
        self.spec = load_spec(spec_path)
        self.token = token
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.privacy_mode = privacy_mode
        self._validator = _Validator(self.spec, strict_html)

        self.calls: list[ApiCall] = []
        self.errors: list[ApiError] = []
        self.sent: list[SentMessage] = []
        self.drafts: dict[int, list[Draft]] = {}
        self.chat_actions: list[ChatActionRecord] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.commands: dict[str, list[dict[str, str]]] = {}
        self.updates: list[dict[str, Any]] = []
        self.dropped_updates: list[dict[str, Any]] = []
        self.faults: list[ApiCall] = []
        self.webhook: dict[str, Any] | None = None
        self.fault_rules: list[FaultRule] = []
        self.flood_rules: list[FloodRule] = []
        # True: a getUpdates that would confirm (acknowledge) delivered updates waits until it
        # is set back to False, so a test can stop the bot between delivery and confirmation.
        self.hold_acks = False

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()
        self._pending: list[dict[str, Any]] = []
        self._allowed_updates: frozenset[str] = _DEFAULT_ALLOWED_UPDATES
        self._next_update_id = first_update_id
        self._poller: object | None = None
        self._closing = False
        self._users: dict[int, dict[str, Any]] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._sent_index: dict[tuple[int, int], SentMessage] = {}
        self._next_message_id: dict[int, int] = {}
        self._callbacks: dict[str, bool] = {}  # query id -> answered
        self._callback_seq = 0
        self._files: dict[str, tuple[str, bytes, str | None]] = {}  # id -> (path, data, mime)
        self._file_seq = 0
        self._stubs: dict[str, Any] = {}
        self._learned_token: str | None = None

        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------------- lifecycle

    async def start(self) -> FakeBotApi:
        """Start serving in the running event loop."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self._loop = asyncio.get_running_loop()
        self._closing = False
        _LOGGER.debug("fake Bot API listening on %s", self.base_url)
        return self

    async def stop(self) -> None:
        """Release waiting long polls and stop the server."""
        self._closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def __enter__(self) -> FakeBotApi:
        """Run the server in a background thread (for synchronous tests)."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.stop())
                loop.close()

        self._thread = threading.Thread(target=run, name="FakeBotApi", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._thread is None or self._loop is None:
            return
        self._closing = True
        self._notify()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = None

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        if self._port is None:
            raise RuntimeError("FakeBotApi is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``: ``http://127.0.0.1:PORT/bot``."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    def method_url(self, method: str, token: str | None = None) -> str:
        """Full URL of a method, for raw HTTP requests in tests."""
        return f"{self.base_url}{token or self.token or '123:ABC'}/{method}"

    @property
    def bot_id(self) -> int:
        """The bot's user id (numeric prefix of the token)."""
        token = self.token or self._learned_token
        return int(token.split(":", 1)[0]) if token else 1000000

    @property
    def bot_user(self) -> dict[str, Any]:
        """The bot as a Telegram ``User`` object."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    # ------------------------------------------------------------------- waiting

    def _notify(self) -> None:
        """Wake everybody waiting for a state change (any thread, any loop)."""
        with self._lock:
            self._cond.notify_all()
            waiters = list(self._async_waiters)
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        for loop, fut in waiters:
            if loop is current:
                if not fut.done():
                    fut.set_result(None)
            elif not loop.is_closed():
                try:
                    loop.call_soon_threadsafe(_resolve_future, fut)
                except RuntimeError:  # loop closed meanwhile
                    pass

    async def _wait_until(self, predicate: Callable[[], T], timeout: float) -> T | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            fut: asyncio.Future[None] = loop.create_future()
            entry = (loop, fut)
            with self._lock:
                self._async_waiters.add(entry)
                result = predicate()
            try:
                if result:
                    return result
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return None
                await asyncio.wait({fut}, timeout=remaining)
            finally:
                with self._lock:
                    self._async_waiters.discard(entry)

    async def wait_for(
        self, predicate: Callable[[], T], timeout: float = 5.0, what: str | None = None
    ) -> T:
        """Wait until ``predicate()`` is truthy and return its value.

        Re-evaluated whenever the fake's state changes (no polling).

        Raises:
            TimeoutError: with a summary of recent calls and errors.
        """
        result = await self._wait_until(predicate, timeout)
        if not result:
            raise TimeoutError(self._timeout_message(what or "condition", timeout))
        return result

    def wait_for_sync(
        self, predicate: Callable[[], T], timeout: float = 5.0, what: str | None = None
    ) -> T:
        """Blocking :meth:`wait_for` for synchronous tests (server in a thread)."""
        with self._cond:
            result = self._cond.wait_for(predicate, timeout)
        if not result:
            raise TimeoutError(self._timeout_message(what or "condition", timeout))
        return result

    async def wait_for_messages(
        self, chat_id: int, count: int = 1, timeout: float = 5.0
    ) -> list[SentMessage]:
        """Wait until the bot has sent at least ``count`` messages to ``chat_id``; return all
        its messages there (including later-deleted ones), oldest first."""

        def enough() -> list[SentMessage] | None:
            found = self.messages_in(chat_id, include_deleted=True)
            return found if len(found) >= count else None

        return await self.wait_for(enough, timeout, f"{count} message(s) in chat {chat_id}")

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] | None = None,
        timeout: float = 5.0,
        after: int = 0,
    ) -> ApiCall:
        """Wait for a completed call to ``method`` (optionally matching ``predicate``) among
        ``calls[after:]``; returns it."""

        def found() -> ApiCall | None:
            for call in self.calls[after:]:
                if (
                    call.method.lower() == method.lower()
                    and call.status is not None
                    and (predicate is None or predicate(call))
                ):
                    return call
            return None

        return await self.wait_for(found, timeout, f"a call to {method}")

    def _timeout_message(self, what: str, timeout: float) -> str:
        with self._lock:
            recent = [f"{c.method}->{c.status}" for c in self.calls if c.method != "getUpdates"][
                -10:
            ]
            errors = [f"{e.method}: {e.description}" for e in self.errors[-5:]]
        return (
            f"timed out after {timeout}s waiting for {what}; recent calls: {recent}; "
            f"errors: {errors}"
        )

    # --------------------------------------------------------------- record queries

    def calls_to(self, method: str) -> list[ApiCall]:
        """All calls to ``method`` (case-insensitive)."""
        with self._lock:
            return [c for c in self.calls if c.method.lower() == method.lower()]

    def messages_in(self, chat_id: int, include_deleted: bool = False) -> list[SentMessage]:
        """Messages the bot sent to ``chat_id``, oldest first."""
        with self._lock:
            return [
                m for m in self.sent if m.chat_id == chat_id and (include_deleted or not m.deleted)
            ]

    def last_message(self, chat_id: int) -> SentMessage | None:
        """The newest not-deleted bot message in ``chat_id``."""
        found = self.messages_in(chat_id)
        return found[-1] if found else None

    def message(self, chat_id: int, message_id: int) -> SentMessage:
        """The bot message ``message_id`` in ``chat_id``."""
        with self._lock:
            return self._sent_index[(chat_id, message_id)]

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot (``offset``)."""
        with self._lock:
            return list(self._pending)

    @property
    def unanswered_callback_queries(self) -> list[str]:
        """Ids of callback queries the bot has not answered."""
        with self._lock:
            return [qid for qid, answered in self._callbacks.items() if not answered]

    @staticmethod
    def scope_key(scope: dict[str, Any] | None = None, language_code: str | None = None) -> str:
        """Key of :attr:`commands`: ``"default"``, ``"all_private_chats"``, ``"chat:42"``,
        ``"chat_member:-100:42"``... plus ``"/<language_code>"`` when one was given."""
        scope = scope or {"type": "default"}
        key = str(scope.get("type", "default"))
        for part in ("chat_id", "user_id"):
            if part in scope:
                key += f":{scope[part]}"
        if language_code:
            key += f"/{language_code}"
        return key

    # ------------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str | None,
        status: int = 429,
        retry_after: float | None = 1,
        count: int = 1,
        description: str | None = None,
        body: str | None = None,
    ) -> FaultRule:
        """Make the next ``count`` calls to ``method`` fail (``None`` = any method except
        getUpdates). The call is validated first; faults are not recorded in :attr:`errors`
        but in :attr:`faults`.

        ``status=429`` answers ``Too Many Requests: retry after N`` with
        ``parameters.retry_after``; 500/502/403/... answer the usual Telegram description;
        ``body`` replaces the JSON body with raw text (e.g. an nginx HTML page for 502).
        Telegram always sends an integer ``retry_after``; a fraction (e.g. ``0.2``) is accepted
        to keep tests fast and PTB handles it.
        """
        rule = FaultRule(
            method=method,
            status=status,
            remaining=count,
            retry_after=retry_after if status == 429 else None,
            description=description,
            body=body,
        )
        with self._lock:
            self.fault_rules.append(rule)
        return rule

    def add_flood_rule(
        self,
        max_calls: int,
        per_seconds: float = 1.0,
        methods: Iterable[str] = EDIT_METHODS,
        retry_after: int = 1,
    ) -> FloodRule:
        """Answer 429 when a chat gets more than ``max_calls`` of ``methods`` per
        ``per_seconds`` (recorded as ``flood`` errors, so ``errors == []`` catches it)."""
        rule = FloodRule(max_calls, per_seconds, frozenset(m.lower() for m in methods), retry_after)
        with self._lock:
            self.flood_rules.append(rule)
        return rule

    def stub(self, method: str, result: Any | Callable[[dict[str, Any]], Any]) -> None:
        """Answer ``method`` (after validation) with ``result`` or ``result(params)``."""
        with self._lock:
            self._stubs[method.lower()] = result

    # ------------------------------------------------------------------ users/chats

    def add_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        is_premium: bool | None = None,
    ) -> dict[str, Any]:
        """Register (or update) a user profile; returns the ``User`` JSON."""
        user: dict[str, Any] = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name or f"User{user_id}",
        }
        for key, value in (
            ("last_name", last_name),
            ("username", username if username is not None else f"user{user_id}"),
            ("language_code", language_code),
            ("is_premium", is_premium),
        ):
            if value is not None:
                user[key] = value
        with self._lock:
            self._users[user_id] = user
        return dict(user)

    def add_chat(
        self,
        chat_id: int,
        chat_type: str = "supergroup",
        title: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """Register a group/supergroup/channel chat; returns the ``Chat`` JSON."""
        if chat_type == "private":
            user = self._user(chat_id)
            chat: dict[str, Any] = {"id": chat_id, "type": "private"}
            for key in ("first_name", "last_name", "username"):
                if key in user:
                    chat[key] = user[key]
        else:
            if chat_id >= 0:
                raise ValueError(f"{chat_type} chat ids are negative, got {chat_id}")
            chat = {"id": chat_id, "type": chat_type, "title": title or f"Chat {chat_id}"}
            if username:
                chat["username"] = username
        with self._lock:
            self._chats[chat_id] = chat
        return dict(chat)

    def _user(self, user_id: int) -> dict[str, Any]:
        with self._lock:
            if user_id not in self._users:
                self.add_user(user_id)
            return dict(self._users[user_id])

    def _chat(self, chat_id: int, chat_type: str | None = None) -> dict[str, Any]:
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                if chat_type is None:
                    chat_type = (
                        "private"
                        if chat_id > 0
                        else ("supergroup" if str(chat_id).startswith("-100") else "group")
                    )
                chat = self.add_chat(chat_id, chat_type)
            elif chat_type is not None and chat["type"] != chat_type:
                raise ValueError(f"chat {chat_id} is a {chat['type']}, not a {chat_type}")
            return dict(chat)

    def _resolve_chat(self, chat_id: int | str) -> dict[str, Any]:
        if isinstance(chat_id, int):
            return self._chat(chat_id)
        with self._lock:
            for chat in self._chats.values():
                if chat_id.startswith("@") and chat.get("username") == chat_id[1:]:
                    return dict(chat)
        raise ApiRequestError("Bad Request: chat not found")

    def _new_message_id(self, chat_id: int) -> int:
        with self._lock:
            mid = self._next_message_id.get(chat_id, 1)
            self._next_message_id[chat_id] = mid + 1
            return mid

    def _new_file(
        self, data: bytes, kind: str, mime: str | None = None, ext: str = "bin"
    ) -> dict[str, Any]:
        with self._lock:
            self._file_seq += 1
            seq = self._file_seq
            file_id = f"FAKE{kind.upper()}{seq:06d}"
            path = f"{kind}s/file_{seq}.{ext}"
            self._files[file_id] = (path, data, mime)
        return {"file_id": file_id, "file_unique_id": f"U{seq:06d}", "file_size": len(data)}

    # --------------------------------------------------------------- simulated users

    def send_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update ``{"update_id": N, kind: payload}``; returns it."""
        with self._lock:
            update = {"update_id": self._next_update_id, kind: payload}
            self._next_update_id += 1
            self.updates.append(update)
            if kind in self._allowed_updates and self._passes_privacy(kind, payload):
                self._pending.append(update)
            else:
                self.dropped_updates.append(update)
        self._notify()
        return update

    def _passes_privacy(self, kind: str, payload: dict[str, Any]) -> bool:
        if not self.privacy_mode or kind != "message":
            return True
        if payload.get("chat", {}).get("type") not in ("group", "supergroup"):
            return True
        reply = payload.get("reply_to_message")
        if reply and reply.get("from", {}).get("id") == self.bot_id:
            return True
        text = payload.get("text") or payload.get("caption") or ""
        for ent in payload.get("entities", []) + payload.get("caption_entities", []):
            if ent["type"] == "bot_command":
                return True
            if ent["type"] == "mention" and f"@{self.bot_username}".lower() in text.lower():
                return True
        return False

    def _user_message(
        self,
        user_id: int,
        content: dict[str, Any],
        chat_id: int | None,
        chat_type: str,
        reply_to_message_id: int | None,
    ) -> dict[str, Any]:
        if chat_type == "private":
            if chat_id is not None and chat_id != user_id:
                raise ValueError("a private chat's id is the user's id")
            chat_id = user_id
        elif chat_id is None:
            raise ValueError(f"chat_id is required for a {chat_type} chat")
        user = self._user(user_id)
        chat = self._chat(chat_id, chat_type)
        message: dict[str, Any] = {
            "message_id": self._new_message_id(chat_id),
            "from": user,
            "chat": chat,
            "date": int(time.time()),
        }
        if reply_to_message_id is not None:
            with self._lock:
                replied = self._messages.get((chat_id, reply_to_message_id))
            if replied is None:
                raise ValueError(f"message {reply_to_message_id} not found in chat {chat_id}")
            message["reply_to_message"] = _strip_reply(replied)
        message.update(content)
        with self._lock:
            self._messages[(chat_id, message["message_id"])] = message
        self.send_update("message", message)
        return copy.deepcopy(message)

    def send_text(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to_message_id: int | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """User ``user_id`` sends ``text`` (entities for /commands, @mentions, #hashtags and
        URLs are computed unless given). Groups: ``chat_type="group"|"supergroup"`` and a
        negative ``chat_id``. Returns the ``Message`` JSON."""
        content: dict[str, Any] = {"text": text}
        ents = detect_entities(text) if entities is None else entities
        if ents:
            content["entities"] = ents
        return self._user_message(user_id, content, chat_id, chat_type, reply_to_message_id)

    def edit_text(
        self, user_id: int, message_id: int, text: str, chat_id: int | None = None
    ) -> dict[str, Any]:
        """User edits their message -> an ``edited_message`` update."""
        chat_id = user_id if chat_id is None else chat_id
        with self._lock:
            message = self._messages.get((chat_id, message_id))
            if message is None or message.get("from", {}).get("id") != user_id:
                raise ValueError(f"user {user_id} has no message {message_id} in {chat_id}")
            message["text"] = text
            message["edit_date"] = int(time.time())
            ents = detect_entities(text)
            if ents:
                message["entities"] = ents
            else:
                message.pop("entities", None)
            payload = copy.deepcopy(message)
        self.send_update("edited_message", payload)
        return payload

    def _media_message(
        self,
        user_id: int,
        content: dict[str, Any],
        caption: str | None,
        chat_id: int | None,
        chat_type: str,
        reply_to_message_id: int | None,
    ) -> dict[str, Any]:
        if caption:
            content["caption"] = caption
            ents = detect_entities(caption)
            if ents:
                content["caption_entities"] = ents
        return self._user_message(user_id, content, chat_id, chat_type, reply_to_message_id)

    def send_photo(
        self,
        user_id: int,
        caption: str | None = None,
        content: bytes = b"\xff\xd8\xff\xe0fake-jpeg",
        width: int = 1280,
        height: int = 960,
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """User sends a photo (two sizes, the big one downloadable via getFile)."""
        small = self._new_file(content[: max(1, len(content) // 4)], "photo", "image/jpeg", "jpg")
        big = self._new_file(content, "photo", "image/jpeg", "jpg")
        sizes = [
            {**small, "width": max(1, width // 4), "height": max(1, height // 4)},
            {**big, "width": width, "height": height},
        ]
        return self._media_message(
            user_id, {"photo": sizes}, caption, chat_id, chat_type, reply_to_message_id
        )

    def send_sticker(
        self,
        user_id: int,
        emoji: str = "\U0001f600",
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """User sends a (regular, static) sticker."""
        sticker = {
            **self._new_file(b"RIFFfake-webp", "sticker", "image/webp", "webp"),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._media_message(
            user_id, {"sticker": sticker}, None, chat_id, chat_type, reply_to_message_id
        )

    def send_voice(
        self,
        user_id: int,
        duration: int = 3,
        content: bytes = b"OggSfake-opus",
        caption: str | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """User sends a voice note (OGG/Opus)."""
        voice = {
            **self._new_file(content, "voice", "audio/ogg", "oga"),
            "duration": duration,
            "mime_type": "audio/ogg",
        }
        return self._media_message(
            user_id, {"voice": voice}, caption, chat_id, chat_type, reply_to_message_id
        )

    def send_audio(
        self,
        user_id: int,
        duration: int = 30,
        content: bytes = b"ID3fake-mp3",
        file_name: str = "recording.mp3",
        mime_type: str = "audio/mpeg",
        caption: str | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """User sends an audio file (a recording or music, shown with a player)."""
        ext = file_name.rsplit(".", 1)[-1] if "." in file_name else "mp3"
        audio = {
            **self._new_file(content, "audio", mime_type, ext),
            "duration": duration,
            "file_name": file_name,
            "mime_type": mime_type,
        }
        return self._media_message(
            user_id, {"audio": audio}, caption, chat_id, chat_type, reply_to_message_id
        )

    def send_video_note(
        self,
        user_id: int,
        duration: int = 8,
        content: bytes = b"\x00\x00\x00\x18ftypmp42fake",
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """User sends a round video message (MP4; video notes have no caption)."""
        note = {**self._new_file(content, "video_note", None, "mp4"), "length": 384,
                "duration": duration}
        return self._media_message(
            user_id, {"video_note": note}, None, chat_id, chat_type, reply_to_message_id
        )

    def send_document(
        self,
        user_id: int,
        file_name: str = "notes.txt",
        content: bytes = b"hello",
        mime_type: str = "text/plain",
        caption: str | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """User sends a file."""
        ext = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        document = {
            **self._new_file(content, "document", mime_type, ext),
            "file_name": file_name,
            "mime_type": mime_type,
        }
        return self._media_message(
            user_id, {"document": document}, caption, chat_id, chat_type, reply_to_message_id
        )

    def press_button(
        self,
        user_id: int,
        message_id: int,
        callback_data: str,
        chat_id: int | None = None,
        check: bool = True,
    ) -> dict[str, Any]:
        """User presses the inline button carrying ``callback_data`` under the bot's message
        ``message_id`` -> a ``callback_query`` update. With ``check`` the message must exist,
        be the bot's, not deleted, and currently have such a button. Returns the
        ``CallbackQuery`` JSON."""
        chat_id = user_id if chat_id is None else chat_id
        with self._lock:
            sent = self._sent_index.get((chat_id, message_id))
            message = self._messages.get((chat_id, message_id))
            if check:
                if sent is None or message is None:
                    raise ValueError(f"no bot message {message_id} in chat {chat_id}")
                if sent.deleted:
                    raise ValueError(f"message {message_id} in chat {chat_id} was deleted")
                if callback_data not in sent.callback_data:
                    raise ValueError(
                        f"message {message_id} has no button with callback_data "
                        f"{callback_data!r} (has {sent.callback_data})"
                    )
            self._callback_seq += 1
            query_id = f"{self.bot_id}{self._callback_seq:08d}"
            self._callbacks[query_id] = False
        query: dict[str, Any] = {
            "id": query_id,
            "from": self._user(user_id),
            "chat_instance": str(abs(hash((self.bot_id, chat_id))) % 10**18),
            "data": callback_data,
        }
        if message is not None:
            query["message"] = copy.deepcopy(message)
        self.send_update("callback_query", query)
        return query

    # ------------------------------------------------------------------------ HTTP

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        with self._lock:
            for file_path, data, mime in self._files.values():
                if file_path == path:
                    return web.Response(body=data, content_type=mime or "application/octet-stream")
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    async def _read_params(
        self, request: web.Request
    ) -> tuple[dict[str, Any], set[str], dict[str, UploadedFile]]:
        raw: dict[str, Any] = dict(request.query)
        textual = set(raw)
        files: dict[str, UploadedFile] = {}
        if request.content_type == "application/json":
            body = await request.read()
            if body.strip():
                data = json.loads(body)
                if not isinstance(data, dict):
                    raise ApiRequestError(
                        "Bad Request: JSON body must be an object", kind="validation"
                    )
                raw.update(data)
                textual -= set(data)
        elif request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = UploadedFile(value.filename, value.content_type, value.file.read())
                else:
                    raw[key] = value
                    textual.add(key)
        return raw, textual, files

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        name = request.match_info["method"]
        spec = self.spec.method(name)
        call = ApiCall(method=spec["name"] if spec else name, params={}, time=time.time())
        with self._lock:
            self.calls.append(call)
        try:
            status, body = await self._process(call, spec, token, request)
        except asyncio.CancelledError:
            call.description = "cancelled: client went away"
            raise
        except Exception as exc:  # a bug in the fake: answer 500, keep the test informed
            _LOGGER.debug("fake Bot API failed on %s", name, exc_info=True)
            status, body = self._error(call, 500, f"Internal Server Error: {exc!r}", "internal")
        self._notify()
        if isinstance(body, str):
            return web.Response(status=status, text=body, content_type="text/html")
        return web.Response(
            status=status,
            text=json.dumps(body, ensure_ascii=False),
            content_type="application/json",
        )

    def _error(
        self,
        call: ApiCall,
        status: int,
        description: str,
        kind: str,
        parameters: dict[str, Any] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        call.status = status
        call.description = description
        with self._lock:
            self.errors.append(ApiError(call.method, call.params, status, description, kind))
        _LOGGER.debug("fake Bot API: %s -> %s %s", call.method, status, description)
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return status, body

    async def _process(
        self, call: ApiCall, spec: dict[str, Any] | None, token: str, request: web.Request
    ) -> tuple[int, dict[str, Any] | str]:
        if not _TOKEN_RE.fullmatch(token):
            return self._error(call, 404, "Not Found", "auth")
        if self.token is not None and token != self.token:
            return self._error(call, 401, "Unauthorized", "auth")
        if self._learned_token is None:
            self._learned_token = token
        try:
            raw, textual, files = await self._read_params(request)
        except (ValueError, ApiRequestError) as exc:
            return self._error(call, 400, f"Bad Request: can't parse request: {exc}", "validation")
        call.params = dict(raw)
        if spec is None:
            return self._error(
                call, 404, f'Not Found: method "{call.method}" does not exist', "validation"
            )
        try:
            validated = self._validator.validate(spec, raw, textual, files)
        except _Mismatch as exc:
            return self._error(call, 400, f"Bad Request: {exc.description}", "validation")
        call.params = validated.params

        with self._lock:
            rule = next((r for r in self.fault_rules if r.matches(call.method)), None)
            if rule is not None:
                rule.remaining -= 1
        if rule is not None:
            status, body = rule.response()
            call.status, call.injected = status, True
            call.description = body["description"]
            with self._lock:
                self.faults.append(call)
            return status, rule.body if rule.body is not None else body

        chat_key = validated.params.get("chat_id", validated.params.get("inline_message_id"))
        now = time.monotonic()
        with self._lock:
            for flood in self.flood_rules:
                retry = flood.check(call.method, chat_key, now)
                if retry is not None:
                    return self._error(
                        call,
                        429,
                        f"Too Many Requests: retry after {retry}",
                        "flood",
                        {"retry_after": retry},
                    )
        try:
            result = await self._execute(call.method, validated, call)
        except ApiRequestError as exc:
            return self._error(call, exc.status, exc.description, exc.kind, exc.parameters)
        except _Superseded:
            return self._error(call, 409, _FAULT_DESCRIPTIONS[409], "conflict")
        call.status = 200
        call.result = result
        return 200, {"ok": True, "result": result}

    async def _execute(self, method: str, validated: _Validated, call: ApiCall) -> Any:
        with self._lock:
            stub = self._stubs.get(method.lower())
        if stub is not None:
            return stub(validated.params) if callable(stub) else copy.deepcopy(stub)
        if method == "getUpdates":
            return await self._get_updates(validated.params)
        handler: Callable[[_Validated], Any] | None = getattr(self, f"_m_{method}", None)
        if handler is None:
            if method in _MEDIA_KIND or (
                self.spec.returns(method) == ["Message"] and "chat_id" in validated.params
            ):
                return self._send_generic(method, validated)
            return True
        result = handler(validated)
        if isinstance(result, Awaitable):
            result = await result
        return result

    # ------------------------------------------------------------------ updates

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiRequestError(
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
                status=409,
                kind="conflict",
            )
        offset = params.get("offset")
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        timeout = max(float(params.get("timeout", 0)), 0.0)
        token = object()

        def confirms() -> bool:
            return offset is not None and any(u["update_id"] < offset for u in self._pending)

        if self.hold_acks and confirms():
            await self._wait_until(lambda: self._closing or not self.hold_acks, 3600)
        with self._lock:
            if "allowed_updates" in params:
                allowed = params["allowed_updates"]
                self._allowed_updates = frozenset(allowed) if allowed else _DEFAULT_ALLOWED_UPDATES
            if offset is not None:
                if offset < 0:
                    self._pending = self._pending[offset:]
                else:
                    self._pending = [u for u in self._pending if u["update_id"] >= offset]
            self._poller = token
        self._notify()  # a poller that is still waiting is superseded by this one

        def ready() -> bool:
            return bool(self._closing or self._poller is not token or self._pending)

        if timeout > 0:
            await self._wait_until(ready, timeout)
        with self._lock:
            superseded = self._poller is not token
            if not superseded:
                self._poller = None
            result = copy.deepcopy(self._pending[:limit])
        if superseded and not self._closing:
            # If the client already went away (e.g. PTB cancelled its poll while stopping),
            # aiohttp cancels this handler during the grace period and no conflict is
            # recorded; a live second poller gets Telegram's 409.
            await asyncio.sleep(0.05)
            raise _Superseded
        return result

    def _m_deleteWebhook(self, v: _Validated) -> bool:
        with self._lock:
            self.webhook = None
            if v.params.get("drop_pending_updates"):
                self._pending.clear()
        return True

    def _m_setWebhook(self, v: _Validated) -> bool:
        url = v.params["url"]
        secret = v.params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiRequestError("Bad Request: secret token contains unallowed characters")
        with self._lock:
            if not url:
                self.webhook = None
            else:
                if not url.startswith("https://"):
                    raise ApiRequestError(
                        "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
                    )
                self.webhook = {k: val for k, val in v.params.items() if k != "certificate"}
                if "allowed_updates" in v.params:
                    allowed = v.params["allowed_updates"]
                    self._allowed_updates = (
                        frozenset(allowed) if allowed else _DEFAULT_ALLOWED_UPDATES
                    )
            if v.params.get("drop_pending_updates"):
                self._pending.clear()
        return True

    def _m_getWebhookInfo(self, v: _Validated) -> dict[str, Any]:
        with self._lock:
            info: dict[str, Any] = {
                "url": (self.webhook or {}).get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self._pending),
            }
            if self.webhook:
                info["max_connections"] = self.webhook.get("max_connections", 40)
                if "allowed_updates" in self.webhook:
                    info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    def _m_getMe(self, v: _Validated) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_logOut(self, v: _Validated) -> bool:
        return True

    def _m_close(self, v: _Validated) -> bool:
        return True

    # ----------------------------------------------------------------- commands

    def _m_setMyCommands(self, v: _Validated) -> bool:
        commands = v.params["commands"]
        if len(commands) > 100:
            raise ApiRequestError("Bad Request: too many commands (at most 100)", kind="validation")
        key = self.scope_key(v.params.get("scope"), v.params.get("language_code"))
        with self._lock:
            self.commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        return True

    def _m_getMyCommands(self, v: _Validated) -> list[dict[str, str]]:
        key = self.scope_key(v.params.get("scope"), v.params.get("language_code"))
        with self._lock:
            return copy.deepcopy(self.commands.get(key, []))

    def _m_deleteMyCommands(self, v: _Validated) -> bool:
        key = self.scope_key(v.params.get("scope"), v.params.get("language_code"))
        with self._lock:
            self.commands.pop(key, None)
        return True

    def _m_getMyName(self, v: _Validated) -> dict[str, str]:
        return {"name": self.bot_name}

    def _m_getMyDescription(self, v: _Validated) -> dict[str, str]:
        return {"description": ""}

    def _m_getMyShortDescription(self, v: _Validated) -> dict[str, str]:
        return {"short_description": ""}

    def _m_getChatMenuButton(self, v: _Validated) -> dict[str, str]:
        return {"type": "default"}

    # ------------------------------------------------------------------ messages

    def _build_bot_message(
        self,
        chat: dict[str, Any],
        params: dict[str, Any],
        content: dict[str, Any],
    ) -> dict[str, Any]:
        chat_id = chat["id"]
        message: dict[str, Any] = {
            "message_id": self._new_message_id(chat_id),
            "from": self.bot_user,
            "chat": chat,
            "date": int(time.time()),
        }
        if "message_thread_id" in params:
            message["message_thread_id"] = params["message_thread_id"]
        reply = params.get("reply_parameters")
        if reply:
            reply_chat = reply.get("chat_id", chat_id)
            with self._lock:
                replied = self._messages.get((reply_chat, reply["message_id"]))
            if replied is not None:
                message["reply_to_message"] = _strip_reply(replied)
            elif not reply.get("allow_sending_without_reply"):
                raise ApiRequestError("Bad Request: message to be replied not found")
        message.update(content)
        markup = params.get("reply_markup")
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        if params.get("protect_content"):
            message["has_protected_content"] = True
        return message

    def _record_sent(
        self,
        method: str,
        message: dict[str, Any],
        params: dict[str, Any],
        raw_text: str | None,
        parsed: ParsedText | None,
        files: dict[str, UploadedFile] | None = None,
    ) -> SentMessage:
        chat_id = message["chat"]["id"]
        reply = message.get("reply_to_message")
        sent = SentMessage(
            chat_id=chat_id,
            message_id=message["message_id"],
            method=method,
            text=raw_text,
            parse_mode=params.get("parse_mode"),
            plain_text=parsed.text if parsed else None,
            entities=list(parsed.entities) if parsed else [],
            reply_markup=params.get("reply_markup"),
            reply_to_message_id=reply["message_id"] if reply else None,
            params=params,
            message=message,
            files=files or {},
        )
        with self._lock:
            self._messages[(chat_id, message["message_id"])] = message
            self._sent_index[(chat_id, message["message_id"])] = sent
            self.sent.append(sent)
        return sent

    def _m_sendMessage(self, v: _Validated) -> dict[str, Any]:
        chat = self._resolve_chat(v.params["chat_id"])
        parsed = v.parsed["text"]
        content: dict[str, Any] = {"text": parsed.text}
        if parsed.entities:
            content["entities"] = parsed.entities
        if "link_preview_options" in v.params:
            content["link_preview_options"] = v.params["link_preview_options"]
        message = self._build_bot_message(chat, v.params, content)
        self._record_sent("sendMessage", message, v.params, v.params["text"], parsed)
        return copy.deepcopy(message)

    def _media_payload(
        self, method: str, params: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        kind = _MEDIA_KIND.get(method)
        files: dict[str, UploadedFile] = {}
        if kind is None:
            return {}, files
        if kind == "location":
            return {
                "location": {"latitude": params["latitude"], "longitude": params["longitude"]}
            }, files
        if kind == "venue":
            loc = {"latitude": params["latitude"], "longitude": params["longitude"]}
            return {
                "venue": {"location": loc, "title": params["title"], "address": params["address"]}
            }, files
        if kind == "contact":
            return {
                "contact": {
                    "phone_number": params["phone_number"],
                    "first_name": params["first_name"],
                }
            }, files
        if kind == "dice":
            return {"dice": {"emoji": params.get("emoji", "\U0001f3b2"), "value": 1}}, files
        source = params.get(kind)
        if isinstance(source, UploadedFile):
            files[kind] = source
            data, mime, name = source.data, source.content_type, source.filename
        elif isinstance(source, str) and source in self._files:
            _, data, mime = self._files[source]
            name = None
        else:
            data, mime, name = (source or "").encode(), None, None
        info = self._new_file(data, kind, mime)
        extras: dict[str, Any] = {
            "photo": {"width": 800, "height": 600},
            "document": {
                "file_name": name or "file",
                "mime_type": mime or "application/octet-stream",
            },
            "voice": {"duration": params.get("duration", 1), "mime_type": "audio/ogg"},
            "audio": {"duration": params.get("duration", 1)},
            "video": {"width": 640, "height": 360, "duration": params.get("duration", 1)},
            "animation": {"width": 320, "height": 240, "duration": params.get("duration", 1)},
            "sticker": {
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            },
            "video_note": {"length": params.get("length", 240), "duration": 1},
        }[kind]
        obj = {**info, **extras}
        return ({"photo": [obj]} if kind == "photo" else {kind: obj}), files

    def _send_generic(self, method: str, v: _Validated) -> dict[str, Any]:
        chat = self._resolve_chat(v.params["chat_id"])
        content, files = self._media_payload(method, v.params)
        parsed = v.parsed.get("caption")
        if parsed is not None and parsed.text:
            content["caption"] = parsed.text
            if parsed.entities:
                content["caption_entities"] = parsed.entities
        message = self._build_bot_message(chat, v.params, content)
        self._record_sent(method, message, v.params, v.params.get("caption"), parsed, files)
        return copy.deepcopy(message)

    def _m_sendMediaGroup(self, v: _Validated) -> list[dict[str, Any]]:
        chat = self._resolve_chat(v.params["chat_id"])
        group_id = str(int(time.time() * 1000))
        messages = []
        for item in v.params["media"]:
            caption = item.get("caption")
            parsed = None
            if caption is not None:
                parsed = parse_formatted(caption, item.get("parse_mode"))
            content: dict[str, Any] = {"media_group_id": group_id}
            kind = item["type"]
            info = self._new_file(b"", kind)
            if kind == "photo":
                content["photo"] = [{**info, "width": 800, "height": 600}]
            elif kind == "document":
                content["document"] = info
            elif kind in ("audio", "video"):
                content[kind] = {
                    **info,
                    "duration": 1,
                    **({"width": 640, "height": 360} if kind == "video" else {}),
                }
            if parsed and parsed.text:
                content["caption"] = parsed.text
                if parsed.entities:
                    content["caption_entities"] = parsed.entities
            message = self._build_bot_message(chat, v.params, content)
            self._record_sent("sendMediaGroup", message, v.params, caption, parsed)
            messages.append(copy.deepcopy(message))
        return messages

    def _source_message(self, v: _Validated, what: str) -> dict[str, Any]:
        from_chat = self._resolve_chat(v.params["from_chat_id"])["id"]
        with self._lock:
            source = self._messages.get((from_chat, v.params["message_id"]))
        if source is None:
            raise ApiRequestError(f"Bad Request: message to {what} not found")
        return source

    def _m_copyMessage(self, v: _Validated) -> dict[str, int]:
        source = self._source_message(v, "copy")
        chat = self._resolve_chat(v.params["chat_id"])
        content = {
            k: copy.deepcopy(val)
            for k, val in source.items()
            if k not in ("message_id", "from", "chat", "date", "reply_to_message", "edit_date")
        }
        message = self._build_bot_message(chat, v.params, content)
        self._record_sent("copyMessage", message, v.params, content.get("text"), None)
        return {"message_id": message["message_id"]}

    def _m_forwardMessage(self, v: _Validated) -> dict[str, Any]:
        source = self._source_message(v, "forward")
        chat = self._resolve_chat(v.params["chat_id"])
        content = {
            k: copy.deepcopy(val)
            for k, val in source.items()
            if k not in ("message_id", "from", "chat", "date", "reply_to_message", "edit_date")
        }
        content["forward_origin"] = {
            "type": "user",
            "date": source["date"],
            "sender_user": source.get("from", self.bot_user),
        }
        message = self._build_bot_message(chat, v.params, content)
        self._record_sent("forwardMessage", message, v.params, content.get("text"), None)
        return copy.deepcopy(message)

    def _editable(self, v: _Validated) -> SentMessage | None:
        """The bot message an edit targets; ``None`` for inline messages."""
        if "inline_message_id" in v.params:
            return None
        if "chat_id" not in v.params or "message_id" not in v.params:
            raise ApiRequestError(
                "Bad Request: chat_id and message_id are required unless inline_message_id "
                "is specified",
                kind="validation",
            )
        chat_id = self._resolve_chat(v.params["chat_id"])["id"]
        with self._lock:
            sent = self._sent_index.get((chat_id, v.params["message_id"]))
            if sent is None and (chat_id, v.params["message_id"]) in self._messages:
                raise ApiRequestError("Bad Request: message can't be edited")
        if sent is None or sent.deleted:
            raise ApiRequestError("Bad Request: message to edit not found")
        return sent

    def _apply_edit(
        self,
        sent: SentMessage,
        field_name: str,
        raw: str | None,
        parsed: ParsedText | None,
        params: dict[str, Any],
        keep_text: bool = False,
    ) -> dict[str, Any]:
        markup = params.get("reply_markup")
        inline_markup = markup if markup and "inline_keyboard" in markup else None
        old_markup = sent.message.get("reply_markup")
        ent_field = "entities" if field_name == "text" else "caption_entities"
        if keep_text:
            new_plain, new_entities = sent.plain_text, sent.entities
        else:
            assert parsed is not None
            new_plain, new_entities = parsed.text, parsed.entities
        if (new_plain, new_entities, inline_markup) == (
            sent.plain_text,
            sent.entities,
            old_markup,
        ):
            raise ApiRequestError(_NOT_MODIFIED)
        with self._lock:
            if not keep_text:
                sent.history.append(sent.text)
                sent.text = raw
                sent.parse_mode = params.get("parse_mode")
                sent.plain_text = new_plain
                sent.entities = list(new_entities)
                sent.message[field_name] = new_plain
                if new_entities:
                    sent.message[ent_field] = list(new_entities)
                else:
                    sent.message.pop(ent_field, None)
            sent.reply_markup = inline_markup
            if inline_markup:
                sent.message["reply_markup"] = inline_markup
            else:
                sent.message.pop("reply_markup", None)
            sent.edit_count += 1
            sent.message["edit_date"] = int(time.time())
            return copy.deepcopy(sent.message)

    def _m_editMessageText(self, v: _Validated) -> dict[str, Any] | bool:
        if "text" not in v.params and "rich_message" not in v.params:
            raise ApiRequestError("Bad Request: text must be non-empty", kind="validation")
        sent = self._editable(v)
        if sent is None:
            return True
        if "text" not in sent.message:
            raise ApiRequestError("Bad Request: there is no text in the message to edit")
        return self._apply_edit(sent, "text", v.params.get("text"), v.parsed.get("text"), v.params)

    def _m_editMessageCaption(self, v: _Validated) -> dict[str, Any] | bool:
        sent = self._editable(v)
        if sent is None:
            return True
        if "text" in sent.message:
            raise ApiRequestError("Bad Request: there is no caption in the message to edit")
        parsed = v.parsed.get("caption") or ParsedText("", [])
        return self._apply_edit(sent, "caption", v.params.get("caption"), parsed, v.params)

    def _m_editMessageReplyMarkup(self, v: _Validated) -> dict[str, Any] | bool:
        sent = self._editable(v)
        if sent is None:
            return True
        return self._apply_edit(sent, "text", None, None, v.params, keep_text=True)

    def _delete(self, chat_id: int, message_id: int) -> bool:
        with self._lock:
            if (chat_id, message_id) not in self._messages:
                return False
            self._messages.pop((chat_id, message_id))
            sent = self._sent_index.get((chat_id, message_id))
            if sent is not None:
                sent.deleted = True
            return True

    def _m_deleteMessage(self, v: _Validated) -> bool:
        chat_id = self._resolve_chat(v.params["chat_id"])["id"]
        if not self._delete(chat_id, v.params["message_id"]):
            raise ApiRequestError("Bad Request: message to delete not found")
        return True

    def _m_deleteMessages(self, v: _Validated) -> bool:
        chat_id = self._resolve_chat(v.params["chat_id"])["id"]
        for message_id in v.params["message_ids"]:
            self._delete(chat_id, message_id)
        return True

    def _m_sendChatAction(self, v: _Validated) -> bool:
        action = v.params["action"]
        if action not in CHAT_ACTIONS:
            raise ApiRequestError(
                f"Bad Request: wrong parameter action in request ({action!r})", kind="validation"
            )
        self._resolve_chat(v.params["chat_id"])
        with self._lock:
            self.chat_actions.append(
                ChatActionRecord(
                    v.params["chat_id"], action, v.params.get("message_thread_id"), time.time()
                )
            )
        return True

    def _m_sendMessageDraft(self, v: _Validated) -> bool:
        chat_id = v.params["chat_id"]
        if chat_id <= 0 or self._chat(chat_id)["type"] != "private":
            raise ApiRequestError(
                "Bad Request: TEXTDRAFT_PEER_INVALID (drafts are for private chats only)"
            )
        if v.params["draft_id"] == 0:
            raise ApiRequestError("Bad Request: draft_id must be non-zero", kind="validation")
        parsed = v.parsed.get("text") or ParsedText(v.params.get("text", ""), [])
        draft = Draft(
            chat_id=chat_id,
            draft_id=v.params["draft_id"],
            text=v.params.get("text"),
            parse_mode=v.params.get("parse_mode"),
            plain_text=parsed.text,
            entities=parsed.entities,
            message_thread_id=v.params.get("message_thread_id"),
            time=time.time(),
        )
        with self._lock:
            self.drafts.setdefault(chat_id, []).append(draft)
        return True

    def _m_answerCallbackQuery(self, v: _Validated) -> bool:
        query_id = v.params["callback_query_id"]
        with self._lock:
            if self._callbacks.get(query_id, True):
                raise ApiRequestError(
                    "Bad Request: query is too old and response timeout expired or query ID is "
                    "invalid"
                )
            self._callbacks[query_id] = True
            self.callback_answers.append(
                CallbackAnswer(
                    query_id,
                    v.params.get("text"),
                    bool(v.params.get("show_alert", False)),
                    v.params.get("url"),
                    v.params.get("cache_time"),
                    time.time(),
                )
            )
        return True

    # --------------------------------------------------------------------- misc

    def _m_getFile(self, v: _Validated) -> dict[str, Any]:
        file_id = v.params["file_id"]
        with self._lock:
            entry = self._files.get(file_id)
        if entry is None:
            raise ApiRequestError("Bad Request: invalid file_id")
        path, data, _ = entry
        return {
            "file_id": file_id,
            "file_unique_id": f"U{file_id[-6:]}",
            "file_size": len(data),
            "file_path": path,
        }

    def _m_getChat(self, v: _Validated) -> dict[str, Any]:
        chat = self._resolve_chat(v.params["chat_id"])
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _m_getChatMember(self, v: _Validated) -> dict[str, Any]:
        user_id = v.params["user_id"]
        if user_id == self.bot_id:
            return {"status": "member", "user": self.bot_user}
        return {"status": "member", "user": self._user(user_id)}


def _resolve_future(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)

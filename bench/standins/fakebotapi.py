"""A fake Telegram Bot API server on 127.0.0.1, for tests and benchmarks.

The real python-telegram-bot (PTB) HTTP stack talks to it unchanged::

    with FakeBotApi() as fake:
        app = (ApplicationBuilder().token(fake.token)
               .base_url(fake.base_url).base_file_url(fake.base_file_url).build())
        ...add handlers...
        with BotRunner(app):                   # PTB in its own thread, long polling
            fake.user_sends(42, "/start")
            reply = fake.wait_for_bot_message(42)
            fake.user_presses(42, reply, "yes")

How PTB 22 talks to the Bot API (read in telegram/_bot.py, telegram/request/):
* URL = base_url + token + "/" + method (``_parse_base_url`` appends the token unless the
  base_url holds a ``{token}`` placeholder); always POST.
* Body: ``application/x-www-form-urlencoded`` (``multipart/form-data`` when uploading files)
  from ``RequestData.json_parameters``: str values as they are, every other value
  (ints, bools, dicts, lists such as reply_markup, commands, allowed_updates) ``json.dumps``-ed.
  ``None`` values are dropped before sending. So the server decodes per parameter name
  (``_decode_param``) the way Telegram does; JSON bodies and GET query strings work too.
* Answer: ``{"ok": true, "result": ...}``. On a non-2xx status PTB reads ``description``
  and ``parameters``: ``retry_after`` -> RetryAfter, ``migrate_to_chat_id`` -> ChatMigrated;
  then 400 BadRequest, 401/404 InvalidToken, 403 Forbidden, 409 Conflict, anything else
  (5xx) NetworkError. A body that is not JSON (nginx's 502 page) is a NetworkError as well.

What the fake models (and where it is stricter or looser than Telegram) is told at each
method. Everything lives in memory; one server per test is cheap (~ms to start).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import itertools
import json
import logging
import math
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

__all__ = [
    "DEFAULT_TOKEN",
    "ApiCall",
    "BotRunner",
    "FakeBotApi",
    "buttons",
    "parse_html",
]

_LOG = logging.getLogger(__name__)

# Looks like a real token (bot id, colon, secret) so code that splits it keeps working.
DEFAULT_TOKEN = "1234567890:AAFakeTokenForTests_0123456789abcdefgh"
MAX_MESSAGE_LENGTH = 4096  # in UTF-16 code units after entity parsing, like Telegram
MAX_CALLBACK_DATA_BYTES = 64
FIRST_UPDATE_ID = 100_000  # non-zero: a bot that treats update_id 0 as "none" is not hidden

_CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_CONFLICT_POLLER = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_UPDATE_TYPES = (
    "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
    "business_message", "edited_business_message", "deleted_business_messages",
    "message_reaction", "message_reaction_count", "inline_query", "chosen_inline_result",
    "callback_query", "shipping_query", "pre_checkout_query", "purchased_paid_media", "poll",
    "poll_answer", "my_chat_member", "chat_member", "chat_join_request", "chat_boost",
    "removed_chat_boost",
)
# Telegram's default when allowed_updates was never given: everything but these three.
_DEFAULT_ALLOWED = frozenset(_UPDATE_TYPES) - {
    "chat_member", "message_reaction", "message_reaction_count"
}
_CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
})
_INLINE_BUTTON_FIELDS = (
    "callback_data", "url", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)

# Telegram knows each parameter's type; PTB sends non-strings as JSON. Decode by name.
_INT_PARAMS = frozenset({
    "chat_id", "message_id", "offset", "limit", "timeout", "max_connections", "cache_time",
    "message_thread_id", "reply_to_message_id", "from_chat_id", "user_id",
})
_BOOL_PARAMS = frozenset({
    "disable_notification", "protect_content", "show_alert", "drop_pending_updates",
    "allow_sending_without_reply", "disable_web_page_preview", "allow_paid_broadcast",
})
_JSON_PARAMS = frozenset({
    "reply_markup", "allowed_updates", "commands", "scope", "entities", "caption_entities",
    "reply_parameters", "link_preview_options", "media", "message_ids",
})


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description, optional parameters."""

    def __init__(self, status: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclasses.dataclass
class ApiCall:
    """One recorded request: canonical method name, decoded parameters, HTTP status."""

    method: str
    params: dict[str, Any]
    status: int = 0
    description: str | None = None  # the error description when status != 200
    result: Any = None
    time: float = 0.0  # time.monotonic() when the answer was sent

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclasses.dataclass
class _Fault:
    status: int
    retry_after: float
    description: str | None


@dataclasses.dataclass
class _Chat:
    info: dict
    next_message_id: int = 1
    messages: dict[int, dict] = dataclasses.field(default_factory=dict)
    events: list[tuple[str, dict]] = dataclasses.field(default_factory=list)  # transcript
    bot_events: list[dict] = dataclasses.field(default_factory=list)  # sent + edited
    consumed: int = 0  # how many bot_events wait_for_bot_message has handed out
    reply_keyboard: dict | None = None
    blocked: bool = False  # the user blocked the bot (private chats)


@dataclasses.dataclass
class _Pending:
    update: dict
    twice: bool = False  # deliver again once after the first delivery


def _chat_of(update: dict) -> int:
    """The chat an update belongs to (a button press: the chat of its message)."""
    if "callback_query" in update:
        query = update["callback_query"]
        return query.get("message", {}).get("chat", {}).get("id", query["from"]["id"])
    kind = next(k for k in update if k != "update_id")
    return update[kind].get("chat", {}).get("id", 0)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------------------
# parse_mode=HTML, the subset Telegram documents
# --------------------------------------------------------------------------------------

_HTML_ENTITY_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
    "del": "strikethrough", "a": "text_link", "code": "code", "pre": "pre",
    "tg-spoiler": "spoiler", "span": "spoiler", "blockquote": "blockquote",
}
_TAG_RE = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)"
    r"((?:\s+[a-zA-Z_:-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*)\s*>"
)
_ATTR_RE = re.compile(r"([a-zA-Z_:-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+)))?")
_CHAR_REF_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _unescape(fragment: str) -> str:
    """Decode the character references Telegram supports; a bare '&' stays literal."""

    def one(m: re.Match) -> str:
        ref = m.group(1)
        if ref[0] != "#":
            return _NAMED_REFS[ref]
        code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
        return chr(code) if 0 < code <= 0x10FFFF else m.group(0)

    return _CHAR_REF_RE.sub(one, fragment)


def parse_html(source: str) -> tuple[str, list[dict]]:
    """Parse Telegram-HTML into (plain text, entities) or raise ApiError 400.

    Like Telegram: only the documented tags, properly nested and closed; every '<' must
    start such a tag (so unescaped user text like "1<2" fails); entity offsets and lengths
    are in UTF-16 code units. Looser than Telegram: attributes other than href/class are
    ignored, tg-emoji and tg://user links are not modelled.
    """
    text: list[str] = []
    pos = 0  # UTF-16 offset of the plain text produced so far
    stack: list[tuple[str, int, dict]] = []
    entities: list[dict] = []
    i = 0
    while i < len(source):
        lt = source.find("<", i)
        chunk = source[i:] if lt < 0 else source[i:lt]
        if chunk:
            plain = _unescape(chunk)
            text.append(plain)
            pos += _utf16_len(plain)
        if lt < 0:
            break
        byte_offset = len(source[:lt].encode())
        m = _TAG_RE.match(source, lt)
        if not m:
            raise _bad(
                f"can't parse entities: Unexpected character after '<' (unescaped '<'?) "
                f"at byte offset {byte_offset}"
            )
        closing, name, raw_attrs = m.group(1) == "/", m.group(2).lower(), m.group(3)
        if name not in _HTML_ENTITY_TYPES:
            kind = "end" if closing else "start"
            raise _bad(
                f'can\'t parse entities: Unsupported {kind} tag "{name}" '
                f"at byte offset {byte_offset}"
            )
        if closing:
            if not stack or stack[-1][0] != name:
                expected = f'"</{stack[-1][0]}>"' if stack else "no end tag"
                raise _bad(
                    f"can't parse entities: Unmatched end tag at byte offset {byte_offset}, "
                    f'expected {expected}, found "</{name}>"'
                )
            tag, start, attrs = stack.pop()
            entity = _entity_for(tag, attrs, start, pos - start, stack, entities)
            if entity:
                entities.append(entity)
        else:
            attrs = {
                a.group(1).lower(): next((g for g in a.group(2, 3, 4) if g is not None), "")
                for a in _ATTR_RE.finditer(raw_attrs)
            }
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise _bad(
                    "can't parse entities: Tag \"span\" must have class \"tg-spoiler\" "
                    f"at byte offset {byte_offset}"
                )
            stack.append((name, pos, attrs))
        i = m.end()
    if stack:
        raise _bad(
            f"can't parse entities: Can't find end tag corresponding to start tag "
            f'"{stack[-1][0]}"'
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(text), entities


def _entity_for(
    tag: str, attrs: dict, offset: int, length: int, stack: list, done: list
) -> dict | None:
    """The MessageEntity for a closed tag (None for empty ones, like Telegram)."""
    if length <= 0:
        return None
    kind = _HTML_ENTITY_TYPES[tag]
    entity: dict[str, Any] = {"type": kind, "offset": offset, "length": length}
    if kind == "text_link":
        if not attrs.get("href"):
            return None  # Telegram drops <a> without a usable href
        entity["url"] = attrs["href"]
    elif kind == "code" and stack and stack[-1][0] == "pre":
        # <pre><code class="language-x">: one pre entity carrying the language
        lang = attrs.get("class", "")
        if lang.startswith("language-"):
            stack[-1][2]["language"] = lang[len("language-"):]
        return None
    elif kind == "pre" and attrs.get("language"):
        entity["language"] = attrs["language"]
    elif kind == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    return entity


def buttons(message: dict) -> list[tuple[str, str | None]]:
    """(text, callback_data) of every inline button of a message, row by row."""
    markup = message.get("reply_markup") or {}
    return [
        (b.get("text"), b.get("callback_data"))
        for row in markup.get("inline_keyboard", [])
        for b in row
    ]


# --------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------


class FakeBotApi:
    """In-memory Telegram Bot API on 127.0.0.1, served from a background thread.

    All public methods are thread-safe and synchronous, for plain pytest code; state is
    guarded by one lock, the aiohttp handlers never hold it across an await.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "clusterbot_test_bot",
        bot_first_name: str = "ClusterBot Test",
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_retry_delay: float = 0.2,
        webhook_timeout: float = 5.0,
    ):
        self.token = token
        head = token.split(":", 1)[0]
        self.bot_user = {
            "id": int(head) if head.isdigit() else 1234567890,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.host = host
        self.port = port
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_timeout = webhook_timeout

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)  # wakes test threads waiting on state
        self._calls: list[ApiCall] = []
        self._unknown: list[ApiCall] = []
        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, dict] = {}
        self._pending: list[_Pending] = []  # unconfirmed updates, in update_id order
        self._redeliver: list[dict] = []  # confirmed updates that go out once more
        self._twice_next = False
        self._update_ids = itertools.count(FIRST_UPDATE_ID)
        self._query_ids = itertools.count(4_000_000_000_000_001)
        self._queries: dict[str, dict] = {}  # open callback queries by id
        self._answered: list[dict] = []
        self.documents: dict[str, bytes] = {}  # file_id -> the bytes a sendDocument uploaded
        self._user_files: dict[str, bytes] = {}  # file_id -> the bytes of a document a user sent
        self._held = 0  # hold_updates() depth: updates queue up and go out as one batch
        self._commands: dict[tuple[str, str], list[dict]] = {}
        self._allowed_updates: frozenset[str] = _DEFAULT_ALLOWED
        self._webhook: dict | None = None
        self._webhook_deliveries: list[dict] = []
        self._spread: dict | None = None  # several workers behind a load balancer: spread_webhook
        self._faults: dict[str, deque[_Fault]] = {}
        self._flood_until: dict[str, tuple[float, bool]] = {}
        self._delays: dict[str, deque[float]] = {}
        self._poll_generation = 0
        self._waiting_polls = 0  # getUpdates requests now waiting for an update

        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._runner: web.AppRunner | None = None
        self._update_event: asyncio.Event | None = None
        self._closing: asyncio.Event | None = None
        self._pusher: asyncio.Task | None = None

        self._methods: dict[str, tuple[str, Callable]] = {}
        for attr in dir(self):
            if attr.startswith("_m_"):
                name = attr[3:]
                self._methods[name.lower()] = (name, getattr(self, attr))

    # ---- lifecycle ---------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``: PTB appends the token and method."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    def start(self, timeout: float = 10.0) -> FakeBotApi:
        """Start serving; returns once the socket listens (on an ephemeral port by default)."""
        if self._thread:
            raise RuntimeError("FakeBotApi already started")
        self._thread = threading.Thread(target=self._serve, name="FakeBotApi", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("FakeBotApi did not start in time")
        if self._start_error:
            raise RuntimeError("FakeBotApi failed to start") from self._start_error
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Answer every waiting long poll, close the server and end its thread."""
        loop, thread = self._loop, self._thread
        if not thread or not loop or loop.is_closed():
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._startup())
        except BaseException as exc:  # reported to start()
            self._start_error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _startup(self) -> None:
        self._update_event = asyncio.Event()
        self._closing = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._handle_file)
        # handler_cancellation stays off (aiohttp's default): a request whose client gave up
        # (delay_next + read timeout) still takes effect, as on Telegram.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self._pusher = asyncio.create_task(self._webhook_pusher())

    async def _shutdown(self) -> None:
        assert self._closing is not None
        self._closing.set()
        self._wake()
        if self._pusher:
            self._pusher.cancel()
            await asyncio.gather(self._pusher, return_exceptions=True)
        if self._runner:
            await self._runner.cleanup()

    def _wake(self) -> None:
        """On the server loop: wake long polls and the webhook pusher."""
        event, self._update_event = self._update_event, asyncio.Event()
        if event:
            event.set()

    def _wake_threadsafe(self) -> None:
        loop = self._loop
        if loop and not loop.is_closed():
            # RuntimeError: the loop closed in between, so nobody is waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._wake)

    async def _sleep(self, seconds: float) -> None:
        """asyncio.sleep that ends early when the server shuts down."""
        assert self._closing is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    # ---- HTTP ---------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw_method = request.match_info["method"]
        params = await self._read_params(request)
        name, fn = self._methods.get(raw_method.lower(), (raw_method, None))
        call = ApiCall(method=name, params=params)
        try:
            if request.match_info["token"] != self.token:
                malformed = not re.fullmatch(r"\d+:[\w-]+", request.match_info["token"])
                raise ApiError(404, "Not Found") if malformed else ApiError(401, "Unauthorized")
            if fn is None:
                raise ApiError(404, f"Not Found: method {raw_method}")
            delay = self._pop(self._delays, name)
            if delay:
                await self._sleep(delay)
            self._check_faults(name)
            result = fn(params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as err:
            call.status, call.description = err.status, err.description
            self._record(call, unknown=fn is None and err.status == 404)
            if err.status == 502:  # what nginx in front of Telegram answers: HTML
                return web.Response(status=502, text=_BAD_GATEWAY_HTML, content_type="text/html")
            body: dict[str, Any] = {
                "ok": False, "error_code": err.status, "description": err.description,
            }
            if err.parameters:
                body["parameters"] = err.parameters
            return web.json_response(body, status=err.status)
        call.status, call.result = 200, result
        self._record(call)
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        """A download by the file_path getFile gave (documents/<file_id>); anything else is a
        404, like an expired file_path on Telegram."""
        path = request.match_info["path"]
        with self._lock:
            content = None
            if request.match_info["token"] == self.token and path.startswith("documents/"):
                file_id = path.split("/", 1)[1]
                content = self._user_files.get(file_id, self.documents.get(file_id))
        if content is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(body=content, content_type="application/octet-stream")

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        """Decode query string, form, multipart or JSON body into typed parameters."""
        raw: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    raw.update(body)
            else:
                for key, value in (await request.post()).items():
                    if isinstance(value, web.FileField):
                        content = value.file.read()
                        raw[key] = {"filename": value.filename, "size": len(content), "content": content}
                    else:
                        raw[key] = value
        return {key: _decode_param(key, value) for key, value in raw.items()}

    def _record(self, call: ApiCall, unknown: bool = False) -> None:
        call.time = time.monotonic()
        with self._cond:
            self._calls.append(call)
            if unknown:
                self._unknown.append(call)
            self._cond.notify_all()

    @staticmethod
    def _pop(table: dict[str, deque], method: str) -> Any:
        queue = table.get(method)
        return queue.popleft() if queue else None

    def _check_faults(self, method: str) -> None:
        """Raise the next injected fault of this method, or 429 inside a flood window."""
        with self._lock:
            until = self._flood_until.get(method)
            now = time.monotonic()
            if until and now < until[0]:
                # Telegram keeps refusing until the window ends: an early retry is a 429 too.
                left = until[0] - now
                retry_after = round(left, 2) if until[1] else max(1, math.ceil(left))
                raise _too_many(retry_after)
            fault = self._pop(self._faults, method)
            if fault is None:
                return
            if fault.status == 429:
                fractional = not float(fault.retry_after).is_integer()
                self._flood_until[method] = (now + fault.retry_after, fractional)
                retry_after = fault.retry_after if fractional else int(fault.retry_after)
                raise _too_many(retry_after, fault.description)
        descriptions = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Unavailable"}
        raise ApiError(fault.status, fault.description or descriptions.get(fault.status, "Error"))

    # ---- updates: queue, long polling, webhook ------------------------------------

    def _queue_update(self, update: dict) -> dict:
        """Give the update an id (unless it has one) and queue it for delivery."""
        with self._cond:
            update = copy.deepcopy(update)
            update.setdefault("update_id", next(self._update_ids))
            pending = _Pending(update, twice=self._twice_next)
            self._twice_next = False
            self._pending.append(pending)
            self._pending.sort(key=lambda p: p.update["update_id"])
            self._cond.notify_all()
        self._wake_threadsafe()
        return copy.deepcopy(update)

    def _allowed(self, update: dict) -> bool:
        kinds = [k for k in update if k != "update_id"]
        return not kinds or any(k in self._allowed_updates for k in kinds)

    def _take_batch(self, offset: int | None, limit: int) -> list[dict]:
        """getUpdates semantics: confirm by offset, then up to `limit` unconfirmed updates."""
        if offset is not None:
            if offset < 0:  # -N: only the last N updates; the rest are forgotten
                keep = self._pending[offset:] if -offset < len(self._pending) else self._pending
                self._pending = list(keep)
            else:
                for p in self._pending:
                    if p.update["update_id"] < offset and p.twice:
                        self._redeliver.append(p.update)
                self._pending = [p for p in self._pending if p.update["update_id"] >= offset]
        # Updates of types the bot did not ask for are never delivered.
        self._pending = [p for p in self._pending if self._allowed(p.update)]
        batch = self._redeliver[:limit]
        del self._redeliver[:limit]
        batch += [p.update for p in self._pending[: limit - len(batch)]]
        return copy.deepcopy(batch)

    async def _m_getUpdates(self, p: dict) -> list[dict]:
        """Long polling: answer at once when updates are pending, else wait up to `timeout`."""
        assert self._closing is not None and self._loop is not None
        with self._lock:
            if self._webhook:
                raise ApiError(409, _CONFLICT_WEBHOOK)
            if "allowed_updates" in p:
                wanted = p["allowed_updates"] or []
                self._allowed_updates = frozenset(wanted) if wanted else _DEFAULT_ALLOWED
            # A newer getUpdates ends any older one still waiting, as on Telegram.
            self._poll_generation += 1
            generation = self._poll_generation
        self._wake()
        offset = p.get("offset")
        limit = min(max(int(p.get("limit") or 100), 1), 100)
        deadline = self._loop.time() + min(max(float(p.get("timeout") or 0), 0), 50)
        while True:
            event = self._update_event  # taken before looking, so no wake-up is missed
            assert event is not None
            with self._lock:
                if generation != self._poll_generation:
                    raise ApiError(409, _CONFLICT_POLLER)
                if self._webhook:
                    raise ApiError(409, _CONFLICT_WEBHOOK)
                # Held: the offset confirms, but nothing goes out until released.
                batch = self._take_batch(offset, 0 if self._held else limit)
            remaining = deadline - self._loop.time()
            if batch or remaining <= 0 or self._closing.is_set():
                return batch
            with self._cond:
                self._waiting_polls += 1
                self._cond.notify_all()
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass
            finally:
                with self._cond:
                    self._waiting_polls -= 1

    async def _webhook_pusher(self) -> None:
        """While a webhook is set, POST each pending update to it in order, retrying."""
        assert self._closing is not None
        async with ClientSession(timeout=ClientTimeout(total=self.webhook_timeout)) as session:
            while not self._closing.is_set():
                if self._spread:
                    await self._spread_pusher(session)
                    continue
                event = self._update_event
                assert event is not None
                with self._lock:
                    hook = dict(self._webhook) if self._webhook else None
                    item: dict | _Pending | None = None
                    if hook:
                        self._pending = [p for p in self._pending if self._allowed(p.update)]
                        item = (self._redeliver[0] if self._redeliver
                                else self._pending[0] if self._pending else None)
                if hook is None or item is None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(event.wait(), 1.0)
                    continue
                update = item.update if isinstance(item, _Pending) else item
                headers = {"Content-Type": "application/json"}
                if hook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
                status, error, body = None, None, b""
                try:
                    async with session.post(
                        hook["url"], data=json.dumps(update).encode(), headers=headers
                    ) as resp:
                        status = resp.status
                        body = await resp.read()
                except Exception as exc:  # connection refused, timeout: Telegram retries
                    error = f"Connection failed: {exc!r}"
                ok = status is not None and 200 <= status < 300
                if ok:
                    await self._webhook_reply(body)
                with self._cond:
                    self._webhook_deliveries.append(
                        {"update_id": update["update_id"], "url": hook["url"],
                         "status": status, "error": error}
                    )
                    if ok:
                        if isinstance(item, _Pending):
                            if item.twice:
                                item.twice = False  # once more, same update_id
                            elif item in self._pending:
                                self._pending.remove(item)
                        elif self._redeliver and self._redeliver[0] is item:
                            self._redeliver.pop(0)
                    elif self._webhook:
                        self._webhook["last_error_date"] = int(time.time())
                        self._webhook["last_error_message"] = (
                            error or f"Wrong response from the webhook: {status}"
                        )
                    self._cond.notify_all()
                if not ok:
                    await self._sleep(self.webhook_retry_delay)

    async def _spread_pusher(self, session: ClientSession) -> None:
        """spread_webhook's delivery: each chat's earliest pending update, to the workers in
        turn, up to `connections` at once; the chat's next update once this one is answered."""
        assert self._closing is not None
        in_flight: set[int] = set()   # chats with an update on its way
        tasks: set[asyncio.Task] = set()
        while not self._closing.is_set():
            event = self._update_event
            assert event is not None
            with self._lock:
                spread = self._spread
                self._pending = [p for p in self._pending if self._allowed(p.update)]
                ready, seen = [], set()
                for pending in self._pending:
                    chat = _chat_of(pending.update)
                    if chat not in seen and chat not in in_flight:
                        ready.append((chat, pending))
                    seen.add(chat)
            for chat, pending in ready[: max(0, spread["connections"] - len(tasks))]:
                in_flight.add(chat)
                task = asyncio.create_task(self._spread_one(session, spread, pending))
                task.add_done_callback(lambda _t, chat=chat: (in_flight.discard(chat), self._wake()))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), 1.0)
        for task in tasks:
            task.cancel()

    async def _spread_one(self, session: ClientSession, spread: dict, pending: _Pending) -> None:
        update = pending.update
        with self._lock:
            url = spread["urls"][spread["next"] % len(spread["urls"])]
            spread["next"] += 1
        headers = {"Content-Type": "application/json"}
        if spread.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = spread["secret_token"]
        status, error, body = None, None, b""
        try:
            async with session.post(url, data=json.dumps(update).encode(), headers=headers) as resp:
                status = resp.status
                body = await resp.read()
        except Exception as exc:  # a worker killed or restarting: Telegram retries
            error = f"Connection failed: {exc!r}"
        ok = status is not None and 200 <= status < 300
        if ok:
            await self._webhook_reply(body)
        with self._cond:
            self._webhook_deliveries.append({"update_id": update["update_id"], "url": url,
                                             "status": status, "error": error})
            if ok and pending.twice:
                pending.twice = False  # once more, same update_id
            elif ok and pending in self._pending:
                self._pending.remove(pending)
            self._cond.notify_all()
        if not ok:
            await self._sleep(self.webhook_retry_delay)

    async def _webhook_reply(self, body: bytes) -> None:
        """A method call in the answer to a webhook request ({"method": ..., params}), which
        Telegram performs without telling the bot how it went: recorded like a call."""
        try:
            data = json.loads(body) if body else None
        except ValueError:
            return
        if not isinstance(data, dict) or not isinstance(data.get("method"), str):
            return
        params = {k: v for k, v in data.items() if k != "method"}
        name, fn = self._methods.get(data["method"].lower(), (data["method"], None))
        call = ApiCall(method=name, params=params)
        try:
            if fn is None:
                raise ApiError(404, f"Not Found: method {data['method']}")
            result = fn(params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as err:
            call.status, call.description = err.status, err.description
            self._record(call, unknown=fn is None)
            return
        call.status, call.result = 200, result
        self._record(call)

    # ---- Bot API methods ------------------------------------------------------------
    # Each _m_<Method> takes decoded params and returns the result or raises ApiError.

    def _m_getMe(self, p: dict) -> dict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_logOut(self, p: dict) -> bool:
        return True

    def _m_close(self, p: dict) -> bool:
        return True

    def _m_setWebhook(self, p: dict) -> bool:
        """Store url and secret; http://127.0.0.1 is fine here (Telegram wants HTTPS)."""
        url = p.get("url") or ""
        secret = p.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad("secret token contains unallowed characters")
        if url and not re.match(r"https?://", url):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        with self._lock:
            if p.get("drop_pending_updates"):
                self._pending.clear()
                self._redeliver.clear()
            if "allowed_updates" in p:
                wanted = p["allowed_updates"] or []
                self._allowed_updates = frozenset(wanted) if wanted else _DEFAULT_ALLOWED
            self._webhook = {
                "url": url, "secret_token": secret,
                "max_connections": p.get("max_connections", 40),
            } if url else None
        self._wake()
        return True

    def _m_deleteWebhook(self, p: dict) -> bool:
        with self._lock:
            self._webhook = None
            if p.get("drop_pending_updates"):
                self._pending.clear()
                self._redeliver.clear()
        self._wake()
        return True

    def _m_getWebhookInfo(self, p: dict) -> dict:
        with self._lock:
            hook = self._webhook or {}
            info: dict[str, Any] = {
                "url": hook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self._pending) + len(self._redeliver),
            }
            if hook:
                info["max_connections"] = hook["max_connections"]
                info["allowed_updates"] = sorted(self._allowed_updates)
                for key in ("last_error_date", "last_error_message"):
                    if key in hook:
                        info[key] = hook[key]
            return info

    def _m_sendMessage(self, p: dict) -> dict:
        chat = self._bot_chat(p.get("chat_id"))
        text, entities = self._message_text(p)
        inline, reply_kb = _split_markup(p.get("reply_markup"))
        reply = p.get("reply_parameters") or {}
        reply_to = reply.get("message_id") or p.get("reply_to_message_id")
        with self._cond:
            target = chat.messages.get(reply_to) if reply_to else None
            if reply_to and target is None and not (
                reply.get("allow_sending_without_reply") or p.get("allow_sending_without_reply")
            ):
                raise _bad("message to be replied not found")
            msg = self._new_message(chat, self.bot_user, text, entities)
            if target:
                msg["reply_to_message"] = _without_reply(target)
            if inline:
                msg["reply_markup"] = inline
            if reply_kb is not None:
                chat.reply_keyboard = reply_kb or None
            self._store_bot_event(chat, "sent", msg)
            return copy.deepcopy(msg)

    def _m_sendDocument(self, p: dict) -> dict:
        """A file upload (multipart): the message carries a `document`; its bytes are kept in
        `documents` so a test can read what was sent. A caption is checked like a text."""
        chat = self._bot_chat(p.get("chat_id"))
        upload = p.get("document")
        if not isinstance(upload, dict) or not upload.get("size"):
            raise _bad("there is no document in the request")
        caption, entities = ("", [])
        if p.get("caption"):
            caption, entities = self._message_text({"text": p["caption"], "parse_mode": p.get("parse_mode")})
        with self._cond:
            msg = self._new_message(chat, self.bot_user, caption, entities)
            del msg["text"]
            msg.pop("entities", None)
            if caption:
                msg["caption"] = caption
                if entities:
                    msg["caption_entities"] = entities
            file_id = f"doc-{chat.info['id']}-{msg['message_id']}"
            msg["document"] = {"file_id": file_id, "file_unique_id": file_id,
                               "file_name": upload["filename"], "file_size": upload["size"]}
            self.documents[file_id] = upload["content"]
            self._store_bot_event(chat, "sent", msg)
            return copy.deepcopy(msg)

    def _m_editMessageText(self, p: dict) -> dict:
        chat, msg = self._editable(p)
        text, entities = self._message_text(p)
        inline, _ = _split_markup(p.get("reply_markup"))
        with self._cond:
            new = {k: v for k, v in msg.items() if k not in ("entities", "reply_markup")}
            new["text"] = text
            if entities:
                new["entities"] = entities
            if inline:  # editing without reply_markup removes the inline keyboard
                new["reply_markup"] = inline
            return self._apply_edit(chat, msg, new)

    def _m_editMessageReplyMarkup(self, p: dict) -> dict:
        chat, msg = self._editable(p)
        inline, _ = _split_markup(p.get("reply_markup"))
        with self._cond:
            new = {k: v for k, v in msg.items() if k != "reply_markup"}
            if inline:
                new["reply_markup"] = inline
            return self._apply_edit(chat, msg, new)

    def _m_deleteMessage(self, p: dict) -> bool:
        chat = self._bot_chat(p.get("chat_id"))
        with self._cond:
            msg = chat.messages.pop(int(p.get("message_id") or 0), None)
            if msg is None:
                raise _bad("message to delete not found")
            chat.events.append(("deleted", copy.deepcopy(msg)))
            self._cond.notify_all()
        return True

    def _m_answerCallbackQuery(self, p: dict) -> bool:
        """Each query can be answered once (Telegram: 'query is too old ... invalid')."""
        qid = str(p.get("callback_query_id") or "")
        with self._cond:
            if qid not in self._queries:
                raise _bad("query is too old and response timeout expired or query ID is invalid")
            if len(p.get("text") or "") > 200:
                raise _bad("MESSAGE_TOO_LONG")
            query = self._queries.pop(qid)
            self._answered.append({
                "callback_query_id": qid,
                "data": query.get("data"),
                "text": p.get("text"),
                "show_alert": bool(p.get("show_alert")),
                "url": p.get("url"),
                "cache_time": p.get("cache_time"),
            })
            self._cond.notify_all()
        return True

    def _m_getFile(self, p: dict) -> dict:
        """A file a user sent (or the bot uploaded): its file_path for the download URL."""
        file_id = str(p.get("file_id") or "")
        with self._lock:
            content = self._user_files.get(file_id, self.documents.get(file_id))
        if content is None:
            raise _bad("invalid file_id")
        return {"file_id": file_id, "file_unique_id": file_id, "file_size": len(content),
                "file_path": f"documents/{file_id}"}

    def _m_sendChatAction(self, p: dict) -> bool:
        self._bot_chat(p.get("chat_id"))
        if p.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    def _m_setMyCommands(self, p: dict) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("commands must be a list of at most 100 BotCommand")
        for c in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(c.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", "")).strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        with self._lock:
            self._commands[_scope_key(p)] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        return True

    def _m_getMyCommands(self, p: dict) -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._commands.get(_scope_key(p), []))

    def _m_deleteMyCommands(self, p: dict) -> bool:
        with self._lock:
            self._commands.pop(_scope_key(p), None)
        return True

    # ---- helpers of the methods -------------------------------------------------------

    def _bot_chat(self, chat_id: Any) -> _Chat:
        """The chat a bot call targets: 400 when unknown, 403 when the user blocked the bot."""
        if chat_id in (None, ""):
            raise _bad("chat_id is empty")
        with self._lock:
            chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
            if chat is None:
                raise _bad("chat not found")
            if chat.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            return chat

    def _message_text(self, p: dict) -> tuple[str, list[dict]]:
        """Text and entities after parse_mode, with Telegram's emptiness and length checks."""
        raw = p.get("text")
        if raw is None or str(raw).strip() == "":
            raise _bad("message text is empty")
        raw = str(raw)
        mode = str(p.get("parse_mode") or "")
        if mode.lower() == "html":
            text, entities = parse_html(raw)
        elif mode == "" or mode.lower() in ("markdown", "markdownv2"):
            # Markdown is passed through unparsed: the fake only checks HTML.
            text, entities = raw, list(p.get("entities") or [])
        else:
            raise _bad(f"unsupported parse_mode {mode}")
        if not text.strip():
            raise _bad("message text is empty")
        if _utf16_len(text) > MAX_MESSAGE_LENGTH:
            raise _bad("message is too long")
        return text, entities

    def _new_message(self, chat: _Chat, sender: dict, text: str, entities: list) -> dict:
        msg: dict[str, Any] = {
            "message_id": chat.next_message_id,
            "from": copy.deepcopy(sender),
            "chat": copy.deepcopy(chat.info),
            "date": int(time.time()),
            "text": text,
        }
        if entities:
            msg["entities"] = entities
        chat.next_message_id += 1
        chat.messages[msg["message_id"]] = msg
        return msg

    def _store_bot_event(self, chat: _Chat, kind: str, msg: dict) -> None:
        snapshot = copy.deepcopy(msg)
        chat.events.append((kind, snapshot))
        chat.bot_events.append(snapshot)
        self._cond.notify_all()

    def _editable(self, p: dict) -> tuple[_Chat, dict]:
        if p.get("inline_message_id"):
            raise _bad("inline messages are not modelled by FakeBotApi")
        chat = self._bot_chat(p.get("chat_id"))
        with self._lock:
            msg = chat.messages.get(int(p.get("message_id") or 0))
            if msg is None:
                raise _bad("message to edit not found")
            if msg["from"]["id"] != self.bot_user["id"]:
                raise _bad("message can't be edited")
            return chat, msg

    def _apply_edit(self, chat: _Chat, old: dict, new: dict) -> dict:
        keys = ("text", "entities", "reply_markup")
        if all(old.get(k) == new.get(k) for k in keys):
            raise _bad(_NOT_MODIFIED)
        new["edit_date"] = int(time.time())
        chat.messages[old["message_id"]] = new
        self._store_bot_event(chat, "edited", new)
        return copy.deepcopy(new)

    # ---- driving API for tests ----------------------------------------------------------

    def register_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> dict:
        """Create (or update) a user and their private chat with the bot; returns the User."""
        with self._cond:
            user = self._users.setdefault(
                user_id, {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
            )
            if first_name:
                user["first_name"] = first_name
            if username:
                user["username"] = username
            if language_code:
                user["language_code"] = language_code
            info = {"id": user_id, "type": "private", "first_name": user["first_name"]}
            if "username" in user:
                info["username"] = user["username"]
            chat = self._chats.setdefault(user_id, _Chat(info=info))
            chat.info = info
            return copy.deepcopy(user)

    def _group_chat(self, chat_id: int, chat_type: str, title: str | None) -> _Chat:
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        info = {"id": chat_id, "type": chat_type, "title": title or f"Group {chat_id}"}
        chat = self._chats.setdefault(chat_id, _Chat(info=info))
        if title:
            chat.info = info
        return chat

    def user_sends(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        *,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        chat_type: str = "private",
        chat_title: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> dict:
        """A user writes `text`; queues a `message` update and returns it.

        Private chats have chat id == user id; for chat_type "group"/"supergroup" pass a
        negative chat_id. A leading /command gets its bot_command entity (with @botname
        when present), so PTB's CommandHandler fires.
        """
        user = self.register_user(
            user_id, first_name=first_name, username=username, language_code=language_code
        )
        with self._cond:
            if chat_type == "private":
                if chat_id not in (None, user_id):
                    raise ValueError("a private chat's id is the user's id")
                chat = self._chats[user_id]
                chat.blocked = False  # writing to the bot again unblocks it
            else:
                if chat_id is None:
                    raise ValueError(f"chat_type={chat_type!r} needs a negative chat_id")
                chat = self._group_chat(chat_id, chat_type, chat_title)
            msg = self._new_message(chat, user, text, _command_entities(text))
            if reply_to_message_id is not None:
                target = chat.messages.get(reply_to_message_id)
                if target is None:
                    raise ValueError(f"no message {reply_to_message_id} in chat {chat.info['id']}")
                msg["reply_to_message"] = _without_reply(target)
            chat.events.append(("user", copy.deepcopy(msg)))
            update = {"message": copy.deepcopy(msg)}
        return self._queue_update(update)

    def user_sends_document(self, user_id: int, filename: str, content: bytes, caption: str | None = None,
                            mime_type: str = "application/octet-stream") -> dict:
        """A user sends a file in private chat; the bot fetches it with getFile and the
        download URL, as from Telegram."""
        user = self.register_user(user_id)
        with self._cond:
            chat = self._chats[user_id]
            chat.blocked = False
            msg = self._new_message(chat, user, "", [])
            del msg["text"]
            file_id = f"user-doc-{user_id}-{msg['message_id']}"
            self._user_files[file_id] = content
            msg["document"] = {"file_id": file_id, "file_unique_id": file_id, "file_name": filename,
                               "file_size": len(content), "mime_type": mime_type}
            if caption:
                msg["caption"] = caption
            chat.events.append(("user", copy.deepcopy(msg)))
            update = {"message": copy.deepcopy(msg)}
        return self._queue_update(update)

    def user_sends_media(self, user_id: int, kind: str, content: dict | None = None, chat_id: int | None = None,
                         *, chat_type: str = "private", caption: str | None = None) -> dict:
        """A user sends something other than text or a document: `kind` is the Message field
        (photo, sticker, voice, location, ...) and `content` its value (a plausible one when
        None). Private chat by default; a group needs a negative chat_id."""
        user = self.register_user(user_id)
        if content is None:
            file = {"file_id": f"user-{kind}-{user_id}", "file_unique_id": f"u-{kind}-{user_id}"}
            content = {"photo": [{**file, "width": 90, "height": 90}],
                       "sticker": {**file, "type": "regular", "width": 512, "height": 512, "is_animated": False,
                                   "is_video": False},
                       "voice": {**file, "duration": 3},
                       "location": {"latitude": 32.06, "longitude": 118.79}}.get(kind, file)
        with self._cond:
            if chat_type == "private":
                chat = self._chats[user_id]
                chat.blocked = False
            else:
                if chat_id is None:
                    raise ValueError(f"chat_type={chat_type!r} needs a negative chat_id")
                chat = self._group_chat(chat_id, chat_type, None)
            msg = self._new_message(chat, user, "", [])
            del msg["text"]
            msg[kind] = content
            if caption:
                msg["caption"] = caption
            chat.events.append(("user", copy.deepcopy(msg)))
            update = {"message": copy.deepcopy(msg)}
        return self._queue_update(update)

    @contextlib.contextmanager
    def hold_updates(self):
        """Updates queued inside go out together, as one getUpdates batch, at the end (as a
        busy bot gets them from Telegram)."""
        with self._cond:
            self._held += 1
        try:
            yield self
        finally:
            with self._cond:
                self._held -= 1
            self._wake_threadsafe()

    def repeated_messages(self, chats=None) -> int:
        """Bot messages that repeat the bot's previous message in their chat word for word
        (a reply sent twice: a retry after a timeout of a call that had succeeded), in all
        chats or in the `chats` given by id."""
        with self._lock:
            repeats = 0
            for chat_id, chat in self._chats.items():
                if chats is not None and chat_id not in chats:
                    continue
                sent = [m.get("text") for kind, m in chat.events if kind == "sent" and m.get("text")]
                repeats += sum(1 for a, b in zip(sent, sent[1:]) if a == b)
            return repeats

    def user_presses(
        self,
        user_id: int,
        message: dict | None = None,
        data: str | None = None,
        *,
        chat_id: int | None = None,
        message_id: int | None = None,
        button_text: str | None = None,
    ) -> dict:
        """A user presses an inline button of a bot message; queues a `callback_query`.

        Name the message by its dict (as returned by wait_for_bot_message) or by
        chat_id+message_id, and the button by callback `data` or by `button_text`. The
        button must exist on the message *as it is now* (after edits): a test cannot press
        what a user could not. Use inject_update for forged data.
        """
        if message is not None:
            chat_id, message_id = message["chat"]["id"], message["message_id"]
        with self._cond:
            chat = self._chats.get(chat_id)  # type: ignore[arg-type]
            current = chat.messages.get(message_id) if chat else None  # type: ignore[arg-type]
            if current is None:
                raise AssertionError(f"no message {message_id} in chat {chat_id}")
            choices = buttons(current)
            match = [b for b in choices
                     if (data is None or b[1] == data)
                     and (button_text is None or b[0] == button_text)]
            if not match or match[0][1] is None:
                raise AssertionError(
                    f"message {message_id} has no callback button "
                    f"data={data!r} text={button_text!r}; it has {choices}"
                )
            user = self._users.get(user_id) or self.register_user(user_id)
            qid = str(next(self._query_ids))
            query = {
                "id": qid,
                "from": copy.deepcopy(user),
                "message": copy.deepcopy(current),
                "chat_instance": str(abs(hash((chat_id, self.bot_user["id"])))),
                "data": match[0][1],
            }
            self._queries[qid] = query
        return self._queue_update({"callback_query": query})

    def spread_webhook(self, urls: list[str], connections: int = 16, secret_token: str | None = None) -> None:
        """Deliver updates as Telegram does to one webhook address with a load balancer in
        front of several workers: to `urls` in turn (whatever URL the bots set), up to
        `connections` requests at once, each chat's updates one at a time in order (the next
        once the last was answered 2xx); a failed delivery is retried, to the next url, after
        webhook_retry_delay."""
        with self._cond:
            self._spread = {"urls": list(urls), "connections": connections,
                            "secret_token": secret_token, "next": 0}
        self._wake_threadsafe()

    def inject_update(self, raw: dict) -> dict:
        """Queue a hand-made update as is (update_id added when missing).

        A callback_query in it becomes answerable; a message's chat becomes known.
        """
        with self._cond:
            query = raw.get("callback_query")
            if query and "id" in query:
                self._queries[str(query["id"])] = copy.deepcopy(query)
            for key in ("message", "edited_message"):
                chat = (raw.get(key) or {}).get("chat")
                if chat and chat.get("id") not in self._chats:
                    self._chats[chat["id"]] = _Chat(info=copy.deepcopy(chat))
        return self._queue_update(raw)

    def deliver_twice(self, update: dict | int | None = None) -> None:
        """Deliver an update a second time with the same update_id (at-least-once delivery).

        No argument: the next queued update. An update (or its id) still pending: it comes
        again after the bot confirmed it. One already confirmed: it comes once more.
        """
        with self._cond:
            if update is None:
                self._twice_next = True
                return
            uid = update if isinstance(update, int) else update["update_id"]
            for p in self._pending:
                if p.update["update_id"] == uid:
                    p.twice = True
                    return
            if isinstance(update, int):
                raise ValueError(f"update {uid} is not pending; pass the update dict")
            self._redeliver.append(copy.deepcopy(update))
        self._wake_threadsafe()

    def user_blocks_bot(self, user_id: int) -> None:
        """Further bot messages to this user fail with 403 until the user writes again."""
        self.register_user(user_id)
        with self._lock:
            self._chats[user_id].blocked = True

    def fail_next(
        self,
        method: str,
        times: int = 1,
        status: int = 429,
        retry_after: float = 1,
        description: str | None = None,
    ) -> None:
        """The next `times` calls of `method` fail with `status` (429, 500, 502, ...).

        429 carries parameters.retry_after and opens a flood window: calls before it ends
        get 429 too (with the time left), like Telegram. Telegram sends whole seconds; a
        fractional retry_after is allowed here to keep tests fast. 502 answers nginx's HTML.
        """
        with self._lock:
            queue = self._faults.setdefault(method, deque())
            queue.extend(_Fault(status, retry_after, description) for _ in range(times))

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Hold the next `times` calls of `method` for `seconds` before handling them.

        The call still takes effect even when the client timed out meanwhile, as on
        Telegram: a TimedOut sendMessage may well have been delivered.
        """
        with self._lock:
            self._delays.setdefault(method, deque()).extend([seconds] * times)

    def settled(self) -> bool:
        """Nothing a test arranged is left to happen: every update confirmed, no fault, delay,
        second delivery or flood window waiting. A test that shares the fake and its bot with
        the next one ends so (tests/test_telegram.py)."""
        with self._lock:
            now = time.monotonic()
            return not (self._pending or self._redeliver or self._twice_next or self._held
                        or any(self._faults.values()) or any(self._delays.values())
                        or any(until > now for until, _ in self._flood_until.values()))

    def flooded(self, method: str) -> bool:
        """Whether calls of `method` are still inside a 429's flood window (refused)."""
        with self._lock:
            until = self._flood_until.get(method)
            return bool(until) and time.monotonic() < until[0]

    # ---- what the bot did -------------------------------------------------------------

    def wait_for_bot_message(
        self,
        chat_id: int,
        predicate: Callable[[dict], bool] | None = None,
        timeout: float = 10.0,
    ) -> dict:
        """The next bot message (sent or edited) in the chat not yet handed to the test.

        Edited messages carry `edit_date`. With a predicate, messages before the first
        match are consumed too (like expect). On timeout: AssertionError with the chat's
        recent transcript and the failed API calls.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                chat = self._chats.get(chat_id)
                while chat and chat.consumed < len(chat.bot_events):
                    msg = chat.bot_events[chat.consumed]
                    chat.consumed += 1
                    if predicate is None or predicate(msg):
                        return copy.deepcopy(msg)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    what = " matching the predicate" if predicate else ""
                    raise AssertionError(
                        f"no new bot message{what} in chat {chat_id} within {timeout}s\n"
                        + self.describe(chat_id)
                    )
                self._cond.wait(remaining)

    def assert_no_bot_message(self, chat_id: int, within: float = 0.3) -> None:
        """Fail if the bot sends or edits anything in the chat within `within` seconds."""
        deadline = time.monotonic() + within
        with self._cond:
            while True:
                chat = self._chats.get(chat_id)
                if chat and chat.consumed < len(chat.bot_events):
                    extra = chat.bot_events[chat.consumed]
                    raise AssertionError(
                        f"unexpected bot message in chat {chat_id}: {_brief(extra)}\n"
                        + self.describe(chat_id)
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._cond.wait(remaining)

    def wait_for_call(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] | None = None,
        timeout: float = 10.0,
    ) -> ApiCall:
        """The first recorded call of `method` (matching `predicate`), waiting if need be."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for call in self._calls:
                    if call.method == method and (predicate is None or predicate(call)):
                        return copy.deepcopy(call)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = sorted({c.method for c in self._calls})
                    raise AssertionError(f"no {method} call within {timeout}s; seen: {seen}")
                self._cond.wait(remaining)

    def wait_for_poller(self, timeout: float = 10.0, since: int | None = None) -> None:
        """Wait until a getUpdates long poll is waiting: the bot is up and listening. With
        `since` (a `polls_started` read before starting a bot), only a poll begun after it
        counts, so a restarted bot is not mistaken for the one it replaces."""
        self.wait_until(lambda: self._waiting_polls > 0 and (since is None or self._poll_generation > since), timeout)

    @property
    def polls_started(self) -> int:
        """How many getUpdates requests have begun (a call is recorded only when it ends)."""
        with self._lock:
            return self._poll_generation

    def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until `condition()` is true: checked on every change of the fake's state,
        and every 20 ms for conditions on other state (e.g. BotRunner.errors)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"condition not met within {timeout}s")
                self._cond.wait(min(remaining, 0.02))

    def messages(self, chat_id: int) -> list[dict]:
        """The chat as it is now: user and bot messages by id, edits applied, deletions gone."""
        with self._lock:
            chat = self._chats.get(chat_id)
            return copy.deepcopy(sorted(chat.messages.values(), key=lambda m: m["message_id"])
                                 if chat else [])

    def reply_keyboard(self, chat_id: int) -> dict | None:
        """The reply keyboard the bot last set in the chat (None after remove_keyboard)."""
        with self._lock:
            chat = self._chats.get(chat_id)
            return copy.deepcopy(chat.reply_keyboard) if chat else None

    def calls(self, method: str | None = None) -> list[ApiCall]:
        """Recorded API calls (all, or of one method), oldest first, failed ones included."""
        with self._lock:
            return copy.deepcopy([c for c in self._calls if method in (None, c.method)])

    @property
    def unknown_calls(self) -> list[ApiCall]:
        """Calls of methods the fake does not implement (answered 404)."""
        with self._lock:
            return copy.deepcopy(self._unknown)

    @property
    def answered_callbacks(self) -> list[dict]:
        """answerCallbackQuery calls that succeeded: id, data of the query, text, show_alert."""
        with self._lock:
            return copy.deepcopy(self._answered)

    @property
    def webhook(self) -> dict | None:
        """The webhook as set by the bot (url, secret_token, ...) or None."""
        with self._lock:
            return copy.deepcopy(self._webhook)

    @property
    def webhook_deliveries(self) -> list[dict]:
        """Every POST to the webhook: update_id, url, HTTP status (None when it failed), error."""
        with self._lock:
            return copy.deepcopy(self._webhook_deliveries)

    @property
    def pending_updates(self) -> list[dict]:
        """Updates not yet confirmed by the bot."""
        with self._lock:
            return copy.deepcopy([p.update for p in self._pending] + self._redeliver)

    def commands(self, scope: dict | None = None, language_code: str = "") -> list[dict]:
        """The bot's command list for a scope (default scope) and language."""
        return self._m_getMyCommands({"scope": scope, "language_code": language_code})

    def describe(self, chat_id: int | None = None, last: int = 20) -> str:
        """Human-readable transcript of a chat plus the recent failed API calls."""
        with self._lock:
            lines = []
            chat = self._chats.get(chat_id) if chat_id is not None else None
            if chat:
                lines.append(f"transcript of chat {chat_id} (last {last} events):")
                for kind, msg in chat.events[-last:]:
                    lines.append(f"  {kind:>7} #{msg['message_id']}: {_brief(msg)}")
            failed = [c for c in self._calls if not c.ok][-10:]
            if failed:
                lines.append("recent failed API calls:")
                lines += [f"  {c.method} -> {c.status} {c.description}" for c in failed]
            return "\n".join(lines) or "(nothing happened)"


def _too_many(retry_after: float, description: str | None = None) -> ApiError:
    return ApiError(
        429,
        description or f"Too Many Requests: retry after {retry_after}",
        {"retry_after": retry_after},
    )


def _decode_param(name: str, value: Any) -> Any:
    """Turn a form/query string back into the type Telegram expects for `name`."""
    if not isinstance(value, str):
        return value
    if name in _INT_PARAMS:
        try:
            return int(value)
        except ValueError:
            try:
                return float(value) if name == "timeout" else value  # "@channel" chat ids
            except ValueError:
                return value
    if name in _BOOL_PARAMS:
        return value.lower() in ("true", "1")
    if name in _JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from exc
    return value


def _split_markup(markup: Any) -> tuple[dict | None, dict | None]:
    """(inline keyboard to echo on the message, reply keyboard change: {} = removed)."""
    if not markup:
        return None, None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array")
        for row in rows:
            for button in row:
                _check_inline_button(button)
        rows = [row for row in rows if row]
        return ({"inline_keyboard": rows} if rows else None), None
    if "keyboard" in markup:
        return None, markup
    if markup.get("remove_keyboard"):
        return None, {}
    return None, None  # force_reply: not modelled


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not str(button.get("text", "")).strip():
        raise _bad("text buttons are unallowed in the inline keyboard")
    kinds = [f for f in _INLINE_BUTTON_FIELDS if f in button]
    if len(kinds) != 1:
        raise _bad(
            "can't parse inline keyboard button: InlineKeyboardButton must have exactly "
            "one optional field"
        )
    if "callback_data" in button:
        size = len(str(button["callback_data"]).encode())
        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
            raise _bad("BUTTON_DATA_INVALID")
    if "url" in button and not re.match(r"(https?|tg)://", str(button["url"])):
        raise _bad(f"inline keyboard button URL '{button['url']}' is invalid: Wrong HTTP URL")


def _command_entities(text: str) -> list[dict]:
    m = re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?", text)
    if not m or (len(text) > m.end() and not text[m.end()].isspace()):
        return []
    return [{"type": "bot_command", "offset": 0, "length": _utf16_len(m.group(0))}]


def _without_reply(msg: dict) -> dict:
    """A message as nested in reply_to_message (Telegram nests one level only)."""
    return {k: copy.deepcopy(v) for k, v in msg.items() if k != "reply_to_message"}


def _scope_key(p: dict) -> tuple[str, str]:
    scope = p.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(p.get("language_code") or "")


def _brief(msg: dict) -> str:
    who = "bot" if msg.get("from", {}).get("is_bot") else f"user {msg.get('from', {}).get('id')}"
    text = msg.get("text", "")
    text = text if len(text) <= 120 else text[:117] + "..."
    extra = f" buttons={buttons(msg)}" if msg.get("reply_markup") else ""
    edited = " (edited)" if "edit_date" in msg else ""
    return f"[{who}]{edited} {text!r}{extra}"


# --------------------------------------------------------------------------------------
# Running a PTB Application beside the synchronous test
# --------------------------------------------------------------------------------------


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class BotRunner:
    """Runs a PTB Application in a background thread with its own event loop.

    mode="polling": Updater.start_polling (long polling, `poll_timeout` seconds).
    mode="webhook": the bot listens on 127.0.0.1 and calls setWebhook with `secret_token`.
    By default the listener is a small aiohttp server that feeds Application.update_queue
    (PTB's "custom webhook" pattern: PTB's own server needs tornado, the [webhooks] extra);
    ptb_webhook_server=True uses Updater.start_webhook instead.
    Errors raised in handlers are collected in `errors` (when record_errors).
    """

    def __init__(
        self,
        application: Any,
        *,
        mode: str = "polling",
        poll_timeout: int = 10,
        secret_token: str | None = None,
        webhook_path: str = "/telegram",
        ptb_webhook_server: bool = False,
        record_errors: bool = True,
    ):
        if mode not in ("polling", "webhook"):
            raise ValueError("mode is 'polling' or 'webhook'")
        self.application = application
        self.mode = mode
        self.poll_timeout = poll_timeout
        self.secret_token = secret_token
        self.webhook_path = webhook_path
        self.ptb_webhook_server = ptb_webhook_server
        self.webhook_url: str | None = None
        self.errors: list[BaseException] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        if record_errors:
            application.add_error_handler(self._on_error)

    async def _on_error(self, update: object, context: Any) -> None:
        self.errors.append(context.error)
        _LOG.warning("handler error: %r", context.error)

    def start(self, timeout: float = 10.0) -> BotRunner:
        self._thread = threading.Thread(target=self._run, name="BotRunner", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the bot did not start in time")
        if self._failure:
            raise RuntimeError("the bot failed to start") from self._failure
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop and self._stop and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise RuntimeError("the bot did not stop in time")
        if self._failure and self._ready.is_set():
            raise RuntimeError("the bot failed while stopping") from self._failure

    def __enter__(self) -> BotRunner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run(self, coro: Any, timeout: float = 10.0) -> Any:
        """Run a coroutine (e.g. app.bot.send_message(...)) on the bot's loop; its result."""
        assert self._loop is not None, "start() first"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:
            self._failure = exc
        finally:
            self._ready.set()
            loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        app = self.application
        site_runner = None
        async with app:  # initialize() (getMe) ... shutdown()
            if self.mode == "polling":
                await app.updater.start_polling(timeout=self.poll_timeout, poll_interval=0)
            elif self.ptb_webhook_server:
                port = _free_port()
                self.webhook_url = f"http://127.0.0.1:{port}{self.webhook_path}"
                await app.updater.start_webhook(
                    listen="127.0.0.1", port=port, url_path=self.webhook_path,
                    webhook_url=self.webhook_url, secret_token=self.secret_token,
                )
            else:
                site_runner = await self._start_custom_webhook()
            await app.start()
            self._ready.set()
            await self._stop.wait()
            if app.updater and app.updater.running:
                await app.updater.stop()
            if site_runner:
                await site_runner.cleanup()
            await app.stop()

    async def _start_custom_webhook(self) -> web.AppRunner:
        from telegram import Update  # PTB only where it is needed

        app, secret = self.application, self.secret_token

        async def receive(request: web.Request) -> web.Response:
            if secret and request.headers.get("X-Telegram-Bot-Api-Secret-Token") != secret:
                return web.Response(status=403, text="wrong secret token")
            await app.update_queue.put(Update.de_json(await request.json(), app.bot))
            return web.Response()

        webapp = web.Application()
        webapp.router.add_post(self.webhook_path, receive)
        runner = web.AppRunner(webapp, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        await web.SockSite(runner, sock).start()
        self.webhook_url = f"http://127.0.0.1:{sock.getsockname()[1]}{self.webhook_path}"
        await app.bot.set_webhook(self.webhook_url, secret_token=secret)
        return runner

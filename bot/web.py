"""The web chat channel: `clusterbot web` serves a chat page with the same dialog as the
terminal and Telegram (Starlette under uvicorn; the page and its small script are package
data in bot/templates and bot/static, nothing from a CDN).

No conversation logic lives here. A typed line, a pressed button or an uploaded file becomes
an `Incoming` for the dialog (`Conversation.receive`: the turn and its replies in the outbox,
one transaction); the one delivery loop (bot/delivery.py) then hands each reply to
`WebChannel.send`, which writes it to the server-sent event stream of every open page of that
chat, and is `Later` when none is open, so that a committed reply waits instead of being lost.

Who is speaking: the signed cookie's id of this browser session (login-free on 127.0.0.1, or
behind a shared secret), or the user a trusted reverse proxy names in a header. Each browser
session is its own user: two sessions never see each other's clusters.

Several processes on one PostgreSQL database (behind one proxy) give the same results as one:
a message may reach any of them, but a reply can only be written by the process that holds
the page's stream. So each process claims only the outbox rows of the chats whose page it
holds (`claim(among=…)`); a process that runs a turn for a chat whose page is elsewhere wakes
the others after the commit (PostgreSQL NOTIFY; each listens), and the delivery tick (1 s)
covers a lost notification. Leases are short (LEASE): the rows a killed process held go to
the process the page reconnects to within seconds. Reminders are swept by whichever process
holds the page. On SQLite, one process: no notifications.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import hashlib
import hmac
import json
import logging
import math
import mimetypes
import os
import re
import secrets
import signal
import time
from collections import defaultdict, deque
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from sqlalchemy import text

from bot import health
from bot.channel import Later, Outcome, Sent
from bot.delivery import Database, Delivery, spawn
from bot.reminders import SWEEP_SECONDS, sweep, to_outbox
from bot.scheduler import Scheduler
from dialogs.conversation import Conversation, failure_text
from dialogs.messages import LONE_SURROGATE, Attachment, Incoming, Reply
from locales import messages, normalise_lang, t
from storage import outbox
from storage.db import first_line, light_session, storage_fault
from storage.prepared import reading

log = logging.getLogger(__name__)
CHANNEL = "web"
HERE = Path(__file__).parent
MAX_UPLOAD_MB = 5
MAX_UPLOAD = MAX_UPLOAD_MB * 1024 * 1024
# A typed answer is at most 2000 characters (dialogs.conversation.MAX_TEXT): the dialog says so,
# and a body past this is answered with the same words. The page's box has no maxlength,
# which cut a pasted text silently.
MAX_MESSAGE = 16 * 1024
PING_SECONDS = 10          # keeps proxies from closing an idle stream, and finds closed pages
TAKE_SECONDS = 5           # how long a reply waits for an open page to write it
# A page that closed while its reply was being sent: soon again (a page opened meanwhile is
# not kept waiting behind the row's back-off); this never counts towards giving the row up.
# Otherwise a closed page's replies are not claimed at all (WebDelivery) until a page opens;
# reminders wait for an open page in the calendar.
LATER_SECONDS = 2
# A web process's lease on the rows it sends: a send takes at most TAKE_SECONDS; a killed
# process's rows go to the process its pages reconnect to after this.
LEASE = datetime.timedelta(seconds=15)
NOTIFY_CHANNEL = "clusterbot_web"  # PostgreSQL: "a reply for this chat is in the outbox"
LISTEN_RETRY = 1.0                 # seconds before listening again after a lost connection
RECONNECT_MS = 1000                # how soon a page whose stream ended opens it again
# A page that reconnects gets again the replies sent after the last it got (Last-Event-ID):
# those sent in the last REPLAY, at most REPLAY_ROWS, among the outbox's last REPLAY_SCAN rows
# (older ones are not sent again: a page away that long is reloaded to see them).
REPLAY = datetime.timedelta(minutes=5)
REPLAY_ROWS = 50
REPLAY_SCAN = 20_000
MAX_USER = 64              # users.external_id and processed_updates.update_id hold 64 characters
COOKIE = "clusterbot_web"
COOKIE_DAYS = 400          # the longest a browser keeps a cookie
# Logins from one address: after LOGIN_TRIES in LOGIN_WINDOW seconds without the right secret,
# it is refused (429) until the oldest of them is that old; the right one clears the count.
LOGIN_TRIES = 10
LOGIN_WINDOW = 300.0
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


# --- the channel ---------------------------------------------------------------------------

def to_event(reply: Reply, message_id: str, edit_of: str | None) -> dict:
    """A reply as the page's event: its text, buttons, headings, the answer chosen, and its
    documents (base64, with a type for the download)."""
    documents = [{"name": name, "type": mimetypes.guess_type(name)[0] or "application/octet-stream",
                  "data": base64.b64encode(content).decode()} for name, content in reply.documents]
    return {**reply.to_json(), "id": message_id, "edit_of": edit_of, "documents": documents}


def listen_params(engine) -> dict:
    """The LISTEN connection's parameters, as the engine's own dialect gives them: a URL
    rendered again is not libpq's (a password's space stays a space, which libpq refuses)."""
    _, params = engine.dialect.create_connect_args(engine.url)
    params.pop("context", None)  # the engine's adapters: a sync connection's
    return params


class WebChannel:
    """The `Channel` of the web chat: a reply goes to every open page of its chat."""

    name = CHANNEL

    def __init__(self):
        self.pages: dict[str, set[asyncio.Queue]] = defaultdict(set)
        self.held: tuple[str, ...] = ()  # the chats with a page here, as the database thread reads them

    def open(self, chat_id: str) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue()
        self.pages[chat_id].add(queue)
        self.held = tuple(self.pages)
        return queue

    def close(self, chat_id: str, queue: asyncio.Queue) -> None:
        self.pages[chat_id].discard(queue)
        if not self.pages[chat_id]:
            del self.pages[chat_id]
        self.held = tuple(self.pages)

    def open_chats(self) -> list[str]:
        return list(self.pages)

    def close_all(self) -> None:
        """End every page's stream (the server is stopping; the pages reconnect)."""
        for queues in self.pages.values():
            for queue in queues:
                queue.put_nowait(None)

    async def send(self, chat_id: str, reply: Reply, edit_of: str | None = None,
                   row_id: int | None = None) -> Outcome:
        """`row_id`: the outbox row's, the event's id (a reconnecting page names the last it got)."""
        queues = list(self.pages.get(chat_id, ()))
        if not queues:
            return Later(LATER_SECONDS, "no page open", counts=False)  # kept until a page opens
        message_id = secrets.token_hex(8)
        event = to_event(reply, message_id, edit_of)
        written = []
        for queue in queues:
            future = asyncio.get_running_loop().create_future()
            queue.put_nowait((row_id, event, future))
            written.append(future)
        # Sent once one page has written it to its connection, not when it was queued.
        done, _ = await asyncio.wait(written, timeout=TAKE_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        return Sent(message_id) if done else Later(LATER_SECONDS, "no page took it")


class WebDelivery(Delivery):
    """The delivery of one web process: it claims the rows of the chats whose page it holds,
    and no others (another process holds theirs), under a short lease."""

    def __init__(self, db: Database, channel: WebChannel, turns_here: bool = False):
        super().__init__(db, {CHANNEL: channel}, turns_here=turns_here)
        self.channel = channel

    def claim_options(self) -> dict:
        return {"lease": LEASE, "among": self.channel.held}

    def send_options(self, row) -> dict:
        return {"row_id": row.id}


def sse(row_id: int | None, event: dict) -> str:
    # `id:` is the outbox row's: EventSource sends the last one back as Last-Event-ID when it reconnects
    head = f"id: {row_id}\n" if row_id is not None else ""
    return f"{head}data: {json.dumps(event, ensure_ascii=False)}\n\n"


async def event_stream(queue: asyncio.Queue, missed: list = ()):
    """The server-sent events of one page: first the replies it `missed` (sent before it
    reconnected, as (row id, event)), then each reply as a JSON `data:` line, pings between."""
    yield f"retry: {RECONNECT_MS}\n: open\n\n"
    for row_id, event in missed:
        yield sse(row_id, event)
    while True:
        try:
            item = await asyncio.wait_for(queue.get(), PING_SECONDS)
        except TimeoutError:
            yield ": ping\n\n"
            continue
        if item is None:  # the server is stopping
            return
        row_id, event, written = item
        yield sse(row_id, event)
        if not written.done():
            written.set_result(True)


# --- the app ---------------------------------------------------------------------------------

def accept_lang(request: Request) -> str:
    """The browser's first language, for a user the dialog does not know yet."""
    first = request.headers.get("accept-language", "").split(",")[0].split(";")[0]
    return normalise_lang(first)


def clean_filename(name: str | None) -> str:
    base = re.split(r"[\\/]", name or "")[-1]
    return re.sub(r"[\x00-\x1f]", "", base).strip()[:200] or "upload"


def same_origin(request: Request) -> bool:
    """A page of another site may post a form here; a browser says so in Origin. A Host
    without a port (a proxy passing nginx's $host, which drops it) is this host on any port:
    a cookie is no port's either."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "").lower()
    given = urlsplit(origin.lower())
    if given.netloc == host:
        return True
    return bool(host) and ":" not in host.rpartition("]")[2] and given.hostname == host.strip("[]")


class Throttle:
    """The login attempts of each client address lately (in memory: a restart forgets them)."""

    def __init__(self, tries: int = LOGIN_TRIES, window: float = LOGIN_WINDOW, clock=time.monotonic):
        self.tries, self.window, self.clock = tries, window, clock
        self.attempts: dict[str, deque[float]] = {}

    def attempt(self, address: str) -> int:
        """0, and the attempt counted, when `address` may try now; else the seconds it waits.
        Counted before the secret is read: attempts in parallel are counted as well."""
        now = self.clock()
        if len(self.attempts) > 10_000:  # the addresses whose attempts are all old let go
            self.attempts = {a: q for a, q in self.attempts.items() if q[-1] > now - self.window}
        recent = self.attempts.setdefault(address, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= self.tries:
            return math.ceil(recent[0] + self.window - now)
        recent.append(now)
        return 0

    def forget(self, address: str) -> None:
        self.attempts.pop(address, None)


class TooLarge(Exception):
    """A request body past BodyLimit's limit, found while it was read."""


class BodyLimit:
    """Request bodies past `limit` refused in words, as every other refusal is (JSON in the
    browser's language; Starlette's own limit answers `Content Too Large` in English plain
    text): one declared larger at once, one sent in chunks when it passes the limit. What the
    client still sends is read and dropped first (up to DRAIN): a connection closed on unread
    data is reset, and the client may see the reset instead of the answer."""

    DRAIN = 64 * 1024 * 1024

    def __init__(self, app, limit: int, lang=accept_lang):
        self.app, self.limit, self.lang = app, limit, lang  # lang: a request's language

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = Request(scope).headers.get("content-length", "")
        received, started, more = 0, False, True

        async def counted():
            nonlocal received, more
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                more = message.get("more_body", False)
                if received > self.limit:
                    raise TooLarge
            return message

        async def watched(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            if length.isdigit() and int(length) > self.limit:
                raise TooLarge
            await self.app(scope, counted, watched)
        except TooLarge:
            if started:
                raise
            while more and received <= self.DRAIN:
                message = await receive()
                received += len(message.get("body", b""))
                more = message.get("more_body", False) and message["type"] == "http.request"
            lang = self.lang(Request(scope))
            key = "web.refused_large" if scope["path"] == "/upload" else "dialog.too_long"
            response = JSONResponse({"error": t(lang, key, limit=MAX_UPLOAD_MB)}, 413, headers=SECURITY_HEADERS)
            await response(scope, receive, send)


class BadRequest(Exception):
    def __init__(self, status: int, key: str, **fields):
        self.status, self.key, self.fields = status, key, fields


class WebChat:
    """The app: the page, its event stream, and the endpoints a message comes in by."""

    def __init__(self, engine, clock, session_key: str, secret: str | None = None,
                 user_header: str | None = None, default_lang: str | None = None,
                 reminder_interval: float = SWEEP_SECONDS):
        self.engine, self.clock = engine, clock
        # A turn's rows are leased as a claim's: a process killed before its send lets go soon.
        self.conversation = Conversation(engine, clock, channel=CHANNEL, default_lang=default_lang, lease=LEASE)
        self.channel = WebChannel()
        self.secret, self.user_header = secret, user_header
        # A login's cookie holds this, not just "logged in": another secret refuses every old
        # cookie. Derived under the cookies' key, so that it never tells the secret.
        self.secret_tag = hmac.new(session_key.encode(), b"web secret\n" + secret.encode("utf-8", "surrogateescape"),
                                   hashlib.sha256).hexdigest()[:32] if secret else None
        self.new_user_lang = default_lang  # None: the browser's
        self.reminder_interval = reminder_interval
        self.session_key = session_key
        self.logins = Throttle()
        self.db = Database(engine)
        self.shared = engine.dialect.name == "postgresql"  # other web processes may run a chat's turns
        # The one process of a SQLite database runs the turns of a chat whose page it holds
        # through the delivery, which leases the turn's rows to it and writes their marks with
        # the next turn: no claim and no commit of marks of their own (each a transaction with
        # its fsync) beside the turn's. A chat with no page open is not leased: the process
        # that next holds its page (a restart on another port) claims its replies at once.
        self.delivery = WebDelivery(self.db, self.channel, turns_here=not self.shared)
        # The scheduler's delivery tick and marks; the web sweeps reminders itself, for open
        # pages only (see `remind`).
        self.scheduler = Scheduler(self.db, clock, self.delivery, sweeps={})
        self.wake = asyncio.Event()
        self.stopping = asyncio.Event()  # SIGTERM: /readyz says 503
        self.tasks: set[asyncio.Task] = set()
        self.templates = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)

    def app(self) -> Starlette:
        routes = [Route("/", self.page), Route("/login", self.login, methods=["GET", "POST"]),
                  Route("/healthz", self.alive), Route("/readyz", self.ready),
                  Route("/events", self.events), Route("/session", self.session),
                  Route("/send", self.send, methods=["POST"]),
                  Route("/upload", self.upload, methods=["POST"]),
                  Mount("/static", StaticFiles(directory=HERE / "static"), name="static")]
        # SameSite=Lax, not Strict: a link from another site (a portal, a mail) came without the
        # cookie, so the page made a new user and its cookie replaced the old one, every cluster
        # lost. Posts from another site still carry no cookie, and their Origin is refused.
        middleware = [Middleware(BodyLimit, limit=MAX_UPLOAD + 64 * 1024, lang=self.lang_for_new),
                      Middleware(SessionMiddleware, secret_key=self.session_key, session_cookie=COOKIE,
                                 max_age=COOKIE_DAYS * 86400, same_site="lax")]
        return Starlette(routes=routes, middleware=middleware, lifespan=self.lifespan)

    @contextlib.asynccontextmanager
    async def lifespan(self, _app):
        self.loop = asyncio.get_running_loop()
        # A turn that planned reminders (a cluster just tracked) has them swept at once; it
        # may run on the database thread.
        self.conversation.on_replanned = lambda: self.loop.call_soon_threadsafe(self.wake.set)
        self.scheduler.start()
        loops = [asyncio.create_task(self.remind(), name="web reminder sweep")]
        if self.shared:
            loops.append(asyncio.create_task(self.listen(), name="web notifications"))
        try:
            yield
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, *self.tasks, return_exceptions=True)
            await self.scheduler.stop()
            self.db.executor.shutdown(wait=True)

    # --- health ---------------------------------------------------------------------------

    async def alive(self, request: Request) -> Response:
        return JSONResponse(health.ALIVE)

    async def ready(self, request: Request) -> Response:
        status, body = await health.readiness(self.db, self.stopping)
        return JSONResponse(body, status)

    # --- who is speaking -----------------------------------------------------------------

    def user_of(self, request: Request) -> str | None:
        """The user of this request, or None when it is not let in."""
        if self.user_header:
            name = request.headers.get(self.user_header, "").strip()
            return name if 0 < len(name) <= MAX_USER else None  # a longer name would be cut into another
        if self.secret and not self.logged_in(request):
            return None
        return request.session.get("uid")

    def logged_in(self, request: Request) -> bool:
        """Whether this session logged in with the secret in force (its tag, not another's)."""
        tag = request.session.get("auth")
        return isinstance(tag, str) and hmac.compare_digest(tag, self.secret_tag)

    def refusal(self, request: Request) -> Response:
        lang = self.lang_for_new(request)
        if self.user_header:
            return self.error(lang, BadRequest(401, "web.no_user", header=self.user_header))
        if self.secret:
            return self.error(lang, BadRequest(401, "web.login_needed"))
        # login-free: no passphrase to ask for; the session cookie is missing or not ours (cleared,
        # or signed under another --key-file), and a reload starts a new session
        return self.error(lang, BadRequest(401, "web.session_lost"))

    def error(self, lang: str, exc: BadRequest) -> JSONResponse:
        return JSONResponse({"error": t(lang, exc.key, **exc.fields)}, exc.status, headers=SECURITY_HEADERS)

    # --- the page ------------------------------------------------------------------------

    def html(self, template: str, lang: str, status: int = 200, **fields) -> HTMLResponse:
        strings = {code: {k[4:]: v for k, v in messages(code).items() if k.startswith("web.")} for code in ("zh", "en")}
        body = self.templates.get_template(template).render(
            lang=lang, s=strings[lang], strings=json.dumps(strings, ensure_ascii=False), **fields)
        return HTMLResponse(body, status, headers={**SECURITY_HEADERS, "Cache-Control": "no-store"})

    async def page(self, request: Request) -> Response:
        lang = self.lang_for_new(request)
        if self.user_header:
            if self.user_of(request) is None:
                return self.html("login.html", lang, 401, message=t(lang, "web.no_user", header=self.user_header))
        elif self.secret and not self.logged_in(request):
            return self.html("login.html", lang, form=True)
        else:
            request.session.setdefault("uid", secrets.token_urlsafe(18))
        return self.html("page.html", lang, max_upload=MAX_UPLOAD, max_upload_mb=MAX_UPLOAD_MB)

    async def login(self, request: Request) -> Response:
        lang = self.lang_for_new(request)
        # GET: the address a wrong passphrase left in the address bar, opened again (history, a bookmark)
        if not self.secret or request.method != "POST":
            return RedirectResponse("/", 303)
        if not same_origin(request):  # another site's form would log its visitor in here
            return self.html("login.html", lang, 403, form=True, message=t(lang, "web.cross_site"))
        # the client's address: a proxy's X-Forwarded-For when the proxy is on this machine (uvicorn's
        # FORWARDED_ALLOW_IPS), so that one address's tries do not lock out everyone behind it
        address = request.client.host if request.client else ""
        if wait := self.logins.attempt(address):
            response = self.html("login.html", lang, 429, form=True, message=t(lang, "web.login_wait", seconds=wait))
            response.headers["Retry-After"] = str(wait)
            return response
        try:
            form = await request.form(max_files=0, max_fields=2, max_part_size=4096)
            given = form.get("secret")
        except Exception:  # an unreadable form is a wrong secret
            given = None
        if isinstance(given, str) and hmac.compare_digest(given.encode(), self.secret.encode()):
            request.session["auth"] = self.secret_tag
            self.logins.forget(address)
            request.session.setdefault("uid", secrets.token_urlsafe(18))
            return RedirectResponse("/", 303)
        log.warning("web: a wrong access secret was given")
        return self.html("login.html", lang, 401, form=True, message=t(lang, "web.login_wrong"))

    async def events(self, request: Request) -> Response:
        chat = self.user_of(request)
        if chat is None:
            return self.refusal(request)
        queue = self.channel.open(chat)
        self.wake.set()  # what waited for an open page goes out now: reminders, unsent replies
        try:
            # a page's new stream, after one a proxy's error ended, names its last reply in ?last=
            last = request.headers.get("last-event-id") or request.query_params.get("last", "")
            missed = await self.missed(chat, last)
        except Exception as exc:
            self.channel.close(chat, queue)
            if not storage_fault(exc):
                raise
            # the database gone: the page comes back later (EventSource retries) for what it missed
            log.warning("web: a page's missed replies could not be read: %s", first_line(exc))
            return self.error(self.lang_for_new(request), BadRequest(503, "web.unavailable"))

        async def stream():
            try:
                async for chunk in event_stream(queue, missed):
                    yield chunk
            finally:
                self.channel.close(chat, queue)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    async def session(self, request: Request) -> Response:
        """Whether this request is let in (204), else why not (401, as /events refuses): a page
        whose stream was refused asks, to say so instead of reconnecting for ever."""
        if self.user_of(request) is None:
            return self.refusal(request)
        return Response(status_code=204, headers={"Cache-Control": "no-store"})

    async def missed(self, chat: str, last: str) -> list[tuple[int, dict]]:
        """A reconnecting page's Last-Event-ID: the replies of its chat marked sent after that
        row, which its lost connection may not have carried (written to a half-open one, say).
        Those sent within REPLAY, at most REPLAY_ROWS; the page ignores those it has shown."""
        if not (last.isascii() and last.isdigit()) or len(last) > 18:
            return []  # a page's first connection (or no id of ours)
        await self.delivery.write_marks()  # the replies this process sent, marked: found below
        since = datetime.datetime.now(datetime.timezone.utc) - REPLAY

        def read():
            with reading(self.engine) as conn:
                return outbox.sent_after(conn, CHANNEL, chat, int(last), since, REPLAY_ROWS, REPLAY_SCAN)
        rows = await self.db.run(read)
        return [(row.id, to_event(Reply.from_json(json.loads(row.payload)), row.sent_message_id, row.edit_of))
                for row in rows]

    # --- what comes in -------------------------------------------------------------------

    async def send(self, request: Request) -> Response:
        """A typed line or a pressed button: {"text": …} or {"button": …, "pressed": id}."""
        user = self.user_of(request)
        if user is None:
            return self.refusal(request)
        try:
            if not same_origin(request):
                raise BadRequest(403, "web.cross_site")
            body = await request.body()
            if len(body) > MAX_MESSAGE:
                raise BadRequest(413, "dialog.too_long")
            try:
                data = json.loads(body)
            except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested thousands deep
                raise BadRequest(400, "web.bad_request") from None
            incoming = self.incoming(request, user, data)
        except BadRequest as exc:
            return self.error(await self.refusal_lang(request, user), exc)
        return await self.receive(incoming)

    def incoming(self, request: Request, user: str, data) -> Incoming:
        if not isinstance(data, dict):
            raise BadRequest(400, "web.bad_request")
        fields = {key: data.get(key) for key in ("text", "button", "pressed", "id")}
        if any(v is not None and not isinstance(v, str) for v in fields.values()):
            raise BadRequest(400, "web.bad_request")
        # JSON may escape a lone surrogate (\ud800), which is no character: no UTF-8 for it
        if any(v is not None and LONE_SURROGATE.search(v) for v in fields.values()):
            raise BadRequest(400, "web.bad_request")
        if (fields["text"] is None) == (fields["button"] is None):
            raise BadRequest(400, "web.bad_request")
        return Incoming(channel=CHANNEL, user_id=user, chat_id=user, text=fields["text"], button=fields["button"],
                        pressed=fields["pressed"], lang=self.lang_for_new(request),
                        # the page's id of a message, within its user: a repeated post is handled once
                        message_id=hashlib.sha256(f"{user}\n{fields['id']}".encode()).hexdigest()[:MAX_USER]
                        if fields["id"] else None)

    async def upload(self, request: Request) -> Response:
        """A file (a filled application form) for the dialog."""
        user = self.user_of(request)
        if user is None:
            return self.refusal(request)
        bad = BadRequest(400, "web.bad_upload", limit=MAX_UPLOAD_MB)
        try:
            if not same_origin(request):
                raise BadRequest(403, "web.cross_site")
            async with request.form(max_files=1, max_fields=1) as form:
                file = form.get("file")
                if not isinstance(file, UploadFile):
                    raise bad
                content = await file.read(MAX_UPLOAD + 1)
                name = clean_filename(file.filename)
                if len(content) > MAX_UPLOAD:
                    raise BadRequest(413, "web.too_large", name=name, limit=MAX_UPLOAD_MB)
                attachment = Attachment(name, content, file.content_type or "")
        except BadRequest as exc:
            return self.error(await self.refusal_lang(request, user), exc)
        except TooLarge:
            raise  # BodyLimit says so
        except Exception:  # a malformed multipart body
            log.warning("web: an unreadable upload was refused")
            return self.error(await self.refusal_lang(request, user), bad)
        incoming = Incoming(channel=CHANNEL, user_id=user, chat_id=user, lang=self.lang_for_new(request),
                            attachment=attachment)
        return await self.receive(incoming)

    async def receive(self, incoming: Incoming) -> JSONResponse:
        """Hand one message to the dialog (a bug in the turn is answered there), then send its
        replies to the page; the answer names the user's language, which the page's labels
        follow."""
        try:
            if self.delivery.turns_here and incoming.chat_id in self.channel.pages:
                rows = await self.delivery.run_turn(self.conversation.receive, incoming)
                await self.delivery.flush_chat(CHANNEL, incoming.chat_id, rows)
            else:
                await self.db.run_turn(self.turn, incoming)
                if incoming.chat_id in self.channel.pages:
                    await self.delivery.flush_chat(CHANNEL, incoming.chat_id)
            lang = await self.lang_of(incoming.user_id)
        except Exception as exc:  # the database gone, say: answered, and the server goes on
            fault = storage_fault(exc)
            if not fault:
                log.exception("web: a message could not be handled")
            lang = normalise_lang(incoming.lang)
            return JSONResponse({"error": failure_text(lang, exc)}, 503 if fault else 500, headers=SECURITY_HEADERS)
        return JSONResponse({"lang": lang}, headers=SECURITY_HEADERS)

    def turn(self, incoming: Incoming) -> None:
        """The turn, committed; then, when the chat's page is not here and other processes
        share the database, the process that holds it is woken. The replies are not leased to
        this process at the commit: the page may be elsewhere, and a short lease is the claim's."""
        self.conversation.receive(incoming)
        if self.shared and incoming.chat_id not in self.channel.held:
            try:
                with self.engine.begin() as connection:
                    connection.execute(text("SELECT pg_notify(:channel, :chat)"),
                                       {"channel": NOTIFY_CHANNEL, "chat": incoming.chat_id})
            except Exception as exc:  # committed all the same: the holder's tick sends it
                log.warning("web: could not notify the other workers: %s", type(exc).__name__)

    async def listen(self) -> None:
        """PostgreSQL: each notification of a chat whose page is here sends its replies now."""
        import psycopg

        params = listen_params(self.engine)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(**params, autocommit=True) as connection:
                    await connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self.scheduler.recovered("web notifications")
                    self.wake.set()  # what came while nobody listened
                    async for note in connection.notifies():
                        if note.payload in self.channel.pages:
                            spawn(self.tasks, self.delivery.flush_chat(CHANNEL, note.payload), "web flush")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database restarted, say: the tick delivers meanwhile
                if storage_fault(exc):  # gone: said once until it is back, not every second
                    self.scheduler.failed("web notifications", exc)
                else:
                    log.warning("web: listening for other workers' replies: %s; again in %s s",
                                type(exc).__name__, LISTEN_RETRY)
            await asyncio.sleep(LISTEN_RETRY)

    def lang_for_new(self, request: Request) -> str:
        """The language a user the dialog does not know yet starts in: --lang, else the
        browser's; the pages and refusals said before the user is known are said in it too."""
        return self.new_user_lang or accept_lang(request)

    async def lang_of(self, user: str) -> str:
        return await self.db.read(self.conversation.language_of, user)

    async def refusal_lang(self, request: Request, user: str) -> str:
        """The language a request is refused in: the user's, or the browser's while the
        database cannot say (gone): a refusal needs no database."""
        try:
            return await self.lang_of(user)
        except Exception as exc:
            if not storage_fault(exc):
                raise
            return self.lang_for_new(request)

    # --- reminders -----------------------------------------------------------------------

    async def remind(self) -> None:
        """At each interval, and whenever woken: the due reminders of the chats with an open
        page into the outbox (the others wait in the reminders table: a closed page cannot
        take them), and each open chat's outbox sent."""
        enqueue = to_outbox(CHANNEL)
        while True:
            self.wake.clear()
            for chat in self.channel.open_chats():
                try:
                    await self.db.run(sweep, self.engine, self.clock.now(), CHANNEL, enqueue, chat)
                    await self.delivery.flush_chat(CHANNEL, chat)
                except Exception as exc:  # a database gone is one line until it is back
                    self.scheduler.failed("web reminder sweep", exc)
                else:
                    self.scheduler.recovered("web reminder sweep")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.reminder_interval)


class KeyFileInvalid(ValueError):
    """A --key-file that holds no usable key (empty, short, not text): never signed with."""


KEY_MIN = 32  # characters: secrets.token_urlsafe(32) writes 43


def read_key(path: Path) -> str:
    """The key in the file, refused when it is no key: an empty or short one would sign every
    cookie with a key anyone can guess."""
    key = path.read_bytes().strip()
    if len(key) < KEY_MIN or not all(33 <= byte < 127 for byte in key):
        raise KeyFileInvalid(str(path))
    return key.decode("ascii")


def session_key(path: Path) -> str:
    """The key that signs the session cookies, kept in a file so that a restart keeps every
    browser's user (created once, readable by the owner only). Processes starting together
    agree on one key: each writes its own in full, then links it into place, which only the
    first can do; the others read the first's."""
    try:
        return read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    mine = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    with os.fdopen(os.open(mine, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
        f.write(key)
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(mine, path)
    except FileExistsError:
        key = read_key(path)
    finally:
        os.unlink(mine)
    return key


class Server(uvicorn.Server):
    """uvicorn, ending the pages' event streams as soon as it is told to stop: it waits for
    open connections before it shuts the app down, and a stream would stay open."""

    def __init__(self, config: uvicorn.Config, chat: WebChat):
        super().__init__(config)
        self.chat = chat

    def handle_exit(self, sig, frame) -> None:
        loop = getattr(self.chat, "loop", None)
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.chat.stopping.set)  # safe from a signal handler
            loop.call_soon_threadsafe(self.chat.channel.close_all)
        super().handle_exit(sig, frame)


def serve(chat: WebChat, host: str, port: int, log_level: str) -> None:
    config = uvicorn.Config(chat.app(), host=host, port=port, log_level=log_level, log_config=None,
                            timeout_graceful_shutdown=5)
    # uvicorn stops gracefully on SIGTERM, then raises it again to the handler it found: this
    # one does nothing more, so that a stop asked for ends with exit status 0, as `serve` does.
    signal.signal(signal.SIGTERM, lambda _sig, _frame: None)
    Server(config, chat).run()

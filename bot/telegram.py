"""The Telegram channel on the port: Updates in as `Incoming`, replies out through
`TelegramChannel.send`; no conversation logic lives here.

An update is confirmed to Telegram only after its turn is committed: the bot runs its own
long-polling loop (getUpdates through python-telegram-bot's HTTP stack, each update read
from its JSON as a `TgUpdate`), and the offset moves past a batch only once every update
of it has been handled (in webhook mode the answer 200 waits for the commit). A kill at any
point loses nothing: an unconfirmed update comes again and a redelivered one is handled
once. Replies go to the outbox in the turn's transaction and out through the one delivery
loop (bot/delivery.py); `send` maps what the Bot API answers to Sent, Later (429 with its
retry_after, timeouts, 5xx, a proxy's HTML page) or Refused (the user blocked the bot, the
chat is gone, a request Telegram will never take).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import html
import logging
import os
import re
import signal
from collections import defaultdict

os.environ.setdefault("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after as a timedelta, no warning

from telegram import BotCommand  # noqa: E402
from telegram.constants import ParseMode  # noqa: E402
from telegram.error import (BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError,  # noqa: E402
                            TimedOut)
from telegram.ext import ExtBot  # noqa: E402

from bot import bot_api_http  # noqa: E402
from bot.channel import Later, Outcome, Refused, Sent, send_parts  # noqa: E402
from bot.delivery import Database, Delivery, spawn  # noqa: E402
from bot.reminders import SWEEP_SECONDS  # noqa: E402
from bot.scheduler import Scheduler  # noqa: E402
from dialogs.conversation import Conversation, command_head  # noqa: E402
from dialogs.messages import HEADED, MAX_FILE, Attachment, Incoming, Reply, merge_steps  # noqa: E402
from locales import normalise_lang, t  # noqa: E402
from storage import outbox  # noqa: E402
from storage.db import session  # noqa: E402

log = logging.getLogger(__name__)
CHANNEL = "telegram"
MAX_TEXT = 4000  # Telegram allows 4096; a margin for the markup added to a chunk
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]  # an edit is answered: it is not read
# What a user sends that the bot cannot read; it is told so. Named, not "anything but text":
# a service message (a member joined, a message pinned, a topic opened) is not the user's and
# gets no answer. An animation (a GIF) comes with a `document` too.
UNSUPPORTED = ("animation", "photo", "sticker", "voice", "video", "video_note", "audio", "location", "venue",
               "contact", "poll", "dice", "game", "story", "paid_media", "checklist")
POLL_TIMEOUT = 10  # seconds a getUpdates waits for news
# Long enough that a slow Telegram answers inside it (a reply timed out may have arrived and
# is sent again), short enough that a dead connection is noticed.
READ_TIMEOUT = 20.0
CONNECT_TIMEOUT = 5.0
# Commands shown in Telegram's menu, described in locales (telegram.commands.<name>).
MENU = ["start", "new", "list", "switch", "skip", "back", "edit", "why", "status", "result",
        "compare", "export", "form", "ask", "track", "deadlines", "remind", "pause", "resume", "untrack",
        "lang", "restart", "help"]


# --- replies as Telegram messages ----------------------------------------------------------

def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _prefix_within(text: str, limit: int) -> str:
    """The longest prefix of at most `limit` UTF-16 units (a character takes one or two) that
    does not end inside a character reference (`&amp;`, `&lt;`, `&gt;` of the escaped text: cut
    there, one message would show "&am" and the next "p;")."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            head = text[:i]
            amp = head.rfind("&", max(0, i - len("&amp;") + 1))
            return head[:amp] if amp > 0 and ";" not in head[amp:] else head
    return text


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Chunks of at most `limit` UTF-16 units, cut at line ends (a longer line is cut hard)."""
    chunks, current = [], ""
    for line in text.split("\n"):
        while utf16_len(line) > limit:  # a line longer than a message: cut it hard
            if current:
                chunks.append(current)
                current = ""
            head = _prefix_within(line, limit)
            chunks.append(head)
            line = line[len(head):]
        candidate = f"{current}\n{line}" if current else line
        if current and utf16_len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    return [c for c in chunks if c.strip()] or [text[:limit] or " "]


def keyboard(reply: Reply) -> list[list[dict]]:
    """Choices first (short ones five to a row, long ones such as an /edit item alone on
    theirs: the app cuts a button's one line, and the end is the answer), then the actions
    on their own row."""
    rows: list[list[dict]] = []
    choices = [{"text": b.label, "data": b.data} for b in reply.choices]
    longest = max((len(b["text"]) for b in choices), default=0)
    width = 5 if longest <= 3 else 2 if longest <= 12 else 1  # 12: as the terminal lays them out
    rows += [choices[i:i + width] for i in range(0, len(choices), width)]
    actions = [{"text": b.label, "data": b.data} for b in reply.actions]
    rows += [actions[i:i + 3] for i in range(0, len(actions), 3)]
    return rows


def _html(reply: Reply) -> str:
    """A reply's text escaped for HTML, its headings in bold (a question's or a result's
    first line); a chosen answer is shown under its question."""
    lines = html.escape(reply.text, quote=False).split("\n")
    for n in reply.headings or ([0] if reply.kind in HEADED else []):
        if n < len(lines) and lines[n].strip():
            lines[n] = f"<b>{lines[n]}</b>"
    text = "\n".join(lines)
    if reply.chosen is not None:
        text += f"\n\n<b>→ {html.escape(reply.chosen, quote=False)}</b>"
    return text


def to_payloads(replies: list[Reply]) -> list[dict]:
    """Replies as Bot API messages: one step (see `merge_steps`) is one message, a long text
    split at line ends with the keyboard on its last part, then its documents."""
    payloads: list[dict] = []
    for reply in merge_steps(replies):
        chunks = split_text(_html(reply))
        payloads += [{"op": "send", "text": chunk} for chunk in chunks]
        if rows := keyboard(reply):
            payloads[-1]["keyboard"] = rows
        payloads += [{"op": "document", "filename": name, "content": base64.b64encode(content).decode()}
                     for name, content in reply.documents]
    return payloads


def markup(rows: list[list[dict]] | None) -> dict | None:
    """An inline keyboard as the Bot API takes it (PTB sends a dict as JSON)."""
    if not rows:
        return None
    return {"inline_keyboard": [[{"text": b["text"], "callback_data": b["data"]} for b in row] for row in rows]}


async def api(bot, method: str, read_timeout: float | None = None, **params):
    """A Bot API call through PTB's HTTP stack and error mapping, its result as Telegram's
    JSON: the typed methods build PTB objects for the arguments and the answer (a Message
    of some 40 fields), a fifth or more of a sendMessage's CPU, where a message id is all
    the delivery keeps. (The name in lower case: Telegram's method names are case-insensitive,
    and PTB warns when a method it wraps is called by its own name.)"""
    timeouts = {} if read_timeout is None else {"read_timeout": read_timeout}
    return await bot.do_api_request(method.lower(), {k: v for k, v in params.items() if v is not None}, **timeouts)


async def fetch_updates(bot, offset: int | None, timeout: int) -> list[TgUpdate]:
    """getUpdates (a long poll of `timeout` seconds), the updates read as `TgUpdate`s."""
    result = await api(bot, "getUpdates", offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES,
                       read_timeout=timeout + READ_TIMEOUT)
    return [TgUpdate(data) for data in result]


def retry_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def later_or_refused(exc: TelegramError) -> Outcome:
    """What a failed Bot API call means for the reply: wait, or give it up."""
    if isinstance(exc, RetryAfter):
        return Later(retry_seconds(exc), "429 retry after")
    if isinstance(exc, Forbidden):
        return Refused(f"forbidden: {exc}")
    if isinstance(exc, BadRequest):  # before NetworkError: BadRequest is one of its kinds
        return Refused(f"bad request: {exc}")
    # A timeout, a 5xx, a proxy's HTML page ("Invalid server response"), anything else:
    # again later (the delivery gives up after its attempts).
    return Later(1.0, f"{type(exc).__name__}: {exc}")


# --- the channel -----------------------------------------------------------------------------

class TelegramChannel:
    """Renders a neutral reply as Bot API calls: HTML, inline keyboards, 4096 splits,
    editMessageText for `edit_of`, sendDocument for documents."""

    name = CHANNEL

    def __init__(self, bot):
        self.bot = bot
        # The newest message id seen in each chat (the user's or the bot's): a press on an
        # older message is answered below, where the user is looking, not up in the chat.
        self.newest: dict[str, int] = {}

    def saw(self, chat_id: str, message_id: int | str | None) -> None:
        if message_id is not None and int(message_id) > self.newest.get(str(chat_id), 0):
            self.newest[str(chat_id)] = int(message_id)

    async def send(self, chat_id: str, reply: Reply, edit_of: str | None = None, resume: Later | None = None) -> Outcome:
        """Send the reply (a long text's messages, then files), from the first part the last
        try (`resume`) did not deliver."""
        if edit_of is not None:
            try:
                edited = await self._edit(chat_id, reply, edit_of)
            except TelegramError as exc:
                return later_or_refused(exc)
            if edited is not None:
                return edited

        async def part(payload: dict) -> str | None:
            if payload["op"] == "send":
                message_id = (await api(self.bot, "sendMessage", chat_id=chat_id, text=payload["text"],
                                        parse_mode=ParseMode.HTML,
                                        reply_markup=markup(payload.get("keyboard"))))["message_id"]
                self.saw(chat_id, message_id)
                return str(message_id)
            sent = await self.bot.send_document(chat_id, document=base64.b64decode(payload["content"]),
                                                filename=payload["filename"])
            self.saw(chat_id, sent.message_id)
            return None
        return await send_parts([lambda p=p: part(p) for p in to_payloads([reply])], resume,
                                lambda exc: later_or_refused(exc) if isinstance(exc, TelegramError) else None)

    def fold(self, chat_id: str, message_id: str, shown: Reply, then: Reply) -> Reply | None:
        """The choice shown in the message pressed and the next step below it, in that one
        message: one editMessageText instead of an edit and a new message, and the chat reads
        as before. None when the message pressed is not the chat's last one (the next step
        then goes below), or the next step carries documents or would not fit."""
        if (shown.chosen is None or then.replace or then.chosen is not None or then.documents
                or int(message_id) < self.newest.get(str(chat_id), 0)):
            return None
        lead = f"{shown.text}\n\n→ {shown.chosen}"
        after = lead.count("\n") + 2  # the next step's first line
        headings = (shown.headings or ([0] if shown.kind in HEADED else [])) + [after - 2]
        headings += [after + n for n in then.headings or ([0] if then.kind in HEADED else [])]
        folded = Reply(f"{lead}\n\n{then.text}", choices=then.choices, actions=then.actions, kind=then.kind,
                       headings=headings)
        return folded if utf16_len(_html(folded)) <= MAX_TEXT else None

    async def _edit(self, chat_id: str, reply: Reply, message_id: str) -> Outcome | None:
        """The pressed message updated in place; None when it cannot be (send it anew)."""
        text = split_text(_html(reply))[-1]  # the message pressed is the last part of its reply
        try:
            await api(self.bot, "editMessageText", chat_id=chat_id, message_id=int(message_id), text=text,
                      parse_mode=ParseMode.HTML, reply_markup=markup(keyboard(reply)))
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return Sent(message_id)
            if reply.chosen is not None:
                return Sent(None)  # showing the choice is a courtesy: nothing to send instead
            log.info("chat %s: message %s not editable (%s): sent anew", chat_id, message_id, exc)
            return None
        return Sent(message_id)


# --- updates in --------------------------------------------------------------------------------

class TgUpdate:
    """An update as Telegram sent it (its JSON), with the few fields the bot reads: the sender,
    the chat, the message or the press. (python-telegram-bot's `Update` builds every object
    inside, a press's whole message pressed with its keyboard: 110–190 µs an update on the
    event loop, a tenth of the bot's CPU a message.) A shape not foreseen reads as no sender."""

    __slots__ = ("update_id", "message", "edited", "callback_query", "user", "chat")

    def __init__(self, data: dict):
        self.update_id = data["update_id"]
        self.message = _mapping(data.get("message"))
        self.edited = self.message is None and _mapping(data.get("edited_message")) is not None
        if self.edited:  # a message sent before, changed: from the same sender, in the same chat
            self.message = _mapping(data.get("edited_message"))
        self.callback_query = _mapping(data.get("callback_query"))
        self.user = _mapping((self.callback_query or self.message or {}).get("from"))
        pressed = _mapping((self.callback_query or {}).get("message"))
        self.chat = _mapping((pressed or self.message or {}).get("chat"))


def _mapping(value) -> dict | None:
    return value if isinstance(value, dict) else None


def lang_of(update: TgUpdate) -> str:
    code = (update.user or {}).get("language_code")
    return normalise_lang(code) if isinstance(code, str) and code else "zh"


def full_name(user: dict) -> str:
    return " ".join(str(user[k]) for k in ("first_name", "last_name") if user.get(k))


def addressed(text: str, username: str, reply_to: dict | None = None) -> tuple[bool, str]:
    """In a group: is the message for this bot (a command without another bot's name, an
    @mention, or a reply to one of the bot's messages: Telegram delivers those to a bot in
    privacy mode because they are addressed to it), and its text without the mention."""
    username = username.lower()
    if text.startswith("/"):
        target = text.split(" ", 1)[0].partition("@")[2].lower()
        return (not target or target == username), text
    if username and f"@{username}" in text.lower():
        # the mention and the spaces around it one space: 请问 @bot 江苏专利 → 请问 江苏专利
        return True, re.sub(rf"\s*@{re.escape(username)}\s*", " ", text, flags=re.I).strip()
    author = _mapping((reply_to or {}).get("from")) or {}
    if username and author.get("is_bot") and str(author.get("username") or "").lower() == username:
        return True, text
    return False, text


async def to_incoming(bot, update: TgUpdate) -> Incoming | None:
    """An update as the dialog's `Incoming` (None for what the bot does not handle)."""
    user, chat = update.user, update.chat
    if user is None or "id" not in user:
        return None
    base = dict(channel=CHANNEL, user_id=str(user["id"]), message_id=str(update.update_id), lang=lang_of(update),
                display_name=full_name(user))
    if (query := update.callback_query) is not None:
        pressed = _mapping(query.get("message"))
        return Incoming(chat_id=str(chat["id"] if chat else user["id"]), button=str(query.get("data") or ""), **base,
                        group=pressed is not None and chat is not None and chat.get("type") != "private",
                        mentioned=True, pressed=str(pressed["message_id"]) if pressed else None)
    message = update.message
    if message is None or chat is None:
        return None
    text = message.get("text") or message.get("caption") or ""
    group = chat.get("type") != "private"
    mentioned = False
    if group:
        mentioned, text = addressed(text, bot.username or "", _mapping(message.get("reply_to_message")))
    if update.edited:  # taken when it was sent: its new text is not read as an answer, and the user is told
        if group and not mentioned:
            return None
        return Incoming(chat_id=str(chat["id"]), group=group, mentioned=mentioned, unreadable="edited", **base)
    if any(kind in message for kind in UNSUPPORTED):  # its caption is not read as an answer
        if album := message.get("media_group_id"):  # an album is one thing sent: answered once
            base["message_id"] = f"album:{chat['id']}:{album}"
        return Incoming(chat_id=str(chat["id"]), group=group, mentioned=mentioned, unreadable="unsupported", **base)
    document = _mapping(message.get("document"))
    try:
        attachment = await download(bot, document) if document else None
    except TooLarge:  # answered by the dialog, as any message: in the user's language, through the outbox
        return Incoming(chat_id=str(chat["id"]), group=group, mentioned=mentioned, unreadable="too_large", **base)
    if document and attachment is None:  # Telegram no longer has it: said, not silence
        return Incoming(chat_id=str(chat["id"]), group=group, mentioned=mentioned, unreadable="not_downloaded", **base)
    if not text and attachment is None and not (group and mentioned):  # a mention alone: the group's help
        return None
    if _forwarded(message) and command_head(text)[0].startswith("/"):
        # someone else's command passed on (a colleague's /restart) is not the user's to run;
        # a forwarded answer (a colleague's figures) is read as the user's own
        return Incoming(chat_id=str(chat["id"]), group=group, mentioned=mentioned, unreadable="forwarded_command", **base)
    return Incoming(chat_id=str(chat["id"]), text=text, group=group, mentioned=mentioned, attachment=attachment, **base)


def _forwarded(message: dict) -> bool:
    """Forwarded from elsewhere: `forward_origin` since Bot API 7.0, `forward_date` before it."""
    return bool(message.get("forward_origin") or message.get("forward_date"))


class TooLarge(ValueError):
    """A document over MAX_FILE (not downloaded when Telegram gives its size): `to_incoming`
    reads it as a message the bot could not take, too_large."""


async def download(bot, document: dict) -> Attachment | None:
    """A document the user sent (its JSON), downloaded through getFile and the file URL (None
    when Telegram no longer has it, which the dialog says; a network failure raises, and the
    update comes again)."""
    name = document.get("file_name") or "document"
    if (document.get("file_size") or 0) > MAX_FILE:
        raise TooLarge(name)
    try:
        file = await bot.get_file(document["file_id"])
        content = bytes(await file.download_as_bytearray())
    except BadRequest as exc:
        log.warning("document %s not downloadable: %s", name, exc)
        return None
    if len(content) > MAX_FILE:
        raise TooLarge(name)
    return Attachment(name, content, document.get("mime_type") or "")


def make_bot(token: str, api_base_url: str | None = None) -> ExtBot:
    """The Bot API client (bot/bot_api_http.py): a small pool, one connection of it for the
    long poll (`fetch_updates`), the rest for sending: Telegram takes about 30 messages a
    second from a bot, which 8 connections carry even at 200 ms a call. (The same client
    stands for PTB's own `get_updates`, which the bot does not call: PTB makes no other.)"""
    request = bot_api_http.client(connection_pool_size=9, read_timeout=READ_TIMEOUT, write_timeout=READ_TIMEOUT,
                                  connect_timeout=CONNECT_TIMEOUT, pool_timeout=30.0)
    urls = {}
    if api_base_url:
        urls = dict(base_url=api_base_url, base_file_url=api_base_url.replace("/bot", "/file/bot"))
    return ExtBot(token, request=request, get_updates_request=request, **urls)


# --- the bot process ---------------------------------------------------------------------------

class TelegramBot:
    """`clusterbot serve`: the polling loop (or the webhook), the dialog, the scheduler."""

    def __init__(self, engine, clock, allow: set[int] | None = None, reminder_interval: float = SWEEP_SECONDS):
        self.engine, self.clock, self.allow = engine, clock, allow
        self.reminder_interval = reminder_interval
        self.conversation = Conversation(engine, clock, channel=CHANNEL)
        self.db = Database(engine)
        # Across workers a user's turns are kept one at a time by the lock on their row
        # (repo.get_or_create_user); this one only keeps a second turn of theirs from
        # occupying a database thread while it waits for that lock.
        self.user_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.tasks: set[asyncio.Task] = set()
        self.bot = None
        self.delivery: Delivery | None = None
        self.channel: TelegramChannel | None = None
        self.scheduler: Scheduler | None = None
        self.stopping = asyncio.Event()
        # Webhook mode: a press is answered in the answer to its webhook request (no call).
        self.answer_in_reply = False

    def allowed(self, user_id: int) -> bool:
        return self.allow is None or user_id in self.allow

    def spawn(self, coro, name: str) -> None:
        """A task beside the turns (a flush, a callback answer), awaited before exit."""
        spawn(self.tasks, coro, name)

    async def call(self, what: str, coro) -> None:
        """A Bot API call outside the outbox: a failure is logged in a line, never raised."""
        try:
            await coro
        except TelegramError as exc:
            log.warning("%s failed: %s: %s", what, type(exc).__name__, exc)

    def spawn_api(self, method: str, **params) -> None:
        """A Bot API call outside the outbox, beside the turns (`call`, `spawn`)."""
        self.spawn(self.call(method, api(self.bot, method, **params)), method)

    # --- one update ---

    async def process(self, update: TgUpdate) -> None:
        """One update, through its commit (the reply's sending runs beside)."""
        user = update.user
        if user is not None and not self.allowed(user.get("id")):
            return await self.refuse(update)
        try:
            await self.handle(update)
        finally:
            if update.callback_query and not self.answer_in_reply:
                # A press is answered once `handle` has spawned its reply's sending: the
                # answer's request is written just after the reply's and is done before a quick
                # user's next message arrives. (Spawned before the turn, it took the interpreter
                # from the turn's thread, 0.2 ms a press; awaited after the reply was sent, it
                # fell just where the next message arrives and held that message's turn back.)
                self.spawn_api("answerCallbackQuery", callback_query_id=update.callback_query.get("id"))

    async def handle(self, update: TgUpdate) -> None:
        """An allowed user's update: read, its turn committed, its reply sent beside."""
        try:
            incoming = await to_incoming(self.bot, update)
        except TelegramError:
            raise  # the file could not be fetched: the batch comes again
        except Exception:  # an update of a shape not foreseen: skipped, never retried forever
            log.exception("update %s not readable", update.update_id)
            return
        if incoming is None:
            return
        if update.message:
            self.channel.saw(incoming.chat_id, update.message.get("message_id"))
        async with self.user_locks[incoming.user_id]:
            rows = await self.delivery.run_turn(self.conversation.receive, incoming)
        self.spawn(self.delivery.flush_chat(CHANNEL, incoming.chat_id, rows), "flush")

    async def refuse(self, update: TgUpdate) -> None:
        """Someone not on the allow-list: a polite answer, and nothing of theirs is stored but
        that answer's outbox row (pruned with the others)."""
        text = t(lang_of(update), "telegram.not_allowed")  # the client's: a stranger has no stored language
        if update.callback_query:
            self.spawn_api("answerCallbackQuery", text=text, show_alert=True,
                           callback_query_id=update.callback_query.get("id"))
        elif update.chat and "id" in update.chat and self.asks_the_bot(update):
            # Through the outbox, committed before the update is confirmed: a 429 or a 5xx is
            # waited out as for any reply, and a restart still sends it (a send retried here
            # would die with the process). A redelivered update may be refused twice.
            chat_id = str(update.chat["id"])
            await self.db.run(self._enqueue, chat_id, Reply(text).to_json())
            self.spawn(self.delivery.flush_chat(CHANNEL, chat_id), "flush")

    def asks_the_bot(self, update: TgUpdate) -> bool:
        """A message a user sent the bot: in a private chat, or addressed to it in a group;
        never a service message (someone joined, a pin), which a stranger's refusal would
        answer in the group each time."""
        message = update.message
        if message is None or not ("text" in message or "document" in message
                                   or any(kind in message for kind in UNSUPPORTED)):
            return False
        if update.chat.get("type") == "private":
            return True
        return addressed(message.get("text") or message.get("caption") or "", self.bot.username or "",
                         _mapping(message.get("reply_to_message")))[0]

    def _enqueue(self, chat_id: str, payload: dict) -> None:
        with session(self.engine) as s:
            outbox.enqueue(s, CHANNEL, chat_id, payload)
            s.commit()

    async def process_batch(self, updates) -> None:
        """A batch of updates: each user's in order, users side by side; returns when every
        one is committed."""
        by_user: dict[object, list[TgUpdate]] = defaultdict(list)
        for update in updates:
            by_user[(update.user or {}).get("id")].append(update)

        async def one_user(batch):
            for update in batch:
                await self.process(update)
        await asyncio.gather(*(one_user(b) for b in by_user.values()))

    # --- polling ---

    async def poll(self) -> None:
        """Long polling; the offset confirms only updates whose turns are committed."""
        offset = None
        failures = 0
        while not self.stopping.is_set():
            fetch = asyncio.ensure_future(fetch_updates(self.bot, offset, POLL_TIMEOUT))
            stop = asyncio.ensure_future(self.stopping.wait())
            await asyncio.wait({fetch, stop}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            if not fetch.done():  # stopping: the updates of this poll, if any, come again
                fetch.cancel()
                await asyncio.gather(fetch, return_exceptions=True)
                break
            try:
                updates = fetch.result()
                failures = 0
            except RetryAfter as exc:
                await self.pause(retry_seconds(exc))
                continue
            except (TelegramError, KeyError, TypeError) as exc:  # or an answer of another shape
                failures += 1
                log.warning("getUpdates failed: %s: %s", type(exc).__name__, exc)
                await self.pause(min(2 ** failures, 30) / 4)
                continue
            if not updates:
                continue
            try:
                await self.process_batch(updates)
            except TelegramError as exc:  # a file not fetched: the batch comes again (handled once)
                log.warning("a batch of updates not handled: %s: %s", type(exc).__name__, exc)
                await self.pause(1.0)
                continue
            except Exception:
                log.exception("a batch of updates not handled")
                await self.pause(1.0)
                continue
            offset = updates[-1].update_id + 1
        if offset is not None:  # confirm the last batch, so it does not come again
            await self.call("getUpdates", fetch_updates(self.bot, offset, 0))

    async def pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass

    # --- webhook ---

    async def serve_webhook(self, listen: tuple[str, int], url: str, path: str, secret: str | None,
                            max_connections: int | None = None) -> None:
        """The webhook: an update is answered 200 only after its turn is committed, so a
        crash before makes Telegram deliver it again. Telegram sends a chat's next message
        only once the previous one is answered (its Bot API server keeps a queue per chat,
        and one per user for button presses): a user's messages reach the workers in order."""
        import tornado.escape
        import tornado.web

        from bot import health

        bot = self
        self.answer_in_reply = True
        in_hand: set[asyncio.Task] = set()  # the turns being handled, finished before exit

        class Hook(tornado.web.RequestHandler):
            async def post(self):
                if secret and self.request.headers.get("X-Telegram-Bot-Api-Secret-Token") != secret:
                    self.set_status(403)
                    return
                if bot.stopping.is_set():  # shutting down: Telegram sends it again, elsewhere
                    self.set_status(503)
                    return
                try:
                    update = TgUpdate(tornado.escape.json_decode(self.request.body))
                except Exception:
                    self.set_status(400)
                    return
                turn = asyncio.ensure_future(bot.process_batch([update]))
                in_hand.add(turn)
                try:
                    await turn
                    if update.callback_query and update.user and bot.allowed(update.user.get("id")):
                        # the press answered with the 200: Telegram stops the spinner, no call
                        self.write({"method": "answerCallbackQuery",
                                    "callback_query_id": update.callback_query.get("id")})
                except TelegramError as exc:  # a file not fetched: Telegram delivers it again
                    log.warning("update %s not handled: %s: %s", update.update_id, type(exc).__name__, exc)
                    self.set_status(503)
                except Exception:
                    log.exception("update %s not handled", update.update_id)
                    self.set_status(500)
                finally:
                    in_hand.discard(turn)

        app = tornado.web.Application([(f"/{path.lstrip('/')}", Hook), *health.routes(self.db, self.stopping)])
        server = app.listen(listen[1], address=listen[0])
        try:
            await self.call("setWebhook", self.bot.set_webhook(url, secret_token=secret, max_connections=max_connections,
                                                               allowed_updates=ALLOWED_UPDATES))
            await self.stopping.wait()
        finally:
            # No new connection; a request on a kept-alive one is answered 503 (above); the
            # turns in hand finish and are answered; then the connections close.
            server.stop()
            if in_hand:
                await asyncio.wait(set(in_hand), timeout=30)
            await server.close_all_connections()

    # --- the process ---

    async def run(self, token: str, api_base_url: str | None = None, webhook: dict | None = None) -> int:
        """Until SIGTERM or SIGINT: the turn in hand is finished, the marks written, exit 0."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        self.bot = make_bot(token, api_base_url)
        while True:
            try:
                await self.bot.initialize()  # getMe: the bot's name, for mentions in groups
                break
            except InvalidToken:
                # 401 or 404: revoked, or not this server's token; asking again never helps. (Its
                # message names the token: the command says it in a line of its own.)
                await self.call("shutdown", self.bot.shutdown())
                self.db.executor.shutdown(wait=True)
                raise TokenRejected() from None
            except TelegramError as exc:  # a 5xx, a timeout, no connection: again
                log.warning("getMe failed: %s: %s", type(exc).__name__, exc)
                await self.pause(2.0)
                if self.stopping.is_set():
                    return 0
        self.channel = TelegramChannel(self.bot)
        self.delivery = Delivery(self.db, {CHANNEL: self.channel}, turns_here=True)
        self.scheduler = Scheduler(self.db, self.clock, self.delivery, interval=self.reminder_interval)
        self.conversation.on_replanned = self.scheduler.wake
        self.scheduler.start()
        for lang, code in (("zh", None), ("zh", "zh"), ("en", "en")):
            commands = [BotCommand(name, t(lang, f"telegram.commands.{name}")) for name in MENU]
            await self.call("setMyCommands", self.bot.set_my_commands(commands, language_code=code))
        try:
            if webhook:
                await self.serve_webhook(**webhook)
            else:
                await self.call("deleteWebhook", self.bot.delete_webhook())
                await self.poll()
        finally:
            if self.tasks:
                await asyncio.gather(*self.tasks, return_exceptions=True)
            await self.scheduler.stop()
            await self.call("shutdown", self.bot.shutdown())
            self.db.executor.shutdown(wait=True)
        return 0


class TokenRejected(Exception):
    """The Bot API refused the token at start (401/404): `serve` ends with exit status 2."""


class TokenFilter(logging.Filter):
    """Masks the token wherever a log line would carry it (httpx logs request URLs)."""

    def __init__(self, token: str):
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), ()
        return True


class OneLine(logging.Filter):
    """PTB logs a proxy's HTML error page with a JSON-decode traceback; the call's failure
    is handled (and logged in a line) by the bot: here it is one line too, without the page."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and "invalid JSON" in record.msg:
            record.msg, record.args, record.exc_info, record.exc_text = "the Bot API answered a non-JSON page", (), None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def quiet_token(token: str) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("telegram.request.BaseRequest").addFilter(OneLine())
    masking = TokenFilter(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(masking)

"""The Telegram channel: python-telegram-bot in front of the same dialog as the terminal.

No conversation logic lives here. A message or a button press goes to `Conversation.handle`
(in a worker thread: the database is synchronous), whose replies are written to the outbox
inside the same transaction as the answer they acknowledge. The `Outbox` then sends them in
order per chat, and keeps what Telegram refuses for now (429, timeouts, 5xx) for a retry:
a committed reply is never lost, and a restart sends whatever was left unsent.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import datetime as dt
import html
import json
import logging
import os
import re
from collections import defaultdict

os.environ.setdefault("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after as a timedelta, no warning

from sqlmodel import select  # noqa: E402
from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update  # noqa: E402
from telegram.constants import ParseMode  # noqa: E402
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut  # noqa: E402
from telegram.ext import (  # noqa: E402
    Application, ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler, filters,
)

from bot.reminders import JOB_OPTIONS, SWEEP_SECONDS, outbox_enqueue, run_on_job_queue  # noqa: E402
from dialogs.compare import answer_question  # noqa: E402
from dialogs.conversation import Conversation, Reply, parse_command  # noqa: E402
from locales import normalise_lang, t  # noqa: E402
from storage import repo  # noqa: E402
from storage.db import session  # noqa: E402
from storage.models import OutboxMessage, utcnow  # noqa: E402

log = logging.getLogger(__name__)
CHANNEL = "telegram"
MAX_TEXT = 4000  # Telegram allows 4096; a margin for the markup added to a chunk
TOKEN_RE = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")
# Commands shown in Telegram's menu, described in locales (telegram.commands.<name>).
MENU = ["start", "new", "list", "switch", "skip", "back", "edit", "why", "status", "result",
        "compare", "export", "ask", "track", "deadlines", "remind", "pause", "resume", "untrack",
        "lang", "restart", "help"]
# What a group chat answers; everything else continues in private chat.
GROUP_COMMANDS = {"ask", "help", "start"}


# --- replies as Telegram messages ----------------------------------------------------------

def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _prefix_within(text: str, limit: int) -> str:
    """The longest prefix of at most `limit` UTF-16 units (a character takes one or two)."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return text[:i]
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
    """Choices first (short ones five to a row), then the actions on their own row."""
    rows: list[list[dict]] = []
    choices = [{"text": b.label, "data": b.data} for b in reply.choices]
    width = 5 if all(len(b["text"]) <= 3 for b in choices) else 2
    rows += [choices[i:i + width] for i in range(0, len(choices), width)]
    actions = [{"text": b.label, "data": b.data} for b in reply.actions]
    rows += [actions[i:i + 3] for i in range(0, len(actions), 3)]
    return rows


def _html(reply: Reply) -> str:
    """A reply's text escaped for HTML; a question or a result has its first line in bold."""
    escaped = html.escape(reply.text, quote=False)
    if reply.kind in ("question", "result"):
        first, _, rest = escaped.partition("\n")
        escaped = f"<b>{first}</b>" + (f"\n{rest}" if rest else "")
    return escaped


def to_payloads(replies: list[Reply]) -> list[dict]:
    """Replies as outbox payloads. Consecutive replies go out as one message (“已保存…” and
    the next question read as one step) unless a keyboard or the length limit separates
    them; a long text is split at line ends, the keyboard riding on the last part."""
    payloads: list[dict] = []
    texts: list[str] = []

    def flush(rows=None):
        if not texts:
            return
        chunks = split_text("\n\n".join(texts))
        for chunk in chunks:
            payloads.append({"op": "send", "text": chunk})
        if rows:
            payloads[-1]["keyboard"] = rows
        texts.clear()

    for reply in replies:
        texts.append(_html(reply))
        rows = keyboard(reply)
        if rows or reply.documents:
            flush(rows)
        for name, content in reply.documents:
            payloads.append({"op": "document", "filename": name, "content": base64.b64encode(content).decode()})
    flush()
    return payloads


def markup(rows: list[list[dict]] | None) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b["text"], callback_data=b["data"]) for b in row]
                                 for row in rows])


# --- the outbox ----------------------------------------------------------------------------

def retry_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class Database:
    """The bot's database work, off the event loop. On SQLite, on one thread: SQLite takes
    one writer at a time, and threads that contend for it wait in its busy handler (sleeps
    of up to 100 ms); queued on one thread, the work runs back to back instead. PostgreSQL
    locks rows, not the database: there, as many threads as the connection pool holds."""

    def __init__(self, engine):
        self.engine = engine
        threads = 1 if engine.dialect.name == "sqlite" else engine.pool.size()
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="db")

    async def run(self, fn, *args, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(self.executor, lambda: fn(*args, **kwargs))


class Outbox:
    """Sends committed replies in order, one chat at a time; what fails for now waits."""

    GIVE_UP_AFTER = 12  # attempts, for errors that are not Telegram saying "later"

    MARK_EVERY = 0.05  # seconds: messages sent meanwhile are marked in one commit

    def __init__(self, db: Database, bot):
        self.db, self.engine, self.bot = db, db.engine, bot
        self.locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.sent = 0
        # Sent but not yet marked in the database: not to be sent again meanwhile.
        self.unmarked: set[int] = set()

    def _pending(self, chat_id: str) -> list[OutboxMessage]:
        with session(self.engine) as s:
            rows = s.exec(select(OutboxMessage)
                          .where(OutboxMessage.channel == CHANNEL, OutboxMessage.chat_id == chat_id,
                                 OutboxMessage.sent_at == None)  # noqa: E711
                          .order_by(OutboxMessage.id).limit(50))
            return [r for r in rows if r.id not in self.unmarked]

    def _chats_due(self) -> list[str]:
        with session(self.engine) as s:
            rows = repo.due_outbox(s, CHANNEL, utcnow(), limit=500)
            return list(dict.fromkeys(r.chat_id for r in rows if r.id not in self.unmarked))

    def _mark(self, message_id: int, *, sent: bool, delay: float = 0.0, error: str | None = None) -> None:
        """One message's fate when it was not simply sent: retry later, or given up."""
        with session(self.engine) as s:
            row = s.get(OutboxMessage, message_id)
            row.attempts += 1
            row.error = error[:500] if error else None
            if sent:
                row.sent_at = utcnow()
            else:
                row.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)
            s.add(row)
            s.commit()

    def _mark_sent(self, message_ids: list[int]) -> None:
        with session(self.engine) as s:
            for row in s.exec(select(OutboxMessage).where(OutboxMessage.id.in_(message_ids))):
                row.sent_at, row.attempts = utcnow(), row.attempts + 1
                s.add(row)
            s.commit()

    async def flush_chat(self, chat_id: str) -> None:
        """Send this chat's pending messages in order; stop at the first that must wait.

        Whoever commits new messages calls this after its commit, and the lock serialises
        the callers, so one read of the pending messages per call sees them all. Messages
        sent are marked by `mark_sent_loop`, many in one commit (group commit): a crash in
        the few milliseconds between may send one twice (delivery is at least once), never
        drop one."""
        async with self.locks[chat_id]:
            rows = await self.db.run(self._pending, chat_id)
            for row in rows:
                if row.next_attempt_at.replace(tzinfo=dt.timezone.utc) > utcnow():
                    return  # waiting for its retry: later messages keep their place
                outcome = await self._deliver(row)
                if outcome == "sent":
                    self.unmarked.add(row.id)
                    self.sent += 1
                elif outcome == "wait":
                    return

    async def mark_sent_loop(self) -> None:
        """Mark what was sent, every MARK_EVERY seconds, in one commit."""
        while True:
            await asyncio.sleep(self.MARK_EVERY)
            await self.mark_sent_now()

    async def mark_sent_now(self) -> None:
        if self.unmarked:
            batch = list(self.unmarked)
            await self.db.run(self._mark_sent, batch)
            self.unmarked.difference_update(batch)

    async def flush_all(self) -> None:
        chats = await self.db.run(self._chats_due)
        await asyncio.gather(*(self.flush_chat(c) for c in chats))

    async def _deliver(self, row: OutboxMessage) -> str:
        """One message to Telegram: "sent", "done" (never sendable, recorded) or "wait"."""
        payload = json.loads(row.payload)
        try:
            await self._call(row.chat_id, payload)
        except BadRequest as exc:  # before NetworkError: BadRequest is one of its kinds
            return await self._bad_request(row, exc)
        except RetryAfter as exc:
            await self._later(row, retry_seconds(exc), "429 retry after")
            return "wait"
        except (TimedOut, NetworkError) as exc:  # a timeout or a 5xx: back off, then again
            if row.attempts + 1 >= self.GIVE_UP_AFTER:
                log.error("outbox message %s: giving up after %s attempts: %s", row.id, row.attempts + 1, exc)
                await self.db.run(self._mark, row.id, sent=True, error=f"gave up: {exc}")
                return "done"
            await self._later(row, min(2 ** row.attempts, 60), str(exc))
            return "wait"
        except Forbidden as exc:  # the user blocked the bot: nothing to retry
            await self.db.run(self._mark, row.id, sent=True, error=f"forbidden: {exc}")
            return "done"
        return "sent"

    async def _later(self, row: OutboxMessage, delay: float, reason: str) -> None:
        await self.db.run(self._mark, row.id, sent=False, delay=delay, error=reason)
        loop = asyncio.get_running_loop()
        loop.call_later(delay + 0.05, lambda: asyncio.ensure_future(self.flush_chat(row.chat_id)))

    async def _bad_request(self, row: OutboxMessage, exc: BadRequest) -> str:
        if "not modified" in str(exc).lower():
            return "sent"
        # A message Telegram will never take as it is: recorded, and the queue moves on.
        log.error("outbox message %s refused: %s", row.id, exc)
        await self.db.run(self._mark, row.id, sent=True, error=f"refused: {exc}")
        return "done"

    async def _call(self, chat_id: str, payload: dict) -> None:
        op = payload["op"]
        if op == "send":
            await self.bot.send_message(chat_id, payload["text"], parse_mode=ParseMode.HTML,
                                        reply_markup=markup(payload.get("keyboard")),
                                        link_preview_options=None)
        elif op == "edit":
            await self.bot.edit_message_text(payload["text"], chat_id=chat_id, message_id=payload["message_id"],
                                             parse_mode=ParseMode.HTML, reply_markup=markup(payload.get("keyboard")))
        elif op == "document":
            await self.bot.send_document(chat_id, document=base64.b64decode(payload["content"]),
                                         filename=payload["filename"])
        else:
            raise ValueError(f"unknown outbox op {op}")


# --- the application -----------------------------------------------------------------------

class TelegramBot:
    """The handlers, the outbox and the jobs of one bot."""

    def __init__(self, engine, clock, allow: set[int] | None = None, reminder_interval: float = SWEEP_SECONDS):
        self.engine, self.clock = engine, clock
        self.allow = allow
        self.reminder_interval = reminder_interval
        self.conversation = Conversation(engine, clock, channel=CHANNEL)
        self.db = Database(engine)
        # Across workers a user's turns are kept one at a time by the lock on their row
        # (repo.get_or_create_user); this one only keeps a second turn of theirs from
        # occupying a database thread while it waits for that lock.
        self.user_locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.outbox: Outbox | None = None

    def allowed(self, user_id: int) -> bool:
        return self.allow is None or user_id in self.allow

    @staticmethod
    def lang_of(update: Update) -> str:
        code = update.effective_user.language_code if update.effective_user else None
        return normalise_lang(code) if code else "zh"

    def enqueue(self, chat_id: int | str, pressed: dict | None = None):
        """The `deliver` hook: write the replies to the outbox inside the answer's transaction.

        `pressed` is the message whose button was pressed and the label chosen: an updated
        prompt (`Reply.replace`) is shown in that message; otherwise, if the press was
        accepted, the message shows the choice and loses its buttons."""

        def deliver(s, _user, replies: list[Reply]) -> None:
            payloads = []
            if pressed and replies and replies[0].replace:
                first, replies_left = replies[0], replies[1:]
                payloads.append({"op": "edit", "message_id": pressed["message_id"], "text": _html(first),
                                 "keyboard": keyboard(first)})
            else:
                replies_left = replies
                if pressed and pressed.get("chosen") and (not replies or replies[0].kind != "error"):
                    payloads.append({"op": "edit", "message_id": pressed["message_id"],
                                     "text": f"{pressed['html']}\n\n<b>→ {html.escape(pressed['chosen'], quote=False)}</b>"})
            payloads += to_payloads(replies_left)
            for payload in payloads:
                repo.enqueue(s, CHANNEL, str(chat_id), payload)
        return deliver

    async def refuse(self, update: Update) -> None:
        """Someone not on the allow-list: a polite answer, and nothing of theirs is stored."""
        lang = self.lang_of(update)
        if update.callback_query:
            await update.callback_query.answer(t(lang, "telegram.not_allowed"), show_alert=True)
        elif update.effective_chat:
            await update.effective_chat.send_message(t(lang, "telegram.not_allowed"))

    async def on_private_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A message in private chat: the dialog answers."""
        user, chat, message = update.effective_user, update.effective_chat, update.effective_message
        if not self.allowed(user.id):
            await self.refuse(update)
            return
        async with self.user_locks[user.id]:
            await self.handle(chat.id, update, text=message.text)
        await self.outbox.flush_chat(str(chat.id))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press: answered at once; the question it answered shows the choice."""
        query, user = update.callback_query, update.effective_user
        if not self.allowed(user.id):
            await self.refuse(update)
            return
        answered = asyncio.ensure_future(query.answer())  # stops the button's spinner; runs beside the work
        chat_id = query.message.chat.id if query.message else user.id
        pressed = None
        if query.message and query.message.text:
            chosen = next((b.text for row in (query.message.reply_markup.inline_keyboard
                                              if query.message.reply_markup else [])
                           for b in row if b.callback_data == query.data), None)
            pressed = {"message_id": query.message.message_id, "html": query.message.text_html,
                       # only an answer shows in its question; a command button (/skip) does not
                       "chosen": chosen if (query.data or "").startswith("c:") else None}
        async with self.user_locks[user.id]:
            await self.handle(chat_id, update, data=query.data or "", pressed=pressed)
        await self.outbox.flush_chat(str(chat_id))
        try:
            await answered
        except (BadRequest, NetworkError):  # too old to answer, or a hiccup: the press still counted
            pass

    async def handle(self, chat_id: int, update: Update, text: str | None = None, data: str | None = None,
                     pressed: dict | None = None) -> None:
        """The dialog's turn in the database thread. A bug rolls the turn back (nothing half
        saved) and the user is told, in their language, that the message was not handled."""
        user = update.effective_user
        try:
            await self.db.run(self.conversation.handle, str(user.id), text=text, data=data,
                              display_name=user.full_name or "", update_id=update.update_id, chat_id=chat_id,
                              lang=self.lang_of(update), deliver=self.enqueue(chat_id, pressed))
        except Exception:
            log.exception("update %s not handled", update.update_id)
            lang = await self.db.run(self.conversation.language_of, str(user.id))
            await self.db.run(self._enqueue_direct, None, chat_id,
                              Reply(t(lang, "terminal.internal_error"), kind="error"))

    async def on_group_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """In a group: quick questions and commands addressed to the bot; a pre-screening
        continues in private chat."""
        message, user = update.effective_message, update.effective_user
        text, username = message.text or "", (context.bot.username or "").lower()
        command = parse_command(text) if text.startswith("/") else None
        head = text.split(" ", 1)[0]
        if command:
            target = head.partition("@")[2].lower()
            if target and target != username:
                return  # a command for another bot
        elif f"@{username}" in text.lower():
            command = ("ask", re.sub(rf"@{re.escape(username)}", " ", text, flags=re.I).strip())
        else:
            return
        if user and not self.allowed(user.id):
            await self.refuse(update)
            return
        lang = self.lang_of(update)
        name, arg = command
        if name == "ask" and arg:
            reply = Reply(answer_question(arg, lang))
        elif name in GROUP_COMMANDS:
            reply = Reply(t(lang, "telegram.group_help", bot=context.bot.username or ""))
        else:
            reply = Reply(t(lang, "telegram.go_private", bot=context.bot.username or ""))
        await self.db.run(self._enqueue_direct, update.update_id, message.chat.id, reply)
        await self.outbox.flush_chat(str(message.chat.id))

    def _enqueue_direct(self, update_id: int | None, chat_id: int, reply: Reply) -> None:
        """A reply outside the dialog's transaction (group answers, an apology)."""
        with session(self.engine) as s:
            if update_id is not None and not repo.first_time(s, CHANNEL, str(update_id)):
                return
            for payload in to_payloads([reply]):
                repo.enqueue(s, CHANNEL, str(chat_id), payload)
            s.commit()

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("while handling an update: %s", context.error, exc_info=context.error)

    async def sweep_outbox(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.outbox.flush_all()

    async def post_init(self, application: Application) -> None:
        """At start: the command menus in both languages, then whatever the last run left unsent."""
        self.outbox = Outbox(self.db, application.bot)
        application.create_task(self.outbox.mark_sent_loop(), name="outbox marks")
        for lang, code in (("zh", None), ("zh", "zh"), ("en", "en")):
            commands = [BotCommand(name, t(lang, f"telegram.commands.{name}")) for name in MENU]
            try:
                await application.bot.set_my_commands(commands, language_code=code)
            except (NetworkError, TimedOut) as exc:
                log.warning("could not set the command menu (%s): %s", code or "default", exc)
        # The database is the truth: repeating jobs only wake the senders; nothing is pickled.
        # The reminder sweep writes into the outbox; the outbox job sends within two seconds.
        application.job_queue.run_repeating(self.sweep_outbox, interval=2, first=0.1, name="outbox",
                                            job_kwargs=dict(JOB_OPTIONS))
        run_on_job_queue(application.job_queue, self.engine, self.clock, CHANNEL,
                         outbox_enqueue(CHANNEL, to_payloads), interval=self.reminder_interval,
                         executor=self.db.executor)

    async def post_stop(self, application: Application) -> None:
        """On a clean stop, nothing sent stays unmarked (it would be sent again)."""
        if self.outbox is not None:
            await self.outbox.mark_sent_now()

    def build(self, token: str, api_base_url: str | None = None) -> Application:
        # Updates are handled concurrently (one user's in order, by a lock per user). The
        # connection pool stays small: httpcore looks at every pooled connection on each
        # request, and PTB's default of 256 made that a fifth of the bot's time.
        builder = (ApplicationBuilder().token(token).concurrent_updates(True)
                   .connection_pool_size(16).pool_timeout(30.0)
                   .post_init(self.post_init).post_stop(self.post_stop))
        if api_base_url:
            builder = builder.base_url(api_base_url).base_file_url(api_base_url.replace("/bot", "/file/bot"))
        application = builder.build()
        private = filters.ChatType.PRIVATE & filters.TEXT
        groups = filters.ChatType.GROUPS & filters.TEXT
        application.add_handler(MessageHandler(private, self.on_private_text))
        application.add_handler(MessageHandler(groups, self.on_group_text))
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_error_handler(self.on_error)
        return application


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


def quiet_token(token: str) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    masking = TokenFilter(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(masking)

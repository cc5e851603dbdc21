"""The one delivery loop of every channel: committed replies from the outbox, through each
channel's `send` (bot/channel.py), in order per chat.

`flush_chat(channel, chat_id)` runs right after a turn's commit; `run_once()` on the
scheduler's tick picks up whatever else is due (a retry, rows left by a restart, reminders).
A row is leased before it is sent (storage/outbox.py) and marked after: `Sent` keeps the
platform's message id, `Later` backs off while the chat's later rows wait, `Refused` gives
the row up with its reason. Marks are written in batches (with the next claim, or within
MARK_EVERY): a crash in between sends a reply again (delivery is at least once), never
drops one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import json
import logging
import os
import socket
from collections import defaultdict

from bot.channel import Channel, Later, Outcome, Refused, Sent
from dialogs.messages import Reply
from storage import outbox
from storage.db import light_session
from storage.models import utcnow
from storage.outbox import Mark

log = logging.getLogger(__name__)

GIVE_UP_AFTER = 20   # attempts answered "later" before a row is given up
MARK_EVERY = 0.05    # seconds: marks made meanwhile are written in one commit


class Database:
    """A channel process's database work, off the event loop. On SQLite, on one thread:
    SQLite takes one writer at a time, and threads that contend for it wait in its busy
    handler (sleeps of up to 100 ms); queued on one thread, the work runs back to back
    instead. PostgreSQL locks rows, not the database: there, as many threads as the
    connection pool holds. The event loop never waits."""

    def __init__(self, engine):
        self.engine = engine
        threads = 1 if engine.dialect.name == "sqlite" else engine.pool.size()
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="db")

    async def run(self, fn, *args, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(self.executor, lambda: fn(*args, **kwargs))


WORKER_ENV = "CLUSTERBOT_WORKER"


def worker_name(channels, only_chat: str | None) -> str:
    """The sender's name in the outbox leases: the same for the same process after a restart
    (it then takes back its leases at once), so several senders of one channel on one host
    need their own CLUSTERBOT_WORKER."""
    name = os.environ.get(WORKER_ENV) or f"{socket.gethostname()[:30]}:{'+'.join(sorted(channels))}"
    return (name + (f":{only_chat}" if only_chat else ""))[:64]


def log_failure(task: asyncio.Task) -> None:
    """A task beside the work ended: its failure is logged, not lost."""
    if not task.cancelled() and task.exception() is not None:
        log.error("%s failed", task.get_name(), exc_info=task.exception())


class Delivery:
    def __init__(self, db: Database, channels: dict[str, Channel], only_chat: str | None = None):
        self.db, self.channels = db, channels
        self.only_chat = only_chat  # a process that serves one chat (the terminal)
        self.shared = db.engine.dialect.name != "sqlite"  # other workers may send to our chats
        self.worker = worker_name(channels, only_chat)
        self._started = False
        self.marks: list[Mark] = []
        self.sent = 0            # replies sent by this process
        self._busy: set[tuple[str, str]] = set()    # chats being sent now
        self._again: set[tuple[str, str]] = set()   # chats with new rows meanwhile
        self._timers: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task] = set()
        self._claiming = asyncio.Lock()
        # Rows handed to a channel whose mark is not written yet: never handed out again.
        self._unmarked: set[int] = set()

    # --- the database side: claim (with the marks made so far) and record ---------------------

    async def _claim(self, channels: list[str], chat_id: str | None) -> list:
        async with self._claiming:  # one claim at a time; it carries the marks made so far
            marks, self.marks = self.marks, []
            try:
                claiming = asyncio.ensure_future(self.db.run(self._claim_now, channels, chat_id, marks))
                if self.shared:
                    # On a shared database a chat is claimed again after its sends (_send_chat),
                    # so a stop often falls into a claim: it commits the marks it carries first.
                    try:
                        rows = await asyncio.shield(claiming)
                    except asyncio.CancelledError:
                        await asyncio.wait([claiming])
                        raise
                else:
                    rows = await claiming
            except Exception:
                self.marks = marks + self.marks
                raise
            self._unmarked.difference_update(m.row_id for m in marks)
            return [r for r in rows if r.id not in self._unmarked]

    def _claim_now(self, channels: list[str], chat_id: str | None, marks: list[Mark]) -> list:
        with light_session(self.db.engine) as s:
            if not self._started:
                outbox.release_worker(s, self.worker)
                self._started = True
            return outbox.claim(s, self.worker, channels, chat_id, marks)

    async def write_marks(self) -> None:
        """Write the marks made so far (the scheduler calls it every MARK_EVERY, and at exit)."""
        async with self._claiming:
            marks, self.marks = self.marks, []
            if marks:
                try:
                    await self.db.run(self._record, marks)
                except Exception:
                    self.marks = marks + self.marks
                    raise
                self._unmarked.difference_update(m.row_id for m in marks)

    def _record(self, marks: list[Mark]) -> None:
        with light_session(self.db.engine) as s:
            outbox.record(s, marks)

    # --- sending -------------------------------------------------------------------------------

    async def flush_chat(self, channel: str, chat_id: str) -> None:
        """Send this chat's due rows now, in order (after a turn's commit)."""
        key = (channel, str(chat_id))
        if key in self._busy:
            self._again.add(key)  # the sender in hand looks again when it is done
            return
        self._busy.add(key)
        try:
            rows = await self._claim([channel], str(chat_id))
            await self._send_chat(key, rows)
        finally:
            self._busy.discard(key)

    async def run_once(self) -> None:
        """Send whatever is due in every chat of this process's channels."""
        rows = await self._claim(list(self.channels), self.only_chat)
        by_chat: dict[tuple[str, str], list] = defaultdict(list)
        for row in rows:
            key = (row.channel, row.chat_id)
            if key in self._busy and key not in by_chat:
                self._again.add(key)  # its sender in hand takes them
            else:
                by_chat[key].append(row)
                self._busy.add(key)  # now, before any await: one sender per chat
        await asyncio.gather(*(self._send_claimed(key, chat_rows) for key, chat_rows in by_chat.items()))

    async def _send_claimed(self, key: tuple[str, str], rows: list) -> None:
        try:
            await self._send_chat(key, rows)
        finally:
            self._busy.discard(key)

    async def _send_chat(self, key: tuple[str, str], rows: list) -> None:
        while True:
            await self._send_rows(key, rows)
            # Another worker on the same database may have committed a reply to this chat
            # while ours were leased, and found the chat busy: look again once our marks are
            # in (the claim writes them), instead of leaving it to the next tick.
            if key not in self._again and not (self.shared and rows):
                return
            self._again.discard(key)
            rows = await self._claim([key[0]], key[1])

    async def _send_rows(self, key: tuple[str, str], rows: list) -> None:
        for i, row in enumerate(rows):
            if row.id in self._unmarked:  # another sender of this process has it: it goes on
                self._again.add(key)
                return
            self._unmarked.add(row.id)
            reply, outcome = await self._send(row)
            if isinstance(outcome, Sent):
                self.marks.append(Mark(row.id, "sent", message_id=outcome.message_id))
                self.sent += 1
                if reply is not None and reply.choices:
                    await self.write_marks()  # a press on it looks up what it showed
            elif isinstance(outcome, Refused):
                log.warning("%s chat %s: reply %s refused: %s", row.channel, row.chat_id, row.id, outcome.reason)
                self.marks.append(Mark(row.id, "refused", reason=outcome.reason))
            else:  # Later: this row backs off, the chat's later rows wait behind it
                seconds = max(outcome.seconds, 0.05)
                retry_at = utcnow() + dt.timedelta(seconds=seconds)
                self.marks.append(Mark(row.id, "later", retry_at=retry_at, reason=outcome.reason))
                self.marks += [Mark(r.id, "released") for r in rows[i + 1:] if r.id not in self._unmarked]
                self._retry(key, seconds)
                return

    async def _send(self, row) -> tuple[Reply | None, Outcome]:
        channel = self.channels.get(row.channel)
        if channel is None:
            return None, Refused(f"no channel {row.channel!r} in this process")
        reply = None
        try:
            reply = Reply.from_json(json.loads(row.payload))
            outcome = await channel.send(row.chat_id, reply, row.edit_of)
        except Exception as exc:  # a bug in a channel: logged, retried, and given up in the end
            log.exception("%s chat %s: sending reply %s", row.channel, row.chat_id, row.id)
            outcome = Later(min(2 ** row.attempts, 300), f"{type(exc).__name__}: {exc}")
        if isinstance(outcome, Later) and outcome.counts and row.attempts + 1 >= GIVE_UP_AFTER:
            return reply, Refused(f"gave up after {row.attempts + 1} attempts: {outcome.reason}")
        return reply, outcome

    def _retry(self, key: tuple[str, str], seconds: float) -> None:
        """Look at the chat again when its row is due (the tick would, later)."""
        if key in self._timers:
            self._timers[key].cancel()
        loop = asyncio.get_running_loop()
        self._timers[key] = loop.call_later(seconds + 0.01, self._spawn_flush, key)

    def _spawn_flush(self, key: tuple[str, str]) -> None:
        self._timers.pop(key, None)
        task = asyncio.get_running_loop().create_task(self.flush_chat(*key), name=f"retry {key[0]}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(log_failure)

    async def close(self) -> None:
        """At exit: no retry left pending, every mark written, and the rows still leased
        released to the other workers at once (not after the lease)."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.write_marks()
        await self.db.run(self._release)

    def _release(self) -> None:
        with light_session(self.db.engine) as s:
            outbox.release_worker(s, self.worker)

"""The one delivery loop of every channel: committed replies from the outbox, through each
channel's `send` (bot/channel.py), in order per chat.

`flush_chat(channel, chat_id)` runs right after a turn's commit; `run_turn` runs a turn and
reads, in the same job (on the database thread, or on the loop's when that one is idle:
`Database.turn_here`), the rows the turn leased to this sender, which are then sent with no
claim of their own. `run_once()` on the scheduler's tick picks up whatever else is due (a
retry, rows left by a restart, reminders).
A row is leased before it is sent (storage/outbox.py) and marked after: `Sent` keeps the
platform's message id, `Later` backs off while the chat's later rows wait, `Refused` gives
the row up with its reason. Marks are written in batches (with the next claim, in the next
turn's transaction, or within MARK_EVERY): a crash in between sends a reply again (delivery
is at least once), never drops one. A channel with `fold` may send a row and the next one
as one message (Telegram: the choice shown in the message pressed, the next question below).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import socket
import tempfile
import threading
from collections import defaultdict

from bot.channel import Channel, Later, Outcome, Refused, Sent
from dialogs.messages import Incoming, Reply
from storage import outbox
from storage.db import first_line, light_session, storage_fault
from storage.prepared import reading
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
    connection pool holds. The event loop waits only for a message's turn on SQLite
    (`run_turn`), and only when the database thread is idle."""

    def __init__(self, engine):
        self.engine = engine
        self.one_writer = engine.dialect.name == "sqlite"
        threads = 1 if self.one_writer else engine.pool.size()
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="db")
        self._jobs: set[concurrent.futures.Future] = set()  # submitted, not finished (each leaves from its thread)

    def submit(self, fn, *args) -> concurrent.futures.Future:
        job = self.executor.submit(fn, *args)
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)
        return job

    async def run(self, fn, *args, **kwargs):
        return await self._here_or_on_thread(False, lambda: fn(*args, **kwargs))

    def idle(self) -> bool:
        """Whether a short piece of a message's work (its turn, a read) may run on the
        caller's (the event loop's) thread: on SQLite, with nothing in the database thread's
        hands. It would wait for no one there, and the hand-off to the thread and back took
        0.1 to 0.3 ms of a Telegram message (bench/telegram_bench.py, with one user), more in
        the web's. Nothing else is submitted meanwhile: submissions come from this thread,
        which is busy."""
        return self.one_writer and not self._jobs

    def turn_here(self, incoming: Incoming) -> bool:
        """`idle`, and no file to read (a form takes tens of milliseconds, which the loop's
        other chats would wait)."""
        return self.idle() and incoming.attachment is None

    async def run_turn(self, fn, incoming: Incoming, *args):
        """`fn(incoming, *args)`, a message's turn: here if `turn_here`, else on the database thread."""
        return await self._here_or_on_thread(self.turn_here(incoming), fn, incoming, *args)

    async def read(self, fn, *args):
        """`fn(*args)`, a short read for a message: here if `idle`, else on the database thread."""
        return await self._here_or_on_thread(self.idle(), fn, *args)

    async def _here_or_on_thread(self, here: bool, fn, *args):
        if here:
            return fn(*args)
        return await asyncio.wrap_future(self.submit(fn, *args))


WORKER_ENV = "CLUSTERBOT_WORKER"


def worker_name(channels, only_chat: str | None, database: str = "") -> str:
    """The sender's name in the outbox leases: the same for the same process after a restart
    (it then takes back its leases at once). Two live processes of one database never share
    one: a name another process of this host holds there (two terminals of one user, two
    workers given the same CLUSTERBOT_WORKER) gets this process's id, or both would send
    each reply."""
    name = base_worker_name(channels, only_chat)
    return name if _hold(f"{name}@{database}") else f"{name[:52]}:{os.getpid()}"


def base_worker_name(channels, only_chat: str | None) -> str:
    """The name a sender takes when no other live process holds it."""
    name = os.environ.get(WORKER_ENV) or f"{socket.gethostname()[:30]}:{'+'.join(sorted(channels))}"
    return (name + (f":{only_chat}" if only_chat else ""))[:64]


_HELD: dict[str, int] = {}  # name -> the open lock file this process holds it by


def _hold(name: str) -> bool:
    """Whether this process holds `name` (a name and its database): an exclusive lock on a
    file named after it, which the system lets go when the process ends, killed too (so a
    restart takes it again)."""
    if name in _HELD:
        return True
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    path = os.path.join(tempfile.gettempdir(), f"clusterbot-worker-{digest}.lock")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:  # another user's file, say: held by no one we know of, so not ours
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    _HELD[name] = fd
    return True


def spawn(tasks: set[asyncio.Task], coro, name: str) -> asyncio.Task:
    """A task beside the work (a flush, a retry, a callback answer), kept in `tasks` while it
    runs so that the owner awaits it before exit; its failure is logged, not lost."""
    task = asyncio.get_running_loop().create_task(coro, name=name)
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    task.add_done_callback(_log_failure)
    return task


def _log_failure(task: asyncio.Task) -> None:
    if task.cancelled() or (exc := task.exception()) is None:
        return
    if fault := storage_fault(exc):  # the database gone or full: a line, not a traceback a try
        log.warning("%s: the database refuses writes (%s): %s", task.get_name(), fault, first_line(exc))
    else:
        log.error("%s failed", task.get_name(), exc_info=exc)


class Delivery:
    def __init__(self, db: Database, channels: dict[str, Channel], only_chat: str | None = None,
                 turns_here: bool = False):
        """`turns_here`: the channel's turns run through `run_turn`, which writes the marks a
        button press looks up before its turn; otherwise a reply with buttons is marked at once."""
        self.db, self.channels = db, channels
        self.only_chat = only_chat  # a process that serves one chat (the terminal)
        self.turns_here = turns_here
        self.shared = db.engine.dialect.name != "sqlite"  # other workers may send to our chats
        self.worker = worker_name(channels, only_chat, str(db.engine.url))
        self._started = False
        self.marks: list[Mark] = []
        self.sent = 0            # replies sent by this process
        self._busy: dict[tuple[str, str], asyncio.Event] = {}    # chats being sent now: set when done
        self._again: set[tuple[str, str]] = set()   # chats with new rows meanwhile
        self._timers: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._mark_timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task] = set()
        self._claiming = asyncio.Lock()
        # Rows handed to a channel whose mark is not written yet: never handed out again. A
        # read of leased rows (with its filtering) and the removal of rows from this set, once
        # their marks are committed, exclude each other (database threads), so that a row read
        # before its mark was committed is still known as handed out when the read is filtered.
        self._unmarked: set[int] = set()
        self._marking = threading.Lock()
        # Rows sent or refused lately (oldest first): a list of rows read before their marks
        # were written (a turn's, handed to `flush_chat`) never sends one again.
        self._done: dict[int, None] = {}
        # Rows whose first parts were delivered before a `Later`, which says how far (in
        # memory: after a restart the whole reply is sent again, as one sent before a kill is).
        self._resume: dict[int, Later] = {}

    # --- the database side: claim (with the marks made so far) and record ---------------------

    async def _claim(self, channels: list[str], chat_id: str | None) -> list:
        async with self._claiming:  # one claim at a time; it carries the marks made so far
            marks, self.marks = self.marks, []
            if not self.shared:
                return await self._with_marks(marks, self._claim_now, channels, chat_id, marks)
            try:
                claiming = asyncio.ensure_future(self.db.run(self._claim_now, channels, chat_id, marks))
                # On a shared database a chat is claimed again after its sends (_send_chat),
                # so a stop often falls into a claim: it commits the marks it carries first.
                try:
                    return await asyncio.shield(claiming)
                except asyncio.CancelledError:
                    await asyncio.wait([claiming])
                    raise
            except Exception:
                self._mark(marks, before=True)
                raise

    async def _with_marks(self, marks: list[Mark], fn, *args, here: bool = False):
        """`fn(*args)` on the database thread (or `here`: Database.turn_here), where it
        commits `marks`. If it fails, or is cancelled (a stop) before the thread took it up,
        the marks go back to be written later: a reply sent is never left unrecorded. Once
        taken up, it runs to its commit."""
        if here:
            try:
                return fn(*args)
            except Exception:
                self._mark(marks, before=True)
                raise
        job = self.db.submit(fn, *args)
        try:
            return await asyncio.wrap_future(job)
        except asyncio.CancelledError:
            if job.cancelled():
                self._mark(marks, before=True)
            raise
        except Exception:
            self._mark(marks, before=True)
            raise

    def _mark(self, marks: list[Mark], before: bool = False) -> None:
        """Marks to write (`before` those made since: they were taken to be written and
        were not). The next claim or turn's job writes them, or else a write within
        MARK_EVERY, due from when the first comes: no wake-up while there is nothing."""
        self.marks = marks + self.marks if before else self.marks + marks
        if self.marks and self._mark_timer is None:
            self._mark_timer = asyncio.get_running_loop().call_later(MARK_EVERY, self._write_due)

    def _write_due(self) -> None:
        self._mark_timer = None
        spawn(self._tasks, self.write_marks(), "outbox marks")

    def _claim_now(self, channels: list[str], chat_id: str | None, marks: list[Mark]) -> list:
        with self._marking, light_session(self.db.engine) as s:
            self._start(s)
            rows = outbox.claim(s, self.worker, channels, chat_id, marks, **self.claim_options())
            return self._handed_out(marks, rows)

    def claim_options(self) -> dict:
        """What narrows this sender's claims (`outbox.claim`'s `lease`, `among`): nothing here."""
        return {}

    def send_options(self, row) -> dict:
        """What a channel's `send` is given of the row besides the reply: nothing here."""
        return {}

    def _handed_out(self, marks: list[Mark], rows: list = ()) -> list:
        """After the commit of `marks` (under _marking): their rows are no longer handed out;
        `rows` read meanwhile, without those still in a channel's hands."""
        self._unmarked.difference_update(m.row_id for m in marks)
        # A chat with a row still in a channel's hands (not yet done) keeps its later rows
        # back too: that row may yet back off, and a later one sent now would overtake it
        # (a tick's claim read while a reply's first part went out sent the next reply
        # before its documents). Its sender goes on with them.
        held = {(r.channel, r.chat_id) for r in rows if r.id in self._unmarked and r.id not in self._done}
        return [r for r in rows if r.id not in self._unmarked and (r.channel, r.chat_id) not in held]

    def _start(self, s) -> None:
        if not self._started:
            outbox.release_worker(s, self.worker)
            self._started = True

    async def run_turn(self, receive, incoming: Incoming) -> list:
        """`receive(incoming, lease_to, marks, leased)` (the turn, committed with the marks
        made so far, written first in its transaction: no transaction of their own, and a
        press finds the reply it was made on), then the rows it leased to this sender (given
        by the turn when they are all the chat has to send, else read in the same job):
        `flush_chat(..., rows)` sends them without a claim. A press waits for the chat's send
        in hand (its answer may come after the user saw the message) and so for its mark."""
        if incoming.pressed:
            await self.wait_sent(incoming.channel, incoming.chat_id)
        marks, self.marks = self.marks, []

        def job():
            if not self._started:
                with self._marking, light_session(self.db.engine) as s:
                    self._start(s)
            rows: list = []  # the turn's rows, when they are all the chat has to send
            receive(incoming, self.worker, marks, rows)
            # Their rows are no longer handed out once they are committed (see _marking).
            with self._marking:
                if not rows:
                    with reading(self.db.engine) as conn:
                        rows = outbox.leased(conn, self.worker, incoming.channel, incoming.chat_id)
                return self._handed_out(marks, rows)
        return await self._with_marks(marks, job, here=self.db.turn_here(incoming))

    async def wait_sent(self, channel: str, chat_id: str, timeout: float | None = None) -> None:
        """Until the chat's send in hand, if any, is done (at most `timeout` seconds)."""
        if (sending := self._busy.get((channel, str(chat_id)))) is not None:
            try:
                await asyncio.wait_for(sending.wait(), timeout)
            except TimeoutError:
                pass

    async def write_marks(self) -> None:
        """Write the marks made so far (within MARK_EVERY of the first, and at exit)."""
        async with self._claiming:
            marks, self.marks = self.marks, []
            if marks:
                await self._with_marks(marks, self._record, marks)

    def _anything_due(self) -> bool:
        with reading(self.db.engine) as conn:
            return outbox.anything_for(conn, self.worker, list(self.channels))

    def _record(self, marks: list[Mark]) -> None:
        with self._marking, light_session(self.db.engine) as s:
            outbox.record(s, marks)
            self._handed_out(marks)

    # --- sending -------------------------------------------------------------------------------

    async def flush_chat(self, channel: str, chat_id: str, rows: list | None = None) -> None:
        """Send this chat's due rows now, in order (after a turn's commit): `rows` leased
        already (`run_turn`), or claimed here."""
        key = (channel, str(chat_id))
        if key in self._busy:
            self._again.add(key)  # the sender in hand looks again when it is done
            return
        self._busy[key] = asyncio.Event()
        try:
            if rows is None:
                rows = await self._claim([channel], str(chat_id))
            await self._send_chat(key, rows)
        finally:
            self._busy.pop(key).set()

    async def run_once(self) -> None:
        """Send whatever is due in every chat of this process's channels."""
        if not self.marks and not await self.db.run(self._anything_due):
            return  # no claim (a write transaction) for nothing
        rows = await self._claim(list(self.channels), self.only_chat)
        by_chat: dict[tuple[str, str], list] = defaultdict(list)
        for row in rows:
            key = (row.channel, row.chat_id)
            if key in self._busy and key not in by_chat:
                self._again.add(key)  # its sender in hand takes them
            else:
                by_chat[key].append(row)
                self._busy[key] = asyncio.Event()  # now, before any await: one sender per chat
        await asyncio.gather(*(self._send_claimed(key, chat_rows) for key, chat_rows in by_chat.items()))

    async def _send_claimed(self, key: tuple[str, str], rows: list) -> None:
        try:
            await self._send_chat(key, rows)
        finally:
            self._busy.pop(key).set()

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
        i = 0
        while i < len(rows):
            row = rows[i]
            if row.id in self._done:  # sent meanwhile by another sender of this process
                i += 1
                continue
            if row.id in self._unmarked:  # another sender of this process has it: it goes on
                self._again.add(key)
                return
            taken, folded = self._fold(rows, i)
            self._unmarked.update(r.id for r in taken)
            reply, outcome = await self._send(row, folded)
            if isinstance(outcome, Sent):
                self._mark([Mark(r.id, "sent", message_id=outcome.message_id) for r in taken])
                self._finish(taken)
                self.sent += len(taken)
                if reply is not None and reply.choices and not self.turns_here:
                    await self.write_marks()  # a press on it looks up what it showed
            elif isinstance(outcome, Refused):
                log.warning("%s chat %s: reply %s refused: %s", row.channel, row.chat_id, row.id, outcome.reason)
                self._mark([Mark(r.id, "refused", reason=outcome.reason) for r in taken])
                self._finish(taken)
            else:  # Later: this row backs off, the chat's later rows wait behind it
                seconds = max(outcome.seconds, 0.05)
                retry_at = utcnow() + dt.timedelta(seconds=seconds)
                self._mark([Mark(row.id, "later", retry_at=retry_at, reason=outcome.reason)]
                           + [Mark(r.id, "released") for r in taken[1:]]
                           + [Mark(r.id, "released") for r in rows[i + len(taken):] if r.id not in self._unmarked])
                self._retry(key, seconds)
                return
            i += len(taken)

    def _finish(self, rows: list) -> None:
        self._done.update(dict.fromkeys(r.id for r in rows))
        while len(self._done) > 10_000:
            del self._done[next(iter(self._done))]

    def _fold(self, rows: list, i: int) -> tuple[list, Reply | None]:
        """Row i, or row i and the next shown together: a channel with `fold` puts the choice
        shown in the message pressed and the next step into that one message (one call)."""
        row = rows[i]
        fold = getattr(self.channels.get(row.channel), "fold", None)
        if (fold is None or row.edit_of is None or i + 1 >= len(rows) or rows[i + 1].edit_of is not None
                or rows[i + 1].id in self._unmarked):
            return [row], None
        try:
            folded = fold(row.chat_id, row.edit_of, *(Reply.from_json(json.loads(r.payload)) for r in rows[i:i + 2]))
        except Exception:  # sent apart, where a bad payload is dealt with
            return [row], None
        return ([row, rows[i + 1]], folded) if folded is not None else ([row], None)

    async def _send(self, row, reply: Reply | None = None) -> tuple[Reply | None, Outcome]:
        channel = self.channels.get(row.channel)
        if channel is None:
            return None, Refused(f"no channel {row.channel!r} in this process")
        try:
            reply = reply or Reply.from_json(json.loads(row.payload))
            options = self.send_options(row)
            if resume := self._resume.get(row.id):
                options["resume"] = resume
            outcome = await channel.send(row.chat_id, reply, row.edit_of, **options)
        except Exception as exc:  # a bug in a channel: logged, retried, and given up in the end
            log.exception("%s chat %s: sending reply %s", row.channel, row.chat_id, row.id)
            outcome = Later(min(2 ** row.attempts, 300), f"{type(exc).__name__}: {exc}")
            if resume := self._resume.get(row.id):  # the parts delivered stay delivered
                outcome = dataclasses.replace(outcome, parts_sent=resume.parts_sent, message_id=resume.message_id)
        if isinstance(outcome, Later) and outcome.counts and row.attempts + 1 >= GIVE_UP_AFTER:
            outcome = Refused(f"gave up after {row.attempts + 1} attempts: {outcome.reason}")
        if isinstance(outcome, Later) and outcome.parts_sent:
            self._resume[row.id] = outcome
        else:
            self._resume.pop(row.id, None)
        return reply, outcome

    def _retry(self, key: tuple[str, str], seconds: float) -> None:
        """Look at the chat again when its row is due (the tick would, later)."""
        if key in self._timers:
            self._timers[key].cancel()
        loop = asyncio.get_running_loop()
        self._timers[key] = loop.call_later(seconds + 0.01, self._spawn_flush, key)

    def _spawn_flush(self, key: tuple[str, str]) -> None:
        self._timers.pop(key, None)
        spawn(self._tasks, self.flush_chat(*key), f"retry {key[0]}")

    async def close(self) -> None:
        """At exit: no retry left pending, every mark written, and the rows still leased
        released to the other workers at once (not after the lease)."""
        for timer in [*self._timers.values(), self._mark_timer]:
            if timer is not None:
                timer.cancel()
        self._timers.clear()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.write_marks()
        if self._mark_timer is not None:  # nothing left to write after this one
            self._mark_timer.cancel()
        await self.db.run(self._release)

    def _release(self) -> None:
        with light_session(self.db.engine) as s:
            outbox.release_worker(s, self.worker)

"""One scheduler per process: it drives the reminder sweep and the delivery of every channel
the process serves.

Two loops on the process's event loop: the sweep (at start, every `interval` seconds, and
at once after `wake()`) and the delivery tick (`Delivery.run_once`: retries, rows left by a
restart); the delivery writes its marks itself, when it has some. A wake that arrives while
a sweep runs is kept: another sweep follows at once (two /track lines typed together both
get theirs).
The database is the truth: nothing here survives a restart, nothing needs to.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from time import monotonic

from bot.delivery import Database, Delivery
from bot.reminders import SWEEP_SECONDS, sweep, to_outbox
from storage import outbox, repo
from storage.db import first_line, session, storage_fault
from storage.models import utcnow

log = logging.getLogger(__name__)
TICK = 1.0  # seconds between looks at the outbox
PRUNE_EVERY = 24 * 3600  # seconds between deletions of old sent replies and handled updates


class Scheduler:
    def __init__(self, db: Database, clock, delivery: Delivery, sweeps: dict[str, str | None] | None = None,
                 interval: float = SWEEP_SECONDS, tick: float = TICK):
        """`sweeps`: channel → the one user whose reminders this process sends (the terminal),
        or None for all of that channel's users; by default every channel of `delivery`."""
        self.db, self.clock, self.delivery = db, clock, delivery
        self.sweeps = sweeps if sweeps is not None else {name: None for name in delivery.channels}
        self.interval, self.tick = interval, tick
        self.sweeps_done = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._tasks: list[asyncio.Task] = []
        self._prune_at = 0.0  # monotonic time of the next pruning: with the first sweep
        self._sweeping: asyncio.Future | None = None  # the sweep in the database's hands
        self._refused: set[str] = set()  # the jobs failing on a database that refuses writes

    def start(self) -> None:
        """Start the loops on the running event loop."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._wake.set()  # a sweep at start: whatever fell due while the process was down
        for name, loop in (("reminder sweep", self._sweep_loop()),
                           ("delivery tick", self._every(self.tick, self.delivery.run_once, "delivery"))):
            self._tasks.append(self._loop.create_task(loop, name=name))

    def wake(self) -> None:
        """Sweep now (after a message: a cluster just tracked); from any thread."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def stop(self) -> None:
        """End the loops; a sweep in hand finishes first and what it enqueued is sent
        once more, then every mark is written."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._sweeping is not None:
            # Left in the outbox, its reminders came only at the next start, their
            # "还有 6 天" computed days before (the terminal's /quit right after a /track).
            await asyncio.gather(self._sweeping, return_exceptions=True)
            try:
                await self.delivery.run_once()
            except Exception as exc:  # the rows stay in the outbox for the next start
                self.failed("delivery at stop", exc)
        try:
            await self.delivery.close()
        except Exception as exc:  # the database gone: the marks are lost (sent again), the leases run out
            self.failed("delivery at stop", exc)

    def _sweep_all(self) -> int:
        now = self.clock.now()
        if (moment := monotonic()) >= self._prune_at:
            self._prune_at = moment + PRUNE_EVERY
            try:
                prune(self.db.engine)
            except Exception as exc:  # the sweep goes on; the rows wait for the next day's pruning
                self.failed("pruning old rows", exc)
        return sum(sweep(self.db.engine, now, channel, to_outbox(channel), external_id=only)
                   for channel, only in self.sweeps.items())

    async def sweep_now(self) -> None:
        self._sweeping = asyncio.ensure_future(self.db.run(self._sweep_all))
        await asyncio.shield(self._sweeping)  # a cancelled loop lets it finish; stop() waits for it
        self.sweeps_done += 1
        await self.delivery.run_once()

    async def _sweep_loop(self) -> None:
        while True:
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that comes as
                # the wake does, and /quit then waited a whole interval for the next sweep.
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()  # a wake from now on asks for one more sweep
            try:
                await self.sweep_now()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failed("reminder sweep", exc)
            else:
                self.recovered("reminder sweep")

    async def _every(self, seconds: float, job, what: str) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failed(what, exc)
            else:
                self.recovered(what)

    def failed(self, what: str, exc: Exception) -> None:
        """A job's failure logged. A database refusing writes (a full disk, a lock held, a
        server gone: storage_fault) is one line, once until the job succeeds again: it fails
        every tick meanwhile, and `clusterbot chat` shows its log on the official's screen."""
        fault = storage_fault(exc)
        if fault is None:
            log.exception(what)
        elif what not in self._refused:
            self._refused.add(what)
            log.warning("%s: the database refuses writes (%s): %s", what, fault, first_line(exc))

    def recovered(self, what: str) -> None:
        """A job that `failed` works again: its next refusal is logged again."""
        self._refused.discard(what)


def prune(engine) -> None:
    """Old sent replies and handled updates deleted (storage/outbox.prune, repo.prune_processed),
    so that the tables do not grow with use. Their times are the rows' own (UTC), not the
    scheduler's clock, which may be set for the reminders."""
    now = utcnow()
    with session(engine) as s:
        replies, updates = outbox.prune(s, now), repo.prune_processed(s, now)
        s.commit()
    if replies or updates:
        log.info("pruned %d sent replies and %d handled updates", replies, updates)


class BackgroundLoop:
    """An event loop on its own thread, for a synchronous channel (the terminal): the
    scheduler and the delivery run there; `call(coro)` waits for a coroutine's result."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="scheduler", daemon=True)
        self.thread.start()

    def call(self, coro, timeout: float | None = 60):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

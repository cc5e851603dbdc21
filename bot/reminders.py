"""Deadline reminders: the sweep that sends what is due, and the schedulers that wake it.

The database is the truth: the plan is derived from the calendar and what was sent
(storage/tracking.py). The scheduler only wakes the sender: one in-memory job per worker,
nothing pickled, no job store; after a restart the first sweep finds whatever fell due
meanwhile, and workers sweeping at the same time never send a reminder twice.

`sweep` is clock-free (`now` is an argument) and does everything in ONE transaction: it
claims the due reminders and hands each reply to the channel's `enqueue(session, user, reply)`
in that same transaction. A channel with an outbox (Telegram) writes the outbox row there,
so a crash loses or repeats nothing; the terminal collects the replies and prints them
after the commit.

Decisions, one place each:
- late: a reminder sent more than LATE_AFTER after it could first have been sent (its due
  time, or its planning if planned after it) says it is late.
- one message per deadline: when several reminders of the same deadline are due at once
  (down for weeks, paused, tracked late), only the latest is sent; the others are marked
  superseded.
- missed: a deadline already passed when its reminder is swept is reported as missed, with
  the revocation clause the measure states, quoted.
- pause holds, it does not drop: a paused cluster gets nothing; on resume the next sweep
  sends, per deadline, the latest reminder that fell due (late) or reports it missed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dialogs.conversation import Reply
from dialogs.tracking import reminder_reply
from engine.rules import JURISDICTIONS
from storage import repo
from storage.db import session
from storage.models import User
from storage.tracking import (
    LATE, MISSED, ON_TIME, SUPERSEDED, UTC, Reminder, claim, deadline_of, due_clusters, extend_plans, local_date,
    plan, planned,
)

log = logging.getLogger(__name__)

LATE_AFTER = dt.timedelta(hours=1)
SWEEP_SECONDS = 60
JOB_ID = "clusterbot-reminder-sweep"
# APScheduler's default misfire_grace_time (1 s) would drop a sweep that starts late; the
# sweep is idempotent, so run it however late (None), once for any number of missed runs
# (coalesce), never two at a time (max_instances=1).
JOB_OPTIONS = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}

Enqueue = Callable[[Session, User, Reply], None]


def outcome_of(reminder: Reminder, now: dt.datetime) -> str:
    """on_time, late, or missed (the deadline day is over in Asia/Shanghai)."""
    if reminder.deadline < local_date(now):
        return MISSED
    could_send_from = max(reminder.due_at, reminder.created_at)
    return LATE if now - could_send_from > LATE_AFTER else ON_TIME


def sweep(engine: Engine, now: dt.datetime, channel: str, enqueue: Enqueue,
          external_id: str | None = None) -> int:
    """Send every reminder due by `now` (aware) to the users of `channel` (or only to
    `external_id` of it), in one transaction; returns how many were enqueued.

    Rolls the planning horizon on first. `enqueue(session, user, reply)` is called inside the
    transaction for each reminder; if it raises, nothing is stored as sent. Several workers
    may sweep at once: each takes the clusters the others have not locked, and a reminder
    is sent by whichever stores it first (storage.tracking.claim)."""
    if now.tzinfo is None:
        raise ValueError("sweep needs an aware `now`")
    today = local_date(now)
    with session(engine) as s:
        extend_plans(s, now, channel)
        latest: dict[tuple, tuple] = {}
        clusters = due_clusters(s, now, channel, external_id)
        for tracked, user in clusters:
            for reminder in planned(s, tracked):  # soonest first
                if reminder.due_at > now:
                    break
                key = (tracked.id, *reminder.deadline_key)
                if key in latest:
                    claim(s, latest[key][0], now, SUPERSEDED)
                latest[key] = (reminder, tracked, user)
        sent = 0
        for reminder, tracked, user in sorted(latest.values(), key=_message_order):
            outcome = outcome_of(reminder, now)
            reply = reminder_reply(tracked, reminder, deadline_of(tracked, reminder), user.lang, today, outcome)
            if claim(s, reminder, now, outcome, reply.text):  # False: another sweep took it
                enqueue(s, user, reply)
                sent += 1
        for tracked, _user in clusters:
            plan(s, tracked, now)  # the next one's due time
        s.commit()
    return sent


def _message_order(row: tuple) -> tuple:
    reminder, tracked, user = row
    return (user.id, tracked.number, reminder.deadline, JURISDICTIONS.index(reminder.jurisdiction), reminder.kind)


def outbox_enqueue(channel: str, to_payloads: Callable[[list[Reply]], list[dict]]) -> Enqueue:
    """The enqueue of a channel with an outbox, e.g. outbox_enqueue("telegram",
    bot.telegram.to_payloads): each payload of the reminder becomes an outbox row in the
    sweep's transaction, addressed to the user's chat (else their id, which is the private
    chat's id on Telegram)."""
    def enqueue(s: Session, user: User, reply: Reply) -> None:
        for payload in to_payloads([reply]):
            repo.enqueue(s, channel, user.chat_id or user.external_id, payload)
    return enqueue


def collecting_sweep(engine: Engine, clock, channel: str, deliver: Callable[[list[Reply]], None],
                     external_id: str | None = None) -> Callable[[], int]:
    """A sweep at the clock's now whose replies go to `deliver` after the commit (the
    terminal prints them): a job for a scheduler."""
    def run() -> int:
        collected: list[Reply] = []
        count = sweep(engine, clock.now(), channel, lambda _s, _user, reply: collected.append(reply), external_id)
        if collected:
            deliver(collected)
        return count
    return run


def start_reminder_scheduler(engine: Engine, clock, channel: str, deliver: Callable[[list[Reply]], None],
                             external_id: str | None = None, interval: float = SWEEP_SECONDS) -> BackgroundScheduler:
    """A BackgroundScheduler thread that sweeps at once and then every `interval` seconds,
    handing the reminders to `deliver(replies)` after each commit. Stop it with
    `.shutdown()`; `wake(scheduler)` runs the sweep now."""
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(collecting_sweep(engine, clock, channel, deliver, external_id), "interval",
                      seconds=interval, id=JOB_ID, name="reminder sweep",
                      next_run_time=dt.datetime.now(UTC), **JOB_OPTIONS)
    scheduler.start()
    return scheduler


def wake(scheduler: BackgroundScheduler) -> None:
    """Run the sweep now (e.g. after the user tracked a cluster), on the scheduler's thread:
    max_instances=1 still keeps sweeps one at a time."""
    job = scheduler.get_job(JOB_ID)
    if job is not None:
        job.modify(next_run_time=dt.datetime.now(UTC))


def run_on_job_queue(job_queue, engine: Engine, clock, channel: str, enqueue: Enqueue,
                     interval: float = SWEEP_SECONDS, executor=None):
    """The same sweep on python-telegram-bot's JobQueue (APScheduler 3 underneath): at once,
    then every `interval` seconds, with JOB_OPTIONS; the sweep runs in a worker thread (the
    given executor, e.g. the bot's database thread) so that the event loop is not blocked by
    the database. Returns the telegram.ext.Job."""
    async def sweep_reminders(_context) -> None:
        """Send the reminders that are due (into the outbox, in the sweep's transaction)."""
        await asyncio.get_running_loop().run_in_executor(
            executor, lambda: sweep(engine, clock.now(), channel, enqueue))

    return job_queue.run_repeating(sweep_reminders, interval=interval, first=0, name=JOB_ID,
                                   job_kwargs=dict(JOB_OPTIONS))

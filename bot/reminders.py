"""Deadline reminders: the sweep that sends what is due.

The database is the truth: the plan is derived from the calendar and what was sent
(storage/tracking.py). The process's one scheduler (bot/scheduler.py) only wakes the sweep;
after a restart the first sweep finds whatever fell due meanwhile, and workers sweeping at
the same time never send a reminder twice.

`sweep` is clock-free (`now` is an argument) and works in transactions of SWEEP_BATCH
tracked clusters; each claims its due reminders and hands each reply to
`enqueue(session, user, reply)` in that same transaction; the scheduler's `to_outbox` writes
the outbox row there, as the dialog does for its replies, so a crash loses or repeats nothing.

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

import datetime as dt
import logging
from typing import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dialogs.messages import Reply
from dialogs.tracking import reminder_reply
from engine.rules import JURISDICTIONS
from storage import outbox
from storage.db import session
from storage.models import User
from storage.tracking import (
    LATE, MISSED, ON_TIME, SUPERSEDED, Reminder, claim, deadline_of, due_clusters, extend_plans, local_date,
    note_next, planned,
)

log = logging.getLogger(__name__)

LATE_AFTER = dt.timedelta(hours=1)
SWEEP_SECONDS = 60
SWEEP_BATCH = 100  # tracked clusters swept in one transaction

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
    `external_id` of it), SWEEP_BATCH clusters a transaction; returns how many were enqueued.

    Rolls the planning horizon on first. `enqueue(session, user, reply)` is called inside the
    transaction for each reminder; if it raises, nothing of that batch is stored as sent.
    Several workers may sweep at once: each takes the clusters the others have not locked,
    and a reminder is sent by whichever stores it first (storage.tracking.claim)."""
    if now.tzinfo is None:
        raise ValueError("sweep needs an aware `now`")
    sent = 0
    while True:  # a batch of clusters a transaction: workers sweeping at once share the work
        count, clusters = _sweep_batch(engine, now, channel, enqueue, external_id)
        sent += count
        if clusters < SWEEP_BATCH:
            return sent


def _sweep_batch(engine: Engine, now: dt.datetime, channel: str, enqueue: Enqueue,
                 external_id: str | None) -> tuple[int, int]:
    """One transaction of `sweep`: how many reminders it enqueued, and how many clusters it
    planned again or swept (fewer than SWEEP_BATCH each: the last batch)."""
    today = local_date(now)
    with session(engine) as s:
        extended = extend_plans(s, now, channel, limit=SWEEP_BATCH)
        latest: dict[tuple, tuple] = {}
        clusters = due_clusters(s, now, channel, external_id, limit=SWEEP_BATCH)
        for tracked, user in clusters:
            upcoming = planned(s, tracked)  # soonest first
            for reminder in upcoming:
                if reminder.due_at > now:
                    break
                key = (tracked.id, *reminder.deadline_key)
                if key in latest:
                    claim(s, latest[key][0], now, SUPERSEDED)
                latest[key] = (reminder, tracked, user)
            note_next(s, tracked, upcoming, now)
        sent = 0
        for reminder, tracked, user in sorted(latest.values(), key=_message_order):
            outcome = outcome_of(reminder, now)
            reply = reminder_reply(tracked, reminder, deadline_of(tracked, reminder), user.lang, today, outcome)
            if claim(s, reminder, now, outcome, reply.text):  # False: another sweep took it
                enqueue(s, user, reply)
                sent += 1
        s.commit()
    return sent, max(extended, len(clusters))


def _message_order(row: tuple) -> tuple:
    reminder, tracked, user = row
    return (user.id, tracked.number, reminder.deadline, JURISDICTIONS.index(reminder.jurisdiction), reminder.kind)


def to_outbox(channel: str) -> Enqueue:
    """The enqueue of the scheduler (bot/scheduler.py): each reminder becomes an outbox row in
    the sweep's transaction, as the dialog's replies do, addressed to the user's chat (else
    their id, which is the private chat on Telegram and the user in the terminal)."""
    def enqueue(s: Session, user: User, reply: Reply) -> None:
        outbox.enqueue(s, channel, user.chat_id or user.external_id, reply.to_json())
    return enqueue

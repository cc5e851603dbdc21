"""Tracked clusters and their reminders: the database is the truth.

A user tracks a certified cluster (name, measures, certification date). Its reminders are
derived from the ruleset calendars (engine.deadlines), one per deadline and lead time, each
with the instant it falls due; they are not stored. What is stored is each reminder SENT, a
`Reminder` row under the unique key (cluster, jurisdiction, kind, deadline, lead time): the
INSERT of that row is the claim, so of two workers sweeping at once only one sends it. The
cluster keeps `next_due_at`, the instant its next reminder falls due, which is what the sweep
(bot/reminders.py) looks for.

Rules, one place each:
- due_at: the deadline date minus the lead days, at the chosen hour in Asia/Shanghai, as UTC.
- horizon: deadlines up to HORIZON_DAYS after today are planned; a sweep rolls it on when
  it is ROLL_DAYS nearer.
- lookback: a cluster first tracked late gets its deadlines of the last LOOKBACK_DAYS planned
  too, so that a deadline it already passed is reported (as missed) once.
- nothing is planned at or before a reminder already sent for the same deadline (adding a
  30-day lead a week before the deadline does not send a stale 30-day notice), nor at all
  for a deadline already reported as missed.
- a reminder "could first be sent" at its due time, or when the lead times and hour that
  give it were set (`planned_at`) if later: lateness is measured from there.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Optional
from zoneinfo import ZoneInfo

from sqlalchemy import Column, Index, Text, TypeDecorator, UniqueConstraint, update
from sqlalchemy import DateTime as SADateTime
from sqlmodel import Field, Session, select

from engine import load_rulesets
from engine.deadlines import (  # the reminder days' rule and defaults: engine.deadlines
    ANNUAL_REPORT, DEFAULT_HOUR, DEFAULT_LEAD_DAYS, DEFAULT_MINUTE, MAX_LEAD_DAYS, MEASURE_TERM_END, RE_REVIEW,
    Deadline, calendars,
)

from .models import Table, User
from .repo import insert_new

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the product's zone, as bot.clock.SHANGHAI
UTC = dt.timezone.utc

HORIZON_DAYS = 400
# The horizon is rolled on once it is this much nearer than HORIZON_DAYS: a cluster is planned
# again every month, not every day (HORIZON_DAYS - ROLL_DAYS must stay above MAX_LEAD_DAYS).
ROLL_DAYS = 30
LOOKBACK_DAYS = 365
# validity_end falls on the same day, under the same article, as re_review, whose reminder
# already says the validity period ends: one message for the day, not two.
REMINDED_KINDS = (ANNUAL_REPORT, RE_REVIEW, MEASURE_TERM_END)

# What a sent row says about its sending (Reminder.outcome).
ON_TIME, LATE, MISSED, SUPERSEDED = "on_time", "late", "missed", "superseded"


class UTCDateTime(TypeDecorator):
    """An aware datetime stored as UTC: SQLite keeps no zone, so it is stripped on the way
    in and UTC is put back on the way out; comparisons in SQL are between UTC instants."""

    impl = SADateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a naive datetime: give an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


def utc_column(nullable: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable)


def utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


class TrackedCluster(Table, table=True):
    """A certified cluster a user tracks, with their reminder settings."""

    __tablename__ = "tracked_clusters"
    __table_args__ = (UniqueConstraint("user_id", "number"), Index("ix_tracked_next_due", "next_due_at"))

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    number: int  # the user's own numbering (#1, #2, …), never reused: what commands name
    name: str = Field(max_length=200)
    measures: str = Field(max_length=100)  # comma list of jurisdictions, e.g. national,jiangsu
    certified_on: dt.date  # the national certification's, when certified under both
    # The province's own certification date, when certified under both measures (national
    # 第十二条: the province certifies first); None: certified_on for every measure (a cluster
    # tracked under both before this was asked, or under one measure).
    provincial_certified_on: Optional[dt.date] = None
    lead_days: str = Field(default=",".join(map(str, DEFAULT_LEAD_DAYS)), max_length=100)  # e.g. 30,7,1
    remind_hour: int = Field(default=DEFAULT_HOUR)      # Asia/Shanghai
    remind_minute: int = Field(default=DEFAULT_MINUTE)
    paused_at: Optional[dt.datetime] = Field(default=None, sa_column=utc_column(nullable=True))
    stopped_at: Optional[dt.datetime] = Field(default=None, sa_column=utc_column(nullable=True))
    planned_until: Optional[dt.date] = None  # deadlines up to this day are planned
    # When the lead times and hour were last set (tracking, /remind); see the rules above.
    planned_at: Optional[dt.datetime] = Field(default=None, sa_column=utc_column(nullable=True))
    # When the earliest reminder planned and not yet sent falls due (None: none planned).
    next_due_at: Optional[dt.datetime] = Field(default=None, sa_column=utc_column(nullable=True))
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=utc_column())
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_column=utc_column())

    @property
    def leads(self) -> list[int]:
        return [int(x) for x in self.lead_days.split(",") if x]

    @property
    def jurisdictions(self) -> list[str]:
        return [j for j in self.measures.split(",") if j]

    @property
    def certified_dates(self) -> dict[str, dt.date]:
        """Each measure's certification date: each measure counts its periods from its own."""
        return {j: (self.provincial_certified_on if j != "national" and self.provincial_certified_on
                    else self.certified_on) for j in self.jurisdictions}

    @property
    def first_certified_on(self) -> dt.date:
        return min(self.certified_dates.values(), default=self.certified_on)


class Reminder(Table, table=True):
    """One reminder of one deadline at one lead time. Stored once sent (or superseded by a
    later reminder of the same deadline), with what was sent; a planned one is the same
    object, not stored, with sent_at None."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("tracked_id", "jurisdiction", "kind", "deadline", "lead_days"),
                      Index("ix_reminders_due", "sent_at", "due_at"))

    id: Optional[int] = Field(default=None, primary_key=True)
    tracked_id: int = Field(foreign_key="tracked_clusters.id", index=True)
    jurisdiction: str = Field(max_length=16)
    kind: str = Field(max_length=32)  # one of REMINDED_KINDS
    deadline: dt.date
    lead_days: int
    due_at: dt.datetime = Field(sa_column=utc_column())
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=utc_column())  # planned_at of its plan
    sent_at: Optional[dt.datetime] = Field(default=None, sa_column=utc_column(nullable=True))
    outcome: Optional[str] = Field(default=None, max_length=16)  # on_time | late | missed | superseded
    text: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))  # what was sent

    @property
    def deadline_key(self) -> tuple:
        return (self.jurisdiction, self.kind, self.deadline)


class TrackingDraft(Table, table=True):
    """A /track being answered step by step (name → measures → date): kept here, not in
    memory, so that a restart asks the same step again."""

    __tablename__ = "tracking_drafts"

    user_id: int = Field(foreign_key="users.id", primary_key=True)
    step: str = Field(max_length=16)  # name | measures | date
    data: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON: name, measures
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_column=utc_column())


# --- the rules of the plan -----------------------------------------------------------------

def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(SHANGHAI).date()


def due_at(deadline: dt.date, lead_days: int, hour: int = DEFAULT_HOUR, minute: int = DEFAULT_MINUTE) -> dt.datetime:
    """The instant a reminder falls due: lead_days before the deadline at hour:minute in
    Asia/Shanghai, as an aware UTC datetime."""
    day = deadline - dt.timedelta(days=lead_days)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI).astimezone(UTC)


def deadlines_of(tracked: TrackedCluster, start: dt.date, until: dt.date) -> list[Deadline]:
    """The deadlines reminded of, of every measure the cluster is certified under, in date order."""
    rulesets = [r for j, r in load_rulesets().items() if j in tracked.jurisdictions]
    return [d for d in calendars(rulesets, tracked.certified_dates, start, until) if d.kind in REMINDED_KINDS]


def deadline_of(tracked: TrackedCluster, reminder: Reminder) -> Deadline:
    """The calendar entry a reminder row stands for (its text is never stored twice)."""
    return next(d for d in deadlines_of(tracked, reminder.deadline, reminder.deadline)
                if (d.jurisdiction, d.kind) == (reminder.jurisdiction, reminder.kind))


def plan_start(tracked: TrackedCluster) -> dt.date:
    """The first deadline planned: since the certification, at most LOOKBACK_DAYS before tracking."""
    return max(tracked.first_certified_on, local_date(tracked.created_at) - dt.timedelta(days=LOOKBACK_DAYS))


def sent_reminders(s: Session, tracked: TrackedCluster) -> list[Reminder]:
    return list(s.exec(select(Reminder).where(Reminder.tracked_id == tracked.id)))


def planned(s: Session, tracked: TrackedCluster) -> list[Reminder]:
    """The reminders still to send, derived from the calendar up to `planned_until`: new,
    unstored `Reminder`s, soonest first."""
    sent = sent_reminders(s, tracked)
    done = {(*r.deadline_key, r.lead_days) for r in sent}
    last_sent: dict[tuple, dt.datetime] = {}
    for r in sent:
        last_sent[r.deadline_key] = max(r.due_at, last_sent.get(r.deadline_key, r.due_at))
    # A deadline reported as missed is over: a lead time set later (/remind 0) sends nothing more.
    missed = {r.deadline_key for r in sent if r.outcome == MISSED}
    upcoming = []
    for d in deadlines_of(tracked, plan_start(tracked), tracked.planned_until):
        key = (d.jurisdiction, d.kind, d.date)
        if key in missed:
            continue
        for lead in tracked.leads:
            due = due_at(d.date, lead, tracked.remind_hour, tracked.remind_minute)
            if (*key, lead) in done or (key in last_sent and due <= last_sent[key]):
                continue
            upcoming.append(Reminder(tracked_id=tracked.id, jurisdiction=d.jurisdiction, kind=d.kind,
                                     deadline=d.date, lead_days=lead, due_at=due,
                                     created_at=tracked.planned_at or tracked.created_at))
    return sorted(upcoming, key=lambda r: (r.due_at, r.deadline, r.jurisdiction, r.kind))


def reminders_of(s: Session, tracked: TrackedCluster) -> list[Reminder]:
    """What was sent, and (unless tracking stopped) what is planned."""
    return sent_reminders(s, tracked) + ([] if tracked.stopped_at else planned(s, tracked))


def plan(s: Session, tracked: TrackedCluster, now: dt.datetime) -> None:
    """Plan up to the horizon from `now`, and note when the next reminder falls due.
    Idempotent; nothing sent is touched, so nothing is ever sent twice."""
    tracked.planned_until = local_date(now) + dt.timedelta(days=HORIZON_DAYS)
    note_next(s, tracked, planned(s, tracked))


def note_next(s: Session, tracked: TrackedCluster, upcoming: list[Reminder], after: dt.datetime | None = None) -> None:
    """next_due_at: the first of `upcoming` (the plan, soonest first), or the first due after
    `after` (those before it were just swept)."""
    tracked.next_due_at = next((r.due_at for r in upcoming if after is None or r.due_at > after), None)
    s.add(tracked)
    s.flush()


def _lock_skipping(query):
    """FOR UPDATE SKIP LOCKED on PostgreSQL: a cluster another worker is sweeping is left to
    it, not waited for (SQLite has one writer at a time anyway and ignores this)."""
    return query.with_for_update(skip_locked=True, of=TrackedCluster)


def extend_plans(s: Session, now: dt.datetime, channel: str, limit: int | None = None) -> int:
    """Roll the horizon on for (up to `limit` of) the channel's tracked clusters whose plan
    ends less than HORIZON_DAYS - ROLL_DAYS from now; how many."""
    soon = local_date(now) + dt.timedelta(days=HORIZON_DAYS - ROLL_DAYS)
    stale = list(s.exec(_lock_skipping(
        select(TrackedCluster).join(User, User.id == TrackedCluster.user_id)
        .where(User.channel == channel, TrackedCluster.stopped_at == None,  # noqa: E711
               (TrackedCluster.planned_until == None) | (TrackedCluster.planned_until < soon))  # noqa: E711
        .limit(limit))))
    for tracked in stale:
        plan(s, tracked, now)
    return len(stale)


def due_clusters(s: Session, now: dt.datetime, channel: str, external_id: str | None = None,
                 limit: int | None = None) -> list[tuple[TrackedCluster, User]]:
    """The tracked clusters, neither stopped nor paused, with a reminder due by `now`, of
    the users of one channel (or of one user of it), soonest first, locked for this sweep."""
    query = (select(TrackedCluster, User).join(User, User.id == TrackedCluster.user_id)
             .where(TrackedCluster.next_due_at <= now,
                    TrackedCluster.stopped_at == None, TrackedCluster.paused_at == None,  # noqa: E711
                    User.channel == channel)
             .order_by(TrackedCluster.next_due_at, TrackedCluster.id))
    if external_id is not None:
        query = query.where(User.external_id == str(external_id))
    return list(s.exec(_lock_skipping(query.limit(limit))))


def claim(s: Session, reminder: Reminder, now: dt.datetime, outcome: str, text: str | None = None) -> bool:
    """Store a reminder as sent; False if it was already (another worker took it first:
    the unique key makes the INSERT the claim)."""
    return insert_new(s, Reminder, tracked_id=reminder.tracked_id, jurisdiction=reminder.jurisdiction,
                      kind=reminder.kind, deadline=reminder.deadline, lead_days=reminder.lead_days,
                      due_at=reminder.due_at, created_at=reminder.created_at, sent_at=now.astimezone(UTC),
                      outcome=outcome, text=text)


# --- a user's tracked clusters ------------------------------------------------------------------

def user_tracked(s: Session, user: User) -> list[TrackedCluster]:
    """The user's tracked clusters, not stopped, by number."""
    return list(s.exec(select(TrackedCluster).where(TrackedCluster.user_id == user.id,
                                                    TrackedCluster.stopped_at == None)  # noqa: E711
                       .order_by(TrackedCluster.number)))


def track(s: Session, user: User, name: str, measures: list[str], certified_on: dt.date,
          now: dt.datetime, provincial_certified_on: dt.date | None = None) -> TrackedCluster:
    """Start tracking a cluster (default lead times and hour) and plan its reminders;
    `provincial_certified_on`: the province's date, certified under both on another day."""
    number = s.exec(update(User).where(User.id == user.id)
                    .values(last_tracked_number=User.last_tracked_number + 1)
                    .returning(User.last_tracked_number)).scalar_one()
    tracked = TrackedCluster(user_id=user.id, number=number, name=name[:200],
                             measures=",".join(measures), certified_on=certified_on,
                             provincial_certified_on=provincial_certified_on,
                             created_at=now.astimezone(UTC), updated_at=now.astimezone(UTC),
                             planned_at=now.astimezone(UTC))
    s.add(tracked)
    s.flush()
    plan(s, tracked, now)
    return tracked


def set_times(s: Session, tracked: TrackedCluster, now: dt.datetime, leads: list[int] | None = None,
              hour: int | None = None, minute: int | None = None) -> None:
    """New lead times and/or hour; the unsent reminders are planned again."""
    if leads is not None:
        tracked.lead_days = ",".join(str(n) for n in sorted(set(leads), reverse=True))
    if hour is not None:
        tracked.remind_hour, tracked.remind_minute = hour, minute or 0
    tracked.updated_at = tracked.planned_at = now.astimezone(UTC)
    plan(s, tracked, now)


def pause(s: Session, tracked: TrackedCluster, now: dt.datetime) -> bool:
    """Whether it was paused now (False: paused already)."""
    if tracked.paused_at is not None:
        return False
    tracked.paused_at = tracked.updated_at = now.astimezone(UTC)
    s.add(tracked)
    return True


def resume(s: Session, tracked: TrackedCluster, now: dt.datetime) -> bool:
    """Reminders that fell due during the pause are held, not dropped: the next sweep sends
    the latest of each deadline (marked late) and reports deadlines that passed as missed.
    Whether it was resumed now (False: it was not paused)."""
    if tracked.paused_at is None:
        return False
    tracked.paused_at, tracked.updated_at = None, now.astimezone(UTC)
    s.add(tracked)
    return True


def stop(s: Session, tracked: TrackedCluster, now: dt.datetime) -> None:
    """Stop tracking: nothing more is planned; what was sent stays as the record."""
    tracked.stopped_at = tracked.updated_at = now.astimezone(UTC)
    tracked.next_due_at = None
    s.add(tracked)
    s.flush()


# --- the guided /track, one step at a time ---------------------------------------------------

def draft_of(s: Session, user: User) -> TrackingDraft | None:
    return s.get(TrackingDraft, user.id)


def save_draft(s: Session, user: User, step: str, data: dict) -> TrackingDraft:
    draft = s.get(TrackingDraft, user.id) or TrackingDraft(user_id=user.id, step=step)
    draft.step, draft.data, draft.updated_at = step, json.dumps(data, ensure_ascii=False), utcnow()
    s.add(draft)
    s.flush()
    return draft


def drop_draft(s: Session, user: User) -> None:
    draft = s.get(TrackingDraft, user.id)
    if draft is not None:
        s.delete(draft)
        s.flush()

"""The outbox: replies committed with what they acknowledge, claimed by a sender, marked.

Every write of the delivery loop (bot/delivery.py) is here, in one place: the claim (a
lease, taken by one conditional UPDATE per chat) and the marks of what happened to each
row (sent, later, refused). A chat's rows go out in order: while one of them waits for its
retry or is leased by a sender, no later row of that chat is claimed.

Several workers may claim at once: `claim` locks each chat's first row with
`FOR UPDATE SKIP LOCKED` before leasing the chat's rows, so a chat is leased to one of them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import namedtuple
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, delete, exists, func, insert, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from .models import OutboxMessage, utcnow
from .prepared import Prepared, placeholders

LEASE = dt.timedelta(seconds=120)  # longer than the slowest send (timeouts plus a retry)
PER_CHAT = 20   # rows of one chat claimed at once
CHATS = 200     # chats claimed by one sweep


def _unfinished(row=OutboxMessage):
    # models.UNFINISHED, the partial index's condition: a lookup that says it uses the index
    return and_(row.sent_at.is_(None), row.refused_at.is_(None))


def enqueue(s: Session, channel: str, chat_id: str, payload: dict, edit_of: str | None = None,
            lease_to: str | None = None, now: dt.datetime | None = None,
            lease: dt.timedelta = LEASE) -> OutboxMessage:
    """A reply (`Reply.to_json()`) for a chat, inside the caller's transaction. With
    `lease_to`, the row is leased to that sender at once (for `lease`) when nothing of the
    chat waits before it: the sender that called for the turn sends it without a claim of
    its own."""
    now = now or utcnow()
    row = OutboxMessage(channel=channel, chat_id=str(chat_id), payload=json.dumps(payload, ensure_ascii=False),
                        edit_of=edit_of)
    if lease_to is not None and not _waits_before(s, channel, str(chat_id), lease_to, now):
        row.claimed_by, row.claimed_until = lease_to, now + lease
    s.add(row)
    s.flush()
    return row


# Every turn's statements: on the driver's connection (storage/prepared.py).
_ENQUEUE = Prepared(insert(OutboxMessage.__table__).values(placeholders((
    "channel", "chat_id", "payload", "edit_of", "created_at", "next_attempt_at", "attempts", "claimed_by",
    "claimed_until"))))


def enqueue_turn(s: Session, channel: str, chat_id: str, replies: list[tuple[dict, str | None]],
                 lease_to: str | None = None, now: dt.datetime | None = None,
                 lease: dt.timedelta = LEASE) -> list[LeasedRow]:
    """A turn's replies, (payload, edit_of) each, as `enqueue` would write them one by one:
    whether something of the chat waits before them is asked once (a row this turn leases to
    `lease_to` never waits before the next). Returns the rows, as `leased` reads them, when
    they are leased and the chat has no other row to send: then, once committed, they are
    what `leased` would read (a sender need not read them); else nothing."""
    if not replies:
        return []
    now = now or utcnow()
    chat_id = str(chat_id)
    alone = lease_to is not None and not _ANY_TO_SEND.rows(s, {"channel": channel, "chat_id": chat_id})
    leased = alone or (lease_to is not None and not _waits_before(s, channel, chat_id, lease_to, now))
    claimed_by, claimed_until = (lease_to, now + lease) if leased else (None, None)
    stamp = utcnow()  # as the model's defaults in `enqueue`
    rows = [{"channel": channel, "chat_id": chat_id, "payload": json.dumps(payload, ensure_ascii=False),
             "edit_of": edit_of, "created_at": stamp, "next_attempt_at": stamp, "attempts": 0,
             "claimed_by": claimed_by, "claimed_until": claimed_until} for payload, edit_of in replies]
    if not alone:
        _ENQUEUE.run(s, rows)
        return []
    # One INSERT a row, for its id (a turn writes one or two).
    return [LeasedRow(**_UNSENT, **row, id=_ENQUEUE_ID.rows(s, row)[0][0]) for row in rows]


# Made once: a new alias adapts its columns again on first use, milliseconds a claim. Each
# column is adapted here, at import, on one thread: the first use of an alias by two threads
# at once (a web process's senders) raced in its memo ("Did not locate an expression in
# selectable for attribute 'sent_at'").
_EARLIER = aliased(OutboxMessage)
_OTHER = aliased(OutboxMessage)
for _alias in (_EARLIER, _OTHER):
    for _column in OutboxMessage.__table__.columns.keys():
        getattr(_alias, _column)

_ENQUEUE_ID = Prepared(_ENQUEUE.statement.returning(OutboxMessage.id))
_UNSENT = dict(sent_at=None, sent_message_id=None, refused_at=None, refused_reason=None, error=None)
_ANY_TO_SEND = Prepared(select(OutboxMessage.id)
                        .where(OutboxMessage.channel == bindparam("channel"),
                               OutboxMessage.chat_id == bindparam("chat_id"), _unfinished())
                        .limit(1))

_WAITING = Prepared(select(OutboxMessage.id)
                    .where(OutboxMessage.channel == bindparam("channel"), OutboxMessage.chat_id == bindparam("chat_id"),
                           _unfinished(),
                           or_(OutboxMessage.claimed_by.is_(None), OutboxMessage.claimed_by != bindparam("lease_to"),
                               OutboxMessage.claimed_until < bindparam("now")))
                    .limit(1))


def _waits_before(s: Session, channel: str, chat_id: str, lease_to: str, now: dt.datetime) -> bool:
    """An unfinished row of the chat not leased to `lease_to`: a new row must wait behind it.
    (The statement is built once: building it, with an alias, was 4 ms of every turn of a
    channel that leases its replies.)"""
    return bool(_WAITING.rows(s, {"channel": channel, "chat_id": chat_id, "lease_to": lease_to, "now": now}))


@dataclass(frozen=True)
class Mark:
    """What happened to a claimed row: sent (`message_id`), later (again at `retry_at`),
    refused (`reason`), or released unsent (it waits behind a row sent later)."""

    row_id: int
    outcome: str  # sent | later | refused | released
    message_id: str | None = None
    retry_at: dt.datetime | None = None
    reason: str = ""


def _marking(outcome: str) -> Prepared:
    """The UPDATE that records one outcome for a row (`row_id`), ending its lease."""
    table = OutboxMessage.__table__
    values = {
        "sent": dict(sent_at=bindparam("now"), sent_message_id=bindparam("message_id")),
        "later": dict(next_attempt_at=bindparam("retry_at"), error=bindparam("reason")),
        "refused": dict(refused_at=bindparam("now"), refused_reason=bindparam("refused")),
        "released": {},
    }[outcome]
    counted = {} if outcome == "released" else {"attempts": table.c.attempts + 1}
    return Prepared(table.update().where(table.c.id == bindparam("row_id"))
                    .values(claimed_by=None, claimed_until=None, **counted, **values))


# Written after every send: built once, run on the driver's connection (storage/prepared.py).
_MARKINGS = {outcome: _marking(outcome) for outcome in ("sent", "later", "refused", "released")}


def apply_marks(s: Session, marks: list[Mark], now: dt.datetime | None = None) -> None:
    """Record the marks (in the caller's transaction); each ends the row's lease. One
    executemany UPDATE per outcome: no row is loaded."""
    now = now or utcnow()
    by_outcome: dict[str, list[dict]] = {}
    for m in marks:
        by_outcome.setdefault(m.outcome, []).append(
            {"row_id": m.row_id, "now": now, "message_id": m.message_id, "retry_at": m.retry_at or now,
             "reason": m.reason[:500] or None, "refused": (m.reason or "refused")[:500]})
    for outcome, params in by_outcome.items():
        _MARKINGS[outcome].run(s, params)


def claim(s: Session, worker: str, channels: list[str], chat_id: str | None = None,
          marks: list[Mark] = (), now: dt.datetime | None = None, lease: dt.timedelta = LEASE,
          among: list[str] | None = None) -> list[OutboxMessage]:
    """Record `marks`, then lease the due rows of `channels` (of one chat, or of every
    chat, or only of the chats `among`), and commit both: the rows leased to `worker` (now,
    or by `enqueue`), in order per chat. `among` is for a sender that can reach only some
    chats (a web process: those whose page it holds); the others are left to other senders."""
    now = now or utcnow()
    apply_marks(s, list(marks), now)
    until = now + lease
    earlier = _EARLIER
    # Each chat's first unfinished row, when it may go now, locked: of workers claiming at
    # once (PostgreSQL), each chat goes to one and the others skip it (SKIP LOCKED); one
    # that comes after sees its lease. SQLite has one writer at a time and ignores this.
    heads = (select(OutboxMessage.channel, OutboxMessage.chat_id)
             .where(_unfinished(), OutboxMessage.channel.in_(channels), OutboxMessage.next_attempt_at <= now,
                    or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
                    ~exists().where(earlier.channel == OutboxMessage.channel, earlier.chat_id == OutboxMessage.chat_id,
                                    _unfinished(earlier), earlier.id < OutboxMessage.id))
             .order_by(OutboxMessage.id).limit(CHATS)
             .with_for_update(skip_locked=True, of=OutboxMessage))
    if chat_id is not None:
        heads = heads.where(OutboxMessage.chat_id == str(chat_id))
    if among is not None:
        heads = heads.where(OutboxMessage.chat_id.in_([str(c) for c in among]))
    for channel, chat in s.exec(heads).all():
        other = _OTHER
        # The chat waits while one of its rows is leased or backing off: order is kept.
        waiting = exists().where(other.channel == channel, other.chat_id == chat, _unfinished(other),
                                 or_(other.next_attempt_at > now, other.claimed_until >= now))
        first = (select(OutboxMessage.id).where(OutboxMessage.channel == channel, OutboxMessage.chat_id == chat,
                                                _unfinished()).order_by(OutboxMessage.id).limit(PER_CHAT))
        s.exec(update(OutboxMessage).where(OutboxMessage.id.in_(first.scalar_subquery()), ~waiting)
               .values(claimed_by=worker, claimed_until=until))
    # A row a turn leased to `worker` while the row before it was in its hands waits if that
    # row has since backed off (its mark above ended its lease): released, the chat goes
    # whole, in order, once that row is due (a 429 answered, the next reply went first).
    behind = exists().where(earlier.channel == OutboxMessage.channel, earlier.chat_id == OutboxMessage.chat_id,
                            _unfinished(earlier), earlier.id < OutboxMessage.id,
                            or_(earlier.claimed_by.is_(None), earlier.claimed_by != worker,
                                earlier.claimed_until < now))
    s.exec(update(OutboxMessage).where(OutboxMessage.claimed_by == worker, OutboxMessage.claimed_until >= now,
                                       OutboxMessage.channel.in_(channels), _unfinished(), behind)
           .values(claimed_by=None, claimed_until=None))
    mine = select(OutboxMessage).where(OutboxMessage.claimed_by == worker, OutboxMessage.claimed_until >= now,
                                       OutboxMessage.channel.in_(channels), _unfinished())
    if chat_id is not None:
        mine = mine.where(OutboxMessage.chat_id == str(chat_id))
    rows = list(s.exec(mine.order_by(OutboxMessage.channel, OutboxMessage.chat_id, OutboxMessage.id)))
    s.commit()
    return rows


_LEASED = Prepared(OutboxMessage.__table__.select()
                   .where(OutboxMessage.claimed_by == bindparam("worker"),
                          OutboxMessage.claimed_until >= bindparam("now"),
                          OutboxMessage.channel == bindparam("channel"), OutboxMessage.chat_id == bindparam("chat_id"),
                          _unfinished())
                   .order_by(OutboxMessage.id))
LeasedRow = namedtuple("LeasedRow", OutboxMessage.__table__.columns.keys())  # the attributes of an OutboxMessage


def leased(conn, worker: str, channel: str, chat_id: str, now: dt.datetime | None = None) -> list[LeasedRow]:
    """The chat's unfinished rows leased to `worker` (by `enqueue` in a turn just committed),
    in order: what its sender sends at once, with no claim (no write) of its own. Read after
    every turn: on the driver's connection (storage/prepared.py), nothing loaded."""
    return [LeasedRow(*row) for row in _LEASED.rows(conn, {"worker": worker, "now": now or utcnow(),
                                                           "channel": channel, "chat_id": str(chat_id)})]


_DUE = Prepared(select(OutboxMessage.id)
                .where(OutboxMessage.channel == bindparam("channel"), _unfinished(),
                       or_(OutboxMessage.claimed_by == bindparam("worker"),
                           and_(OutboxMessage.next_attempt_at <= bindparam("now"),
                                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < bindparam("now")))))
                .limit(1))


def anything_for(conn, worker: str, channels: list[str], now: dt.datetime | None = None) -> bool:
    """False when `claim` would find nothing for `worker`: no unfinished row of `channels`
    due and not leased to another sender, nor leased to this one (true may still find
    nothing: a row due behind one that waits). A read, where a claim is a write transaction:
    a sender's tick asks this first (an idle bot's, every second)."""
    now = now or utcnow()
    return any(_DUE.rows(conn, {"channel": channel, "worker": worker, "now": now}) for channel in channels)


# A sent or given-up row is read again only when a button of its message is pressed (to show
# the choice in it, and to tell whether the prompt was asked again since); after this long it
# is let go, and such a press is judged by its prompt alone.
KEEP_FINISHED = dt.timedelta(days=30)


def prune(s: Session, now: dt.datetime) -> int:
    """Delete the rows sent or given up more than KEEP_FINISHED ago (in the caller's
    transaction); the number deleted. An unfinished row is never deleted."""
    before = now - KEEP_FINISHED
    return s.exec(delete(OutboxMessage).where(
        or_(OutboxMessage.sent_at < before, OutboxMessage.refused_at < before))).rowcount


def release_worker(s: Session, worker: str) -> None:
    """A restarted sender takes back what its previous life had leased (killed mid-send)."""
    s.exec(update(OutboxMessage).where(OutboxMessage.claimed_by == worker, _unfinished())
           .values(claimed_by=None, claimed_until=None))
    s.commit()


def record(s: Session, marks: list[Mark], now: dt.datetime | None = None) -> None:
    apply_marks(s, marks, now)
    s.commit()


_LATER = aliased(OutboxMessage)
_PRESSED = Prepared(
    select(OutboxMessage.payload,
           exists().where(_LATER.channel == OutboxMessage.channel, _LATER.chat_id == OutboxMessage.chat_id,
                          _LATER.id > OutboxMessage.id, _LATER.refused_at.is_(None),
                          # shown in another message: sent as one, or still to send as a new one
                          # (an edit of the message pressed still to send will show there)
                          func.coalesce(_LATER.sent_message_id, _LATER.edit_of).is_distinct_from(
                              bindparam("message_id")),
                          _LATER.payload.like(bindparam("buttons"), escape="/")))
    .where(OutboxMessage.channel == bindparam("channel"), OutboxMessage.chat_id == bindparam("chat_id"),
           OutboxMessage.sent_message_id == bindparam("message_id"))
    .order_by(OutboxMessage.id.desc()).limit(1))


def pressed_message(s: Session, channel: str, chat_id: str, message_id: str,
                    prefix: str) -> tuple[dict | None, bool]:
    """The reply last shown as `message_id` in this chat (a pressed message), if known, and
    whether a later message of the chat shows a button whose data begins with `prefix` (the
    same prompt asked again below: the press is on a copy no longer live). One statement, in
    a button press's turn only, on the driver's connection; the later rows are read through
    the primary key from the pressed one on (a press on a recent message reads a few)."""
    escaped = prefix.replace("/", "//").replace("%", "/%").replace("_", "/_")
    rows = _PRESSED.rows(s, {"channel": channel, "chat_id": str(chat_id), "message_id": str(message_id),
                             "buttons": f'%"{escaped}%'})  # a button's data, a JSON string in the payload
    return (json.loads(rows[0][0]), bool(rows[0][1])) if rows else (None, False)


_MAX_ID = Prepared(select(func.max(OutboxMessage.id)))
_SENT_AFTER = Prepared(OutboxMessage.__table__.select()
                       .where(OutboxMessage.id > bindparam("after"),
                              OutboxMessage.channel == bindparam("channel"), OutboxMessage.chat_id == bindparam("chat_id"),
                              OutboxMessage.sent_at >= bindparam("since"))
                       .order_by(OutboxMessage.id.desc()).limit(bindparam("limit")))  # the latest


def sent_after(conn, channel: str, chat_id: str, after: int, since: dt.datetime, limit: int,
               scan: int) -> list[LeasedRow]:
    """The chat's rows sent since `since` whose id is above `after`, in order, at most the
    last `limit` of them (what a page that reconnects missed; past the limit, the latest: they
    end with the question now asked). Only the outbox's last `scan` rows are looked at: no
    index leads with the chat for sent rows, and an old `after` would read the table."""
    last = _MAX_ID.rows(conn, {})[0][0] or 0
    params = {"after": max(after, last - scan), "channel": channel, "chat_id": str(chat_id), "since": since,
              "limit": limit}
    return [LeasedRow(*row) for row in reversed(_SENT_AFTER.rows(conn, params))]


def unfinished_count(s: Session, channel: str | None = None) -> int:
    query = select(OutboxMessage.id).where(_unfinished())
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    return len(s.exec(query).all())

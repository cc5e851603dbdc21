"""The neutral outbox and its one delivery loop: what `receive` writes, the lease, the order
per chat, and what Sent / Later / Refused leave in the table (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading

import pytest
from sqlalchemy import event
from sqlmodel import select

from bot.channel import Later, Refused, Sent
from bot.clock import ManualClock
from bot.delivery import Database, Delivery
from dialogs.conversation import Conversation
from dialogs.messages import Attachment, Incoming, Reply
from locales import t
from storage import outbox
from storage.db import make_engine, session
from storage.models import OutboxMessage, utcnow
from storage.outbox import Mark


@pytest.fixture
def engine(db_url):
    return make_engine(db_url)


def put(engine, chat: str, *texts: str, channel: str = "web") -> list[int]:
    with session(engine) as s:
        ids = [outbox.enqueue(s, channel, chat, Reply(text).to_json()).id for text in texts]
        s.commit()
    return ids


def claim(engine, worker: str, chat: str | None = None, now=None, marks=()) -> list[int]:
    with session(engine) as s:
        return [r.id for r in outbox.claim(s, worker, ["web"], chat, list(marks), now=now)]


def table(engine) -> list[OutboxMessage]:
    with session(engine) as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_chat_is_claimed_by_one_sender_in_order_until_its_lease_ends(engine):
    a = put(engine, "a", "1", "2")
    b = put(engine, "b", "x")
    assert claim(engine, "w1") == a + b
    more = put(engine, "a", "3")
    assert claim(engine, "w2") == []                       # leased: nobody else, not even row 3
    later = utcnow() + outbox.LEASE + dt.timedelta(seconds=1)
    assert claim(engine, "w2", now=later) == a + more + b  # a sender that died: its lease ends


def test_a_tick_claims_only_when_a_claim_could_find_something(engine):
    """`anything_for` (asked before a tick's claim) is false only when `claim` would find
    nothing: no row due and not leased to another sender, nor leased to this one."""
    def anything(worker, now=None):
        with engine.connect() as conn:
            return outbox.anything_for(conn, worker, ["web"], now=now)

    assert not anything("w1")                               # an empty outbox
    put(engine, "a", "1")
    assert anything("w1") and anything("w2")                # due, nobody's
    claim(engine, "w1")
    assert anything("w1") and not anything("w2")            # leased to w1
    assert anything("w2", now=utcnow() + outbox.LEASE + dt.timedelta(seconds=1))  # w1's lease ended
    row = table(engine)[0]
    claim(engine, "w1", marks=[Mark(row.id, "later", retry_at=utcnow() + dt.timedelta(seconds=30))])
    assert not anything("w1")                               # waits for its retry
    claim(engine, "w1", marks=[Mark(row.id, "sent", message_id="m")], now=utcnow() + dt.timedelta(seconds=31))
    assert not anything("w1") and not anything("w2")        # sent


def test_a_row_that_must_wait_holds_the_rows_behind_it(engine):
    first, second = put(engine, "a", "1", "2")
    claim(engine, "w")
    now = utcnow()
    marks = [Mark(first, "later", retry_at=now + dt.timedelta(seconds=30), reason="429"), Mark(second, "released")]
    assert claim(engine, "w", marks=marks, now=now) == []  # row 2 waits behind row 1's retry
    assert claim(engine, "w", now=now + dt.timedelta(seconds=31)) == [first, second]
    row = table(engine)[0]
    assert row.attempts == 1 and row.error == "429"


def test_sent_and_refused_are_recorded(engine):
    first, second = put(engine, "a", "1", "2")
    claim(engine, "w")
    with session(engine) as s:
        outbox.record(s, [Mark(first, "sent", message_id="77"), Mark(second, "refused", reason="blocked")])
    one, two = table(engine)
    assert one.sent_at and one.sent_message_id == "77" and one.claimed_by is None
    assert two.refused_at and two.refused_reason == "blocked" and two.sent_at is None
    assert claim(engine, "w") == []


def test_a_reconnecting_page_is_given_the_latest_of_what_it_missed_in_order(engine):
    from storage.prepared import reading

    ids = put(engine, "a", *"123456") + put(engine, "b", "other")
    claim(engine, "w")
    with session(engine) as s:
        outbox.record(s, [Mark(i, "sent", message_id="") for i in ids])
    since = utcnow() - dt.timedelta(minutes=5)
    with reading(engine) as conn:
        missed = outbox.sent_after(conn, "web", "a", ids[0], since, limit=3, scan=1000)
        assert [r.id for r in missed] == ids[3:6]  # past the limit the latest: they end with what is asked now
        assert [r.id for r in outbox.sent_after(conn, "web", "a", ids[4], since, limit=3, scan=1000)] == ids[5:6]


def test_receive_writes_neutral_replies_and_shows_a_choice_in_the_message_pressed(engine):
    conversation = Conversation(engine, ManualClock(dt.datetime(2026, 11, 23, 10)), channel="web")
    hello = Incoming("web", "u1", "chat-1", text="/new 甲集群", message_id="m1")
    replies = conversation.receive(hello)
    assert conversation.receive(hello) == []               # the same message again: handled once
    rows = table(engine)
    assert [r.chat_id for r in rows] == ["chat-1"] and rows[0].edit_of is None
    shown = Reply.from_json(json.loads(rows[0].payload))
    assert shown.text == "\n\n".join(r.text for r in replies)  # one step, one message
    with session(engine) as s:
        outbox.record(s, [Mark(rows[0].id, "sent", message_id="500")])
    national = shown.choices[0]
    conversation.receive(Incoming("web", "u1", "chat-1", button=national.data, message_id="m2", pressed="500"))
    ticked = table(engine)[1]
    assert ticked.edit_of == "500" and Reply.from_json(json.loads(ticked.payload)).replace


def test_the_loop_sends_in_order_backs_off_and_gives_up(engine):
    put(engine, "a", "1", "2", "3")
    outcomes = [Sent("1"), Later(0.05, "busy"), Sent("2"), Refused("gone")]
    got = []

    class Flaky:
        name = "web"

        async def send(self, chat_id, reply, edit_of=None):
            got.append(reply.text)
            return outcomes.pop(0)

    async def main():
        delivery = Delivery(Database(engine), {"web": Flaky()})
        await delivery.flush_chat("web", "a")
        while len(got) < 4:  # the retry comes by itself, after the 0.05 s asked
            await asyncio.sleep(0.01)
        await delivery.close()

    asyncio.run(asyncio.wait_for(main(), 10))
    assert got == ["1", "2", "2", "3"]
    rows = table(engine)
    assert [r.sent_message_id for r in rows] == ["1", "2", None]
    assert rows[1].attempts == 2 and rows[2].refused_reason == "gone"


def test_a_sent_reply_is_marked_soon_with_no_tick_asking(engine):
    """No loop looks for marks every MARK_EVERY: the first mark made sets the write."""
    put(engine, "a", "1")

    class Web:
        name = "web"

        async def send(self, chat_id, reply, edit_of=None):
            return Sent("m1")

    async def main():
        delivery = Delivery(Database(engine), {"web": Web()})   # no scheduler
        await delivery.flush_chat("web", "a")
        while table(engine)[0].sent_at is None:
            await asyncio.sleep(0.02)
        await delivery.close()

    asyncio.run(asyncio.wait_for(main(), 10))
    assert table(engine)[0].sent_message_id == "m1"


def test_waiting_for_a_closed_page_is_never_giving_up(engine):
    """A reply for a web chat with no page open waits past GIVE_UP_AFTER attempts and is sent
    when a page takes it; a channel's own "later" (busy) is given up after them."""
    from bot.delivery import GIVE_UP_AFTER

    put(engine, "a", "1")
    put(engine, "b", "2")
    attempts = {"a": 0, "b": 0}

    class Closed:
        name = "web"

        async def send(self, chat_id, reply, edit_of=None):
            attempts[chat_id] += 1
            if chat_id == "a":  # no page open until the 25th try, then one takes it
                return Sent("p") if attempts["a"] > GIVE_UP_AFTER + 4 else Later(0.001, "no page open", counts=False)
            return Later(0.001, "busy")

    async def main():
        delivery = Delivery(Database(engine), {"web": Closed()})
        await delivery.flush_chat("web", "a")
        await delivery.flush_chat("web", "b")
        # Waits on the counts, not on the table: reading it every 10 ms took SQLite's write
        # lock (BEGIN IMMEDIATE) from the loop's claims, 20 s on SQLite. close() writes the last marks.
        for _ in range(2000):
            await delivery.write_marks()  # what the delivery does within MARK_EVERY
            if attempts["a"] > GIVE_UP_AFTER + 4 and attempts["b"] >= GIVE_UP_AFTER:
                break
            await asyncio.sleep(0.01)
        await delivery.close()

    asyncio.run(asyncio.wait_for(main(), 30))
    rows = table(engine)
    assert rows[0].sent_message_id == "p" and attempts["a"] == GIVE_UP_AFTER + 5
    assert rows[1].sent_at is None and "gave up" in rows[1].refused_reason and attempts["b"] == GIVE_UP_AFTER


def test_a_turns_rows_are_leased_to_its_sender_unless_the_chat_waits(engine):
    with session(engine) as s:
        first = outbox.enqueue(s, "web", "a", Reply("1").to_json(), lease_to="w")
        second = outbox.enqueue(s, "web", "a", Reply("2").to_json(), lease_to="w")
        s.commit()
    assert claim(engine, "w", "a") == [first.id, second.id]  # no claim needed: already its own
    assert claim(engine, "other", "a") == []
    now = utcnow()
    claim(engine, "w", "a", marks=[Mark(first.id, "later", retry_at=now + dt.timedelta(seconds=30)),
                                   Mark(second.id, "released")])
    with session(engine) as s:
        third = outbox.enqueue(s, "web", "a", Reply("3").to_json(), lease_to="w")
        s.commit()
    assert third.claimed_by is None  # it waits behind row 1's retry, in order


def test_a_turns_rows_go_out_once_even_when_another_sender_took_them_first(engine):
    """`run_turn` reads the rows its turn leased; if another sender of the process sent them
    (and its marks were written) before they are handed to `flush_chat`, they are not sent
    again."""
    sends = []

    class Web:
        name = "web"

        async def send(self, chat_id, reply, edit_of=None):
            sends.append(reply.text)
            return Sent(str(len(sends)))

    def receive(incoming, lease_to, marks, leased=None):  # gives no rows: they are read
        with session(engine) as s:
            outbox.apply_marks(s, marks)
            outbox.enqueue(s, "web", incoming.chat_id, Reply(incoming.text).to_json(), lease_to=lease_to)
            s.commit()

    async def main():
        delivery = Delivery(Database(engine), {"web": Web()}, turns_here=True)
        rows = await delivery.run_turn(receive, Incoming(channel="web", user_id="u", chat_id="a", text="hi"))
        assert [r.payload for r in rows] and sends == []
        await delivery.flush_chat("web", "a")   # e.g. the scheduler's tick, first
        await delivery.write_marks()
        await delivery.flush_chat("web", "a", rows)
        await delivery.close()

    asyncio.run(asyncio.wait_for(main(), 30))
    assert sends == ["hi"]
    assert all(r.sent_at is not None for r in table(engine))


def test_the_marks_made_so_far_are_written_in_the_next_turns_transaction(engine):
    """The marks of the replies sent before a turn are written in the turn's own transaction,
    first: a press finds the message it was made on (its choice is shown there), and no
    transaction of their own is spent. A redelivered update commits them all the same."""
    if engine.dialect.name != "sqlite":
        pytest.skip("on a shared database a sender claims again after its sends, with its marks")
    conversation = Conversation(engine, ManualClock(dt.datetime(2026, 11, 23, 10, 0)), channel="web")
    sent: list[tuple[str, str | None]] = []

    class Web:
        name = "web"

        async def send(self, chat_id, reply, edit_of=None):
            sent.append((reply.text, edit_of))
            return Sent(edit_of or f"m{len(sent)}")

    commits = []  # as SQLite runs them: a turn commits on the driver (storage/prepared.unit)

    def traced(dbapi_connection, _record):
        dbapi_connection.set_trace_callback(lambda sql: commits.append(1) if sql == "COMMIT" else None)

    event.listen(engine, "connect", traced)
    engine.dispose()  # the connections made from now on are traced

    def incoming(update_id, **what):
        return Incoming(channel="web", user_id="u", chat_id="a", message_id=update_id, **what)

    async def turn(delivery, message, transactions=1):
        before = len(commits)
        rows = await delivery.run_turn(conversation.receive, message)
        assert not delivery.marks and len(commits) - before == transactions  # the turn's, with the marks
        await delivery.flush_chat("web", "a", rows)
        return rows

    async def main():
        delivery = Delivery(Database(engine), {"web": Web()}, turns_here=True)
        await turn(delivery, incoming("1", text="/new 集群"), transactions=2)  # and the sender's start
        prompt = Reply.from_json(json.loads(table(engine)[-1].payload))
        assert delivery.marks and table(engine)[-1].sent_at is None  # made, not yet written
        everything = next(b.data for b in prompt.choices if b.label == t("zh", "dialog.all_measures"))
        pressed = f"m{len(sent)}"
        rows = await turn(delivery, incoming("2", button=everything, pressed=pressed))
        assert rows[0].edit_of == pressed  # the choice, shown in the message pressed
        await turn(delivery, incoming("2", button=everything, pressed=pressed))  # the same update again
        assert all(r.sent_at is not None for r in table(engine))
        await delivery.close()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_the_lookups_of_rows_to_send_read_only_those_rows_however_many_were_sent(tmp_path):
    """Every turn, claim and idle tick looks for rows still to send: through the partial index
    of those rows (ix_outbox_pending), not through every row of the chat, or of the channel,
    sent before (the outbox keeps them)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'plans.db'}")
    lookups = {"waiting": outbox._WAITING, "leased": outbox._LEASED, "due": outbox._DUE,
               "pressed": outbox._PRESSED}  # the last a sent message, by its id
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        for name, prepared in lookups.items():
            sql = prepared._compiled(conn.dialect)[0]
            plan = " ".join(row[-1] for row in driver.execute("EXPLAIN QUERY PLAN " + sql, [None] * sql.count("?")))
            index = "ix_outbox_sent" if name == "pressed" else "ix_outbox_pending"
            assert f"USING INDEX {index}" in plan, (name, plan)
    engine.dispose()


def test_a_turn_gives_the_rows_it_leased_when_they_are_all_its_chat_has_to_send(engine):
    """`receive(..., leased)` gives a sender the turn's rows as `outbox.leased` would read them
    after the commit, and only when nothing else of the chat is still to send; otherwise it
    gives none, and the sender reads them."""
    conversation = Conversation(engine, ManualClock(dt.datetime(2026, 11, 23, 10, 0)), channel="web")

    def turn(text: str) -> list:
        rows: list = []
        conversation.receive(Incoming(channel="web", user_id="u", chat_id="a", text=text), "w1", (), rows)
        return rows

    given = turn("/new 集群")
    with engine.connect() as conn:
        read = outbox.leased(conn, "w1", "web", "a")
    assert given and given == read  # every column, the times included
    assert turn("全部") == []  # the first turn's rows are still to send: the sender reads
    with engine.connect() as conn:
        assert len(outbox.leased(conn, "w1", "web", "a")) > len(given)


def test_a_turn_runs_on_the_loop_only_when_sqlite_has_nothing_else_in_hand(engine):
    """On SQLite a message's turn (or a short read) runs at once on the event loop's thread
    when the database thread is idle (the hand-off cost more than the turn's statements);
    behind a job in hand it waits on the database thread, and so does a file's; on PostgreSQL
    every turn goes to a database thread."""
    db = Database(engine)
    loop_thread = threading.get_ident()
    release = threading.Event()
    message = Incoming("web", "u", "u", text="12.5")
    a_file = Incoming("web", "u", "u", attachment=Attachment("form.xlsx", b"PK"))

    def thread_of(incoming):
        return threading.get_ident()

    async def main():
        idle = await db.run_turn(thread_of, message)
        assert (await db.read(threading.get_ident) == loop_thread) is (engine.dialect.name == "sqlite")
        in_hand = db.submit(release.wait, 10)
        behind = asyncio.ensure_future(db.run_turn(thread_of, message))
        await asyncio.sleep(0)  # the turn has started: it found the job in hand
        assert not behind.done()
        release.set()
        queued = await behind
        assert in_hand.result() is True
        return idle, queued, await db.run_turn(thread_of, message), await db.run_turn(thread_of, a_file)

    try:
        idle, queued, idle_again, read_file = asyncio.run(asyncio.wait_for(main(), 10))
    finally:
        db.executor.shutdown(wait=True)
    on_sqlite = engine.dialect.name == "sqlite"
    assert (idle == loop_thread) is on_sqlite and (idle_again == loop_thread) is on_sqlite
    assert queued != loop_thread and read_file != loop_thread


def test_the_one_web_process_of_a_sqlite_database_sends_a_turns_rows_with_no_claim(tmp_path, monkeypatch):
    """On SQLite the web process is the only one: a turn's rows are leased to it at the commit
    and sent at once, their marks written with the next turn (as Telegram's), so a message to
    an open page costs no claim (a transaction and its fsync) besides its turn."""
    from bot.web import WebChat

    claims = []
    claim = outbox.claim
    monkeypatch.setattr(outbox, "claim", lambda *args, **kw: claims.append(args[3]) or claim(*args, **kw))
    engine = make_engine(f"sqlite:///{tmp_path / 'web.db'}")
    web = WebChat(engine, ManualClock(dt.datetime(2026, 11, 23, 10)), "key")

    async def main():
        page = web.channel.open("u1")
        shown = []

        async def read():  # the page's stream, as bot.web.event_stream writes it
            while True:
                _row, event, written = await page.get()
                shown.append(event["text"])
                written.set_result(True)

        reader = asyncio.create_task(read())
        for text in ("/new 网页集群", "2"):
            await web.receive(Incoming("web", "u1", "u1", text=text))
        last = table(engine)[-1]  # sent, its mark not yet written: leased as a web claim's row
        assert last.claimed_by and last.claimed_until - last.created_at <= dt.timedelta(seconds=16)
        reader.cancel()
        await web.delivery.close()
        return shown

    shown = asyncio.run(asyncio.wait_for(main(), 10))
    assert claims == [] and len(shown) == 2 and "网页集群" in shown[0] and "第 1/" in shown[1]
    assert all(r.sent_at is not None for r in table(engine))  # every mark written


def test_an_im_channels_turn_is_sent_with_no_claim(tmp_path, monkeypatch):
    """WeCom and DingTalk run their turns through the delivery, as Telegram does: a turn's
    rows are leased to the sender and sent as they are, their marks written with the next
    turn, so on SQLite a message costs no claim (a transaction with its commit) besides its
    turn. (On a shared database a chat is claimed again after its sends: another worker may
    have written to it.)"""
    from bot.im_port import ChannelProcess

    engine = make_engine(f"sqlite:///{tmp_path / 'im.db'}")

    claims = []
    claim = outbox.claim
    monkeypatch.setattr(outbox, "claim", lambda *args, **kw: claims.append(args[3]) or claim(*args, **kw))
    sent = []

    class WeCom:
        name = "wecom"

        async def send(self, chat_id, reply, edit_of=None):
            sent.append(reply.text)
            return Sent(f"m{len(sent)}")

    process = ChannelProcess(engine, ManualClock(dt.datetime(2026, 11, 23, 10)), WeCom(), reminder_interval=3600)

    async def main():
        for text in ("/new 企微集群", "2"):
            await process.receive(Incoming("wecom", "u1", "u1", text=text))
        await process.stop()

    asyncio.run(asyncio.wait_for(main(), 20))
    assert claims == [] and len(sent) == 2 and "企微集群" in sent[0] and "第 1/" in sent[1]
    assert all(r.sent_message_id for r in table(engine))  # every mark written


def test_old_sent_replies_and_handled_updates_are_pruned_and_nothing_unfinished(engine):
    """The scheduler's pruning (at start, then daily) deletes what was sent or given up over
    30 days ago and the updates handled over 7 days ago; an unsent row stays however old."""
    from bot.scheduler import prune
    from sqlalchemy import update

    from storage.models import ProcessedUpdate

    now = utcnow()
    old_sent, new_sent, old_refused, old_unsent = put(engine, "a", "1", "2", "3", "4")
    with session(engine) as s:
        for row_id, column, age in ((old_sent, "sent_at", 31), (new_sent, "sent_at", 29), (old_refused, "refused_at", 40)):
            s.exec(update(OutboxMessage).where(OutboxMessage.id == row_id)
                   .values({column: now - dt.timedelta(days=age)}))
        s.exec(update(OutboxMessage).where(OutboxMessage.id == old_unsent)
               .values(created_at=now - dt.timedelta(days=60), next_attempt_at=now - dt.timedelta(days=60)))
        s.add(ProcessedUpdate(channel="telegram", update_id="8", created_at=now - dt.timedelta(days=8)))
        s.add(ProcessedUpdate(channel="telegram", update_id="6", created_at=now - dt.timedelta(days=6)))
        s.commit()
    prune(engine)
    assert [r.id for r in table(engine)] == [new_sent, old_unsent]
    with session(engine) as s:
        assert [u.update_id for u in s.exec(select(ProcessedUpdate))] == ["6"]


def test_the_scheduler_prunes_with_its_first_sweep_then_once_a_day(engine, monkeypatch):
    import bot.scheduler as scheduler

    pruned = []
    monkeypatch.setattr(scheduler, "prune", pruned.append)
    ticks = iter([1000.0, 1000.0 + 3600, 1000.0 + scheduler.PRUNE_EVERY])
    monkeypatch.setattr(scheduler, "monotonic", lambda: next(ticks))
    db = Database(engine)
    sweeps = scheduler.Scheduler(db, ManualClock(dt.datetime(2026, 11, 23, 10)), Delivery(db, {}), sweeps={})
    for _ in range(3):
        sweeps._sweep_all()
    assert pruned == [engine, engine]  # at the first sweep, not an hour later, again a day later
    db.executor.shutdown(wait=True)


def test_a_failed_pruning_leaves_the_sweep_to_go_on(engine, monkeypatch):
    import bot.scheduler as scheduler

    def locked(_engine):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(scheduler, "prune", locked)
    db = Database(engine)
    sweeps = scheduler.Scheduler(db, ManualClock(dt.datetime(2026, 11, 23, 10)), Delivery(db, {"web": None}),
                                 sweeps={"web": None})
    assert sweeps._sweep_all() == 0  # the reminders were swept (none due), the failure logged
    db.executor.shutdown(wait=True)


def test_a_claim_read_while_a_row_is_in_hand_never_sends_the_row_behind_it_first(engine):
    """The tick's claim read the chat's leased rows while the first was being sent, and got
    its answer after that one backed off (a loaded machine): the row behind it went out
    first (Telegram: the next question before the /export reply's documents)."""
    sends = []
    in_hand, answer = asyncio.Event(), asyncio.Event()

    class Web:
        name = "web"

        async def send(self, chat_id, reply, edit_of=None):
            sends.append(reply.text)
            if reply.text == "export":
                in_hand.set()
                await answer.wait()
                return Later(60, "429")
            return Sent(str(len(sends)))

    async def main():
        delivery = Delivery(Database(engine), {"web": Web()})
        with session(engine) as s:
            for text in ("export", "question"):
                outbox.enqueue(s, "web", "a", Reply(text).to_json(), lease_to=delivery.worker)
            s.commit()
        claim_now, claimed, sender_done = delivery._claim, asyncio.Event(), asyncio.Event()

        async def late_claim(*args):  # the tick's claim only (on PostgreSQL the sender claims again)
            delivery._claim = claim_now
            rows = await claim_now(*args)
            claimed.set()
            await sender_done.wait()  # its answer comes once the send in hand is over
            return rows

        rows = await claim_now(["web"], "a")
        sender = asyncio.create_task(delivery.flush_chat("web", "a", rows))
        await in_hand.wait()
        delivery._claim = late_claim
        tick = asyncio.create_task(delivery.run_once())
        await claimed.wait()
        answer.set()
        await sender
        sender_done.set()
        await tick
        await delivery.close()

    asyncio.run(asyncio.wait_for(main(), 30))
    assert sends == ["export"]  # the question waits behind the reply backing off


def test_a_turns_row_leased_while_the_row_before_it_was_in_hand_waits_when_that_one_backs_off(engine):
    """DingTalk answered a reply 429 while the official's next message was being handled: its
    turn leased its reply to the same sender (the row before was in that sender's hands), and
    the claim after the 429 sent that reply first ('已保存：集群占地面积' before '已保存：集群定位…')."""
    with session(engine) as s:
        first = outbox.enqueue(s, "web", "a", Reply("1").to_json(), lease_to="w")
        s.commit()
    assert claim(engine, "w", "a") == [first.id]  # in hand: being sent
    with session(engine) as s:  # the next turn, meanwhile: leased to the same sender
        second = outbox.enqueue(s, "web", "a", Reply("2").to_json(), lease_to="w")
        s.commit()
        assert second.claimed_by == "w"
    now = utcnow()
    retry = [Mark(first.id, "later", retry_at=now + dt.timedelta(seconds=1), reason="429")]
    assert claim(engine, "w", "a", marks=retry, now=now) == []  # row 2 waits behind row 1
    assert claim(engine, "other", "a", now=now) == []
    assert claim(engine, "w", "a", now=now + dt.timedelta(seconds=2)) == [first.id, second.id]  # at once, in order

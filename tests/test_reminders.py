"""Deadline reminders against a real SQLite file with time moved by hand: the plan in the
database, the sweep (once, late, missed, paused, after a restart), and the schedulers.

Dates, citations and article texts are read from the rulesets, never typed here, except
the dates the calendar is expected to produce."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
from sqlmodel import select

from bot.clock import SHANGHAI, ManualClock
from bot.channel import Sent
from bot.delivery import Database, Delivery
from bot.reminders import LATE_AFTER, sweep, to_outbox
from bot.scheduler import Scheduler
from engine import load_rulesets
from storage import repo
from storage import tracking as store
from storage.db import make_engine, session
from storage.models import OutboxMessage
from storage.tracking import Reminder, TrackedCluster

UTC = dt.timezone.utc
NATIONAL = load_rulesets()["national"].deadlines
JIANGSU = load_rulesets()["jiangsu"].deadlines


def at(*args) -> dt.datetime:
    """A moment in Asia/Shanghai."""
    return dt.datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def db(db_url):
    """The database's URL: a SQLite file, or a PostgreSQL database (tests/conftest.py)."""
    return db_url


@pytest.fixture
def engine(db):
    return make_engine(db)


def track(engine, user="alice", name="示例县机械集群", measures=("national",), certified_on=dt.date(2024, 6, 1),
          now=at(2024, 6, 1, 10), channel="terminal") -> int:
    with session(engine) as s:
        owner = repo.get_or_create_user(s, channel, user)
        tracked = store.track(s, owner, name, list(measures), certified_on, now)
        s.commit()
        return tracked.id


def change(engine, tracked_id: int, action, now, **kw) -> None:
    """pause / resume / stop / set_times on one tracked cluster, committed."""
    with session(engine) as s:
        action(s, s.get(TrackedCluster, tracked_id), now, **kw)
        s.commit()


def run(engine, now, channel="terminal", external_id=None) -> list[tuple[str, str]]:
    """One sweep; the (user, text) of each reminder enqueued."""
    sent = []
    count = sweep(engine, now, channel, lambda _s, user, reply: sent.append((user.external_id, reply.text)),
                  external_id)
    assert count == len(sent)
    return sent


def rows(engine, tracked_id: int) -> list[Reminder]:
    """The cluster's reminders, sent (stored) and planned (derived)."""
    with session(engine) as s:
        return sorted(store.reminders_of(s, s.get(TrackedCluster, tracked_id)),
                      key=lambda r: (r.deadline, r.jurisdiction, -r.lead_days))


def row(engine, tracked_id, deadline: dt.date, lead: int, jurisdiction="national", kind="annual_report") -> Reminder:
    return next(r for r in rows(engine, tracked_id)
                if (r.deadline, r.lead_days, r.jurisdiction, r.kind) == (deadline, lead, jurisdiction, kind))


# --- the plan ------------------------------------------------------------------------------

def test_lead_times_30_7_1_at_nine_shanghai_are_these_utc_instants(engine):
    tid = track(engine)
    report = [r for r in rows(engine, tid) if r.deadline == dt.date(2025, 4, 30)]
    assert [(r.lead_days, r.due_at) for r in report] == [
        (30, dt.datetime(2025, 3, 31, 1, 0, tzinfo=UTC)),
        (7, dt.datetime(2025, 4, 23, 1, 0, tzinfo=UTC)),
        (1, dt.datetime(2025, 4, 29, 1, 0, tzinfo=UTC)),
    ]
    assert all(r.due_at.tzinfo is not None and r.due_at.utcoffset() == dt.timedelta(0) for r in report)
    assert all(r.sent_at is None for r in report)


def test_an_hour_before_eight_shanghai_is_the_previous_day_in_utc(engine):
    tid = track(engine)
    change(engine, tid, store.set_times, at(2024, 6, 2, 10), leads=[0], hour=7, minute=30)
    assert row(engine, tid, dt.date(2025, 4, 30), 0).due_at == dt.datetime(2025, 4, 29, 23, 30, tzinfo=UTC)


def test_planning_is_idempotent_and_unique(engine):
    tid = track(engine)
    before = [(r.id, r.due_at) for r in rows(engine, tid)]
    with session(engine) as s:
        store.plan(s, s.get(TrackedCluster, tid), at(2024, 6, 1, 11))
        s.commit()
    assert [(r.id, r.due_at) for r in rows(engine, tid)] == before
    keys = [(r.jurisdiction, r.kind, r.deadline, r.lead_days) for r in rows(engine, tid)]
    assert len(keys) == len(set(keys))


def test_a_30_day_lead_before_a_january_deadline_falls_in_the_previous_year(engine):
    # Certified 2023-01-11: the first validity period's last day, and the re-review deadline,
    # is 2026-01-10.
    tid = track(engine, certified_on=dt.date(2023, 1, 11), now=at(2025, 6, 1, 10))
    reminder = row(engine, tid, dt.date(2026, 1, 10), 30, kind="re_review")
    assert reminder.due_at == dt.datetime(2025, 12, 11, 1, 0, tzinfo=UTC)
    run(engine, at(2025, 6, 1, 10))  # tracked late: the report due 2025-04-30 is reported (missed)
    assert run(engine, at(2025, 12, 11, 8, 59)) == []
    (_, text), = run(engine, at(2025, 12, 11, 9, 0))
    assert "申请复核截止" in text and "2026年1月10日（还有 30 天）" in text
    assert NATIONAL.validity.article_text in text and NATIONAL.missed.re_review.article_text in text


def test_a_certification_on_29_february(engine):
    tid = track(engine, certified_on=dt.date(2024, 2, 29), now=at(2026, 6, 1, 10))
    re_review = [r for r in rows(engine, tid) if r.kind == "re_review"]
    # three whole years from 2024-02-29: valid up to 2027-02-28 (2027 has no 29 February)
    assert {r.deadline for r in re_review} == {dt.date(2027, 2, 28)}
    assert row(engine, tid, dt.date(2027, 2, 28), 30, kind="re_review").due_at == dt.datetime(2027, 1, 29, 1, tzinfo=UTC)
    run(engine, at(2027, 2, 1, 9))
    (_, text), = run(engine, at(2027, 2, 27, 9))
    assert "2027年2月28日（还有 1 天）" in text


def test_national_and_jiangsu_tracked_together_get_both_calendars(engine):
    tid = track(engine, measures=("national", "jiangsu"))
    planned = {(r.jurisdiction, r.deadline) for r in rows(engine, tid) if r.lead_days == 30}
    assert {("jiangsu", dt.date(2025, 3, 31)), ("jiangsu", dt.date(2025, 4, 10)),
            ("national", dt.date(2025, 4, 30))} <= planned
    (_, text), = run(engine, at(2025, 3, 1, 9))
    assert "【江苏】" in text and JIANGSU.annual_reports[0].article_text in text
    (_, text), = run(engine, at(2025, 3, 11, 9))
    assert JIANGSU.annual_reports[1].article_text in text and JIANGSU.annual_reports[1].to.zh in text
    (_, text), = run(engine, at(2025, 3, 24, 9))
    assert "【江苏】" in text and "2025年3月31日（还有 7 天）" in text
    assert run(engine, at(2025, 3, 30, 9))  # Jiangsu's, 1 day before 03-31
    (_, text), = run(engine, at(2025, 3, 31, 9))
    assert "【国家（工信部）】" in text and NATIONAL.annual_reports[0].article_text in text


def test_the_reports_of_the_certification_year_are_reminded(engine):
    # 苏第十二条 每年3月底前 / 4月10日前: certified 2026-02-28, both reports of 2026 are owed
    tid = track(engine, measures=("jiangsu",), certified_on=dt.date(2026, 2, 28), now=at(2026, 3, 1, 10))
    assert {(dt.date(2026, 3, 31), 7), (dt.date(2026, 4, 10), 30)} <= {(r.deadline, r.lead_days) for r in rows(engine, tid)}
    (_, text), = run(engine, at(2026, 3, 1, 10, 1))  # its 30-day reminder fell due at 09:00
    assert "2025年度集群发展情况报送截止（报送当地中小企业主管部门）" in text and "2026年3月31日（还有 30 天）" in text
    (_, text), = run(engine, at(2026, 3, 11, 9))
    assert "2025年度集群发展情况报送截止（报送江苏省工业和信息化厅）" in text and "2026年4月10日（还有 30 天）" in text
    assert JIANGSU.missed.annual_report.article_text in text
    (_, text), = run(engine, at(2026, 3, 24, 9))
    assert "2026年3月31日（还有 7 天）" in text


def test_a_report_due_on_the_certification_day_is_reminded_with_its_note(engine):
    track(engine, certified_on=dt.date(2025, 4, 30), now=at(2025, 4, 30, 10))
    (_, text), = run(engine, at(2025, 4, 30, 10, 1))
    assert "截止日期：2025年4月30日（今天截止）" in text
    assert "注意：截止日即认定当日，条文未写明当日认定的集群是否须报送当日到期的报告" in text


def test_the_horizon_rolls_on_at_each_sweep(engine):
    tid = track(engine)
    assert max(r.deadline for r in rows(engine, tid)) < dt.date(2026, 4, 30)
    run(engine, at(2025, 4, 1, 9))
    assert dt.date(2026, 4, 30) in {r.deadline for r in rows(engine, tid)}
    with session(engine) as s:
        assert s.get(TrackedCluster, tid).planned_until == dt.date(2025, 4, 1) + dt.timedelta(days=store.HORIZON_DAYS)


def test_the_horizon_is_rolled_on_before_any_lead_time_could_miss_it():
    # a deadline just beyond the plan, with the longest lead, falls due after the next roll
    assert store.HORIZON_DAYS - store.ROLL_DAYS > store.MAX_LEAD_DAYS


# --- the sweep -----------------------------------------------------------------------------

def test_moving_time_across_deadlines_fires_exactly_the_due_reminders_once(engine):
    track(engine)
    article = NATIONAL.annual_reports[0]
    assert run(engine, at(2025, 3, 31, 8, 59)) == []
    (user, text), = run(engine, at(2025, 3, 31, 9, 0))
    assert user == "alice"
    assert "⏰ 期限提醒：#1「示例县机械集群」" in text
    assert "2024年度集群发展情况报送截止（报送工业和信息化部）" in text
    assert "截止日期：2025年4月30日（还有 30 天）" in text
    assert f"条文（{article.citation}）：“{article.article_text}”" in text
    assert NATIONAL.missed.annual_report.citation in text and NATIONAL.revocation.article_text in text
    assert "迟发" not in text
    assert run(engine, at(2025, 3, 31, 9, 0)) == []   # the same moment again: nothing
    assert run(engine, at(2025, 4, 22, 23, 0)) == []
    (_, text), = run(engine, at(2025, 4, 23, 9, 0))
    assert "还有 7 天" in text
    (_, text), = run(engine, at(2025, 4, 29, 9, 30))
    assert "还有 1 天" in text
    assert run(engine, at(2025, 5, 15, 9)) == []      # all sent in time: no "missed" afterwards


def test_what_was_sent_is_recorded(engine):
    tid = track(engine)
    (_, text), = run(engine, at(2025, 3, 31, 9, 0, 20))
    sent = row(engine, tid, dt.date(2025, 4, 30), 30)
    assert sent.sent_at == dt.datetime(2025, 3, 31, 1, 0, 20, tzinfo=UTC)
    assert sent.outcome == store.ON_TIME and sent.text == text


def test_changing_lead_times_and_hour_replans_without_resending(engine):
    tid = track(engine)
    assert len(run(engine, at(2025, 3, 31, 9))) == 1
    change(engine, tid, store.set_times, at(2025, 4, 1, 10), leads=[60, 30, 14, 3], hour=8, minute=30)
    report = {r.lead_days: r for r in rows(engine, tid) if r.deadline == dt.date(2025, 4, 30)}
    # 30 was sent and stays as sent; 60 falls before it: not planned (no stale notice); 7 and 1 went
    assert sorted(report) == [3, 14, 30]
    assert report[30].sent_at is not None and report[30].due_at == dt.datetime(2025, 3, 31, 1, tzinfo=UTC)
    assert report[14].due_at == dt.datetime(2025, 4, 16, 0, 30, tzinfo=UTC)
    assert report[3].due_at == dt.datetime(2025, 4, 27, 0, 30, tzinfo=UTC)
    assert run(engine, at(2025, 4, 1, 10)) == []   # nothing re-sent
    (_, text), = run(engine, at(2025, 4, 16, 8, 30))
    assert "还有 14 天" in text
    assert run(engine, at(2025, 4, 23, 9)) == []    # the old 7-day reminder is gone
    (_, text), = run(engine, at(2025, 4, 27, 8, 30))
    assert "还有 3 天" in text
    assert run(engine, at(2025, 4, 29, 9)) == []
    assert [r.outcome for r in rows(engine, tid) if r.deadline == dt.date(2025, 4, 30)] == [store.ON_TIME] * 3


def test_a_reminder_due_while_down_is_sent_once_and_says_it_is_late(engine):
    tid = track(engine)
    run(engine, at(2025, 3, 31, 9))
    # down from 2025-04-20 to 2025-04-24 10:30: the 7-day reminder (04-23 09:00) is late
    (_, text), = run(engine, at(2025, 4, 24, 10, 30))
    assert "还有 6 天" in text and "本提醒原定于 2025年4月23日 09:00 发送，迟发" in text
    assert row(engine, tid, dt.date(2025, 4, 30), 7).outcome == store.LATE
    assert run(engine, at(2025, 4, 24, 10, 30)) == []


def test_within_the_late_threshold_a_reminder_is_not_late(engine):
    track(engine)
    (_, text), = run(engine, at(2025, 3, 31, 9) + LATE_AFTER)
    assert "迟发" not in text


def test_several_reminders_of_one_deadline_fallen_due_together_give_one_message(engine):
    tid = track(engine)
    (_, text), = run(engine, at(2025, 4, 29, 12))  # down since before the 30-day reminder
    assert "还有 1 天" in text and "迟发" in text
    outcomes = {r.lead_days: r.outcome for r in rows(engine, tid) if r.deadline == dt.date(2025, 4, 30)}
    assert outcomes == {30: store.SUPERSEDED, 7: store.SUPERSEDED, 1: store.LATE}


def test_a_deadline_passed_while_down_is_reported_missed_with_the_consequence(engine):
    tid = track(engine)
    (_, text), = run(engine, at(2025, 5, 2, 9))
    assert "⚠️ 期限已过：#1「示例县机械集群」" in text and "2025年4月30日（已过 2 天）" in text
    missed, revocation = NATIONAL.missed.annual_report, NATIONAL.revocation
    assert f"{revocation.citation}：“{revocation.article_text}”" in text
    assert f"{missed.citation}：“{missed.article_text}”" in text
    assert row(engine, tid, dt.date(2025, 4, 30), 1).outcome == store.MISSED
    assert run(engine, at(2025, 5, 2, 9)) == []


def test_a_deadline_already_passed_when_first_tracked_is_reported_missed(engine):
    # Certified 2023-01-15 nationally, tracked 2026-02-01: the re-review deadline (the last
    # day of the first validity period, 2026-01-14) has passed.
    track(engine, certified_on=dt.date(2023, 1, 15), now=at(2026, 2, 1, 10))
    sent = run(engine, at(2026, 2, 1, 10, 1))
    missed = [text for _, text in sent if "申请复核截止" in text]
    assert len(missed) == 1
    assert "⚠️ 期限已过" in missed[0] and "2026年1月14日（已过 18 天）" in missed[0]
    clause = NATIONAL.missed.re_review
    assert f"{clause.citation}：“{clause.article_text}”" in missed[0]
    # the annual report of 2025 (due 2025-04-30, within the last year) is reported once too
    assert any("2024年度" in text and "已过" in text for _, text in sent)
    assert run(engine, at(2026, 2, 1, 10, 2)) == []


def test_a_reminder_planned_after_its_due_time_is_not_late(engine):
    # tracked on 2025-04-20: the 30-day reminder of 04-30 was due already; it goes out at
    # once, as the current state, not as a late one
    track(engine, now=at(2025, 4, 20, 15))
    (_, text), = run(engine, at(2025, 4, 20, 15, 1))
    assert "还有 10 天" in text and "迟发" not in text


def test_a_deadline_reported_missed_is_not_reported_again_whatever_the_lead_times(engine):
    # tracked long after a deadline: it is reported missed once; /remind 0 (the deadline day
    # itself, later than any lead sent) must not report it again
    tid = track(engine, now=at(2025, 5, 10, 10))
    (_, text), = run(engine, at(2025, 5, 10, 10, 1))
    assert "期限已过" in text
    for leads in ([0], [7, 0], [1]):
        change(engine, tid, store.set_times, at(2025, 5, 10, 11), leads=leads)
        assert run(engine, at(2025, 5, 10, 11, 1)) == [], leads
    outcomes = [r.outcome for r in rows(engine, tid) if r.deadline == dt.date(2025, 4, 30)]
    assert outcomes.count(store.MISSED) == 1 and set(outcomes) == {store.MISSED, store.SUPERSEDED}  # none planned


def test_a_paused_cluster_gets_nothing_and_on_resume_one_late_message(engine):
    tid = track(engine)
    run(engine, at(2025, 3, 31, 9))
    change(engine, tid, store.pause, at(2025, 4, 1, 10))
    assert run(engine, at(2025, 4, 23, 9)) == []
    assert run(engine, at(2025, 4, 29, 9)) == []
    change(engine, tid, store.resume, at(2025, 4, 29, 12))
    (_, text), = run(engine, at(2025, 4, 29, 12))
    assert "还有 1 天" in text and "迟发" in text
    assert run(engine, at(2025, 4, 29, 12)) == []


def test_a_deadline_passed_during_a_pause_is_reported_missed_on_resume(engine):
    tid = track(engine)
    change(engine, tid, store.pause, at(2025, 3, 1, 10))
    assert run(engine, at(2025, 5, 10, 9)) == []
    change(engine, tid, store.resume, at(2025, 5, 10, 10))
    (_, text), = run(engine, at(2025, 5, 10, 10))
    assert "期限已过" in text and NATIONAL.missed.annual_report.article_text in text


def test_a_stopped_cluster_gets_nothing_and_keeps_what_was_sent(engine):
    tid = track(engine)
    run(engine, at(2025, 3, 31, 9))
    change(engine, tid, store.stop, at(2025, 4, 1, 10))
    assert run(engine, at(2025, 5, 10, 9)) == []
    assert [(r.lead_days, r.outcome) for r in rows(engine, tid)] == [(30, store.ON_TIME)]


def test_a_restart_between_sweeps_changes_nothing(db, engine):
    track(engine)
    assert len(run(engine, at(2025, 3, 31, 9))) == 1
    engine.dispose()
    again = make_engine(db)   # a new process on the same file
    assert run(again, at(2025, 3, 31, 9, 5)) == []
    assert len(run(again, at(2025, 4, 23, 9))) == 1


def test_a_crash_before_commit_loses_nothing_and_repeats_nothing(engine):
    """The outbox row and the sent mark are one transaction: a crash in the middle leaves
    neither, and the next sweep does both once."""
    tid = track(engine)
    outbox_rows = to_outbox("terminal")

    def crash_after_writing(s, user, reply):
        outbox_rows(s, user, reply)
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        sweep(engine, at(2025, 3, 31, 9), "terminal", crash_after_writing)
    with session(engine) as s:
        assert s.exec(select(OutboxMessage)).all() == []
    assert row(engine, tid, dt.date(2025, 4, 30), 30).sent_at is None
    assert sweep(engine, at(2025, 3, 31, 9, 1), "terminal", outbox_rows) == 1
    assert sweep(engine, at(2025, 3, 31, 9, 1), "terminal", outbox_rows) == 0
    with session(engine) as s:
        (message,) = s.exec(select(OutboxMessage)).all()
    assert message.chat_id == "alice" and "还有 30 天" in json.loads(message.payload)["text"]


def test_one_user_never_receives_anothers_reminders(engine):
    track(engine, user="alice", name="甲集群")
    track(engine, user="bob", name="乙集群", measures=("jiangsu",))
    track(engine, user="carol", name="丙集群", channel="telegram")
    assert run(engine, at(2025, 3, 1, 9), external_id="alice") == []   # only bob's is due
    (who, text), = run(engine, at(2025, 3, 1, 9))
    assert who == "bob" and "乙集群" in text
    both = run(engine, at(2025, 3, 31, 9))
    assert {who for who, _ in both} == {"alice", "bob"}
    for who, text in both:
        assert ("甲集群" in text, "乙集群" in text) == ((True, False) if who == "alice" else (False, True))
    # carol is on another channel: the terminal's sweep never reaches her
    (who, text), = run(engine, at(2025, 3, 31, 9), channel="telegram")
    assert who == "carol" and "丙集群" in text


def test_a_reminder_in_english_for_an_english_user(engine):
    with session(engine) as s:
        repo.get_or_create_user(s, "terminal", "dave", lang="en")
        s.commit()
    track(engine, user="dave")
    (_, text), = run(engine, at(2025, 3, 31, 9))
    assert "Deadline reminder" in text and "30 days left" in text
    assert NATIONAL.annual_reports[0].article_text in text  # the article stays verbatim Chinese


def test_sweep_wants_an_aware_now(engine):
    with pytest.raises(ValueError):
        sweep(engine, dt.datetime(2025, 3, 31, 9), "terminal", lambda *a: None)


# --- the scheduler ---------------------------------------------------------------------------

class Recording:
    """A channel that records what it is given; `gate` (when set) holds each send."""

    def __init__(self, name: str):
        self.name = name
        self.got: asyncio.Queue = asyncio.Queue()
        self.gate: asyncio.Event | None = None

    async def send(self, chat_id, reply, edit_of=None):
        if self.gate is not None:
            await self.gate.wait()
        await self.got.put((chat_id, reply))
        return Sent()


async def scheduled(engine, clock, channels, **kw):
    db = Database(engine)
    delivery = Delivery(db, {c.name: c for c in channels})
    scheduler = Scheduler(db, clock, delivery, **kw)
    scheduler.start()
    return scheduler


def test_the_scheduler_delivers_a_reminder_while_idle_and_at_once_when_woken(engine):
    track(engine)
    clock = ManualClock(at(2025, 3, 31, 8, 59))

    async def main():
        terminal = Recording("terminal")
        scheduler = await scheduled(engine, clock, [terminal], sweeps={"terminal": "alice"}, interval=0.05)
        try:
            clock.set(at(2025, 3, 31, 9, 0))     # time passes; nobody types
            chat, reply = await asyncio.wait_for(terminal.got.get(), 10)
            assert chat == "alice" and "还有 30 天" in reply.text and reply.kind == "reminder"
            scheduler.interval = 3600
            clock.set(at(2025, 4, 23, 9, 0))
            scheduler.wake()
            chat, reply = await asyncio.wait_for(terminal.got.get(), 10)
            assert "还有 7 天" in reply.text
        finally:
            await scheduler.stop()
        assert terminal.got.empty()

    asyncio.run(main())


def test_a_wake_while_a_sweep_runs_is_not_lost(engine):
    """Two clusters tracked one right after the other: the second one's missed deadline
    arrives at once, though its wake came while the first one's sweep was running."""
    track(engine, name="甲集群")
    clock = ManualClock(at(2025, 3, 31, 9, 0))

    async def main():
        terminal = Recording("terminal")
        terminal.gate = asyncio.Event()   # the first sweep's delivery is held
        scheduler = await scheduled(engine, clock, [terminal], interval=3600)
        try:
            await asyncio.sleep(0)
            while scheduler.sweeps_done == 0:   # the first sweep has run; its sending is held
                await asyncio.sleep(0.01)
            track(engine, name="乙集群", certified_on=dt.date(2023, 1, 15), now=clock.now())
            scheduler.wake()
            terminal.gate.set()
            texts = [(await asyncio.wait_for(terminal.got.get(), 10))[1].text for _ in range(2)]
        finally:
            await scheduler.stop()
        assert "甲集群" in texts[0] and "乙集群" in texts[1] and "期限已过" in texts[1]

    asyncio.run(main())


def test_one_scheduler_sweeps_every_channel_of_the_process_into_the_outbox(engine):
    track(engine, user="4242", channel="telegram")
    track(engine, user="alice")

    async def main():
        telegram, terminal = Recording("telegram"), Recording("terminal")
        scheduler = await scheduled(engine, ManualClock(at(2025, 3, 31, 9)), [telegram, terminal], interval=3600)
        try:
            got = [await asyncio.wait_for(c.got.get(), 10) for c in (telegram, terminal)]
        finally:
            await scheduler.stop()
        assert [chat for chat, _ in got] == ["4242", "alice"]
        assert all("还有 30 天" in reply.text for _, reply in got)

    asyncio.run(main())
    with session(engine) as s:
        messages = s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.channel, m.chat_id) for m in messages] == [("telegram", "4242"), ("terminal", "alice")]
    assert all(m.sent_at is not None for m in messages)
    assert "还有 30 天" in json.loads(messages[0].payload)["text"]


def test_a_stop_during_a_sweep_sends_what_it_swept(engine, monkeypatch):
    """/quit typed while the start's sweep runs (right after a /track): its reminders are
    printed before the process ends, not left to a later start with stale days."""
    import threading

    import bot.scheduler

    track(engine)
    entered, release = threading.Event(), threading.Event()

    def held_sweep(*args, **kw):
        entered.set()
        release.wait(10)
        return sweep(*args, **kw)

    monkeypatch.setattr(bot.scheduler, "sweep", held_sweep)

    async def main():
        terminal = Recording("terminal")
        scheduler = await scheduled(engine, ManualClock(at(2025, 3, 31, 9)), [terminal], interval=3600)
        await asyncio.to_thread(entered.wait, 10)
        stopping = asyncio.create_task(scheduler.stop())
        await asyncio.sleep(0)  # stop() has cancelled the loops; the sweep is still held
        release.set()
        await stopping
        return [reply.text for _, reply in [terminal.got.get_nowait() for _ in range(terminal.got.qsize())]]

    texts = asyncio.run(main())
    assert len(texts) == 1 and "还有 30 天" in texts[0]
    with session(engine) as s:
        assert all(m.sent_at is not None for m in s.exec(select(OutboxMessage)).all())


def test_a_database_refusing_writes_is_one_line_until_it_takes_them_again(engine, tmp_path, caplog):
    """A delivery tick failing on a full database is logged as one warning line, not a
    traceback a tick (`clusterbot chat` shows its log on the official's screen); once it works
    again, the next refusal is said again. A bug stays a traceback."""
    import logging
    import sqlite3

    con = sqlite3.connect(tmp_path / "full.db", isolation_level=None)
    con.execute("CREATE TABLE t (x)")
    con.execute(f"PRAGMA max_page_count = {con.execute('PRAGMA page_count').fetchone()[0]}")
    try:
        con.execute("INSERT INTO t VALUES (zeroblob(100000))")
    except sqlite3.Error as exc:
        full = exc
    fails = {1, 2, 3, 4, 5, 8, 9, 10}  # ticks that find the database full
    calls = []

    async def main():
        db = Database(engine)
        delivery = Delivery(db, {"terminal": Recording("terminal")})

        async def run_once():
            if asyncio.current_task().get_name() != "delivery tick":
                return  # the sweep at start sends too: on a loaded machine it took a numbered call
            calls.append(len(calls) + 1)
            if calls[-1] in fails:
                raise full
            if calls[-1] == 12:
                raise ValueError("a bug")

        delivery.run_once = run_once
        scheduler = Scheduler(db, ManualClock(at(2025, 3, 1, 9, 0)), delivery, interval=3600, tick=0.005)
        scheduler.start()
        while len(calls) < 13:
            await asyncio.sleep(0.005)
        await scheduler.stop()

    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        asyncio.run(main())
    said = [r for r in caplog.records if r.name == "bot.scheduler" and r.getMessage().startswith("delivery")]
    refused = [r for r in said if r.levelno == logging.WARNING]
    assert len(refused) == 2 and all(r.exc_info is None and "(full)" in r.getMessage() for r in refused)
    assert [r.exc_info[0] for r in said if r.levelno == logging.ERROR] == [ValueError]

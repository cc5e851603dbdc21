"""Tracking certified clusters in the chat, through Conversation.handle against a real SQLite
file (guided and one-line /track, bad dates, the list, lead times and hour, pause, resume,
untrack, privacy), and once through `clusterbot chat` as a real process."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import pexpect
import pytest
from sqlmodel import select

from bot.clock import SHANGHAI, ManualClock
from bot.reminders import sweep
from dialogs.conversation import COMMANDS, WORD_TO_COMMAND, Conversation
from dialogs.tracking import parse_date, parse_time
from engine import load_rulesets
from storage import tracking as store
from storage.db import make_engine, session
from storage.models import User
from storage.tracking import Reminder, TrackedCluster, TrackingDraft

ROOT = Path(__file__).parents[1]
NOW = dt.datetime(2025, 3, 1, 10, 0)  # Asia/Shanghai
NATIONAL = load_rulesets()["national"].deadlines


class Chat:
    def __init__(self, conversation: Conversation, user: str = "alice"):
        self.conversation, self.user = conversation, user
        self.last = []

    def say(self, text: str | None = None, data: str | None = None) -> str:
        self.last = self.conversation.handle(self.user, text=text, data=data)
        return "\n".join(r.text for r in self.last)


@pytest.fixture
def db(db_url):
    """The database's URL: a SQLite file, or a PostgreSQL database (tests/conftest.py)."""
    return db_url


@pytest.fixture
def conversation(db):
    return Conversation(make_engine(db), ManualClock(NOW))


def tracked(conversation, user: str | None = None) -> list[TrackedCluster]:
    """The tracked clusters stored (of one user, or of all), stopped ones included."""
    with session(conversation.engine) as s:
        query = select(TrackedCluster).join(User, User.id == TrackedCluster.user_id).order_by(TrackedCluster.id)
        if user is not None:
            query = query.where(User.external_id == user)
        return list(s.exec(query))


def snapshot(conversation) -> tuple:
    """Everything stored about tracking, to show that a refused answer changes nothing."""
    with session(conversation.engine) as s:
        return (tuple(sorted(str(c.model_dump()) for c in s.exec(select(TrackedCluster)))),
                tuple(sorted(str(r.model_dump()) for r in s.exec(select(Reminder)))),
                tuple(str(d.model_dump(exclude={"updated_at"})) for d in s.exec(select(TrackingDraft))))


# --- the commands ----------------------------------------------------------------------------

def test_the_new_words_do_not_collide_with_existing_ones():
    words = [w for names in COMMANDS.values() for w in names]
    assert len(words) == len(set(words)) == len(WORD_TO_COMMAND)
    for name, words in {"track": ("/track", "跟踪"), "deadlines": ("/deadlines", "期限"), "remind": ("/remind", "提醒设置"),
                        "pause": ("/pause", "暂停提醒"), "resume": ("/resume", "恢复提醒"),
                        "untrack": ("/untrack", "停止跟踪")}.items():
        assert all(WORD_TO_COMMAND[w] == name for w in words)


@pytest.mark.parametrize("text", ["2024-06-01", "2024/6/1", "2024年6月1日", "２０２４年６月１日", "2024.6.1",
                                  "20240601", " 2024 年 6 月 1 日 ", "２０２４－０６－０１",
                                  "2024年6月1号", "2024年6月1日。", "２０２４年６月１号。"])  # 号 as said; the IME's 。
def test_certification_dates_in_the_forms_people_write(text):
    assert parse_date(text) == dt.date(2024, 6, 1)


def test_a_date_with_hao_tracks_in_one_line(conversation):
    chat = Chat(conversation)
    assert "已开始跟踪 #1「甲集群」" in chat.say("/track 甲集群 国家 2024年6月1号")
    assert [(c.name, c.certified_on) for c in tracked(conversation)] == [("甲集群", dt.date(2024, 6, 1))]


@pytest.mark.parametrize("text", ["2024-13-01", "2023-02-29", "6/1/2024", "去年六月", "2024-06", ""])
def test_dates_that_are_not_dates_are_refused(text):
    with pytest.raises(ValueError):
        parse_date(text)


def test_guided_track_asks_name_measures_and_date(conversation):
    chat = Chat(conversation)
    assert "集群名称" in chat.say("/track")
    text = chat.say("示例县机械集群")
    assert "按哪些办法认定" in text
    assert [b.data for b in chat.last[0].choices] == [f"t:measures:{j}" for j in load_rulesets()]
    assert "获国家级认定（工业和信息化部公布）的日期" in chat.say("1,2")   # national and Jiangsu
    text = chat.say("２０２４年６月１日")
    assert "于2024年6月1日获国家级认定" in text and "按江苏办法认定的日期是哪天" in text
    text = chat.say("同一天")
    assert "已开始跟踪 #1「示例县机械集群」" in text
    assert "国家（工信部）、江苏，2024年6月1日认定" in text
    assert "截止前 30、7、1 天、09:00（北京时间）提醒" in text
    assert "2025年3月31日（还有 30 天）" in text and "2025年4月30日（还有 60 天）" in text
    (cluster,) = tracked(conversation)
    assert (cluster.name, cluster.measures, cluster.certified_on) == ("示例县机械集群", "national,jiangsu",
                                                                       dt.date(2024, 6, 1))
    assert {r.jurisdiction for r in _rows(conversation)} == {"national", "jiangsu"}


def _rows(conversation) -> list[Reminder]:
    """Every cluster's reminders, sent (stored) and planned (derived)."""
    with session(conversation.engine) as s:
        return [r for tracked in s.exec(select(TrackedCluster)) for r in store.reminders_of(s, tracked)]


@pytest.mark.parametrize("name", ["跟踪集群", "跟踪"])
def test_a_name_that_is_the_track_word_is_taken_as_the_name(conversation, name):
    chat = Chat(conversation)
    chat.say("/track")
    assert f"「{name}」是按哪些办法认定的" in chat.say(name)  # not the name asked again
    chat.say("国家")
    assert f"已开始跟踪 #1「{name}」" in chat.say("2024-06-01")
    chat.say("/track")
    assert "集群名称" in chat.say("/track")   # typed as the command, it is one


def test_the_measures_may_be_chosen_with_a_button(conversation):
    chat = Chat(conversation)
    chat.say("/track")
    chat.say("乙集群")
    assert "认定日期" in chat.say(data="t:measures:jiangsu")
    assert "该按钮已失效，请按下面的提示继续。" in chat.say(data="t:measures:national")  # the measures were chosen already
    chat.say("2024-06-01")
    assert tracked(conversation)[0].measures == "jiangsu"


def test_an_old_track_button_and_an_old_question_button_say_the_same(conversation):
    chat = Chat(conversation)
    chat.say("/track 甲集群")
    old_measures = chat.last[-1].choices[0].data
    chat.say("国家")
    chat.say("2024-06-01")          # tracked: the measures button is stale
    chat.say("/new 乙集群")
    chat.say("江苏")
    old_answer = chat.last[-1].choices[0].data
    chat.say("是")                   # answered: its button is stale
    for lang in ("zh", "en"):
        chat.say(f"/lang {lang}")
        assert chat.conversation.handle(chat.user, data=old_measures)[0].text == \
            chat.conversation.handle(chat.user, data=old_answer)[0].text


def test_a_bad_date_is_refused_with_the_expected_form_and_nothing_changes(conversation):
    chat = Chat(conversation)
    chat.say("/track 示例县机械集群 国家")
    before = snapshot(conversation)
    text = chat.say("2024-13-01")
    assert "日历上没有“2024-13-01”这一天" in text and "请核对认定日期" in text  # a date's form, no day
    assert snapshot(conversation) == before
    text = chat.say("6月1日")
    assert "没有看懂日期“6月1日”" in text and "2024-06-01、2024/6/1 或 2024年6月1日" in text
    assert "未作任何更改" in text and "认定日期是哪天" in text  # asked again
    assert snapshot(conversation) == before
    text = chat.say("2026-01-01")
    assert "晚于今天（2025年3月1日）" in text
    assert snapshot(conversation) == before
    assert "已开始跟踪" in chat.say("2024/6/1")


def test_the_one_line_form(conversation):
    chat = Chat(conversation)
    text = chat.say("/track 示例县机械集群 national,jiangsu 2024-06-01")
    assert "按江苏办法认定的日期是哪天" in text
    assert "已开始跟踪 #1「示例县机械集群」" in chat.say("同一天")
    text = chat.say("跟踪 乙 集群 国家 2024年6月1日")  # Chinese word; the name may have a space
    assert "已开始跟踪 #2「乙 集群」" in text
    assert [(c.number, c.measures) for c in tracked(conversation)] == [(1, "national,jiangsu"), (2, "national")]


def test_the_one_line_form_reads_measures_and_a_date_written_with_spaces(conversation):
    # 国家 江苏 is how the measures question itself says to write them: both are tracked, and
    # no measure becomes part of the name (which lost the national deadlines before)
    chat = Chat(conversation)
    chat.say("/track 甲集群 国家 江苏 2024-06-01")
    text = chat.say("同一天")
    assert "已开始跟踪 #1「甲集群」" in text and "国家（工信部）、江苏，2024年6月1日认定" in text
    chat.say("/track 乙 集群 国家,江苏 2024 年 6 月 1 日")   # the date as the chat writes it, spaced
    text = chat.say("same day")
    assert "已开始跟踪 #2「乙 集群」" in text
    text = chat.say("/track 陕西 2024-06-01")                      # one word left: it is the name
    assert "「陕西」是按哪些办法认定的" in text
    chat.say("/cancel")
    assert [(c.name, c.measures, c.certified_on) for c in tracked(conversation)] == [
        ("甲集群", "national,jiangsu", dt.date(2024, 6, 1)), ("乙 集群", "national,jiangsu", dt.date(2024, 6, 1))]
    assert {r.jurisdiction for r in _rows(conversation)} == {"national", "jiangsu"}


def test_a_cluster_tracked_already_is_not_tracked_twice(conversation):
    # twice tracked, each reminder came twice and /untrack 甲集群 stopped one of the two
    chat = Chat(conversation)
    chat.say("/track 甲集群 国家 2024-06-01")
    before = snapshot(conversation)
    text = chat.say("/track 甲集群 国家 2024-03-01")
    assert "「甲集群」已在跟踪（#1：国家（工信部），2024年6月1日认定），未作任何更改" in text
    assert "/untrack #1" in text and "集群名称" in text  # how to correct it, and another name asked
    assert snapshot(conversation)[:2] == before[:2]
    assert "已开始跟踪 #2「乙集群」" in chat.say("乙集群")  # the measures and date given are kept
    chat.say("/track")
    assert "已在跟踪（#1" in chat.say("甲集群")          # the guided form alike
    chat.say("/cancel")
    chat.say("/untrack #1")
    assert "已开始跟踪 #3「甲集群」" in chat.say("/track 甲集群 国家 2024-03-01")  # a stopped one is no clash
    chat.say("/lang en")
    assert "“乙集群” is tracked already (#2: National (MIIT), certified 2024-03-01)" in chat.say("/track 乙集群")
    assert [(c.number, c.name, c.stopped_at is None) for c in tracked(conversation)] == [
        (1, "甲集群", False), (2, "乙集群", True), (3, "甲集群", True)]


def test_a_bad_date_in_the_one_line_form_stores_nothing(conversation):
    chat = Chat(conversation)
    before = snapshot(conversation)
    text = chat.say("/track 示例县机械集群 national 2024-02-30")
    assert "日历上没有“2024-02-30”这一天" in text
    assert "日历上没有“2023 年 2 月 29 日”这一天" in chat.say("/track 示例县机械集群 national 2023 年 2 月 29 日")
    chat.say("/lang en")
    assert "“2025-02-29” is no day of the calendar" in chat.say("/track 示例县机械集群 national 2025-02-29")
    assert snapshot(conversation) == before


def test_a_half_given_one_line_form_asks_for_the_rest(conversation):
    chat = Chat(conversation)
    assert "认定日期是哪天" in chat.say("/track 示例县机械集群 江苏")
    assert "已开始跟踪" in chat.say("2024-06-01")


def test_a_restart_resumes_the_guided_step(db, conversation):
    chat = Chat(conversation)
    chat.say("/track")
    chat.say("示例县机械集群")
    conversation.engine.dispose()
    again = Chat(Conversation(make_engine(db), ManualClock(NOW)))
    text = "\n".join(r.text for r in again.conversation.resume("alice"))
    assert "「示例县机械集群」是按哪些办法认定的" in text
    again.say("国家")
    assert "已开始跟踪" in again.say("2024-06-01")


def test_cancel_and_other_questions_end_the_guided_track(conversation):
    chat = Chat(conversation)
    chat.say("/track")
    assert "已取消跟踪设置" in chat.say("/cancel")
    chat.say("/track")
    chat.say("/new 丙集群")             # the pre-screening asks now: the guided /track is abandoned
    assert "请选择按哪些办法预审「丙集群」" in chat.say("/start")
    with session(conversation.engine) as s:
        assert s.exec(select(TrackingDraft)).all() == []


def test_tracking_in_the_middle_of_a_pre_screening_returns_to_its_question(conversation):
    chat = Chat(conversation)
    chat.say("/new 丁集群")
    chat.say("江苏")
    question = chat.last[-1].text
    chat.say("/track 示例县机械集群 国家 2024-06-01")
    assert chat.last[0].text.startswith("已开始跟踪") and chat.last[-1].text == question


def test_the_list_shows_days_left_and_citations(conversation):
    chat = Chat(conversation)
    assert "还没有跟踪的集群" in chat.say("/deadlines")
    chat.say("/track 示例县机械集群 国家 2024-06-01")
    conversation.clock.set(dt.datetime(2025, 4, 29, 8))
    text = chat.say("期限")
    assert "#1「示例县机械集群」" in text
    assert (f"2025年4月30日（还有 1 天） 【国家（工信部）】2024年度集群发展情况报送截止（报送工业和信息化部）"
            f"（{NATIONAL.annual_reports[0].citation}）") in text
    conversation.clock.set(dt.datetime(2025, 4, 30, 8))
    assert "2025年4月30日（今天截止）" in chat.say("/deadlines #1")


def test_the_list_and_the_reminder_flag_a_deadline_after_the_measures_term_alike(conversation):
    # 粤第十九条 自2023年2月28日起实施，有效期3年: its last day is 2026-02-27
    chat = Chat(conversation)
    conversation.clock.set(dt.datetime(2026, 3, 20, 10))
    chat.say("/track 己集群 广东 2026年2月27日")
    note = "注意：该办法已于2026年2月27日期满（第十九条），届时以有效的规定为准。"
    text = chat.say("/deadlines")
    assert f"2026年3月31日（还有 11 天） 【广东】2025年度集群发展情况报送截止（报送省工业和信息化厅）（第十六条）\n  {note}" in text
    assert text.count(note) == 2  # 2026-03-31 and 2027-03-31
    sent = []
    sweep(conversation.engine, dt.datetime(2026, 3, 24, 9, tzinfo=SHANGHAI), "terminal",
          lambda _s, _user, reply: sent.append(reply.text))
    assert any("2026年3月31日（还有 7 天）" in r and note in r for r in sent)
    chat.say("/lang en")
    assert "\n  Note: the measure's term ended on 2026-02-27 (第十九条)" in chat.say("/deadlines")


def test_the_list_flags_a_report_due_on_the_certification_day(conversation):
    chat = Chat(conversation)
    conversation.clock.set(dt.datetime(2025, 4, 30, 10))
    text = chat.say("/track 甲集群 国家 2025-04-30")
    assert "2025年4月30日（今天截止）" in text and "\n  注意：截止日即认定当日" in text
    assert text.count("截止日即认定当日") == 1  # not 2026-04-30's


@pytest.mark.parametrize("text, time", [("9:00", (9, 0)), ("9点", (9, 0)), ("8点30分", (8, 30)), ("8点半", (8, 30)),
                                        ("２１：３０", (21, 30)), ("21时半", (21, 30))])
def test_reminder_times_in_the_forms_people_write(text, time):
    assert parse_time(text) == time


def test_half_past_is_read_in_a_reminder_setting(conversation):
    chat = Chat(conversation)
    chat.say("/track 示例县机械集群 国家 2024-06-01")
    assert "截止前 14 天、08:30（北京时间）提醒" in chat.say("/remind 14 8点半")  # was refused as no time
    assert tracked(conversation)[0].remind_minute == 30


def test_lead_times_and_hour_are_changed_and_refused_when_unreadable(conversation):
    chat = Chat(conversation)
    chat.say("/track 示例县机械集群 国家 2024-06-01")
    text = chat.say("/remind")
    assert "截止前 30、7、1 天、09:00" in text and "/remind 30,7,1 9:00" in text
    text = chat.say("/remind 14、3天 8:30")
    assert "已更新 #1「示例县机械集群」：截止前 14、3 天、08:30（北京时间）提醒" in text
    due = {r.lead_days: r.due_at for r in _rows(conversation) if r.deadline == dt.date(2025, 4, 30)}
    assert due == {14: dt.datetime(2025, 4, 16, 0, 30, tzinfo=dt.timezone.utc),
                   3: dt.datetime(2025, 4, 27, 0, 30, tzinfo=dt.timezone.utc)}
    before = snapshot(conversation)
    assert "没有看懂提前天数" in chat.say("/remind 400")
    assert "没有看懂时间" in chat.say("/remind 25:00")
    assert "没有找到跟踪的集群“#9”" in chat.say("/remind #9 7")
    assert snapshot(conversation) == before
    assert "09:00" in chat.say("提醒设置 #1 7 9点")


def test_pause_resume_and_untrack(conversation):
    chat = Chat(conversation)
    chat.say("/track 甲集群 国家 2024-06-01")
    chat.say("/track 乙集群 江苏 2024-06-01")
    text = chat.say("暂停提醒 #2")
    assert "已暂停 #2「乙集群」的提醒" in text and "#1" not in text.split("\n")[0]
    assert "（已暂停）" in chat.say("/deadlines 2")
    paused_at = tracked(conversation)[1].paused_at
    text = chat.say("/pause #2")                              # again: said so, not paused anew
    assert "#2「乙集群」的提醒此前已暂停，未作更改。" in text and "已暂停 #2" not in text and "补发" not in text
    text = chat.say("/pause")                                 # no number: all of them, each as it was
    assert "已暂停 #1「甲集群」" in text and "#2「乙集群」的提醒此前已暂停" in text
    assert [c.paused_at is not None for c in tracked(conversation)] == [True, True]
    assert tracked(conversation)[1].paused_at == paused_at
    assert "已恢复 #1「甲集群」" in chat.say("/resume 甲集群")
    text = chat.say("/resume 甲集群")
    assert "#1「甲集群」的提醒并未暂停" in text and "已恢复" not in text
    assert [c.paused_at is not None for c in tracked(conversation)] == [False, True]
    chat.say("/lang en")
    assert "were paused already" in chat.say("/pause #2") and "are not paused" in chat.say("/resume #1")
    chat.say("/lang zh")
    text = chat.say("/untrack")                               # several: which one?
    assert "请指明编号" in text and [b.data for b in chat.last[0].actions] == ["/untrack #1", "/untrack #2"]
    assert "已停止跟踪 #2「乙集群」" in chat.say("停止跟踪 2号")
    assert "乙集群" not in chat.say("/deadlines")
    with session(conversation.engine) as s:
        stopped = s.exec(select(TrackedCluster).where(TrackedCluster.number == 2)).one()
        assert stopped.stopped_at is not None
        assert s.exec(select(Reminder).where(Reminder.tracked_id == stopped.id)).all() == []
    assert "#3" in chat.say("/track 丙集群 国家 2024-06-01")   # numbers are never reused


def test_a_user_sees_and_changes_only_their_own_clusters(conversation):
    alice, bob = Chat(conversation, "alice"), Chat(conversation, "bob")
    alice.say("/track 甲集群 国家 2024-06-01")
    assert "还没有跟踪的集群" in bob.say("/deadlines")
    for command in ("/pause #1", "/resume 1", "/untrack 甲集群", "/remind #1 7", "/deadlines 甲集群"):
        assert "还没有跟踪的集群" in bob.say(command)
    bob.say("/track 乙集群 江苏 2024-06-01")
    assert "没有找到跟踪的集群“甲集群”" in bob.say("/untrack 甲集群")
    bob.say("/pause #1")
    a, b = tracked(conversation, "alice"), tracked(conversation, "bob")
    assert (a[0].number, a[0].paused_at, b[0].number) == (1, None, 1) and b[0].paused_at is not None
    assert "甲集群" not in bob.say("/deadlines") and "乙集群" not in alice.say("/deadlines")


def test_english(conversation):
    chat = Chat(conversation)
    chat.say("/lang en")
    chat.say("/track")
    assert "Under which measures" in chat.say("X cluster")
    assert "On which day" in chat.say("national")
    assert "I could not read the date “soon”" in chat.say("soon")
    text = chat.say("2024-6-1")
    assert "Now tracking #1 “X cluster”" in text and "2025-04-30 (60 days left)" in text



def test_an_english_time_with_am_or_pm_is_read_as_the_time_not_as_days(conversation):
    chat = Chat(conversation)
    chat.say("/lang en")
    chat.say("/track X national 2024-06-01")
    assert "reminders 14 days before, at 21:30" in chat.say("/remind 14 9:30pm")  # was: bad days “9:30pm”
    assert "at 09:00" in chat.say("/remind X 7 9 am")
    before = snapshot(conversation)
    text = chat.say("/remind 13pm")
    assert "I could not read the time “13pm”" in text and "days" not in text
    assert snapshot(conversation) == before

# --- the terminal, as a real process ------------------------------------------------------------

def test_the_terminal_prints_a_due_reminder_and_reports_a_missed_deadline(db):
    # Tracked on 2024-06-01; the chat is opened on 2025-03-31 at 09:00:30, thirty seconds
    # after the 30-day reminder of the national report fell due.
    conversation = Conversation(make_engine(db), ManualClock(dt.datetime(2024, 6, 1, 10)))
    Chat(conversation).say("/track 示例县机械集群 国家 2024-06-01")
    conversation.engine.dispose()
    env = dict(os.environ, CLUSTERBOT_FAKE_NOW="2025-03-31T09:00:30", PYTHONUNBUFFERED="1")
    child = pexpect.spawn(sys.executable, ["-m", "bot.cli", "chat", "--db", str(db), "--user", "alice"],
                          cwd=str(ROOT), env=env, encoding="utf-8", timeout=30, dimensions=(50, 400))
    try:
        child.expect_exact("⏰ 期限提醒：#1「示例县机械集群」")
        child.expect_exact("截止日期：2025年4月30日（还有 30 天）")
        child.expect_exact(f"“{NATIONAL.annual_reports[0].article_text}”")
        # tracked now, a cluster whose report of 2024-04-30 (within the last year) has passed
        child.sendline("/track 乙集群 国家 2023-01-15")
        child.expect_exact("已开始跟踪 #2「乙集群」")
        child.expect_exact("⚠️ 期限已过：#2「乙集群」")
        child.expect_exact("2024年4月30日（已过 335 天）")
        child.expect_exact(f"“{NATIONAL.missed.annual_report.article_text}”")
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    with session(make_engine(db)) as s:
        sent = s.exec(select(Reminder).where(Reminder.sent_at != None)).all()  # noqa: E711
    assert {r.outcome for r in sent} >= {"on_time", "missed"}


@pytest.mark.parametrize("days", ["366", "400,-1", "1,2,3,4,5,6,7", "7.5", "30;-7"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_chat_and_the_calendar_read_reminder_days_by_one_rule(conversation, capsys, days, lang):
    """/remind and `clusterbot deadlines --alarms` refuse the same days in the same words (they
    once took 0–365 and 0–366), and take the same: a year ahead and the day itself."""
    from bot.cli import main

    chat = Chat(conversation)
    chat.say(f"/lang {lang}")
    chat.say("/track 示例县机械集群 国家 2024-06-01")
    before = snapshot(conversation)
    said = chat.say(f"/remind {days}").split("\n")[0]
    assert snapshot(conversation) == before and chat.last[0].kind == "error"
    with pytest.raises(SystemExit) as exit_:
        main(["deadlines", "-j", "national", "--certified-on", "2024-06-01", "-f", "ics", "--alarms", days,
              "--lang", lang])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.endswith(f"--alarms{'：' if lang == 'zh' else ': '}{said}\n")
    assert ("0 到 365 的整数，最多 6 个" if lang == "zh" else "from 0 to 365, at most 6") in said
    assert "365, 0" in chat.say("/remind 365,0") or "365、0" in chat.last[0].text
    assert main(["deadlines", "-j", "national", "--certified-on", "2024-06-01", "-f", "ics", "--alarms", "365,0"]) == 0
    assert capsys.readouterr().out.count("TRIGGER") >= 2


def test_remind_names_a_cluster_whose_name_has_spaces(conversation):
    """/remind reads the cluster as the most leading words that name a tracked one, as /track
    took the name with its spaces (it read 「乙」 of 乙 集群 and found none)."""
    chat = Chat(conversation)
    chat.say("/track 乙 集群 国家 2024-06-01")
    chat.say("/track 乙 江苏 2024-06-01")
    chat.say("/track 重点 产业集群 江苏 2024-06-01")  # 点 is no time
    assert [c.name for c in tracked(conversation)] == ["乙 集群", "乙", "重点 产业集群"]
    text = chat.say("/remind 乙 集群 14")
    assert text.startswith("已更新 #1「乙 集群」：截止前 14 天、09:00") and "#2" not in text
    text = chat.say("/remind 乙 7,1 8:30")
    assert text.startswith("已更新 #2「乙」：截止前 7、1 天、08:30") and "#1" not in text
    text = chat.say("/remind 重点 产业集群 3")
    assert text.startswith("已更新 #3「重点 产业集群」：截止前 3 天")
    assert [c.leads for c in tracked(conversation)] == [[14], [7, 1], [3]]
    before = snapshot(conversation)
    assert "没有找到跟踪的集群“丙 集群”" in chat.say("/remind 丙 集群 14 9:00")  # the whole name said
    assert "没有看懂提前天数“400”" in chat.say("/remind 乙 集群 400")
    assert snapshot(conversation) == before
    assert "#1「乙 集群」：截止前 14 天" in chat.say("/remind 乙 集群")  # its settings


def test_a_cluster_certified_nationally_and_provincially_keeps_both_dates(conversation):
    # National 第十二条: the province certified first, on its own day; Jiangsu 第十一条 counts
    # its three years from it (2023-10-15 → 2026-10-14), not from the national certification.
    chat = Chat(conversation)
    text = chat.say("/track 甲集群 国家 江苏 2024年6月1日")
    assert "于2024年6月1日获国家级认定" in text and "按江苏办法认定的日期是哪天" in text
    assert tracked(conversation) == []
    text = chat.say("2023-04-30")                       # before Jiangsu 第十六条 自2023年5月1日起实施
    assert "早于江苏办法" in text and "按江苏办法认定的日期是哪天" in text and tracked(conversation) == []
    text = chat.say("2023.10.15")
    assert "已开始跟踪 #1「甲集群」" in text
    assert "国家（工信部）、江苏，国家（工信部）2024年6月1日、江苏2023年10月15日认定" in text
    (cluster,) = tracked(conversation)
    assert (cluster.certified_on, cluster.provincial_certified_on) == (dt.date(2024, 6, 1), dt.date(2023, 10, 15))
    re_reviews = [(d.jurisdiction, d.date) for d in store.deadlines_of(cluster, dt.date(2025, 3, 1), dt.date(2027, 12, 31))
                  if d.kind == "re_review"]
    assert re_reviews == [("jiangsu", dt.date(2026, 10, 14)), ("national", dt.date(2027, 5, 31))]
    # the reminder a month before the Jiangsu re-review names it, and its date
    conversation.clock.set(dt.datetime(2026, 9, 14, 9, 0))
    sent = []
    sweep(conversation.engine, conversation.clock.now(), "terminal", lambda _s, _u, reply: sent.append(reply.text))
    assert any("【江苏】申请复核截止" in s and "2026年10月14日（还有 30 天）" in s for s in sent)
    text = chat.say("/track 甲集群 国家 江苏 2024-06-01")
    assert "国家（工信部）2024年6月1日、江苏2023年10月15日认定" in text  # tracked already, said with both dates


def test_the_province_date_can_be_the_same_day(conversation):
    chat = Chat(conversation)
    chat.say("/track 乙集群 国家 广东 2024-06-01")
    text = chat.say("同一天")
    assert "国家（工信部）、广东，2024年6月1日认定" in text and "注意：国家和省级期限均按同一认定日期" not in text
    (cluster,) = tracked(conversation)
    assert (cluster.certified_on, cluster.provincial_certified_on) == (dt.date(2024, 6, 1), dt.date(2024, 6, 1))


def test_a_cluster_tracked_under_both_with_one_date_before_is_told_so(conversation):
    # stored before the province's own date was asked (provincial_certified_on NULL)
    chat = Chat(conversation)
    chat.say("/deadlines")  # the user
    with session(conversation.engine) as s:
        user = s.exec(select(User).where(User.external_id == "alice")).one()
        store.track(s, user, "甲集群", ["national", "jiangsu"], dt.date(2024, 6, 1), conversation.clock.now())
        store.track(s, user, "乙集群", ["jiangsu"], dt.date(2024, 6, 1), conversation.clock.now())
        s.commit()
    text = chat.say("/deadlines")
    assert text.count("注意：国家和省级期限均按同一认定日期计算") == 1 and "/untrack #1 后重新 /track" in text
    chat.say("/lang en")
    assert "/untrack #1 and /track it again" in chat.say("/deadlines #1")


def test_the_list_says_a_deadline_of_a_later_validity_period_assumes_the_re_review(conversation):
    # 第十五条 复核通过的有效期延长三年: a report due after the re-review is owed only if it
    # passed; the reminders and `deadlines` said so, the chat's /deadlines list did not.
    conversation.clock.set(dt.datetime(2027, 6, 10, 10, 0))
    chat = Chat(conversation)
    text = chat.say("/track 甲集群 国家 2024-06-01")
    line = text.split("2028年4月30日", 1)[1].split("\n· ", 1)[0]
    assert "【国家（工信部）】2027年度集群发展情况报送截止" in line and "（第2个有效期：假定此前的复核已通过。）" in line
    assert text.count("假定此前的复核已通过") == text.count("\n· 20")  # every listed date is in period 2


def test_two_dates_in_one_line_are_refused_not_made_part_of_the_name(conversation):
    chat = Chat(conversation)
    text = chat.say("/track 甲集群 国家 江苏 2024-06-01 2023-10-15")
    assert "一行只能写一个认定日期" in text and "未作任何更改" in text
    assert "「甲集群 国家 江苏 2024-06-01」" not in text and tracked(conversation) == []
    assert "省级认定在先" in chat.say("/track 甲集群 国家 江苏 2024-06-01")  # as it says: the province's is asked


def test_a_province_date_after_the_national_one_is_refused_after_the_first_batch(conversation):
    # national 第十二条 并已认定为省级集群（首批申请除外）: the province certifies first
    chat = Chat(conversation)
    chat.say("/track 丙集群 国家 江苏 2024-06-01")
    text = chat.say("2025-01-01")
    assert "江苏认定日期2025年1月1日晚于国家级认定日期2024年6月1日" in text and "按江苏办法认定的日期是哪天" in text
    assert tracked(conversation) == []
    assert "已开始跟踪" in chat.say("2024-05-31")
    chat.say("/track 丁集群 国家 陕西 2022-11-01")  # the first batch (2022) needed no provincial one
    assert "已开始跟踪" in chat.say("2023-06-01")


def test_a_measures_term_end_is_not_reported_as_a_deadline_missed(conversation):
    # 粤第十九条 有效期3年 (last day 2026-02-27) ends the measure, not a duty of the cluster
    conversation.clock.set(dt.datetime(2026, 3, 10, 10, 0))
    chat = Chat(conversation)
    chat.say("/track 粤集群 广东 2024-06-01")
    sent = []
    sweep(conversation.engine, conversation.clock.now(), "terminal", lambda _s, _u, reply: sent.append(reply.text))
    (term,) = [text for text in sent if "有效期届满" in text]
    assert term.startswith("ℹ️ 办法已期满：#1「粤集群」") and "办法最后一日：2026年2月27日（已过 11 天）" in term
    assert "期限已过" not in term and "截止日期" not in term
    assert any(text.startswith("⚠️ 期限已过") and "2025年3月31日" in text for text in sent)  # a report still is


@pytest.mark.parametrize("text, hour_minute", [("上午9点", (9, 0)), ("下午3点", (15, 0)), ("下午3点半", (15, 30)),
                                              ("晚上8点", (20, 0)), ("中午12点", (12, 0)), ("中午1点", (13, 0)),
                                              ("早上8:30", (8, 30)), ("下午15点", (15, 0)), ("晚上12点", (0, 0))])
def test_a_time_with_its_part_of_the_day(text, hour_minute):
    assert parse_time(text) == hour_minute


@pytest.mark.parametrize("text", ["上午0点", "上午15点", "下午25点"])
def test_a_part_of_the_day_that_does_not_fit_the_hour_is_refused(text):
    with pytest.raises(ValueError):
        parse_time(text)


def test_remind_reads_days_and_times_as_officials_say_them(conversation):
    # 提前15天 and 下午3点 were read as a cluster's name ("没有找到跟踪的集群") or no time
    chat = Chat(conversation)
    chat.say("/track 甲集群 国家 2024-06-01")
    assert "截止前 15 天、09:00（北京时间）提醒" in chat.say("/remind 提前15天")
    assert "截止前 15 天、15:00（北京时间）提醒" in chat.say("/remind 下午3点")
    assert "截止前 30、7 天、08:30（北京时间）提醒" in chat.say("/remind #1 提前30天、7天 上午8点半")
    (cluster,) = tracked(conversation)
    assert (cluster.lead_days, cluster.remind_hour, cluster.remind_minute) == ("30,7", 8, 30)


@pytest.mark.parametrize("typed,leads", [
    ("提前一个月、一周和一天", "30、7、1"), ("提前十五天", "15"), ("提前两周", "14"), ("半个月 3天", "15、3"),
    ("提前1个月和1个星期", "30、7"), ("提前一年", "365"),
])
def test_remind_reads_weeks_months_and_chinese_numerals(conversation, typed, leads):
    """提前一个月、一周和一天 was taken for a cluster's name (没有找到跟踪的集群“提前一个月、一周和一天”):
    a month is 30 days, a week 7, 半个月 15, as `deadlines --alarms` reads them too."""
    chat = Chat(conversation)
    chat.say("/track 甲集群 国家 2024-06-01")
    text = chat.say(f"/remind {typed} 上午9点")
    assert f"截止前 {leads} 天、09:00（北京时间）提醒" in text, text


def test_remind_reads_a_time_in_chinese_numerals_and_names_days_it_cannot_read(conversation):
    chat = Chat(conversation)
    chat.say("/track 甲集群 国家 2024-06-01")
    assert "截止前 7 天、08:00（北京时间）提醒" in chat.say("/remind 提前一周 早上八点")
    assert "截止前 7 天、15:30（北京时间）提醒" in chat.say("/remind 下午三点半")
    text = chat.say("/remind 提前两年")  # 730 days: past the most, said as typed, not taken for a name
    assert "没有看懂提前天数“提前两年”" in text and "没有找到" not in text, text


def test_remind_reads_weeks_and_months_in_english(conversation):
    chat = Chat(conversation)
    chat.say("/lang en")
    chat.say("/track 甲集群 国家 2024-06-01")
    text = chat.say("/remind a month, a week and a day before 9am")
    assert "30, 7, 1 days before, at 09:00" in text, text
    text = chat.say("/remind 甲集群 2 weeks ahead")
    assert "14 days before, at 09:00" in text, text
    text = chat.say("/remind")  # the settings in English words and marks, no 「」 or ：
    assert "#1 “甲集群”: reminders 14 days before" in text and "「" not in text and "：" not in text, text
    chat.say("/track 乙集群 国家 2024-06-01")
    text = chat.say("/pause")  # which of the two: named in English marks too
    assert "#1 “甲集群”" in text and "#2 “乙集群”" in text and "「" not in text, text


def test_a_command_that_leaves_the_guided_track_open_asks_its_step_again(conversation):
    """/remind, /help or /pause while the guided /track waits for the province's date: the
    command was answered and the date question left unsaid, so the next words (a question
    about the measures) were read as the date and refused. The step is asked again last."""
    chat = Chat(conversation)
    chat.say("/track 甲集群 国家 江苏 2024年6月1日")
    for command in ("/remind 30,7,1 9:00", "/help", "/pause"):
        chat.say(command)
        assert "按江苏办法认定的日期是哪天" in chat.last[-1].text, command
        assert sum("按江苏办法认定的日期是哪天" in r.text for r in chat.last) == 1, command
    assert "已开始跟踪 #1「甲集群」" in chat.say("2023.10.15")
    assert "按江苏办法认定的日期是哪天" not in chat.say("/help")

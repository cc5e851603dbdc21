"""The Telegram bot end to end: `clusterbot serve` as a separate process, with the real
python-telegram-bot HTTP stack, against a Bot API server the test starts on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engine import catalogue
from tests.chat_helpers import asked_fact, chat_answer
from tests.conftest import eligible_facts, migrated_sqlite
from tests.im_process import UNSENT, count, last_ids, sharing
from bench.standins.fakebotapi import FakeBotApi, buttons
from bench.standins.ports import wait_for_port

ROOT = Path(__file__).parents[1]
NOW = "2026-11-23T10:00:00"


class Bot:
    """`clusterbot serve` in its own process, pointed at the fake API."""

    def __init__(self, fake: FakeBotApi, db: Path, *extra: str, env: dict | None = None):
        self.fake, self.db, self.extra = fake, db, extra
        self.env = {**os.environ, "CLUSTERBOT_FAKE_NOW": NOW, **(env or {})}
        self.proc = None
        self.log = db.with_suffix(".log")
        self.before = dict.fromkeys(("users", "profiles", "answers"), 0)  # the last rows of earlier tests (`mark`)

    def start(self) -> "Bot":
        polls_before = self.fake.polls_started
        migrated_sqlite(self.db)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--token", self.fake.token,
             "--api-base-url", self.fake.base_url, "--db", str(self.db), *self.extra],
            cwd=ROOT, env=self.env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None, self.log.read_text(errors="replace")
            assert time.monotonic() < deadline, "the bot did not start polling"
            try:
                self.fake.wait_for_poller(timeout=0.2, since=polls_before)
                return self
            except AssertionError:
                continue

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def settle(self) -> None:
        """Wait until the bot has handled every update and sent every reply, and nothing a
        test arranged on the fake is left to happen: as a new bot would be."""
        assert self.proc.poll() is None, self.log.read_text(errors="replace")
        self.fake.wait_until(lambda: self.fake.settled() and count(self.db, UNSENT) == 0, timeout=15)

    def mark(self) -> None:
        """The rows there are now are an earlier test's: `answers_in_db` and the tests skip them."""
        self.before = last_ids(self.db)


# One fake Bot API and one `clusterbot serve` for a module's tests that take `bot`.
shared_process, bot, fake = sharing("bot", FakeBotApi, lambda fake, folder: Bot(fake, folder / "bot.db").start())


class User:
    """A person in a private chat with the bot."""

    def __init__(self, fake: FakeBotApi, user_id: int, name: str = "官员"):
        self.fake, self.id = fake, user_id
        fake.register_user(user_id, first_name=name, language_code="zh-hans")
        self.seen: list[dict] = []

    def read_until(self, predicate, timeout: float = 15) -> list[dict]:
        """Bot messages until one satisfies `predicate` (that one included)."""
        got = []
        while True:
            message = self.fake.wait_for_bot_message(self.id, timeout=timeout)
            got.append(message)
            self.seen.append(message)
            if predicate(message):
                return got

    def send(self, text: str, until=None) -> list[dict]:
        self.fake.user_sends(self.id, text)
        return self.read_until(until or is_prompt)

    def press(self, message: dict, label: str, until=None) -> list[dict]:
        self.fake.user_presses(self.id, message, button_text=label)
        return self.read_until(until or is_prompt)

    def answer_all(self, facts: dict, last: list[dict], limit: int = 80) -> list[dict]:
        """Answer every question: choices by button, figures by text."""
        for _ in range(limit):
            message = last[-1]
            text = message.get("text", "")
            if "全部问题已答完" in text:
                return last
            if "年份对吗" in text:
                last = self.press(message, "是")
                continue
            fact = asked_fact(text)
            assert fact, text
            answer = chat_answer(fact, facts[fact])
            if answer in [label for label, _ in buttons(message)]:
                last = self.press(message, answer)
            else:
                last = self.send(answer)
        raise AssertionError("too many questions")


def is_prompt(message: dict) -> bool:
    """A message that waits for the user: a question, a confirmation, or the final result."""
    text = message.get("text", "")
    return bool(buttons(message)) and (asked_fact(text) is not None or "年份对吗" in text
                                      or "全部问题已答完" in text or "请选择" in text) \
        or "全部问题已答完" in text or "请输入集群名称" in text


def start_profile(user: User, name: str, measures: str) -> list[dict]:
    user.send("/start", until=lambda m: "/new" in m.get("text", "") or "欢迎" in m.get("text", ""))
    user.send(f"/new {name}", until=lambda m: "请选择" in m.get("text", ""))
    return user.send(measures)


def answers_in_db(bot: Bot) -> dict[str, str]:
    """The answers stored since the test began."""
    with sqlite3.connect(bot.db) as con:
        return dict(con.execute("select fact, value_json from answers where value_json is not null and id > ? "
                                "order by id", [bot.before["answers"]]))


# --- tests -----------------------------------------------------------------------------------

def test_two_users_at_once_with_buttons_and_text(fake, bot):
    answered_before, calls_before = len(fake.answered_callbacks), len(fake.calls("answerCallbackQuery"))
    alice, bob = User(fake, 1001, "甲"), User(fake, 1002, "乙")
    results, errors = {}, []

    def run(user: User, name: str, measures: str, facts: dict):
        try:
            results[user.id] = user.answer_all(facts, start_profile(user, name, measures))
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)

    bad = dict(eligible_facts(), total_output={"2023": 45, "2024": 48, "2025": 38.5})
    threads = [threading.Thread(target=run, args=(alice, "甲集群", "全部", eligible_facts())),
               threading.Thread(target=run, args=(bob, "乙集群", "江苏", bad))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(180)
    assert not errors, errors
    alice_final = results[1001][-1]["text"]
    bob_final = results[1002][-1]["text"]
    assert alice_final.count("】符合条件") == 4
    assert "【江苏（苏工信规〔2023〕3号）】不符合条件" in bob_final
    assert "原文：“近三年，集群总产值每年均在40亿元以上”" in bob_final
    # a choice pressed is shown in the question it answered, edited in place, and the next
    # question follows in that same message (one editMessageText, no sendMessage)
    edited = [m for m in fake.messages(1001) if m.get("edit_date") and "→ " in m.get("text", "")]
    assert edited and buttons(edited[0])
    chosen = edited[0]["text"].index("→ ")
    assert asked_fact(edited[0]["text"][chosen:]) and asked_fact(edited[0]["text"][:chosen])
    # every callback query was answered
    assert len(fake.answered_callbacks) - answered_before >= len(fake.calls("answerCallbackQuery")) - calls_before
    assert not fake.unknown_calls


def test_commands_menu_in_chinese_and_english(fake, bot):
    zh = fake.commands(language_code="")
    en = fake.commands(language_code="en")
    assert {c["command"] for c in zh} >= {"start", "new", "skip", "back", "edit", "why", "status", "result"}
    assert any(c["description"] == "跳过本题" for c in zh)
    assert any(c["description"] == "Skip this question" for c in en)


def test_html_in_an_answer_is_escaped(fake, bot):
    user = User(fake, 1003)
    user.send("/start", until=lambda m: "/new" in m.get("text", ""))
    name = "<b>甲&乙</b> <script>x</script>"
    messages = user.send(f"/new {name}", until=lambda m: "请选择" in m.get("text", ""))
    assert any(f"已创建集群「{name}」" in m["text"] for m in messages)  # shown literally, not as markup
    # waited for: a call is recorded once answered, which may be after the test read the message
    sent = fake.wait_for_call("sendMessage", lambda c: c.params.get("chat_id") == 1003
                              and "已创建集群" in str(c.params.get("text")))
    assert "&lt;b&gt;甲&amp;乙&lt;/b&gt;" in sent.params["text"]


def test_a_crafted_button_for_another_users_profile_is_refused(fake, bot):
    alice, mallory = User(fake, 1004), User(fake, 1005)
    start_profile(alice, "甲集群", "江苏")
    start_profile(mallory, "乙集群", "江苏")
    with sqlite3.connect(bot.db) as con:
        (alice_profile,) = con.execute("select id from profiles where name='甲集群' and id > ?",
                                       [bot.before["profiles"]]).fetchone()
    question = [m for m in mallory.seen if buttons(m)][-1]
    fake.inject_update({"callback_query": {
        "id": "999", "from": {"id": 1005, "is_bot": False, "first_name": "M"},
        "message": question, "chat_instance": "1", "data": f"c:{alice_profile}:asking-county_level:2"}})
    refused = mallory.read_until(lambda m: "不属于您" in m.get("text", ""))
    assert refused
    assert "county_level" not in answers_in_db(bot)


def test_a_429_is_survived_and_the_reply_not_lost(fake, bot):
    user = User(fake, 1006)
    user.send("/start", until=lambda m: "/new" in m.get("text", ""))
    sent_before = len(fake.calls("sendMessage"))
    fake.fail_next("sendMessage", times=1, status=429, retry_after=1)
    started = time.monotonic()
    messages = user.send("/new 丙集群", until=lambda m: "请选择" in m.get("text", ""))
    assert any("已创建集群「丙集群」" in m["text"] for m in messages)
    assert time.monotonic() - started >= 0.9  # it waited as Telegram asked
    statuses = [c.status for c in fake.calls("sendMessage")[sent_before:]]
    assert 429 in statuses


def test_5xx_are_retried_and_a_send_slower_than_ptbs_default_timeout_arrives(fake, bot):
    user = User(fake, 1007)
    user.send("/start", until=lambda m: "/new" in m.get("text", ""))
    fake.fail_next("sendMessage", times=2, status=502)
    messages = user.send("/new 丁集群", until=lambda m: "请选择" in m.get("text", ""))
    assert any("已创建集群「丁集群」" in m["text"] for m in messages)
    # Longer than PTB's default 5 s read timeout: the bot waits for it (READ_TIMEOUT), so the
    # reply is neither lost nor sent again (a call that does time out is retried as a 5xx is).
    fake.delay_next("sendMessage", 7)
    messages = user.send("江苏")
    assert asked_fact(messages[-1]["text"]) == "county_level"


def test_an_update_delivered_twice_is_handled_once(fake, bot):
    user = User(fake, 1008)
    start_profile(user, "戊集群", "江苏")
    question = [m for m in user.seen if buttons(m)][-1]
    fake.deliver_twice()
    user.press(question, "是")
    fake.assert_no_bot_message(1008, within=1.0)
    assert count(bot.db, "select count(*) from answers where fact='county_level' and id > ?",
                 bot.before["answers"]) == 1


def test_kill_and_restart_mid_conversation_loses_nothing(fake, tmp_path):
    bot = Bot(fake, tmp_path / "bot.db").start()
    user = User(fake, 1009)
    last = start_profile(user, "己集群", "陕西")
    facts = eligible_facts()
    for _ in range(6):
        fact = asked_fact(last[-1]["text"])
        answer = chat_answer(fact, facts[fact])
        last = (user.press(last[-1], answer) if answer in [b for b, _ in buttons(last[-1])]
                else user.send(answer))
    acknowledged = answers_in_db(bot)
    assert len(acknowledged) == 6
    waiting = asked_fact(last[-1]["text"])
    bot.kill()
    # the user answers while the bot is down; the update waits at the API
    fake.user_sends(1009, chat_answer(waiting, facts[waiting]) if waiting not in ("county_level",) else "是")
    bot = Bot(fake, tmp_path / "bot.db").start()
    try:
        # A message sent just before the kill may come again (delivery is at least once);
        # then the answer given while the bot was down is acknowledged, and the next question asked.
        saved = f"已保存：{catalogue()[waiting].zh}"
        after = user.read_until(lambda m: saved in m.get("text", "") and is_prompt(m), timeout=30)
        assert asked_fact(after[-1]["text"]) != waiting
        stored = answers_in_db(bot)
        assert {k: stored[k] for k in acknowledged} == acknowledged and waiting in stored
        final = user.answer_all(facts, after)
        assert "】符合条件" in final[-1]["text"]
    finally:
        bot.stop()


def test_unsent_replies_are_sent_after_a_restart(fake, tmp_path):
    bot = Bot(fake, tmp_path / "bot.db").start()
    user = User(fake, 1010)
    user.send("/start", until=lambda m: "/new" in m.get("text", ""))
    fake.fail_next("sendMessage", times=50, status=502)  # Telegram is down for a while
    fake.user_sends(1010, "/new 庚集群")
    fake.wait_for_call("sendMessage", lambda c: c.status == 502, timeout=15)
    bot.kill()
    with sqlite3.connect(bot.db) as con:
        pending = con.execute("select count(*) from outbox where sent_at is null").fetchone()[0]
    assert pending >= 1  # committed with the answer, not yet delivered
    fake.fail_next("sendMessage", times=0)
    fake._faults.clear()
    bot = Bot(fake, tmp_path / "bot.db").start()
    try:
        got = user.read_until(lambda m: "请选择" in m.get("text", ""), timeout=30)
        assert any("已创建集群「庚集群」" in m["text"] for m in got)
    finally:
        bot.stop()


def test_allow_list_refuses_politely_and_stores_nothing(fake, tmp_path):
    bot = Bot(fake, tmp_path / "bot.db", "--allow", "2001").start()
    try:
        stranger, member = User(fake, 2002), User(fake, 2001)
        stranger.send("/start", until=lambda m: "授权用户" in m.get("text", ""))
        member.send("/start", until=lambda m: "/new" in m.get("text", ""))
        with sqlite3.connect(bot.db) as con:
            users = [r[0] for r in con.execute("select external_id from users")]
            stored = con.execute("select count(*) from processed_updates").fetchone()[0]
        assert users == ["2001"] and stored == 1
    finally:
        bot.stop()


def test_the_refusal_of_a_stranger_survives_a_429_and_a_5xx(fake, tmp_path):
    bot = Bot(fake, tmp_path / "bot.db", "--allow", "2001").start()
    try:
        stranger = User(fake, 2003)
        fake.fail_next("sendMessage", status=429, retry_after=0.5)
        fake.fail_next("sendMessage", status=502)
        stranger.send("/start", until=lambda m: "授权用户" in m.get("text", ""))
        assert {429, 502} <= {c.status for c in fake.calls("sendMessage")}
        fake.assert_no_bot_message(2003, within=1.0)  # once
        # in a group: refused only when addressed to the bot; joining, leaving, chatter never
        group, member = -900, {"id": 2003, "is_bot": False, "first_name": "丙"}
        chat = {"id": group, "type": "group", "title": "集群工作群"}
        fake.inject_update({"message": {"message_id": 95, "date": 0, "from": member, "chat": chat,
                                        "new_chat_members": [member]}})
        fake.user_sends(2003, "大家好", chat_id=group, chat_type="group", chat_title="集群工作群")
        fake.inject_update({"message": {"message_id": 96, "date": 0, "from": member, "chat": chat,
                                        "left_chat_member": member}})
        fake.assert_no_bot_message(group, within=1.0)
        fake.user_sends(2003, "@clusterbot_test_bot 你好", chat_id=group, chat_type="group", chat_title="集群工作群")
        assert "授权用户" in fake.wait_for_bot_message(group)["text"]
        with sqlite3.connect(bot.db) as con:
            assert con.execute("select count(*) from users").fetchone() == (0,)
    finally:
        bot.stop()


def test_group_chat_answers_questions_and_sends_the_dialog_to_private(fake, bot):
    group = -500
    fake.user_sends(1011, "/ask@clusterbot_test_bot 江苏 专利", chat_id=group, chat_type="group", chat_title="集群工作群")
    answer = fake.wait_for_bot_message(group)
    assert "每万人有效发明专利拥有量" in answer["text"] and "第六条（五）" in answer["text"]
    fake.user_sends(1011, "/new 甲集群", chat_id=group, chat_type="group", chat_title="集群工作群")
    assert "私聊" in fake.wait_for_bot_message(group)["text"]
    fake.user_sends(1011, "大家好", chat_id=group, chat_type="group", chat_title="集群工作群")
    fake.assert_no_bot_message(group, within=0.8)
    assert count(bot.db, "select count(*) from profiles where id > ?", bot.before["profiles"]) == 0


def test_in_a_group_a_reply_to_the_bots_message_is_for_the_bot(fake, bot):
    """Replying to the bot's answer is how a group member asks it a follow-up (Telegram
    delivers such a reply to a bot in privacy mode because it is addressed to it): it was
    silence. A reply to another member's message, or chatter, still gets nothing."""
    group = -501
    fake.user_sends(1031, "/ask@clusterbot_test_bot 江苏 专利", chat_id=group, chat_type="group", chat_title="集群工作群")
    answer = fake.wait_for_bot_message(group)
    fake.user_sends(1031, "江苏 专利", chat_id=group, chat_type="group", reply_to_message_id=answer["message_id"])
    assert "每万人有效发明专利拥有量" in fake.wait_for_bot_message(group)["text"]
    chatter = fake.user_sends(1032, "大家好", chat_id=group, chat_type="group")
    fake.user_sends(1031, "江苏 专利", chat_id=group, chat_type="group",
                    reply_to_message_id=chatter["message"]["message_id"])
    fake.assert_no_bot_message(group, within=0.8)


def test_in_a_group_a_mention_mid_sentence_or_alone_is_answered(fake, bot):
    """「请问 @bot 江苏专利要求多少？」 was echoed back with the spaces the mention left
    (与“请问   江苏专利…”); a mention alone (someone pinging the bot) got silence."""
    group = -502
    fake.user_sends(1033, "请问 @clusterbot_test_bot 江苏专利要求多少？", chat_id=group, chat_type="group")
    answer = fake.wait_for_bot_message(group)["text"]
    assert "与“请问 江苏专利要求多少？”相关的条件" in answer and "第六条（五）" in answer
    fake.user_sends(1033, "@clusterbot_test_bot", chat_id=group, chat_type="group")
    assert "我可以在群里回答认定条件的问题" in fake.wait_for_bot_message(group)["text"]


def test_in_a_group_a_private_command_is_sent_to_private_by_what_it_does(fake, bot):
    """/track or /form in a group was told 「逐题预审请在与我的私聊中进行」: neither is a pre-screening."""
    group = -503
    for command, does in (("/track@clusterbot_test_bot 甲集群 国家 2024-06-01", "期限跟踪"), ("/form@clusterbot_test_bot", "申报表")):
        fake.user_sends(1034, command, chat_id=group, chat_type="group")
        text = fake.wait_for_bot_message(group)["text"]
        assert does in text and "私聊" in text, text
    assert count(bot.db, "select count(*) from tracked_clusters") == 0


def test_what_the_bot_cannot_read_is_said_and_a_service_message_is_not_answered(fake, bot):
    user = User(fake, 1018)
    assert asked_fact(start_profile(user, "图片集群", "江苏")[-1]["text"]) == "county_level"
    for kind in ("sticker", "photo", "voice", "location"):
        fake.user_sends_media(1018, kind)
        (answer,) = user.read_until(lambda m: "只能读取文字消息" in m.get("text", ""))
        assert asked_fact(answer["text"]) == "county_level" and buttons(answer)  # the question again
    fake.user_sends_media(1018, "photo", caption="是")  # a photo's caption is not an answer
    user.read_until(lambda m: "只能读取文字消息" in m.get("text", ""))
    assert "county_level" not in answers_in_db(bot)
    # an album of three photos is one thing sent: answered once
    before = len([m for m in fake.messages(1018) if "只能读取文字消息" in m.get("text", "")])
    me = {"id": 1018, "is_bot": False, "first_name": "甲"}
    for n in range(3):
        fake.inject_update({"message": {"message_id": 80 + n, "date": 0, "from": me, "media_group_id": "alb1",
                                        "chat": {"id": 1018, "type": "private"},
                                        "photo": [{"file_id": f"p{n}", "file_unique_id": f"p{n}", "width": 9, "height": 9}]}})
    user.read_until(lambda m: "只能读取文字消息" in m.get("text", ""))
    fake.assert_no_bot_message(1018, within=1.0)
    assert len([m for m in fake.messages(1018) if "只能读取文字消息" in m.get("text", "")]) == before + 1
    # in a group only what is addressed to the bot is answered; a service message never
    group, member = -800, {"id": 1019, "is_bot": False, "first_name": "乙"}
    fake.user_sends(1019, "大家好", chat_id=group, chat_type="group", chat_title="集群工作群")
    fake.user_sends_media(1019, "sticker", chat_id=group, chat_type="group")
    chat = {"id": group, "type": "group", "title": "集群工作群"}
    for service in ({"new_chat_members": [member]}, {"pinned_message": {"message_id": 1, "date": 0, "chat": chat}},
                    {"new_chat_title": "新群名"}):
        fake.inject_update({"message": {"message_id": 90, "date": 0, "from": member, "chat": chat, **service}})
    fake.inject_update({"message": {"message_id": 91, "date": 0, "from": {**member, "id": 1018},
                                    "chat": {"id": 1018, "type": "private"}, "pinned_message": {"message_id": 1}}})
    fake.assert_no_bot_message(group, within=1.0)
    fake.assert_no_bot_message(1018, within=0.1)
    fake.user_sends_media(1019, "photo", chat_id=group, chat_type="group", caption="@clusterbot_test_bot 看看")
    assert "只能读取文字消息" in fake.wait_for_bot_message(group)["text"]


def test_an_edited_message_is_said_not_to_be_read_and_the_question_asked_again(fake, bot):
    """Telegram sends an edit as `edited_message` (asked for in allowed_updates): the answer
    already taken stays, the user is told the edit is not read, and the question is asked
    again; an edit of group chatter is not answered."""
    user = User(fake, 1021)
    assert asked_fact(start_profile(user, "改动集群", "江苏")[-1]["text"]) == "county_level"
    user.send("是", until=lambda m: asked_fact(m.get("text", "")) not in (None, "county_level"))
    asked = asked_fact(fake.messages(1021)[-1]["text"])
    me, chat = {"id": 1021, "is_bot": False, "first_name": "丙"}, {"id": 1021, "type": "private"}
    fake.inject_update({"edited_message": {"message_id": 70, "date": 0, "edit_date": 1, "from": me, "chat": chat,
                                           "text": "否"}})
    (answer,) = user.read_until(lambda m: "修改后不会重新读取" in m.get("text", ""))
    assert asked_fact(answer["text"]) == asked and buttons(answer)
    assert answers_in_db(bot)["county_level"] == "true"
    group = {"id": -900, "type": "group", "title": "集群工作群"}
    fake.inject_update({"edited_message": {"message_id": 71, "date": 0, "edit_date": 1, "from": me, "chat": group,
                                           "text": "大家好"}})
    fake.assert_no_bot_message(-900, within=0.8)


def test_a_forwarded_command_is_not_run_and_forwarded_figures_are_read(fake, bot):
    """A message forwarded from a colleague: a command in it (their /restart) is not the user's
    to run, and is said so with the question asked again; a forwarded answer is the user's."""
    user = User(fake, 1022)
    assert asked_fact(start_profile(user, "转发集群", "江苏")[-1]["text"]) == "county_level"
    me, chat = {"id": 1022, "is_bot": False, "first_name": "丁"}, {"id": 1022, "type": "private"}
    colleague = {"type": "user", "date": 0, "sender_user": {"id": 2022, "is_bot": False, "first_name": "同事"}}
    fake.inject_update({"message": {"message_id": 72, "date": 0, "from": me, "chat": chat, "text": "/restart",
                                    "entities": [{"type": "bot_command", "offset": 0, "length": 8}],
                                    "forward_origin": colleague, "forward_date": 0}})
    (answer,) = user.read_until(lambda m: "转发的消息" in m.get("text", ""))
    assert "命令没有执行" in answer["text"] and asked_fact(answer["text"]) == "county_level" and buttons(answer)
    fake.inject_update({"message": {"message_id": 73, "date": 0, "from": me, "chat": chat, "text": "是",
                                    "forward_origin": colleague, "forward_date": 0}})
    user.read_until(lambda m: asked_fact(m.get("text", "")) not in (None, "county_level"))
    assert answers_in_db(bot)["county_level"] == "true"


def test_export_sends_the_files(fake, bot):
    user = User(fake, 1012)
    start_profile(user, "辛集群", "江苏")
    user.send("/export", until=lambda m: m.get("document", {}).get("file_name", "").endswith(".md"))
    docs = [m for m in fake.messages(1012) if "document" in m]
    names = [d["document"]["file_name"] for d in docs]
    assert names == ["辛集群.json", "辛集群-预审报告.md"]
    report = fake.documents[[d for d in docs if d["document"]["file_name"].endswith(".md")][0]["document"]["file_id"]]
    assert "预审报告" in report.decode("utf-8")


def test_webhook_mode(fake, tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/tg-hook"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--token", fake.token, "--api-base-url", fake.base_url,
         "--db", str(tmp_path / "w.db"), "--webhook-url", url, "--listen", f"127.0.0.1:{port}",
         "--secret-token", "s3cret"],
        cwd=ROOT, env=dict(os.environ, CLUSTERBOT_FAKE_NOW=NOW),
        stdout=open(tmp_path / "w.log", "wb"), stderr=subprocess.STDOUT)
    try:
        fake.wait_for_call("setWebhook", timeout=30)
        assert fake.webhook["url"] == url and fake.webhook.get("secret_token") == "s3cret"
        wait_for_port(port)  # its webhook server listens (setWebhook may come first)
        user = User(fake, 1013)
        got = user.send("/start", until=lambda m: "/new" in m.get("text", ""))
        assert got
        # a press is answered in the answer to its webhook request: no answerCallbackQuery call
        (prompt,) = user.send("/new 子集群", until=lambda m: "请选择" in m.get("text", ""))[-1:]
        fake.user_presses(1013, prompt, button_text="国家（工信部）")
        assert fake.wait_for_bot_message(1013)["message_id"] == prompt["message_id"]
        fake.wait_until(lambda: len(fake.answered_callbacks) == 1)
    finally:
        proc.terminate()
        proc.wait(15)


def test_token_is_never_logged(fake, tmp_path):
    bot = Bot(fake, tmp_path / "bot.db", "--log-level", "DEBUG").start()
    user = User(fake, 1014)
    user.send("/start", until=lambda m: "/new" in m.get("text", ""))
    bot.stop()
    secret = fake.token.split(":", 1)[1]
    assert secret not in bot.log.read_text(errors="replace")


def test_bad_tokens_are_one_line_errors(tmp_path):
    for args, env in ((["serve"], {}), (["serve", "--token", "nope"], {}),
                      (["serve"], {"TELEGRAM_BOT_TOKEN": "12:short"})):
        run = subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, capture_output=True, text=True,
                             env={k: v for k, v in dict(os.environ, **env).items() if k != "TELEGRAM_BOT_TOKEN" or env},
                             timeout=30)
        assert run.returncode == 2
        assert len(run.stderr.strip().splitlines()) == 1 and "token" in run.stderr


def test_a_rejected_token_is_a_one_line_error_and_a_failing_telegram_is_waited_for(fake, tmp_path):
    """A well-formed token Telegram refuses (401: revoked or another bot's) ends `serve` at
    start; a Bot API that fails (5xx) is asked again until it answers."""
    wrong = "1234567890:AAWrongTokenForTests_0123456789abcdefgh"
    migrated_sqlite(tmp_path / "bot.db")
    run = subprocess.run([sys.executable, "-m", "bot.cli", "serve", "--token", wrong, "--api-base-url", fake.base_url,
                          "--db", str(tmp_path / "bot.db")], cwd=ROOT, capture_output=True, text=True, timeout=20)
    assert run.returncode == 2, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "token" in run.stderr and "rejected" in run.stderr
    assert wrong.split(":", 1)[1] not in run.stdout + run.stderr
    fake.fail_next("getMe", times=2, status=500)
    bot = Bot(fake, tmp_path / "other.db").start()  # it polls once getMe answers
    bot.stop()
    assert [c.status for c in fake.calls("getMe")][-3:] == [500, 500, 200]


def test_long_replies_are_split_at_line_ends():
    from bot.telegram import split_text, to_payloads, utf16_len
    from dialogs.conversation import Button, Reply

    text = "\n".join(f"第{i}行：" + "条文原文" * 30 for i in range(60))
    chunks = split_text(text)
    assert len(chunks) > 1 and all(utf16_len(c) <= 4000 for c in chunks)
    assert "\n".join(chunks) == text
    payloads = to_payloads([Reply(text, choices=[Button("是", "c:1:x:1")])])
    assert "keyboard" in payloads[-1] and all("keyboard" not in p for p in payloads[:-1])
    merged = to_payloads([Reply("已保存"), Reply("第 2/40 题\n问题", kind="question", choices=[Button("是", "d")])])
    assert merged == [{"op": "send", "text": "已保存\n\n<b>第 2/40 题</b>\n问题", "keyboard": [[{"text": "是", "data": "d"}]]}]
    assert split_text("x" * 9000) == ["x" * 4000, "x" * 4000, "x" * 1000]
    assert all(utf16_len(c) <= 4000 for c in split_text("😀" * 3000))


def test_a_long_choice_has_its_own_row_so_its_end_is_seen():
    from bot.telegram import keyboard
    from dialogs.conversation import Button, Reply

    def widths(*labels):
        return [len(row) for row in keyboard(Reply("?", choices=[Button(lbl, lbl) for lbl in labels]))]

    assert widths("是", "否") == [2] and widths("无", "一般", "较大", "重大", "特别重大") == [2, 2, 1]
    edit = ["集群定位在县级区划范围内：是", "集群占地面积：80.00平方公里", "已认定为省级中小企业特色产业集群：是"]
    assert widths(*edit) == [1, 1, 1]   # two to a row, the app would cut each answer off


def test_a_deadline_reminder_arrives_through_telegram(fake, tmp_path):
    """Placed at 08:59:57 on 2027-03-31, a cluster certified nationally on 2024-06-01 gets
    its 30-day reminder of the annual report due 2027-04-30 at 09:00, once."""
    bot = Bot(fake, tmp_path / "bot.db", "--reminder-interval", "0.5",
              env={"CLUSTERBOT_FAKE_NOW": "2027-03-31T08:59:57"}).start()
    try:
        user = User(fake, 1015)
        user.send("/track 甲集群 national 2024-06-01", until=lambda m: "甲集群" in m.get("text", ""))
        reminder = user.read_until(lambda m: "⏰ 期限提醒" in m.get("text", "") and "2027年4月30日" in m["text"],
                                   timeout=20)[-1]
        assert "第十六条" in reminder["text"] and "4月30日前" in reminder["text"]
        assert "第十七条（三）" in reminder["text"]  # what missing it would mean
        time.sleep(2)  # several more sweeps: nothing is sent twice
        again = [m for m in fake.messages(1015) if "⏰ 期限提醒" in m.get("text", "") and "2027年4月30日" in m["text"]]
        assert len(again) == 1
    finally:
        bot.stop()


def test_measures_are_ticked_in_place_and_confirmed(fake, bot):
    user = User(fake, 1016)
    user.send("/start", until=lambda m: "/new" in m.get("text", ""))
    (prompt,) = user.send("/new 壬集群", until=lambda m: "请选择" in m.get("text", ""))[-1:]
    user.fake.user_presses(1016, prompt, button_text="国家（工信部）")
    ticked = fake.wait_for_bot_message(1016)
    assert ticked["message_id"] == prompt["message_id"] and ticked.get("edit_date")
    user.fake.user_presses(1016, ticked, button_text="江苏")
    ticked = fake.wait_for_bot_message(1016)
    assert "确定（已选 2 个）" in [label for label, _ in buttons(ticked)]
    got = user.press(ticked, "确定（已选 2 个）")
    assert "按国家（工信部）、江苏预审" in got[-1]["text"] and asked_fact(got[-1]["text"]) == "county_level"


def test_a_bug_in_the_dialog_is_apologised_for_and_nothing_half_saved(fake, tmp_path):
    """A dialog that raises (here: a database made read-only under the bot's feet) rolls the
    turn back; the user hears that the message was not handled, and the bot lives on."""
    bot = Bot(fake, tmp_path / "bot.db").start()
    try:
        user = User(fake, 1017)
        start_profile(user, "癸集群", "江苏")
        with sqlite3.connect(bot.db) as con:
            con.execute("CREATE TRIGGER no_answers BEFORE INSERT ON answers BEGIN SELECT RAISE(ABORT, 'boom'); END")
        user.send("是", until=lambda m: "内部错误" in m.get("text", ""))
        with sqlite3.connect(bot.db) as con:
            con.execute("DROP TRIGGER no_answers")
            assert con.execute("select count(*) from answers").fetchone() == (0,)
        got = user.send("是")
        assert "已保存" in got[-1]["text"]
    finally:
        bot.stop()


def test_a_press_on_an_older_question_is_answered_below_not_up_in_the_chat(fake, bot):
    user = User(fake, 1017)
    user.send("/start", until=lambda m: "/new" in m.get("text", ""))
    (older,) = start_profile(user, "癸集群", "国家")[-1:]
    assert asked_fact(older["text"]) == "county_level"
    # a question typed meanwhile is answered, and the question asked again below: a press
    # on the older one is refused there, below, and the question asked once more
    again = user.send("研发经费增长要求多少")[-1]
    assert again["message_id"] > older["message_id"] and asked_fact(again["text"]) == "county_level"
    got = user.press(older, "是")
    assert "该按钮已失效" in got[0]["text"] and not [m for m in got if m["message_id"] <= again["message_id"]]
    asked = got[-1]
    assert asked_fact(asked["text"]) == "county_level" and "county_level" not in answers_in_db(bot)
    # a reply that asks nothing again leaves the question live, no longer the chat's last message:
    # the choice is shown in it, the next question below
    user.send("/pause", until=lambda m: m["message_id"] > asked["message_id"])
    got = user.press(asked, "是")
    edited = [m for m in got if m["message_id"] == asked["message_id"]]
    assert edited and "→ 是" in edited[-1]["text"] and not buttons(edited[-1])
    assert got[-1]["message_id"] > asked["message_id"] and asked_fact(got[-1]["text"]) != "county_level"
    # on the newest message, the choice and the next question share that message
    newest = got[-1]
    label = buttons(newest)[0][0]
    folded = user.press(newest, label)[-1]
    assert folded["message_id"] == newest["message_id"] and f"→ {label}" in folded["text"] and buttons(folded)


def test_skip_under_an_older_question_is_refused_not_applied_to_the_one_asked(fake, bot):
    user = User(fake, 1022)
    (first,) = start_profile(user, "旧按钮集群", "国家")[-1:]
    assert asked_fact(first["text"]) == "county_level"
    for answer in ("是", "是", "80"):  # typed: the first question keeps its buttons
        asked = user.send(answer)[-1]
    fact = asked_fact(asked["text"])
    got = user.press(first, "跳过")   # within the 64 bytes of callback data, or the fake refuses the keyboard
    assert "该按钮已失效" in "\n".join(m.get("text", "") for m in got) and asked_fact(got[-1]["text"]) == fact
    with sqlite3.connect(bot.db) as con:
        assert [f for (f,) in con.execute("select fact from answers where id > ? order by id",
                                          [bot.before["answers"]])] == [
            "county_level", "provincial_certified", "area_km2"]
    got = user.press(got[-1], "跳过")   # under the question asked: skipped
    assert f"已跳过：{catalogue()[fact].label('zh')}" in "\n".join(m.get("text", "") for m in got)


def test_a_question_asked_again_leaves_its_older_message_dead(fake, bot):
    """/back asks county_level again in a new message: 否 and 依据 under the first one (the
    same question, the same data) are refused and the question asked again below; the
    answer typed stays, the old message is not edited, and the newest message answers."""
    user = User(fake, 1023)
    (first,) = start_profile(user, "重问集群", "江苏")[-1:]
    assert asked_fact(first["text"]) == "county_level"
    user.send("是")
    (again,) = user.send("/back")[-1:]
    assert asked_fact(again["text"]) == "county_level" and again["message_id"] > first["message_id"]
    for label in ("否", "依据"):
        got = user.press(first, label)
        text = "\n".join(m.get("text", "") for m in got)
        assert "该按钮已失效" in text and "已保存" not in text and "原文" not in text, label
        assert asked_fact(got[-1]["text"]) == "county_level" and got[-1]["message_id"] > first["message_id"]
    shown = next(m for m in fake.messages(1023) if m["message_id"] == first["message_id"])
    assert shown["text"] == first["text"] and buttons(shown) == buttons(first)  # not edited
    assert answers_in_db(bot) == {"county_level": "true"}
    got = user.press(got[-1], "否")  # the one asking now
    assert f"已保存：{catalogue()['county_level'].label('zh')} = 否" in "\n".join(m.get("text", "") for m in got)
    assert answers_in_db(bot) == {"county_level": "false"}


def test_a_button_of_a_cluster_given_up_is_stale_not_anothers(fake, bot):
    """/new, then /cancel: the new cluster is given up. A press on its measures' message is the
    user's own old button: refused as stale and what is asked now asked again, not "not yours"."""
    user = User(fake, 1024)
    (asked,) = start_profile(user, "留下集群", "江苏")[-1:]
    choose = user.send("/new 放弃集群", until=lambda m: "请选择" in m.get("text", ""))[-1]
    user.send("/cancel")
    got = user.press(choose, "江苏")
    text = "\n".join(m.get("text", "") for m in got)
    assert "该按钮已失效" in text and "不属于您" not in text
    assert asked_fact(got[-1]["text"]) == asked_fact(asked["text"])


def test_a_long_reply_cut_mid_line_never_cuts_an_escaped_character(fake, bot):
    """A line longer than a message is cut hard; the text is HTML-escaped by then (& is
    "&amp;"), and a cut inside "&amp;" showed "&am" at one message's end and "p;" at the next's
    start. The user reads back exactly what they wrote, however it was cut."""
    user = User(fake, 1025)
    asked = "&" * 1990
    user.send("/start", until=lambda m: "/new" in m.get("text", ""))
    got = user.send(f"/ask {asked}", until=lambda m: "相关的条件" in m.get("text", ""))
    texts = [m["text"] for m in got if m.get("from", {}).get("is_bot")]
    assert len(texts) > 1, "the reply was long enough to be cut"
    assert f"“{asked}”" in "".join(texts) and not any(t.startswith(";") for t in texts)

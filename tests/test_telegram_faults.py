"""Nothing a Telegram user sent is lost, no fault crashes the bot: `clusterbot serve` as a
process against the fake Bot API, killed at each point of a batch's life, stopped with
SIGTERM, and served slow calls, 429s, 5xx and a proxy's HTML pages on every method."""

from __future__ import annotations

import asyncio
import signal
import sqlite3

import pytest

from bench.standins.fakebotapi import FakeBotApi
from dialogs.messages import MAX_FILE
from tests.chat_helpers import asked_fact
from tests.test_telegram import Bot, User, bot, fake, shared_process, start_profile  # noqa: F401  (fixtures)

USERS = range(3001, 3006)


@pytest.fixture
def own_bot(fake, tmp_path):
    """A bot of the test's own, for a test that stops it or reads its whole log (the others
    share one: `bot`)."""
    running = Bot(fake, tmp_path / "bot.db").start()
    yield running
    running.stop()


def count(db, sql: str) -> int:
    with sqlite3.connect(db) as con:
        return con.execute(sql).fetchone()[0]


def five_at_once(fake: FakeBotApi) -> None:
    """Five users write in the same instant: the bot gets them as one batch."""
    with fake.hold_updates():
        for uid in USERS:
            fake.user_sends(uid, f"/new 集群{uid}")


def kill_when_fetched(fake, bot):
    fake.wait_for_call("getUpdates", lambda c: bool(c.result), timeout=15)
    bot.kill()


def kill_when_committed(fake, bot):
    fake.wait_until(lambda: count(bot.db, "select count(*) from profiles") == 5, timeout=15)
    bot.kill()


def kill_when_confirmed(fake, bot):
    fetched = fake.wait_for_call("getUpdates", lambda c: bool(c.result), timeout=15)
    # The next poll confirms them as it begins; its call is recorded only when it ends, up to
    # the poll's 10 s later: the kill comes as Telegram forgets them, not then.
    ids = {u["update_id"] for u in fetched.result}
    fake.wait_until(lambda: not ids & {u["update_id"] for u in fake.pending_updates}, timeout=15)
    bot.kill()


def kill_when_sent(fake, bot):
    fake.wait_until(lambda: all(any("已创建集群" in m.get("text", "") for m in fake.messages(uid))
                                for uid in USERS), timeout=15)
    bot.kill()  # the sent marks may not be written yet: the replies may come twice, never not


@pytest.mark.parametrize("kill, replies_hang", [(kill_when_fetched, False), (kill_when_committed, True),
                                                (kill_when_confirmed, True), (kill_when_sent, False)])
def test_a_kill_at_each_point_of_a_batchs_life_loses_no_update(fake, tmp_path, kill, replies_hang):
    bot = Bot(fake, tmp_path / "bot.db").start()
    for uid in USERS:
        User(fake, uid)
    if replies_hang:  # the replies hang: the kill comes before they are sent
        fake.delay_next("sendMessage", 30, times=5)
    five_at_once(fake)
    kill(fake, bot)
    fake._delays.clear()
    bot = Bot(fake, tmp_path / "bot.db").start()
    try:
        for uid in USERS:
            fake.wait_until(lambda: any(f"已创建集群「集群{uid}」" in m.get("text", "") for m in fake.messages(uid)),
                            timeout=30)
        fake.wait_until(lambda: count(bot.db, "select count(*) from outbox where sent_at is null") == 0, timeout=15)
        # each update handled once: one profile each, however often it was delivered
        assert count(bot.db, "select count(*) from profiles") == 5
        assert count(bot.db, "select count(distinct user_id) from profiles") == 5
    finally:
        bot.stop()


def test_a_slow_send_that_telegram_completes_is_not_repeated(fake, bot):
    user = User(fake, 3010)
    user.send("/start", until=lambda m: "/new" in m.get("text", ""))
    fake.delay_next("sendMessage", 7)  # past PTB's default 5 s timeout
    user.send("/new 慢集群", until=lambda m: "请选择" in m.get("text", ""))
    user.send("江苏")
    assert fake.repeated_messages(chats=[3010]) == 0
    assert sum("已创建集群「慢集群」" in m.get("text", "") for m in fake.messages(3010)) == 1


def test_faults_on_every_bot_api_call_are_survived_without_a_traceback(fake, own_bot):
    user = User(fake, 3011)
    fake.fail_next("getUpdates", status=502)             # a proxy's HTML page
    fake.fail_next("sendMessage", status=502)
    user.send("/start", until=lambda m: "/new" in m.get("text", ""))
    fake.fail_next("getUpdates", status=429, retry_after=0.5)
    fake.fail_next("sendMessage", status=500)
    question = start_profile(user, "险集群", "江苏")[-1]
    fake.fail_next("answerCallbackQuery", status=429, retry_after=1)
    fake.fail_next("editMessageText", status=502)
    user.press(question, "是")
    fake.wait_for_call("answerCallbackQuery", lambda c: c.status == 429)
    fake.fail_next("sendDocument", status=429, retry_after=0.5)
    user.send("/export", until=lambda m: m.get("document", {}).get("file_name", "").endswith(".md"))
    statuses = {c.method: c.status for c in fake.calls() if c.status != 200}
    assert {"getUpdates", "sendMessage", "answerCallbackQuery", "sendDocument"} <= set(statuses)
    own_bot.stop()
    log = own_bot.log.read_text(errors="replace")
    assert "Traceback" not in log, log


def test_the_same_length_limit_in_a_group_and_in_private(fake, bot):
    group = -700
    fake.user_sends(3012, "@clusterbot_test_bot " + "长" * 5000, chat_id=group, chat_type="group")
    reply = fake.wait_for_bot_message(group)
    assert "消息过长" in reply["text"]
    fake.assert_no_bot_message(group, within=1.0)      # one answer, not the text echoed in parts
    user = User(fake, 3012)
    assert user.send("长" * 5000, until=lambda m: "消息过长" in m.get("text", ""))


def test_sigterm_finishes_the_turn_in_hand_and_exits_quietly(fake, own_bot):
    user = User(fake, 3013)
    user.send("/start", until=lambda m: "/new" in m.get("text", ""))
    fake.delay_next("sendMessage", 2)                      # the reply is on its way at SIGTERM
    fake.user_sends(3013, "/new 停集群")
    fake.wait_until(lambda: count(own_bot.db, "select count(*) from profiles") == 1, timeout=15)
    own_bot.proc.send_signal(signal.SIGTERM)
    assert own_bot.proc.wait(20) == 0
    assert any("已创建集群「停集群」" in m.get("text", "") for m in fake.messages(3013))
    assert count(own_bot.db, "select count(*) from outbox where sent_at is null") == 0  # the marks written
    log = own_bot.log.read_text(errors="replace")
    assert "Task was destroyed" not in log and "Traceback" not in log, log


def test_a_document_is_downloaded_into_the_incoming_message(fake):
    from bot.telegram import fetch_updates, make_bot, to_incoming

    content = "集群名称,示例\n".encode() * 100
    fake.user_sends_document(3014, "申请表.csv", content, caption="我的申请表", mime_type="text/csv")
    fake.user_sends_document(3014, "huge.bin", b"x" * (MAX_FILE + 1))

    async def main():
        bot = make_bot(fake.token, fake.base_url)
        async with bot:
            first, second = await fetch_updates(bot, None, 1)
            return await to_incoming(bot, first), await to_incoming(bot, second)

    incoming, huge = asyncio.run(main())
    # too large: not downloaded, and the dialog answers it as a message the bot could not take
    assert (huge.unreadable, huge.attachment, huge.chat_id, huge.user_id) == ("too_large", None, "3014", "3014")
    assert len(fake.calls("getFile")) == 1
    assert incoming.attachment.filename == "申请表.csv" and incoming.attachment.content == content
    assert incoming.attachment.mime == "text/csv" and incoming.text == "我的申请表"
    assert fake.calls("getFile")


def test_a_document_telegram_no_longer_has_is_answered_not_dropped(fake):
    from bot.telegram import fetch_updates, make_bot, to_incoming

    fake.user_sends_document(3018, "申报表.xlsx", b"PK\x03\x04 a form")
    fake._user_files.clear()  # gone from Telegram before it was fetched: getFile refuses its file_id

    async def main():
        bot = make_bot(fake.token, fake.base_url)
        async with bot:
            (update,) = await fetch_updates(bot, None, 1)
            return await to_incoming(bot, update)

    incoming = asyncio.run(main())
    # was None: the user heard nothing of the file they sent
    assert (incoming.unreadable, incoming.attachment, incoming.chat_id) == ("not_downloaded", None, "3018")


def test_an_update_of_a_shape_not_foreseen_is_nothing_to_answer_and_a_press_on_a_lost_message_is_read():
    from bot.telegram import TgUpdate, to_incoming

    class Bot:
        username = "clusterbot"

    shapes = [{"update_id": 1}, {"update_id": 2, "message": "text"}, {"update_id": 3, "message": {"from": {"id": 5}}},
              {"update_id": 4, "message": {"from": "someone", "chat": {"id": 5, "type": "private"}, "text": "hi"}},
              {"update_id": 5, "callback_query": {"id": "q", "from": {"id": 5}, "data": "c:1:asking-x:1"}}]
    read = [asyncio.run(to_incoming(Bot(), TgUpdate(shape))) for shape in shapes]
    assert read[:4] == [None] * 4
    # a press on a message Telegram no longer includes: answered in the user's own chat
    assert (read[4].chat_id, read[4].button, read[4].pressed, read[4].message_id) == ("5", "c:1:asking-x:1", None, "5")


def test_two_track_lines_at_once_both_get_their_missed_deadlines_at_once(fake, bot):
    """The reminder sweep runs every 60 s; the wake after the second /track comes while
    the first one's sweep runs, and is kept: both answers come within seconds."""
    User(fake, 3015)
    with fake.hold_updates():
        fake.user_sends(3015, "/track 甲集群 national 2024-06-01")
        fake.user_sends(3015, "/track 乙集群 national 2023-01-15")
    for heading in ("期限已过：#1「甲集群」", "期限已过：#2「乙集群」"):
        fake.wait_until(lambda: any(heading in m.get("text", "") for m in fake.messages(3015)), timeout=15)


def test_a_file_too_large_is_answered_in_the_users_language_through_the_outbox_once(fake, bot):
    """A document over MAX_FILE is answered by the dialog: in the language the user chose (not
    their Telegram app's), with the question asked again, through the outbox (a 429 and a 5xx
    are waited out), once however often Telegram delivers it."""
    fetched_before = len(fake.calls("getFile"))
    user = User(fake, 3016)
    fake.register_user(3016, language_code="en")
    user.send("/lang zh", until=lambda m: True)
    assert asked_fact(start_profile(user, "大文件集群", "江苏")[-1]["text"]) == "county_level"
    sent_before = len(fake.calls("sendMessage"))
    fake.fail_next("sendMessage", status=429, retry_after=0.5)
    fake.fail_next("sendMessage", status=500)
    fake.deliver_twice()
    fake.user_sends_document(3016, "申报表.xlsx", b"x" * (MAX_FILE + 1))
    (answer,) = user.read_until(lambda m: "文件过大" in m.get("text", ""), timeout=20)
    assert "最多 5 MB" in answer["text"] and asked_fact(answer["text"]) == "county_level"
    assert {429, 500} <= {c.status for c in fake.calls("sendMessage")[sent_before:]}
    fake.assert_no_bot_message(3016, within=1.5)  # the second delivery is not answered again
    assert len(fake.calls("getFile")) == fetched_before


def test_a_reply_whose_document_failed_sends_the_documents_alone_again(fake, bot):
    # the text went out, the first document got a 429: the retry sent the text a second time
    user = User(fake, 3012)
    start_profile(user, "档集群", "江苏")
    fake.fail_next("sendDocument", status=429, retry_after=0.5)
    user.send("/export")  # up to the question asked again after the files (read before it, it could come in between)
    chat = fake.messages(3012)
    export = chat[max(i for i, m in enumerate(chat) if m.get("text") == "/export") + 1:]
    # the text once, then the files, then the question again
    assert ["document" in m for m in export] == [False, True, True, False], export
    assert [m["document"]["file_name"] for m in export[1:3]] == ["档集群.json", "档集群-预审报告.md"]

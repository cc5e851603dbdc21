"""The DingTalk channel end to end: `clusterbot dingtalk` as a separate process running the
official dingtalk-stream SDK against a fake gateway and OpenAPI on 127.0.0.1
(bench/standins/fakedingtalk.py): the connection opened, robot messages and card callbacks pushed
over the websocket and acknowledged, replies received by the robot's message API."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.dingtalk import DingTalkConfig, StreamClient
from bench.standins.fakedingtalk import CARD_TOPIC, CLIENT_ID, CLIENT_SECRET, BOT_TOPIC, FakeDingTalk, labels, text_of
from tests.im_process import NOW, ROOT, ChannelProcess, Person, a_reminder_arrives_once, count, prescreen, sharing


class Robot(ChannelProcess):
    """`clusterbot dingtalk`, its endpoint the fake; up once its stream is connected."""

    def __init__(self, fake: FakeDingTalk, db: Path, *extra: str, now: str = NOW):
        super().__init__(db, now)
        self.fake, self.extra = fake, extra

    def start(self) -> Robot:
        opened = len(self.fake.opened)

        def connected() -> bool:
            return len(self.fake.opened) > opened and bool(self.fake._sockets)
        self.launch(["dingtalk", "--client-id", CLIENT_ID, "--oapi-endpoint", self.fake.base_url,
                     "--log-level", "DEBUG", *self.extra],
                    {"DINGTALK_CLIENT_SECRET": CLIENT_SECRET, "DINGTALK_OPENAPI_ENDPOINT": self.fake.base_url},
                    ready=connected)
        return self

    def quiet(self) -> bool:  # no fault left, the stream connected
        return not self.fake.faults and bool(self.fake._sockets)


# One fake DingTalk and one `clusterbot dingtalk` for the tests that take `robot`.
shared_process, robot, fake = sharing("robot", FakeDingTalk,
                                    lambda fake, folder: Robot(fake, folder / "dingtalk.db").start())


@pytest.fixture
def own_robot(fake, tmp_path):
    """A robot of the test's own, for a test that counts its token fetches, downloads or
    acknowledgements, or stops it."""
    running = Robot(fake, tmp_path / "dingtalk.db").start()
    yield running
    running.stop()


def sent_as(db: Path, message_id: str) -> bool:
    with sqlite3.connect(db) as con:
        return con.execute("select count(*) from outbox where sent_message_id = ?", [message_id]).fetchone()[0] > 0


def a_card(m: dict) -> bool:
    return m["kind"] == "card"


def has(words: str):
    return lambda m: words in text_of(m)


def test_the_stream_opens_with_the_credentials_and_a_local_address(fake, robot):
    body = fake.opened[-1]
    assert body["clientId"] == CLIENT_ID and body["localIp"] == "127.0.0.1"
    assert {"type": "CALLBACK", "topic": BOT_TOPIC} in body["subscriptions"]
    assert {"type": "CALLBACK", "topic": CARD_TOPIC} in body["subscriptions"]


def test_the_host_address_is_looked_up_towards_the_configured_endpoint(monkeypatch):
    """The SDK's own lookup connects a socket towards 8.8.8.8; ours towards the endpoint."""
    targets = []
    real_connect = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect", lambda s, address: (targets.append(address), real_connect(s, address)))
    client = StreamClient(DingTalkConfig(CLIENT_ID, CLIENT_SECRET, endpoint="http://127.0.0.1:9"), receive=None)
    assert client.get_host_ip() == "127.0.0.1"
    assert targets == [("127.0.0.1", 9)]


def test_a_shaanxi_prescreening_by_cards_and_text(fake, own_robot):
    user = Person(fake, "staff001")
    frame = fake.user_sends("staff001", "/start")
    user.until(a_card)
    assert fake.ack_of(frame)["code"] == 200
    user.send("/new 甲集群", until=a_card)
    first = user.send("陕西", until=lambda m: a_card(m) and "是" in labels(m))
    last = prescreen(user, first, text_of, labels, a_card)
    assert "】符合条件" in "\n".join(text_of(m) for m in last)
    # card presses are acknowledged like messages
    assert all(ack["code"] == 200 for ack in fake.acks.values())
    assert fake.token_calls == 1  # one access token, cached


def test_a_redelivered_message_is_handled_once(fake, robot):
    user = Person(fake, "staff002")
    user.send("/start", until=a_card)
    fake.user_sends("staff002", "/new 乙集群", msg_id="m-77")
    user.until(a_card)
    fake.user_sends("staff002", "/new 乙集群", msg_id="m-77")  # the stream redelivers an unacknowledged one
    user.send("/list", until=has("乙集群"))
    assert count(robot.db, "select count(*) from profiles where id > ?", robot.before["profiles"]) == 1


def test_garbled_frames_are_survived_without_a_traceback(fake, robot):
    bad_card = fake.push(CARD_TOPIC, {"userId": "staff003", "content": "{not json"})
    assert fake.ack_of(bad_card)["code"] == 400
    fake.push(BOT_TOPIC, "{not json at all")  # the SDK cannot read it: logged, not acknowledged
    no_text = fake.push(BOT_TOPIC, {"msgtype": "text", "senderStaffId": "staff003"})
    assert fake.ack_of(no_text)["code"] == 400
    no_file = fake.push(BOT_TOPIC, {"msgtype": "file", "senderStaffId": "staff003", "msgId": "m-f"})
    assert fake.ack_of(no_file)["code"] == 200  # no file to fetch: nothing the user would know they sent
    user = Person(fake, "staff003")
    user.send("/start", until=a_card)
    assert len(fake.messages_to("staff003")) == 1  # only the answer to /start
    assert robot.proc.poll() is None
    assert "Traceback" not in robot.log_since_mark()


def test_a_group_mention_is_answered_in_the_group(fake, robot):
    group = Person(fake, "staff004", to="group:cid-group-1")
    fake.user_sends("staff004", "/help", group="cid-group-1")
    assert group.until(lambda m: True)


def test_an_expired_token_is_renewed_and_5xx_retried(fake, own_robot):
    user = Person(fake, "staff005")
    user.send("/start", until=a_card)
    fake.expire_tokens()
    fake.faults = [502]
    got = user.send("/new 丙集群", until=a_card)
    assert any("丙集群" in text_of(m) for m in got)
    assert fake.token_calls == 2


def test_a_crash_between_commit_and_send_loses_nothing(fake, tmp_path):
    robot = Robot(fake, tmp_path / "dingtalk.db").start()
    user = Person(fake, "staff006")
    user.send("/start", until=a_card)
    fake.faults = [502] * 1000  # the OpenAPI unreachable for now
    frame = fake.user_sends("staff006", "/new 丁集群")
    assert fake.ack_of(frame)["code"] == 200  # acknowledged: committed
    robot.kill()
    with sqlite3.connect(robot.db) as con:
        assert con.execute("select count(*) from outbox where sent_at is null").fetchone()[0] >= 1
        assert con.execute("select name from profiles").fetchone()[0] == "丁集群"
    fake.faults = []
    robot = Robot(fake, tmp_path / "dingtalk.db").start()
    try:
        got = user.until(has("丁集群"), timeout=30)
        assert any("已创建集群「丁集群」" in text_of(m) for m in got)
    finally:
        robot.stop()


def test_the_stream_reconnects_after_the_gateway_drops_it(fake, robot):
    user = Person(fake, "staff007")
    user.send("/start", until=a_card)
    opened = len(fake.opened)
    fake.disconnect_all()
    deadline = time.monotonic() + 30
    while len(fake.opened) == opened or not fake._sockets:
        assert time.monotonic() < deadline, "no reconnection"
        time.sleep(0.1)
    user.send("/new 戊集群", until=a_card)


def test_export_sends_the_files(fake, robot):
    user = Person(fake, "staff008")
    user.send("/start", until=a_card)
    user.send("/new 己集群", until=a_card)
    user.send("江苏", until=a_card)
    user.send("/export", until=lambda m: m["kind"] == "sampleFile" and m["fileName"].endswith(".md"))
    sent = [m for m in fake.messages_to("staff008") if m["kind"] == "sampleFile"]
    assert [m["fileName"] for m in sent] == ["己集群.json", "己集群-预审报告.md"]
    files = [fake.files[m["mediaId"]] for m in sent]  # the uploads of this user's files
    assert "预审报告" in next(c for n, c in files if n.endswith(".md")).decode()


def test_a_deadline_reminder_arrives_through_dingtalk(fake, tmp_path):
    robot = Robot(fake, tmp_path / "dingtalk.db", "--reminder-interval", "0.5", now="2027-03-31T08:59:57").start()
    try:
        a_reminder_arrives_once(Person(fake, "staff009"), robot.db, text_of)
    finally:
        robot.stop()


def test_no_secret_token_or_ticket_in_the_logs(fake, own_robot):
    user = Person(fake, "staff010")
    user.send("/start", until=a_card)
    fake.expire_tokens()
    user.send("/help", until=lambda m: True)
    own_robot.stop()
    log = own_robot.log.read_text(errors="replace")
    assert CLIENT_SECRET not in log and fake.ticket not in log and "DTOKEN" not in log


def test_bad_configuration_is_one_line():
    run = subprocess.run([sys.executable, "-m", "bot.cli", "dingtalk", "--client-id", CLIENT_ID,
                          "--endpoint", "api.dingtalk.com"], cwd=ROOT,
                         env={"PATH": "/usr/bin:/bin", "DINGTALK_CLIENT_SECRET": "s"},
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 2 and "--endpoint 'api.dingtalk.com'" in run.stderr and "Traceback" not in run.stderr


def test_the_channel_renders_plain_text_as_markdown_and_buttons_as_a_card():
    from bot.clock import ManualClock
    from bot.dingtalk import DingTalkChannel
    from dialogs.messages import Button, Reply
    import datetime as dt

    channel = DingTalkChannel(DingTalkConfig(CLIENT_ID, CLIENT_SECRET), ManualClock(dt.datetime(2026, 11, 23)))
    [(path, body)] = channel.render("u:staff", Reply("第一行\n第二行"))
    assert path == "/v1.0/robot/oToMessages/batchSend" and body["userIds"] == ["staff"]
    [(path, body)] = channel.render("g:cid1", Reply("问题", choices=[Button("是", "c:1:x:1")]))
    assert path.endswith("interactiveCards/send") and body["openConversationId"] == "cid1"
    asyncio.run(channel.close())


def test_measures_are_ticked_on_the_card_in_place_and_a_choice_shown_on_it(fake, robot):
    user = Person(fake, "staff011")
    user.send("/start", until=a_card)
    prompt = user.send("/new 庚集群", until=lambda m: a_card(m) and "请选择" in text_of(m))[-1]
    fake.user_presses("staff011", prompt, "国家（工信部）")
    fake.wait_for_update(prompt, 1)
    fake.user_presses("staff011", prompt, "江苏")
    assert "确定（已选 2 个）" in labels(fake.wait_for_update(prompt, 2))
    question = user.press(prompt, "确定（已选 2 个）", until=a_card)[-1]
    assert "按国家（工信部）、江苏预审" in "\n".join(text_of(m) for m in fake.messages_to("staff011"))
    assert "是" in labels(question)
    # A press shows its choice by looking the card up by its id, which the delivery records
    # just after the send: a person is slower than the few milliseconds this test is not.
    deadline = time.monotonic() + 10
    while not sent_as(robot.db, question["cardBizId"]):
        assert time.monotonic() < deadline, "the card's id was not recorded"
        time.sleep(0.02)
    user.press(question, "是", until=a_card)
    answered = fake.wait_for_update(question, 1)
    assert "**→ 是**" in answered["text"] and not answered["buttons"]


def test_a_file_the_user_sends_is_downloaded_before_the_turn(fake, own_robot):
    form = "集群名称,甲集群\n".encode() * 50
    user = Person(fake, "staff012")
    user.send("/start", until=a_card)
    frame = fake.user_sends_file("staff012", "申报表.csv", form)
    assert fake.ack_of(frame)["code"] == 200
    assert fake.downloaded == ["dlcode1"]


def test_the_channel_downloads_a_users_file(fake):
    import datetime as dt

    from bot.clock import ManualClock
    from bot.dingtalk import DingTalkChannel

    fake.user_files["code9"] = ("申报表.csv", b"a,b\n" * 1000)
    channel = DingTalkChannel(DingTalkConfig(CLIENT_ID, CLIENT_SECRET, endpoint=fake.base_url),
                              ManualClock(dt.datetime(2026, 11, 23, 10)))

    async def run():
        try:
            return await channel.download("code9", "申报表.csv"), await channel.download("nosuch", "x.csv")
        finally:
            await channel.close()
    got, missing = asyncio.run(run())
    assert got.filename == "申报表.csv" and got.content == b"a,b\n" * 1000 and missing is None


def test_a_file_dingtalk_will_not_hand_over_is_answered_not_dropped(fake, robot):
    # a download code DingTalk refuses (expired): the user heard nothing of the file they sent
    user = Person(fake, "staff019")
    user.send("/start", until=a_card)
    frame = fake.push(BOT_TOPIC, {"conversationId": "cid-private-staff019", "conversationType": "1",
                                  "msgId": "msg-expired-file", "senderNick": "官员", "senderStaffId": "staff019",
                                  "robotCode": CLIENT_ID, "msgtype": "file",
                                  "content": {"downloadCode": "expired-code", "fileName": "申报表.xlsx"}})
    assert fake.ack_of(frame)["code"] == 200
    assert "请重新发送该文件" in text_of(user.until(has("未能从平台取得"))[-1])


def test_a_file_over_the_limit_is_answered_in_the_users_language(fake, robot):
    from dialogs.messages import MAX_FILE

    user = Person(fake, "staff013")
    user.send("/start", until=a_card)
    frame = fake.user_sends_file("staff013", "大表.xlsx", b"x" * (MAX_FILE + 1))
    assert fake.ack_of(frame)["code"] == 200
    assert "最多 5 MB" in text_of(user.until(has("文件过大"))[-1])
    user.send("/lang en", until=lambda m: True)
    fake.user_sends_file("staff013", "big.xlsx", b"x" * (MAX_FILE + 1))
    user.until(has("The file is too large"))


def test_two_sigterms_end_the_stop_cleanly(fake, tmp_path):
    """`timeout` signals the process and its group: the second SIGTERM may come once the
    stop is done, where asyncio had put the default back: still exit 0."""
    import signal

    for run, delay in enumerate((0, 0.01, 0.03)):
        robot = Robot(fake, tmp_path / f"dingtalk{run}.db").start()
        Person(fake, f"twice{run}").send("/start", until=a_card)
        robot.proc.send_signal(signal.SIGTERM)
        time.sleep(delay)
        robot.proc.send_signal(signal.SIGTERM)
        assert robot.proc.wait(15) == 0, robot.log.read_text(errors="replace")


def test_pictures_voice_and_video_are_answered_in_private_and_in_a_group_only_when_addressed(fake, robot):
    user = Person(fake, "staff014")
    user.send("/start", until=a_card)
    question = user.send("/new 甲集群", until=a_card)[-1]
    for kind in fake.KINDS:
        frame = fake.user_sends_kind("staff014", kind)
        assert fake.ack_of(frame)["code"] == 200
        got = user.until(a_card)
        assert "只能读取文字消息和申报表文件" in text_of(got[-1]), kind
        asked = text_of(question).split("\n")[-1]
        assert asked in text_of(got[-1]) and labels(got[-1]) == labels(question)  # asked again
    group = Person(fake, "staff014", to="group:cid-group-2")
    fake.ack_of(fake.user_sends_kind("staff014", "picture", group="cid-group-2", at=False))
    fake.ack_of(fake.user_sends_kind("staff014", "picture", group="cid-group-2"))
    [answer] = group.until(lambda m: True)  # the addressed one alone, as the group's rules say
    assert "只能读取文字消息和申报表文件" in text_of(answer)  # said in the group, nothing stored


def test_wrong_credentials_at_the_first_connection_are_one_line_and_status_2(fake, tmp_path):
    wrong = "dingsecret-wrong-" + "y" * 30
    run = subprocess.run([sys.executable, "-m", "bot.cli", "dingtalk", "--client-id", CLIENT_ID,
                          "--endpoint", fake.base_url, "--db", str(tmp_path / "dingtalk.db")], cwd=ROOT,
                         env={"PATH": "/usr/bin:/bin", "DINGTALK_CLIENT_SECRET": wrong, "CLUSTERBOT_FAKE_NOW": NOW},
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    [line] = [x for x in run.stderr.splitlines() if "refused" in x]
    assert CLIENT_ID in line and "401" in line and "DINGTALK_CLIENT_SECRET" in line
    assert wrong not in run.stderr + run.stdout and "Traceback" not in run.stderr
    assert len(fake.opened) == 1


def test_a_gateway_busy_or_unreachable_at_the_start_is_tried_again(fake, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"  # nothing listens there once closed
    fake.open_faults = [503]
    for name, endpoint, seen in (("busy", fake.base_url, "HTTP 503"), ("closed", closed, "ConnectionError")):
        robot = Robot(fake, tmp_path / f"{name}.db")
        robot.launch(["dingtalk", "--client-id", CLIENT_ID, "--log-level", "DEBUG"],
                     {"DINGTALK_CLIENT_SECRET": CLIENT_SECRET, "DINGTALK_OPENAPI_ENDPOINT": endpoint},
                     ready=lambda: seen in robot.log.read_text(errors="replace"))
        time.sleep(0.5)  # not given up: the SDK tries again after its pause
        assert robot.proc.poll() is None
        robot.stop()
        assert robot.proc.returncode == 0


def test_a_file_sent_after_the_token_expired_is_read_with_a_new_token(fake, own_robot):
    # messageFiles/download's 401 was taken as DingTalk refusing the file
    user = Person(fake, "staff031")
    user.send("/start", until=a_card)
    fake.expire_tokens()
    frame = fake.user_sends_file("staff031", "申报表.csv", "集群名称,甲集群\n".encode() * 5)
    assert fake.ack_of(frame)["code"] == 200
    got = user.until(has("申报表.csv"))
    assert "纯文本文件" in text_of(got[-1]) and "未能从平台取得" not in text_of(got[-1])
    assert fake.token_calls == 2 and fake.downloaded == ["dlcode1"]


def test_a_reply_whose_file_failed_sends_the_files_alone_again(fake, own_robot):
    # the text went out, the first file's message failed (502): the retry sent the text again
    user = Person(fake, "staff032")
    user.send("/start", until=a_card)
    user.send("/new 辛集群", until=a_card)
    user.send("江苏", until=a_card)
    fake.faults = [None, 502]
    got = user.send("/export", until=lambda m: m["kind"] == "sampleFile" and m["fileName"].endswith(".md"))
    assert [m["kind"] == "sampleFile" for m in got] == [False, True, True]  # the text once, then the files


def test_a_file_whose_download_url_is_refused_is_answered_not_dropped(fake, robot):
    # the file URL's 403 was raised into the SDK: no acknowledgement, no answer, the URL logged
    user = Person(fake, "staff033")
    user.send("/start", until=a_card)
    fake.expired_urls.add(f"dlcode{len(fake.user_files) + 1}")
    frame = fake.user_sends_file("staff033", "申报表.xlsx", b"PK\x03\x04")
    assert fake.ack_of(frame)["code"] == 200
    assert "请重新发送该文件" in text_of(user.until(has("未能从平台取得"))[-1])
    assert "/files/" not in robot.log_since_mark()



def test_a_cards_header_names_what_its_buttons_answer_and_a_cut_title_says_so():
    """A card's header is the line its buttons answer (the question's heading), not the answer
    saved before it; a title cut at 60 characters ends with … (a figure cut short, 82.3 of
    82.30%, is never shown as if whole)."""
    from bot.dingtalk import DingTalkChannel, title_of
    from dialogs.messages import Button, Reply

    saved = "已保存：集群内中小企业产值占集群总产值比例 = 2023年 80.50%、2024年 81.00%、2025年 82.30%"
    skip = [Button("跳过", "c:1:x:/skip")]
    question = Reply(f"{saved}\n\n第 12/52 题 · 主导产业\n近三年集群主导产业产值占集群总产值的比例分别是多少？",
                     actions=skip, kind="question", headings=[2])
    assert DingTalkChannel.card_data(question)["header"]["title"]["text"] == "第 12/52 题 · 主导产业"
    header = DingTalkChannel.card_data(Reply(saved, actions=skip))["header"]["title"]["text"]
    assert len(saved) > 60 and len(header) == 60 and header.endswith("…") and header[:-1] in saved
    assert title_of(Reply(saved)) == header


def test_replies_keep_their_order_when_one_is_answered_429_while_the_next_message_comes(fake, robot):
    user = Person(fake, "zhouyi")
    user.send("/new 庚集群", until=a_card)
    user.send("江苏", until=lambda m: a_card(m) and "是" in labels(m))
    fake.faults += [429]  # the next reply: DingTalk's QPS limit, tried again a second later
    for text in ("是", "80平方公里", "是", "否"):
        fake.user_sends("zhouyi", text)
    got = user.until(has("第 5/43 题"), timeout=20)
    saved = [text_of(m).split(" = ")[0] for m in got if text_of(m).startswith("已保存")]
    assert saved == ["已保存：集群定位在县级区划范围内", "已保存：集群占地面积", "已保存：主导产业为所在县域的支柱或特色产业",
                     "已保存：主导产业符合国家产业政策和（省）发展规划要求"]

"""Every channel adapter against the one channel contract (tests/channel_contract.py): the
terminal, Telegram, the web chat, WeCom and DingTalk; a new channel adds its driver to DRIVERS."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import http.client
import io
import json
import re
import threading
from pathlib import Path

import pytest

from bot.channel import Sent
from bot.clock import ManualClock
from bot.terminal import TerminalChannel
from storage.db import make_engine
from tests import channel_contract as contract
from tests.channel_contract import Shown
from bench.standins.fakebotapi import FakeBotApi, buttons


class Recorder(io.StringIO):
    """A terminal's stdout that keeps each print apart: one print is one message."""

    def __init__(self):
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)


class TerminalDriver:
    name, faults = "terminal", False

    def __init__(self, tmp_path: Path):
        self.export_dir = tmp_path / "exports"
        self.export_dir.mkdir()

    async def __aenter__(self):
        self.out = Recorder()
        self.channel = TerminalChannel(self.out, self.export_dir, lambda _user: "zh", interactive=False)
        self.chat = "alice"
        return self

    async def __aexit__(self, *exc):
        pass

    def shown(self) -> list[Shown]:
        shown = []
        for text in (w for w in self.out.writes if w.strip()):
            written = re.findall(r"已写入文件：(.+)", text)
            shown.append(Shown(text, documents={Path(p).name: Path(p).read_bytes() for p in written}))
        return shown

    def fail_next(self, kind: str) -> None:
        raise AssertionError("the terminal is never busy or gone")


class TelegramDriver:
    name, faults = "telegram", True

    def __init__(self, tmp_path: Path):
        pass

    async def __aenter__(self):
        from bot.telegram import TelegramChannel, make_bot

        self.fake = FakeBotApi().start()
        self.fake.register_user(4001, first_name="官员", language_code="zh-hans")
        self.bot = make_bot(self.fake.token, self.fake.base_url)
        await self.bot.initialize()
        self.channel = TelegramChannel(self.bot)
        self.chat = "4001"
        return self

    async def __aexit__(self, *exc):
        await self.bot.shutdown()
        await asyncio.to_thread(self.fake.stop)

    def shown(self) -> list[Shown]:
        return [Shown(m.get("text", m.get("caption", "")), buttons=[label for label, _ in buttons(m)],
                      documents={m["document"]["file_name"]: self.fake.documents[m["document"]["file_id"]]}
                      if "document" in m else {})
                for m in self.fake.messages(4001) if m["from"]["is_bot"]]

    def fail_next(self, kind: str) -> None:
        if kind == "busy":
            self.fake.fail_next("sendMessage", status=429, retry_after=0.2)
        else:
            self.fake.user_blocks_bot(4001)


class WebDriver:
    """The web chat (bot/web.py) served by uvicorn on 127.0.0.1 in this event loop, and a page
    read as a browser reads it: the server-sent events of its chat, on a thread, edits
    applied. `shown()` waits until the page has read every reply the channel reported sent
    (Sent is "written to the page's connection"). The web has no busy or gone platform: a
    page not open is `Later`, and a user who closed the page comes back (tests/test_web.py)."""

    name, faults = "web", False

    def __init__(self, tmp_path: Path):
        self.db = tmp_path / "web-contract.db"

    async def __aenter__(self):
        import uvicorn

        from bot.clock import ManualClock
        from bot.web import WebChat

        self.chat = "official-1"  # named by a trusted proxy's header
        self.web = WebChat(make_engine(f"sqlite:///{self.db}"), ManualClock(dt.datetime(2026, 11, 23, 10)), "key",
                           user_header="X-Remote-User")
        self.channel = CountingChannel(self.web.channel)
        self.server = uvicorn.Server(uvicorn.Config(self.web.app(), host="127.0.0.1", port=0, log_level="warning"))
        self.serving = asyncio.create_task(self.server.serve())
        await contract.wait_for(lambda: self.server.started)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.events: list[dict] = []
        self.arrived = threading.Condition()
        self.page = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        await contract.wait_for(lambda: self.chat in self.web.channel.pages)
        return self

    def _read(self) -> None:
        self.page.request("GET", "/events", headers={"X-Remote-User": self.chat})
        response = self.page.getresponse()
        with contextlib.suppress(OSError, ValueError):  # the connection closed at the end
            while line := response.readline():
                if line.startswith(b"data: "):
                    with self.arrived:
                        self.events.append(json.loads(line[6:]))
                        self.arrived.notify_all()

    async def __aexit__(self, *exc):
        self.server.should_exit = True
        self.web.channel.close_all()  # ends the page's stream, as at a shutdown
        await self.serving
        await asyncio.to_thread(self.reader.join, 10)
        self.page.close()

    def shown(self) -> list[Shown]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.events) >= self.channel.sent, timeout=10)
            events = list(self.events)
        page: dict[str, dict] = {}  # by message id, in the order first shown
        for event in events:
            if event["edit_of"] in page:  # an edit takes the place of the message pressed
                page = {(event["id"] if k == event["edit_of"] else k): (event if k == event["edit_of"] else v)
                        for k, v in page.items()}
            else:
                page[event["id"]] = event
        return [Shown(e["text"] + (f"\n✓ {e['chosen']}" if e.get("chosen") else ""),
                      buttons=[label for label, _ in e["choices"] + e["actions"]],
                      documents={d["name"]: base64.b64decode(d["data"]) for d in e["documents"]})
                for e in page.values()]

    def fail_next(self, kind: str) -> None:
        raise AssertionError("the web has no busy or gone platform")


class CountingChannel:
    """A channel as it is, counting the replies it reports sent."""

    def __init__(self, inner):
        self.inner, self.name, self.sent = inner, inner.name, 0

    async def send(self, chat_id, reply, edit_of=None):
        outcome = await self.inner.send(chat_id, reply, edit_of)
        self.sent += isinstance(outcome, Sent)
        return outcome


class WeComDriver:
    name, faults = "wecom", True

    def __init__(self, tmp_path: Path):
        pass

    async def __aenter__(self):
        from bot.wecom import WeComChannel, WeComConfig
        from bench.standins import fakewecom

        self.fake = fakewecom.FakeWeCom().__enter__()
        config = WeComConfig(fakewecom.CORP_ID, fakewecom.AGENT_ID, fakewecom.SECRET, fakewecom.TOKEN,
                             fakewecom.AES_KEY, api_base_url=self.fake.base_url)
        self.channel = WeComChannel(config, ManualClock(dt.datetime(2026, 11, 23, 10)))
        self.chat = "zhangsan"
        return self

    async def __aexit__(self, *exc):
        await self.channel.close()
        self.fake.__exit__()

    def shown(self) -> list[Shown]:
        from bench.standins.fakewecom import labels

        shown: list[Shown] = []
        for m in self.fake.messages_to(self.chat):
            if m["msgtype"] == "template_card" and shown:
                shown[-1].buttons += labels(m)  # the reply's card, right under its text
            elif m["msgtype"] == "file":
                name, content = self.fake.files[m["file"]["media_id"]]
                shown.append(Shown("", documents={name: content}))
            else:
                shown.append(Shown(m["text"]["content"]))
        return shown

    def fail_next(self, kind: str) -> None:
        self.fake.faults.append({"errcode": -1, "errmsg": "system busy"} if kind == "busy"
                                else {"errcode": 81013, "errmsg": "user & party & tag all invalid"})


class DingTalkDriver:
    name, faults = "dingtalk", True

    def __init__(self, tmp_path: Path):
        pass

    async def __aenter__(self):
        from bot.dingtalk import DingTalkChannel, DingTalkConfig
        from bench.standins import fakedingtalk

        self.fake = fakedingtalk.FakeDingTalk().__enter__()
        config = DingTalkConfig(fakedingtalk.CLIENT_ID, fakedingtalk.CLIENT_SECRET, endpoint=self.fake.base_url,
                                oapi=self.fake.base_url)
        self.channel = DingTalkChannel(config, ManualClock(dt.datetime(2026, 11, 23, 10)))
        self.chat = "u:staff1"
        return self

    async def __aexit__(self, *exc):
        await self.channel.close()
        self.fake.__exit__()

    def shown(self) -> list[Shown]:
        from bench.standins.fakedingtalk import labels

        def plain(markdown: str) -> str:
            return markdown.replace("  \n", "\n").replace("**", "")
        shown = []
        for m in self.fake.messages_to("staff1"):
            if m["kind"] == "sampleFile":
                shown.append(Shown("", documents={m["fileName"]: self.fake.files[m["mediaId"]][1]}))
            else:
                shown.append(Shown(plain(m.get("text") or m.get("content", "")), buttons=labels(m)))
        return shown

    def fail_next(self, kind: str) -> None:
        self.fake.faults.append(429 if kind == "busy" else (400, {"code": "staffId.notExisted", "message": "用户不存在"}))


DRIVERS = [TerminalDriver, TelegramDriver, WebDriver, WeComDriver, DingTalkDriver]


@pytest.mark.parametrize("driver", DRIVERS, ids=lambda d: d.name)
@pytest.mark.parametrize("check", contract.CHECKS, ids=lambda c: c.__name__)
def test_the_channel_contract(driver, check, tmp_path):
    async def run():
        async with driver(tmp_path) as d:
            await asyncio.wait_for(check(d), 30)

    asyncio.run(run())


@pytest.mark.parametrize("driver", DRIVERS, ids=lambda d: d.name)
def test_a_turn_through_the_outbox_and_the_delivery(driver, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'contract.db'}")

    async def run():
        async with driver(tmp_path) as d:
            await asyncio.wait_for(contract.a_turn_goes_through_the_outbox_and_the_delivery(d, engine), 30)

    asyncio.run(run())


def test_a_reply_in_parts_goes_on_from_the_first_part_not_delivered():
    from bot.channel import Later, Refused, send_parts

    calls = []

    def part(n: int, message_id: str | None, fails: bool = False):
        async def send():
            calls.append(n)
            if fails:
                raise TimeoutError
            return message_id
        return send

    def failed(exc):
        return Later(1, "busy") if isinstance(exc, TimeoutError) else None

    async def run():
        first = await send_parts([part(0, "m0"), part(1, "card"), part(2, None, fails=True)], None, failed)
        again = await send_parts([part(0, "m0"), part(1, "card"), part(2, None)], first, failed)
        refused = await send_parts([part(3, None)], None, lambda exc: Refused("no"))
        return first, again, refused
    first, again, refused = asyncio.run(run())
    assert (first.parts_sent, first.message_id) == (2, "card")
    assert again == Sent("card")  # the card's id, though it went out on the first try
    assert calls == [0, 1, 2, 2, 3] and refused == Sent(None)

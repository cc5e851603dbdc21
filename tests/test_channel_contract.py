"""Every channel adapter against the one channel contract (tests/channel_contract.py): the
terminal and Telegram; a new channel adds its driver to DRIVERS."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

import pytest

from bot.terminal import TerminalChannel
from storage.db import make_engine
from tests import channel_contract as contract
from tests.channel_contract import Shown
from tests.fakebotapi import FakeBotApi, buttons


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


DRIVERS = [TerminalDriver, TelegramDriver]


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

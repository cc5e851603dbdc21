"""The channel contract: what every adapter on the port (bot/channel.py) does with the
dialog's neutral replies, checked the same way for every channel.

Each check is an async function of a `Driver`; tests/test_channel_contract.py runs every
check against every driver. To put a new channel under the contract (web, WeCom,
DingTalk …), write a driver for it and add it to `DRIVERS` there:

    class WebDriver:
        name = "web"
        faults = True                  # can the platform be made busy / gone? (see below)

        async def __aenter__(self):    # start the fake platform on 127.0.0.1, build the channel
            self.channel = WebChannel(...)
            self.chat = "some-chat"    # a chat id the channel can send to
            return self

        async def __aexit__(self, *exc): ...

        def shown(self) -> list[Shown]:
            # what the user sees in the chat now, oldest first: one Shown per message,
            # edits applied (a channel that cannot edit shows the update as a new message)

        def fail_next(self, kind: str) -> None:
            # the platform's next answer to a send: "busy" (rate limited, 5xx, timeout:
            # the channel must answer Later) or "gone" (blocked, chat deleted: Refused)

A driver whose platform has no such states (the terminal) sets `faults = False`, and the
two checks of faults do not apply to it. The checks assert only what the user would see:
the words, the choices, the documents, the order, the updates of a pressed message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

from bot.channel import Channel, Later, Refused, Sent
from bot.clock import ManualClock
from bot.delivery import Database, Delivery
from dialogs.conversation import Conversation
from dialogs.messages import Button, Incoming, Reply


@dataclass
class Shown:
    """One message as the user sees it."""

    text: str                                              # the words, markup removed
    buttons: list[str] = field(default_factory=list)       # labels to press (or to type: numbered)
    documents: dict[str, bytes] = field(default_factory=dict)

    def everything(self) -> str:
        return "\n".join([self.text, *self.buttons, *self.documents])


class Driver(Protocol):
    name: str
    faults: bool
    channel: Channel
    chat: str

    async def __aenter__(self) -> Driver: ...
    async def __aexit__(self, *exc) -> None: ...
    def shown(self) -> list[Shown]: ...
    def fail_next(self, kind: str) -> None: ...


QUESTION = Reply("第 1/39 题 · 基本情况\n该集群是否定位在一个县级区划范围内？", kind="question",
                 choices=[Button("是", "c:1:asking-county_level:1"), Button("否", "c:1:asking-county_level:2")],
                 actions=[Button("跳过", "/skip"), Button("依据", "/why")])


async def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not seen in time"
        await asyncio.sleep(0.02)


async def text_arrives_literally(d: Driver) -> None:
    outcome = await d.channel.send(d.chat, Reply("已创建集群「<b>甲&乙</b>」。"))
    assert isinstance(outcome, Sent)
    await wait_for(lambda: any("已创建集群「<b>甲&乙</b>」。" in s.text for s in d.shown()))


async def choices_and_actions_are_offered(d: Driver) -> None:
    assert isinstance(await d.channel.send(d.chat, QUESTION), Sent)
    await wait_for(lambda: d.shown() and "县级区划" in d.shown()[-1].text)
    offered = d.shown()[-1].everything()
    assert all(label in offered for label in ("是", "否", "跳过", "依据"))


async def a_long_reply_arrives_whole_and_in_order(d: Driver) -> None:
    lines = [f"第{i}行：" + "条文原文" * 30 for i in range(80)]  # some 10,000 characters
    assert isinstance(await d.channel.send(d.chat, Reply("\n".join(lines))), Sent)
    await wait_for(lambda: "第79行" in "\n".join(s.text for s in d.shown()))
    seen = "\n".join(s.text for s in d.shown())
    positions = [seen.index(line) for line in lines]
    assert positions == sorted(positions)


async def documents_are_delivered(d: Driver) -> None:
    report = "# 预审报告\n甲集群\n".encode()
    reply = Reply("已导出。", documents=[("甲集群.json", b'{"name": "\xe7\x94\xb2"}'), ("甲集群-预审报告.md", report)])
    assert isinstance(await d.channel.send(d.chat, reply), Sent)
    await wait_for(lambda: sum(len(s.documents) for s in d.shown()) == 2)
    documents = {name: content for s in d.shown() for name, content in s.documents.items()}
    assert documents == dict(reply.documents)


async def an_updated_prompt_replaces_or_follows(d: Driver) -> None:
    first = await d.channel.send(d.chat, QUESTION)
    updated = Reply("请选择按哪些办法预审：\n✓ 江苏", kind="question", replace=True,
                    choices=[Button("✓ 江苏", "c:1:choose_m-:2"), Button("确定（已选 1 个）", "c:1:choose_m-:6")])
    assert isinstance(await d.channel.send(d.chat, updated, edit_of=first.message_id), Sent)
    await wait_for(lambda: "✓ 江苏" in d.shown()[-1].text)
    assert "确定（已选 1 个）" in d.shown()[-1].everything()


async def a_chosen_answer_is_never_a_message_of_its_own(d: Driver) -> None:
    first = await d.channel.send(d.chat, QUESTION)
    before = len(d.shown())
    chosen = Reply(QUESTION.text, kind="question", chosen="是")
    assert isinstance(await d.channel.send(d.chat, chosen, edit_of=first.message_id), Sent)
    assert len(d.shown()) == before  # shown in the question (edited), or not at all


async def a_busy_platform_is_later_and_a_gone_chat_refused(d: Driver) -> None:
    if not d.faults:
        return  # the platform cannot be busy or gone (the terminal)
    d.fail_next("busy")
    later = await d.channel.send(d.chat, Reply("稍后"))
    assert isinstance(later, Later)
    await asyncio.sleep(later.seconds)  # the time the channel asked for, as the delivery waits
    assert isinstance(await d.channel.send(d.chat, Reply("稍后")), Sent)
    d.fail_next("gone")
    assert isinstance(await d.channel.send(d.chat, Reply("无人")), Refused)


async def a_turn_goes_through_the_outbox_and_the_delivery(d: Driver, engine) -> None:
    """The whole port: receive() commits the replies, the delivery sends them in order."""
    conversation = Conversation(engine, ManualClock(dt.datetime(2026, 11, 23, 10)), channel=d.channel.name)
    delivery = Delivery(Database(engine), {d.channel.name: d.channel})
    for n, text in enumerate(["/new 甲集群", "江苏"]):
        await asyncio.to_thread(conversation.receive,
                                Incoming(d.channel.name, "u1", d.chat, text=text, message_id=f"contract-{n}"))
        await delivery.flush_chat(d.channel.name, d.chat)
    await delivery.close()
    await wait_for(lambda: any("县级区划" in s.text for s in d.shown()))
    seen = "\n".join(s.text for s in d.shown())
    assert seen.index("已创建集群「甲集群」") < seen.index("县级区划")


CHECKS = [text_arrives_literally, choices_and_actions_are_offered, a_long_reply_arrives_whole_and_in_order,
          documents_are_delivered, an_updated_prompt_replaces_or_follows, a_chosen_answer_is_never_a_message_of_its_own,
          a_busy_platform_is_later_and_a_gone_chat_refused]

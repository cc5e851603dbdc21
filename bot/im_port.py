"""What the WeCom and DingTalk adapters need of the port, until bot/delivery.py lands:
receive an `Incoming` (the dialog's turn, its replies written to the outbox as neutral JSON
in the same transaction), deliver the outbox through a `Channel`, sweep the reminders into
the outbox. One asyncio task each; the database work runs on one worker thread.

Replaced by `Conversation.receive` and the delivery loop of the port when it is merged."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import datetime as dt
import json
import logging

from bot.channel import Channel, Later, Refused, Sent
from bot.reminders import sweep
from dialogs.conversation import Conversation
from dialogs.messages import Button, Incoming, Reply
from locales import t
from storage import repo
from storage.db import session
from storage.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)
GIVE_UP_AFTER = 20  # attempts of one reply that the channel keeps answering "later"


def to_json(reply: Reply) -> dict:
    return {**reply.as_dict(), "replace": reply.replace,
            "documents": [[name, base64.b64encode(content).decode()] for name, content in reply.documents]}


def from_json(data: dict) -> Reply:
    return Reply(data["text"], kind=data.get("kind", "info"), replace=bool(data.get("replace")),
                 choices=[Button(*b) for b in data.get("choices", [])],
                 actions=[Button(*b) for b in data.get("actions", [])],
                 documents=[(n, base64.b64decode(c)) for n, c in data.get("documents", [])])


class Port:
    """The dialog and the outbox of one channel over one database."""

    def __init__(self, engine, clock, channel: Channel):
        self.engine, self.clock, self.channel = engine, clock, channel
        self.conversation = Conversation(engine, clock, channel=channel.name)
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="db")
        self.wakeup = asyncio.Event()

    async def db(self, fn, *args, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(self.executor, lambda: fn(*args, **kwargs))

    def _enqueue(self, chat_id: str):
        def deliver(s, _user, replies):
            for reply in replies:
                repo.enqueue(s, self.channel.name, chat_id, to_json(reply))
        return deliver

    def _turn(self, incoming: Incoming) -> None:
        try:
            self.conversation.handle(incoming.user_id, text=incoming.text, data=incoming.button,
                                     display_name=incoming.display_name, update_id=incoming.message_id,
                                     chat_id=incoming.chat_id, lang=incoming.lang,
                                     deliver=self._enqueue(incoming.chat_id))
        except Exception:  # a bug: the turn is rolled back, the user told so
            log.exception("%s message %s not handled", self.channel.name, incoming.message_id)
            with session(self.engine) as s:
                lang = self.conversation.language_of(incoming.user_id)
                repo.enqueue(s, self.channel.name, incoming.chat_id,
                             to_json(Reply(t(lang, "terminal.internal_error"), kind="error")))
                s.commit()

    async def receive(self, incoming: Incoming) -> None:
        """The turn, committed (replies in the outbox) when this returns; delivery is woken."""
        await self.db(self._turn, incoming)
        self.wakeup.set()

    def _due(self) -> list[OutboxMessage]:
        with session(self.engine) as s:
            return repo.due_outbox(s, self.channel.name, utcnow(), limit=200)

    def _mark(self, row_id: int, outcome) -> None:
        with session(self.engine) as s:
            row = s.get(OutboxMessage, row_id)
            row.attempts += 1
            if isinstance(outcome, Later) and row.attempts < GIVE_UP_AFTER:
                row.next_attempt_at = utcnow() + dt.timedelta(seconds=outcome.seconds)
                row.error = outcome.reason[:500]
            else:
                row.sent_at = utcnow()
                row.error = None if isinstance(outcome, Sent) else f"refused: {getattr(outcome, 'reason', '')}"[:500]
            s.add(row)
            s.commit()

    async def deliver_once(self) -> None:
        """Send what is due, in order per chat: a chat whose reply must wait sends no later one."""
        waiting: set[str] = set()
        for row in await self.db(self._due):
            if row.chat_id in waiting:
                continue
            outcome = await self.channel.send(row.chat_id, from_json(json.loads(row.payload)))
            if isinstance(outcome, Refused):
                log.warning("%s reply %s refused: %s", self.channel.name, row.id, outcome.reason)
            elif isinstance(outcome, Later):
                waiting.add(row.chat_id)
                log.info("%s reply %s later (%s s): %s", self.channel.name, row.id, outcome.seconds, outcome.reason)
            await self.db(self._mark, row.id, outcome)

    async def delivery_loop(self, interval: float = 1.0) -> None:
        while True:
            self.wakeup.clear()
            try:
                await self.deliver_once()
            except Exception:  # the database busy, a bug in rendering: the rows stay, retried
                log.exception("%s delivery failed; retrying", self.channel.name)
            try:
                await asyncio.wait_for(self.wakeup.wait(), interval)
            except asyncio.TimeoutError:
                pass

    def _sweep(self) -> int:
        def enqueue(s, user, reply):
            repo.enqueue(s, self.channel.name, user.chat_id or user.external_id, to_json(reply))
        return sweep(self.engine, self.clock.now(), self.channel.name, enqueue)

    async def reminder_loop(self, interval: float) -> None:
        while True:
            try:
                if await self.db(self._sweep):
                    self.wakeup.set()
            except Exception:
                log.exception("reminder sweep failed; retrying")
            await asyncio.sleep(interval)

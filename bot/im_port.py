"""One chat channel's process on the port (WeCom, DingTalk): the dialog's turn, the delivery
loop and the scheduler, over one database thread.

`receive(incoming)` returns once the turn and its replies are committed (the platform is
then acknowledged); the replies' sending runs beside it (the rows the turn leased to this
sender, with no claim), and whatever a crash left unsent is sent by the scheduler's first
tick after the restart."""

from __future__ import annotations

import asyncio

from bot.channel import Channel
from bot.delivery import Database, Delivery
from bot.scheduler import Scheduler
from dialogs.conversation import Conversation
from dialogs.messages import Incoming

class ChannelProcess:
    def __init__(self, engine, clock, channel: Channel, reminder_interval: float):
        self.channel = channel
        self.db = Database(engine)
        self.conversation = Conversation(engine, clock, channel=channel.name)
        # The turns run through the delivery: their rows leased to this sender and sent with
        # no claim, their marks written with the next turn (as Telegram's).
        self.delivery = Delivery(self.db, {channel.name: channel}, turns_here=True)
        self.scheduler = Scheduler(self.db, clock, self.delivery, interval=reminder_interval)
        self.conversation.on_replanned = self.scheduler.wake  # a turn planned reminders: sweep now
        self.tasks: set[asyncio.Task] = set()

    def start(self) -> None:
        """On the running event loop: the sweep, the delivery tick and the marks."""
        self.scheduler.start()

    async def receive(self, incoming: Incoming) -> None:
        rows = await self.delivery.run_turn(self.conversation.receive, incoming)
        task = asyncio.get_running_loop().create_task(self.delivery.flush_chat(incoming.channel, incoming.chat_id, rows))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def stop(self) -> None:
        """Sends in hand finish, every mark is written."""
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.scheduler.stop()
        self.db.executor.shutdown(wait=True)

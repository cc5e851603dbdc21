"""The port every channel implements: render and send one neutral reply.

The delivery loop (bot/delivery.py) takes the replies committed to the outbox, in order per
chat, and hands each to its channel's `send`. A channel answers with what happened:
`Sent` (with the platform's id of the message, so that a later reply can edit it), `Later`
(rate limited, timed out, the platform busy: try again after `seconds`), or `Refused` (the
user blocked the bot, the chat is gone, the request is invalid: give up on this reply)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from dialogs.messages import Reply


@dataclass(frozen=True)
class Sent:
    message_id: str | None = None


@dataclass(frozen=True)
class Later:
    seconds: float
    reason: str = ""
    # False when nobody is there to take the reply yet (a web chat with no page open): waiting
    # for the user is not a failure of the channel, so it never counts towards giving up.
    counts: bool = True


@dataclass(frozen=True)
class Refused:
    reason: str


Outcome = Sent | Later | Refused


@runtime_checkable
class Channel(Protocol):
    name: str  # the `Incoming.channel` and outbox channel this adapter serves

    async def send(self, chat_id: str, reply: Reply, edit_of: str | None = None) -> Outcome:
        """Render and send one reply; `edit_of` is the id of a sent message to update in place
        (a channel that cannot edit sends a new message)."""
        ...

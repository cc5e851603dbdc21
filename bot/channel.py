"""The port every channel implements: render and send one neutral reply.

The delivery loop (bot/delivery.py) takes the replies committed to the outbox, in order per
chat, and hands each to its channel's `send`. A channel answers with what happened:
`Sent` (with the platform's id of the message, so that a later reply can edit it), `Later`
(rate limited, timed out, the platform busy: try again after `seconds`), or `Refused` (the
user blocked the bot, the chat is gone, the request is invalid: give up on this reply)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
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
    # The reply's first parts (its messages, in order) already delivered, and the id they
    # gave: the next try starts after them (`send(resume=…)`), so that none is sent twice.
    parts_sent: int = 0
    message_id: str | None = None


@dataclass(frozen=True)
class Refused:
    reason: str


Outcome = Sent | Later | Refused


@runtime_checkable
class Channel(Protocol):
    name: str  # the `Incoming.channel` and outbox channel this adapter serves

    async def send(self, chat_id: str, reply: Reply, edit_of: str | None = None) -> Outcome:
        """Render and send one reply; `edit_of` is the id of a sent message to update in place
        (a channel that cannot edit sends a new message). A channel that sends a reply in
        parts also takes `resume`, the `Later` of its last try (see `send_parts`)."""
        ...


Part = Callable[[], Awaitable[str | None]]  # one platform message sent: its id, or None


async def send_parts(parts: list[Part], resume: Later | None, failed: Callable[[Exception], Outcome | None]) -> Outcome:
    """A reply sent as several platform messages (a long text in parts, a card, files), from
    the first a previous try (`resume`) did not deliver. `failed(exc)` is the platform's
    reading of an error (None: not one it knows, raised). A `Later` carries the parts
    delivered so far; the `Sent` the id of the last part that returned one."""
    start, last = (resume.parts_sent, resume.message_id) if resume else (0, None)
    for n, part in enumerate(parts[start:], start=start):
        try:
            last = await part() or last
        except Exception as exc:
            outcome = failed(exc)
            if outcome is None:
                raise
            return dataclasses.replace(outcome, parts_sent=n, message_id=last) if isinstance(outcome, Later) else outcome
    return Sent(last)

"""The neutral messages between a channel and the dialog.

A channel adapter turns what its platform delivers into an `Incoming`, and renders each
`Reply` in its own way (HTML and inline keyboards, cards, a web page, numbered lines in a
terminal). Nothing here knows any platform."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Attachment:
    """A file the user sent (a filled application form, say)."""

    filename: str
    content: bytes
    mime: str = ""


@dataclass(frozen=True)
class Incoming:
    """One message or button press, as every channel hands it to the dialog."""

    channel: str                    # terminal | telegram | web | wecom | dingtalk
    user_id: str                    # the person, on that channel (one identity per channel)
    chat_id: str                    # where the replies go: the private chat, or the group
    text: str | None = None         # what was typed
    button: str | None = None       # the data of a pressed choice or action
    message_id: str | None = None   # the channel's id of this update: a redelivery is handled once
    lang: str | None = None         # the language the channel reports for the user (zh, en)
    display_name: str = ""
    group: bool = False             # sent in a group chat: the dialog decides what a group may do
    mentioned: bool = False         # in a group: addressed to the bot (@name, a command to it)
    attachment: Attachment | None = None
    pressed: str | None = None      # the channel's id of the sent reply whose button was pressed


@dataclass
class Button:
    label: str
    data: str


@dataclass
class Reply:
    text: str
    choices: list[Button] = field(default_factory=list)  # answers to pick (numbered in a terminal)
    actions: list[Button] = field(default_factory=list)  # commands offered beside the question
    documents: list[tuple[str, bytes]] = field(default_factory=list)  # (file name, content)
    kind: str = "info"  # question | info | error | result
    # The same prompt, updated: a channel that can edit the message whose button was pressed
    # shows it there instead of sending a new message (the terminal prints it again).
    replace: bool = False

    def as_dict(self) -> dict:
        return {"text": self.text, "kind": self.kind,
                "choices": [[b.label, b.data] for b in self.choices],
                "actions": [[b.label, b.data] for b in self.actions]}

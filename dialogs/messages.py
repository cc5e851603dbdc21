"""The neutral messages between a channel and the dialog.

A channel adapter turns what its platform delivers into an `Incoming`, and renders each
`Reply` in its own way (HTML and inline keyboards, cards, a web page, numbered lines in a
terminal). Nothing here knows any platform."""

from __future__ import annotations

import base64
import errno
import os
import re
import stat
from dataclasses import dataclass, field


MAX_FILE = 5 * 1024 * 1024  # bytes of a file a user sends that a channel takes (a filled form is far smaller)


@dataclass(frozen=True)
class Attachment:
    """A file the user sent (a filled application form, say)."""

    filename: str
    content: bytes
    mime: str = ""

    def __post_init__(self):
        # A file's name is quoted back (「表.xlsx」): no control character in it either.
        object.__setattr__(self, "filename", without_controls(self.filename))


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
    # What the channel received but could not take: too_large (a file over MAX_FILE),
    # unsupported (a photo, voice, sticker…), not_downloaded (a file the platform would not hand
    # over: an expired media id). The dialog answers it, as any message.
    unreadable: str | None = None

    def __post_init__(self):
        # A lone surrogate ("\ud800" is valid JSON, not valid Unicode) can be neither stored
        # nor sent: replaced by U+FFFD here, where every channel's message passes. What the
        # user wrote loses its control characters here too: it is quoted back in replies.
        for name in _TEXTS:
            value = kept = getattr(self, name)
            if not value:
                continue
            if LONE_SURROGATE.search(value):
                value = LONE_SURROGATE.sub("\ufffd", value)
            if name in _WRITTEN:
                value = without_controls(value)  # the same text when it has none: nearly always
            if value is not kept:
                object.__setattr__(self, name, value)


_TEXTS = ("user_id", "chat_id", "text", "button", "message_id", "display_name", "pressed")
_WRITTEN = ("text", "button", "display_name")  # the user's own words (a button's data can be forged)
# "\ud800" is valid JSON but no character: it can be neither stored nor sent as UTF-8
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# A terminal's escape sequences (a colour, a cursor move, a window title, an arrow key) whole,
# then any other C0 or C1 control character, tab and line feed excepted (a carriage return,
# a lone one or of CRLF, is a line feed). Typed or pasted, they would be quoted back raw and
# acted on by the terminal that shows the reply.
_CONTROLS = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"                        # CSI: colours, cursor moves (ESC [ 31 m)
    r"|(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"  # OSC, DCS…: to their end
    r"|\x1b[NO][ -~]?"                                          # SS2, SS3 and their character (ESC O A)
    r"|\x1b[ -/]*[0-~]?"                                        # any other escape
    r"|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_CHAR = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def without_controls(text: str) -> str:
    """Text a user wrote, as it may be quoted back: without terminal escape sequences or
    control characters (tab and line feed kept; a carriage return read as a line feed). The
    one rule, applied where a user's text enters (`Incoming`, `Attachment`, `clusterbot ask`, a
    form's cells as dialogs/form_files reads them)."""
    if not _CONTROL_CHAR.search(text):
        return text  # nearly every message: one search
    return _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


@dataclass
class Button:
    label: str
    data: str

    @property
    def typed(self) -> str:
        """What to type for it where it cannot be pressed (a terminal, a line of text): a
        question's action carries its question (`c:<profile>:<prompt>:/skip`), typed it is
        the command alone, which acts on the question asked."""
        head, sep, command = self.data.rpartition(":/")
        return "/" + command if sep and head.startswith("c:") else self.data


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
    # The answer picked on a button, shown under the question in the message pressed (the
    # outbox row's `edit_of`); a channel that cannot edit messages leaves this reply out.
    chosen: str | None = None
    # Lines of `text` that head a part (a question's progress line), set when replies are
    # merged into one step (`merge_steps`); a channel may emphasise them.
    headings: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"text": self.text, "kind": self.kind,
                "choices": [[b.label, b.data] for b in self.choices],
                "actions": [[b.label, b.data] for b in self.actions]}

    def to_json(self) -> dict:
        """The whole reply as JSON (documents in base64): what the outbox stores."""
        return {**self.as_dict(), "replace": self.replace, "chosen": self.chosen,
                "headings": self.headings,
                "documents": [[name, base64.b64encode(content).decode("ascii")] for name, content in self.documents]}

    @classmethod
    def from_json(cls, data: dict) -> Reply:
        return cls(text=data["text"], kind=data.get("kind", "info"),
                   choices=[Button(label, value) for label, value in data.get("choices", [])],
                   actions=[Button(label, value) for label, value in data.get("actions", [])],
                   documents=[(name, base64.b64decode(content)) for name, content in data.get("documents", [])],
                   replace=bool(data.get("replace")), chosen=data.get("chosen"),
                   headings=list(data.get("headings", [])))


HEADED = ("question", "result")  # kinds whose first line is a heading


def merge_steps(replies: list[Reply]) -> list[Reply]:
    """Consecutive replies that read as one step go out as one message: replies without
    buttons or documents are joined to the next one ("已保存…" and the next question); an
    updated prompt or a chosen answer (edits of the message pressed) stays on its own."""
    merged: list[Reply] = []
    run: list[Reply] = []

    def close() -> None:
        if not run:
            return
        last, texts, headings, line = run[-1], [], [], 0
        for part in run:
            if part.kind in HEADED or part.headings:
                headings += [line + h for h in (part.headings or [0])]
            texts.append(part.text)
            line += part.text.count("\n") + 2  # the part's lines and the blank line between
        merged.append(last if len(run) == 1 else
                      Reply("\n\n".join(texts), choices=last.choices, actions=last.actions,
                            documents=last.documents, kind=last.kind, headings=headings))
        run.clear()

    for reply in replies:
        if reply.replace or reply.chosen is not None:
            close()
            merged.append(reply)
            continue
        run.append(reply)
        if reply.choices or reply.actions or reply.documents:
            close()
    close()
    return merged


def file_stem(name: str, fallback: str = "cluster") -> str:
    """A cluster's name as the stem of a file sent back: letters, digits and - kept, the rest
    one _ (no / or .. can leave the folder it is written to), at most 120 bytes of UTF-8 (a
    file name's limit is 255 bytes, 85 Chinese characters, and a suffix follows)."""
    stem = re.sub(r"[^\w-]+", "_", name).strip("_")
    return stem.encode("utf-8")[:120].decode("utf-8", "ignore").strip("_") or fallback


def read_named_file(path, limit: int) -> tuple[int, bytes | None]:
    """A file a user named (a form typed as a path, `form check`'s argument): its size, and its
    bytes unless it is over `limit`. OSError when it is no regular file — a folder; a device
    (/dev/zero) never ends, and opening a pipe waits for a writer — or cannot be read."""
    found = os.stat(path)
    if not stat.S_ISREG(found.st_mode):
        raise OSError(errno.EISDIR if stat.S_ISDIR(found.st_mode) else errno.EINVAL,
                      os.strerror(errno.EISDIR if stat.S_ISDIR(found.st_mode) else errno.EINVAL))
    if found.st_size > limit:
        return found.st_size, None
    with open(path, "rb") as handle:
        return found.st_size, handle.read(limit + 1)

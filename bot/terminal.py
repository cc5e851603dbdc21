"""The terminal chat: the product's embedded default channel. Lines in, replies out; choices
are numbered, documents are written to files. The process never dies on user input."""

from __future__ import annotations

import getpass
import logging
import re
import sys
from pathlib import Path
from typing import Callable, TextIO
from urllib.parse import urlsplit

import platformdirs

from bot.channel import Sent
from bot.delivery import Database, Delivery, base_worker_name
from bot.reminders import SWEEP_SECONDS
from bot.scheduler import BackgroundLoop, Scheduler
from dialogs.conversation import Conversation, command_head, failure_text
from dialogs.form_files import SENT_INSTEAD
from dialogs.messages import LONE_SURROGATE, MAX_FILE, Attachment, Incoming, Reply, read_named_file, without_controls
from locales import t
from storage.db import storage_fault

log = logging.getLogger(__name__)
QUIT = (("/quit", ""), ("/exit", ""), ("退出", ""))  # (command word, rest): alone


def render_reply(reply: Reply, lang: str, export_dir: Path) -> str:
    lines = [reply.text]
    if reply.choices:  # short options on one line, long ones (a pick list) one a line
        numbered = [f"{i + 1}. {b.label}" for i, b in enumerate(reply.choices)]
        lines.append(("   " if max(len(b.label) for b in reply.choices) <= 12 else "\n").join(numbered))
    if reply.actions:
        lines.append("  ".join(f"[{b.typed} {b.label}]" for b in reply.actions))
    written = []
    for name, content in reply.documents:
        path = export_dir / name
        try:
            export_dir.mkdir(parents=True, exist_ok=True)
            path = _free_path(path)
            path.write_bytes(content)
        except OSError as exc:
            # a full disk, a read-only folder: said, and the reply printed; raised, it was retried
            # for ever and held back every later reply of the chat
            if path.is_file():
                path.unlink(missing_ok=True)  # no half-written file left to open
            lines.append(t(lang, "terminal.not_written", path=str(path), folder=str(export_dir),
                           reason=exc.strerror or type(exc).__name__))
            continue
        written.append(name)
        lines.append(t(lang, "terminal.written", path=str(path)))
    if any(Path(name).suffix.lower() in FORM_SUFFIXES for name in written):
        lines.append(t(lang, "terminal.send_back"))  # a form to fill: how to send it back here
    return "\n".join(lines)


FORM_SUFFIXES = (".xlsx", ".docx")  # the files a user sends: a filled application form
SENT_SUFFIXES = FORM_SUFFIXES + SENT_INSTEAD  # a file named so is sent, and said as what it is
_COMMAND = re.compile(r"/[A-Za-z_]+(\s|$)")


def sent_file(text: str, channel: str, user: str) -> Incoming | str | None:
    """A line naming a form file (typed, or dropped in by the terminal: quoted, its spaces
    escaped, or as a file:// URL) as the file sent, as other channels send one; a message (in
    `t`'s key) when it names one that cannot be read; None for any other line."""
    line = text.strip()
    if len(line) >= 2 and line[0] == line[-1] and line[0] in "'\"":
        line = line[1:-1]
    if line.lower().startswith("file://"):  # some terminals drop a file as its URL, percent-encoded
        from urllib.request import url2pathname  # here: urllib.request loads http.client, 18 ms of every start

        try:
            line = url2pathname(urlsplit(line).path)
        except ValueError:  # file://[x]/a.xlsx: no URL at all
            return "terminal.no_file" if line.lower().endswith(SENT_SUFFIXES) else None
    else:
        line = line.replace("\\ ", " ")
    path = Path(line)
    if path.suffix.lower() not in SENT_SUFFIXES:
        return None  # an answer (~95, about 95), never a path
    try:
        path = path.expanduser()  # ~ alone or ~user: a user this system may not know
        if _COMMAND.match(line) and not path.exists():
            return None  # a command such as /new 甲.xlsx
        _, content = read_named_file(path, MAX_FILE)
        if content is None:
            return Incoming(channel, user, user, unreadable="too_large")
        return Incoming(channel, user, user, attachment=Attachment(path.name, content))
    except (OSError, RuntimeError, ValueError):  # not there, a folder, not ours, no such home, a NUL
        return "terminal.no_file"


def _free_path(path: Path) -> Path:
    """Never overwrite an earlier export: add -2, -3, … to the name."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def default_export_dir() -> Path:
    """Where /export writes: the user's downloads folder if there is one, else a folder in
    the user's data directory, never wherever the program happened to be started."""
    downloads = Path(platformdirs.user_downloads_dir())
    if downloads.is_dir():
        return downloads
    return Path(platformdirs.user_data_dir("clusterbot", appauthor=False)) / "exports"


class TerminalChannel:
    """The terminal as a channel on the port: a reply is printed (choices numbered, documents
    written to files); an updated prompt is printed again; a chosen answer is not repeated."""

    name = "terminal"

    def __init__(self, stdout: TextIO, export_dir: Path, language_of: Callable[[str], str], interactive: bool):
        self.stdout, self.export_dir, self.language_of = stdout, export_dir, language_of
        self.interactive = interactive
        self.in_turn = False  # the user's own message is being answered (no prompt after each reply)

    async def send(self, chat_id: str, reply: Reply, edit_of: str | None = None) -> Sent:
        if reply.chosen is not None:
            return Sent()  # the terminal shows the typed or numbered answer already
        print(render_reply(reply, self.language_of(chat_id), self.export_dir), file=self.stdout, flush=True)
        print(file=self.stdout, flush=True)
        if not self.in_turn and self.interactive:  # a reminder arrived while the user may be typing
            print("> ", end="", file=self.stdout, flush=True)
        return Sent()


def run_chat(conversation: Conversation, user: str | None = None, stdin: TextIO | None = None,
             stdout: TextIO | None = None, export_dir: Path | None = None,
             reminder_interval: float = SWEEP_SECONDS) -> int:
    """The chat until /quit or the end of input. Replies and reminders go through the outbox,
    the one delivery loop and the one scheduler, as on every channel; they run on a thread
    of their own, and each turn waits until its replies are printed."""
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    if hasattr(stdin, "reconfigure"):
        # undecodable bytes kept apart (lone surrogates), never a crash: such a line is said
        # unreadable (_loop), not read as a garbled answer (y followed by �� was a yes)
        stdin.reconfigure(errors="surrogateescape")
    user = user or getpass.getuser()
    channel = TerminalChannel(stdout, export_dir or default_export_dir(), conversation.language_of, stdin.isatty())
    db = Database(conversation.engine)
    delivery = Delivery(db, {channel.name: channel}, only_chat=user)
    if delivery.worker != base_worker_name([channel.name], user):
        # Another terminal has this user's chat open: two would share its replies and
        # reminders (one's answer printed in the other), so the second one is not opened.
        db.executor.shutdown(wait=True)
        print(t(conversation.language_of(user), "terminal.in_use", user=user), file=stdout, flush=True)
        return 2
    scheduler = Scheduler(db, conversation.clock, delivery, sweeps={channel.name: user}, interval=reminder_interval)
    background = BackgroundLoop()

    def turn(incoming: Incoming) -> None:
        channel.in_turn = True
        try:
            conversation.receive(incoming, delivery.worker)  # a bug in the turn is answered there
            background.call(delivery.flush_chat(channel.name, user))
        except Exception as exc:  # the database gone, say: the official's session goes on
            if not storage_fault(exc):
                log.exception("handling %r", incoming.text)
            try:
                lang = conversation.language_of(user)
            except Exception:  # a database that cannot even be read
                lang = conversation.default_lang
            print(failure_text(lang, exc), file=stdout, flush=True)
        finally:
            channel.in_turn = False

    try:
        turn(Incoming(channel.name, user, user, text="/start"))  # greet, and ask again what was asked
        background.call(_start(scheduler))
        conversation.on_replanned = scheduler.wake  # a cluster just tracked is reminded of at once
        _loop(user, stdin, stdout, channel, turn)
    except KeyboardInterrupt:  # Ctrl-C at any moment: a clean line, not a traceback
        pass
    finally:
        background.call(scheduler.stop())
        background.close()
        db.executor.shutdown(wait=True)
    # Ctrl-C or Ctrl-D leave the cursor after the prompt: the goodbye starts a line of its own
    print(("\n" if channel.interactive else "") + t(conversation.language_of(user), "terminal.goodbye"),
          file=stdout, flush=True)
    return 0


async def _start(scheduler: Scheduler) -> None:
    scheduler.start()


TYPED_LINE = 100_000     # characters of a line kept: more than any answer (the dialog refuses it)
SKIPPED_LINE = 64 << 20  # characters of one line read past that before the input counts as ended


def _read_line(stdin: TextIO) -> str:
    """A typed line, at most TYPED_LINE characters of it kept: a line without an end (input from
    /dev/zero) is never held whole, and one past SKIPPED_LINE ends the input."""
    line = stdin.readline(TYPED_LINE)
    if len(line) < TYPED_LINE or line.endswith("\n"):
        return line
    skipped = 0
    while (more := stdin.readline(TYPED_LINE)) and not more.endswith("\n"):
        skipped += len(more)
        if skipped > SKIPPED_LINE:
            return ""
    return line  # too long for an answer: the dialog says so


def _loop(user: str, stdin: TextIO, stdout: TextIO, channel: TerminalChannel,
          turn: Callable[[Incoming], None]) -> None:
    while True:
        if channel.interactive:
            print("> ", end="", file=stdout, flush=True)
        line = _read_line(stdin)
        if not line:
            return
        text = line.rstrip("\r\n")
        if command_head(text) in QUIT:  # ／quit, 退出。 as every command is read
            return
        if not text.strip():
            continue
        if LONE_SURROGATE.search(text):  # bytes that are no UTF-8: a terminal in GBK, a binary file piped in
            turn(Incoming(channel.name, user, user, unreadable="not_utf8"))
            continue
        sent = sent_file(text, channel.name, user)
        if isinstance(sent, str):
            print(t(channel.language_of(user), sent, path=without_controls(text.strip())), file=stdout, flush=True)
            continue
        turn(sent or Incoming(channel.name, user, user, text=text))

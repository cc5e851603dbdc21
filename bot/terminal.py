"""The terminal chat: the product's embedded default channel. Lines in, replies out; choices
are numbered, documents are written to files. The process never dies on user input."""

from __future__ import annotations

import getpass
import logging
import sys
import threading
from pathlib import Path
from typing import Callable, TextIO

import platformdirs

from dialogs.conversation import Conversation, Reply
from locales import t

log = logging.getLogger(__name__)
QUIT = ("/quit", "/exit", "退出")


def render_reply(reply: Reply, lang: str, export_dir: Path) -> str:
    lines = [reply.text]
    if reply.choices:  # short options on one line, long ones (a pick list) one a line
        numbered = [f"{i + 1}. {b.label}" for i, b in enumerate(reply.choices)]
        lines.append(("   " if max(len(b.label) for b in reply.choices) <= 12 else "\n").join(numbered))
    if reply.actions:
        lines.append("  ".join(f"[{b.data} {b.label}]" for b in reply.actions))
    for name, content in reply.documents:
        export_dir.mkdir(parents=True, exist_ok=True)
        path = _free_path(export_dir / name)
        path.write_bytes(content)
        lines.append(t(lang, "terminal.written", path=str(path)))
    return "\n".join(lines)


def default_export_dir() -> Path:
    """Where /export writes: the user's downloads folder if there is one, else a folder in
    the user's data directory, never wherever the program happened to be started."""
    downloads = Path(platformdirs.user_downloads_dir())
    if downloads.is_dir():
        return downloads
    return Path(platformdirs.user_data_dir("clusterbot", appauthor=False)) / "exports"


def _free_path(path: Path) -> Path:
    """Never overwrite an earlier export: add -2, -3, … to the name."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


# start_reminders(user, show) starts delivering that user's reminders through show(replies)
# from another thread, and returns (wake, stop): wake() sweeps now, stop() ends it
# (bot/commands/chat.py: the APScheduler sweep of bot/reminders.py).
StartReminders = Callable[[str, Callable[[list[Reply]], None]], tuple[Callable[[], None], Callable[[], None]]]


def run_chat(conversation: Conversation, user: str | None = None, stdin: TextIO | None = None,
             stdout: TextIO | None = None, export_dir: Path | None = None,
             start_reminders: StartReminders | None = None) -> int:
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    if hasattr(stdin, "reconfigure"):
        stdin.reconfigure(errors="replace")  # undecodable bytes become �, never a crash
    user = user or getpass.getuser()
    export_dir = export_dir or default_export_dir()
    interactive = stdin.isatty()

    printing = threading.Lock()  # reminders are printed from the scheduler's thread

    def show(replies: list[Reply], prompt_again: bool = False) -> None:
        lang = conversation.language_of(user)
        with printing:
            for reply in replies:
                print(render_reply(reply, lang, export_dir), file=stdout, flush=True)
                print(file=stdout, flush=True)
            if prompt_again and interactive:  # a reminder arrived while the user may be typing
                print("> ", end="", file=stdout, flush=True)

    wake, stop = (lambda: None), (lambda: None)
    try:
        show(conversation.resume(user))
        if start_reminders:
            wake, stop = start_reminders(user, lambda replies: show(replies, prompt_again=True))
        _loop(conversation, user, stdin, stdout, interactive, show, wake)
    except KeyboardInterrupt:  # Ctrl-C at any moment: a clean line, not a traceback
        pass
    finally:
        stop()
    with printing:
        # Ctrl-C or Ctrl-D leave the cursor after the prompt: the goodbye starts a line of its own
        print(("\n" if interactive else "") + t(conversation.language_of(user), "terminal.goodbye"),
              file=stdout, flush=True)
    return 0


def _loop(conversation: Conversation, user: str, stdin: TextIO, stdout: TextIO, interactive: bool,
          show: Callable[[list[Reply]], None], wake: Callable[[], None]) -> None:
    while True:
        if interactive:
            print("> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            return
        text = line.rstrip("\r\n")
        if text.strip().lower() in QUIT:
            return
        if not text.strip():
            continue
        try:
            replies = conversation.handle(user, text=text)
        except Exception:  # a bug must not end the official's session; answers already saved stay
            log.exception("handling %r", text)
            replies = [Reply(t(conversation.language_of(user), "terminal.internal_error"), kind="error")]
        show(replies)
        wake()  # what the message changed (a cluster just tracked) is reminded of at once

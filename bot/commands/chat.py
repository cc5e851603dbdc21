"""`clusterbot chat`: the guided pre-screening in the terminal (SQLite, no token, no server)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from bot.clock import Clock
from bot.terminal import run_chat
from dialogs.conversation import Conversation
from locales import normalise_lang
from storage.db import make_engine

from . import HELP
from .common import lang_arg, serving


def register(subparsers) -> None:
    p = subparsers.add_parser("chat", help=HELP["chat"],
                              description="Answer the questions one at a time; every answer is saved at once "
                                          "(SQLite in the user data directory, or --db). /help lists the commands; "
                                          "/quit or end of input leaves.")
    p.add_argument("--db", default=None, help="database URL or SQLite file (default: CLUSTERBOT_DB or the user data dir)")
    p.add_argument("--user", default=None, help="whose profiles (default: the login name)")
    p.add_argument("--lang", type=lang_arg, default=None,
                   help="zh or en for a new user (default: en in an English locale, else zh)")
    p.add_argument("--export-dir", type=Path, default=None, help="where /export writes (default: the downloads folder, else "
                                                                 "exports/ in the user data directory)")
    p.set_defaults(run=run)


def locale_lang() -> str:
    """A new user's language in the terminal: the locale's (LC_ALL, LC_MESSAGES, LANG: the first
    set decides, as in POSIX) when it is English, else Chinese, the product's (C.UTF-8 is no
    language, and a Chinese official's server often has it)."""
    value = next((v for name in ("LC_ALL", "LC_MESSAGES", "LANG") if (v := os.environ.get(name))), "")
    return normalise_lang(value)


def run(args) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    conversation = Conversation(make_engine(args.db), Clock(), channel="terminal",
                                default_lang=args.lang or locale_lang())
    serving()
    return run_chat(conversation, user=args.user, export_dir=args.export_dir)

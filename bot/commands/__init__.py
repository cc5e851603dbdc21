"""The subcommands of `clusterbot`, each a module with `register(subparsers)` and `run(args)`.

Only the command asked for is imported (bot.cli): each pulls in what it needs (the engine,
SQLAlchemy, python-telegram-bot, openpyxl…), and the others' one-line help is all that
`clusterbot --help` shows of them."""

from __future__ import annotations

import importlib

# name: the one-line help of `clusterbot --help`, in the order it lists them.
HELP = {
    "chat": "the guided pre-screening dialog in this terminal",
    "serve": "run the Telegram bot",
    "web": "网页聊天 / the dialog as a web chat page",
    "wecom": "run the WeCom (企业微信) app's callback server",
    "dingtalk": "run the DingTalk (钉钉) robot in Stream mode",
    "evaluate": "evaluate clusters (JSON, JSON Lines or CSV) against the measures",
    "rules": "the criteria of the measures, side by side",
    "ask": "look up criteria, e.g. clusterbot ask 江苏 专利",
    "deadlines": "the deadlines of a certified cluster: annual reports, validity, re-review",
    "form": "the Jiangsu application form: a blank template, or check filled ones",
    "db": "database schema: upgrade, show the revision, write a new one",
}

# The commands that speak their --lang, Chinese unless --lang en: what they print, their argument
# errors and their --help alike (bot.cli.cli_lang). The others (the chat's and the servers', whose
# --lang is a new user's, and `clusterbot --help`) speak the locale's language.
SPEAK_LANG = {"evaluate", "rules", "ask", "deadlines", "form"}


def command(name: str):
    """The module of one subcommand, imported on demand."""
    return importlib.import_module(f"{__name__}.{name}")

"""`clusterbot serve`: the dialog on Telegram (long polling by default, or a webhook)."""

from __future__ import annotations

import asyncio
import os
import re

from . import HELP
from .common import add_log_options, listen_refused, positive_seconds, server_fail, serving

TOKEN_RE = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")  # what BotFather gives


def register(subparsers) -> None:
    p = subparsers.add_parser("serve", help=HELP["serve"],
                              description="Run the pre-screening dialog as a Telegram bot. The token comes from "
                                          "--token or TELEGRAM_BOT_TOKEN and is never logged.")
    p.add_argument("--token", default=None, help="bot token (default: TELEGRAM_BOT_TOKEN)")
    p.add_argument("--db", default=None, help="database URL or SQLite file (as for clusterbot chat)")
    p.add_argument("--api-base-url", default=None, metavar="URL",
                   help="a self-hosted Bot API server, e.g. http://127.0.0.1:8081/bot (the token is appended)")
    p.add_argument("--webhook-url", default=None, metavar="URL", help="serve a webhook at this public URL")
    p.add_argument("--listen", default=None, metavar="HOST:PORT", help="where the webhook server listens")
    p.add_argument("--secret-token", default=None, help="webhook secret (default: TELEGRAM_WEBHOOK_SECRET)")
    p.add_argument("--max-connections", type=int, default=None, metavar="N",
                   help="how many updates Telegram sends at once, 1-100 (default 40): a limit on the load; "
                        "each chat's messages come one at a time whatever it is")
    p.add_argument("--allow", default=None, metavar="IDS",
                   help="only these Telegram user ids (comma list; default: CLUSTERBOT_ALLOW, or everyone)")
    p.add_argument("--reminder-interval", type=positive_seconds, default=60, metavar="SECONDS",
                   help="how often due deadline reminders are looked for (default 60)")
    add_log_options(p)
    p.set_defaults(run=run)


def fail(key: str, **fields) -> int:
    return server_fail("serve", key, **fields)


def run(args) -> int:
    # The options are checked before python-telegram-bot and SQLAlchemy are imported: a
    # mistyped command is told at once, not after half a second of imports.
    token = (args.token or os.environ.get("TELEGRAM_BOT_TOKEN") or "").strip()
    if not token:
        return fail("no_token")
    if not TOKEN_RE.match(token):
        return fail("token_malformed")
    allow_text = args.allow if args.allow is not None else os.environ.get("CLUSTERBOT_ALLOW", "")
    try:
        allow = {int(x) for x in allow_text.replace(" ", "").split(",") if x} or None
    except ValueError:
        return fail("allow", text=allow_text)
    listen = None
    if args.webhook_url:
        if not args.listen:
            return fail("webhook_needs_listen")
        listen = listen_refused("serve", args.listen, "127.0.0.1:8443")
        if isinstance(listen, int):
            return listen
    elif args.listen or args.max_connections is not None:
        return fail("listen_without_webhook")
    if args.max_connections is not None and not 1 <= args.max_connections <= 100:
        return fail("max_connections")
    from bot import logs
    from bot.clock import Clock
    from bot.telegram import TelegramBot, TokenRejected, quiet_token
    from storage.db import make_engine

    logs.configure(args.log_level, args.log_format)
    quiet_token(token)
    bot = TelegramBot(make_engine(args.db), Clock(), allow=allow, reminder_interval=args.reminder_interval)
    serving()
    webhook = None
    if listen:
        from urllib.parse import urlparse

        webhook = dict(listen=listen, url=args.webhook_url, path=urlparse(args.webhook_url).path,
                       secret=args.secret_token or os.environ.get("TELEGRAM_WEBHOOK_SECRET"),
                       max_connections=args.max_connections)
    try:
        return asyncio.run(bot.run(token, api_base_url=args.api_base_url, webhook=webhook))
    except TokenRejected:
        return fail("token_rejected")

"""`clusterbot web`: the dialog as a chat page in the browser (Starlette under uvicorn)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import platformdirs

from . import HELP
from .common import add_log_options, lang_arg, listen_address, listen_refused, positive_seconds, server_fail, serving

ENV_SECRET = "CLUSTERBOT_WEB_SECRET"
LOOPBACK = {"127.0.0.1", "::1", "localhost"}  # listening there needs no secret


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "web", help=HELP["web"],
        description="在浏览器中进行同样的预审对话。默认只监听 127.0.0.1，无需登录，每个浏览器会话是一位用户；"
                    "监听其他地址时须设访问口令（--secret 或 CLUSTERBOT_WEB_SECRET）或可信反向代理的用户请求头。"
                    "口令不写入日志。 / Serve the same pre-screening dialog as a chat page. Login-free on 127.0.0.1 "
                    "by default, each browser session one user; on any other address a shared secret (--secret or "
                    "CLUSTERBOT_WEB_SECRET) or a trusted reverse proxy's user header is required. The secret is "
                    "never logged.")
    p.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT",
                   help="监听地址 / where to listen (default: %(default)s)")
    p.add_argument("--db", default=None, help="数据库 URL 或 SQLite 文件 / database URL or SQLite file "
                                              "(as for clusterbot chat)")
    p.add_argument("--secret", default=None,
                   help=f"访问口令 / the shared secret to log in with (default: {ENV_SECRET}; prefer the variable: "
                        "a command line is visible to other users of the machine)")
    p.add_argument("--user-header", default=None, metavar="NAME",
                   help="可信反向代理提供的用户名请求头，如 X-Remote-User / the header a trusted reverse proxy "
                        "names the user in, e.g. X-Remote-User (the proxy must strip it from clients' requests)")
    p.add_argument("--key-file", type=Path, default=None, metavar="PATH",
                   help="签名会话 cookie 的密钥文件（不存在则创建） / the key that signs session cookies, created "
                        "when missing (default: web-session.key in the user data directory)")
    p.add_argument("--lang", type=lang_arg, default=None, help="新用户的语言 zh 或 en / zh or en for a new user "
                                                               "(default: the browser's language)")
    p.add_argument("--reminder-interval", type=positive_seconds, default=60, metavar="SECONDS",
                   help="多久查找一次到期提醒 / how often due deadline reminders are looked for (default 60)")
    add_log_options(p)
    p.set_defaults(run=run)


def fail(key: str, **fields) -> int:
    return server_fail("web", key, **fields)


def run(args) -> int:
    # The options are checked before Starlette and SQLAlchemy are imported: a mistyped command
    # is told at once, not after half a second of imports.
    address = listen_address(args.listen)
    if address is None:
        return fail("listen", text=args.listen, example="127.0.0.1:8080")
    host, port = address
    secret = args.secret if args.secret is not None else os.environ.get(ENV_SECRET)
    if secret is not None and not secret.strip():
        return fail("secret_empty")
    if host not in LOOPBACK and not secret and not args.user_header:
        return fail("reachable", host=host)
    if secret and args.user_header:  # the header names the user, the secret is never asked
        return fail("secret_and_header", header=args.user_header)
    listen = listen_refused("web", args.listen, "127.0.0.1:8080")
    if isinstance(listen, int):
        return listen
    from bot.clock import Clock
    from bot.delivery import WORKER_ENV
    from bot.web import KeyFileInvalid, WebChat, serve, session_key
    from storage.db import make_engine

    key_file = args.key_file or Path(platformdirs.user_data_dir("clusterbot", appauthor=False)) / "web-session.key"
    try:
        key = session_key(key_file)
    except OSError as exc:
        return fail("key_file", path=key_file, reason=exc.strerror)
    except KeyFileInvalid:
        return fail("key_file_invalid", path=key_file)

    # The name of this process's outbox leases: one per port, so that several web processes
    # on one host are told apart, and a restart on the same port takes back its own at once.
    os.environ.setdefault(WORKER_ENV, f"{socket.gethostname()[:30]}:web:{port}")
    from bot import logs

    logs.configure(args.log_level, args.log_format)
    chat = WebChat(make_engine(args.db), Clock(), key, secret=secret, user_header=args.user_header,
                   default_lang=args.lang, reminder_interval=args.reminder_interval)
    serving()
    serve(chat, host, port, args.log_level.lower())
    return 0

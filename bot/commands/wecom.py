"""`clusterbot wecom`: the dialog as a WeCom (企业微信) self-built app, in callback mode."""

from __future__ import annotations

import base64
import binascii
import os

from bot.commands.common import add_channel_options, cli_list, listen_refused, server_fail, serving, stopped

SECRETS = ("WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY")
from . import HELP


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "wecom", help=HELP["wecom"],
        description="Serve the pre-screening dialog to a WeCom self-built app in callback mode: WeCom posts the "
                    "signed, encrypted messages to --listen (set the app's 接收消息 URL to it); replies go out "
                    "through message/send. The app secret, the callback Token and EncodingAESKey come from "
                    "WECOM_SECRET, WECOM_TOKEN and WECOM_AES_KEY and are never logged.")
    p.add_argument("--corp-id", default=None, help="the enterprise's CorpID (default: WECOM_CORP_ID)")
    p.add_argument("--agent-id", default=None, help="the app's AgentId (default: WECOM_AGENT_ID)")
    p.add_argument("--listen", default="127.0.0.1:8090", metavar="HOST:PORT",
                   help="where the callback server listens (default %(default)s)")
    p.add_argument("--path", default="/wecom/callback", help="the callback path (default %(default)s)")
    p.add_argument("--api-base-url", default=None, metavar="URL",
                   help="the WeCom API (default https://qyapi.weixin.qq.com; a 私有化部署 or 政务微信 server's own)")
    add_channel_options(p)
    p.set_defaults(run=run)


def fail(key: str, **fields) -> int:
    return server_fail("wecom", key, **fields)


def run(args) -> int:
    # The options are checked before wechatpy and aiohttp are imported: a mistyped command is
    # told at once, not after half a second of imports.
    corp_id = (args.corp_id or os.environ.get("WECOM_CORP_ID") or "").strip()
    agent_text = (args.agent_id or os.environ.get("WECOM_AGENT_ID") or "").strip()
    secret, token, aes_key = (os.environ.get(name, "").strip() for name in SECRETS)
    missing = [name for name, value in (("--corp-id / WECOM_CORP_ID", corp_id),
                                        ("--agent-id / WECOM_AGENT_ID", agent_text),
                                        *zip(SECRETS, (secret, token, aes_key))) if not value]
    if missing:
        return fail("missing", names=cli_list(missing))
    if not agent_text.isdigit():
        return fail("agent_id", text=agent_text)
    try:
        valid_key = len(aes_key) == 43 and len(base64.b64decode(aes_key + "=", validate=True)) == 32
    except binascii.Error:
        valid_key = False
    if not valid_key:
        return fail("aes_key")
    listen = listen_refused("wecom", args.listen, "127.0.0.1:8090")
    if isinstance(listen, int):
        return listen
    host, port = listen
    from bot.wecom import DEFAULT_API, WeComConfig

    config = WeComConfig(corp_id, int(agent_text), secret, token, aes_key, args.api_base_url or DEFAULT_API)
    from bot import logs

    logs.configure(args.log_level, args.log_format)
    import asyncio

    asyncio.run(serve(config, host, port, args.path, args.db, args.reminder_interval))
    return 0


async def serve(config, host: str, port: int, path: str, db: str | None, reminder_interval: float) -> None:
    import asyncio
    import signal

    from aiohttp import web

    from bot.clock import Clock
    from bot.im_port import ChannelProcess
    from bot.wecom import Callback, WeComChannel
    from storage.db import make_engine

    clock = Clock()
    channel = WeComChannel(config, clock)
    process = ChannelProcess(make_engine(db), clock, channel, reminder_interval)
    serving()
    app = web.Application()
    app.router.add_routes(Callback(config, process.receive, channel.download).routes(path))

    async def scheduled(_app: web.Application):
        """The scheduler beside the server (its first tick sends what the last run left)."""
        process.start()
        yield
        await process.stop()
        await channel.close()

    app.cleanup_ctx.append(scheduled)
    # The signals are ours, not run_app's: its handler raises in whatever the loop runs, and a
    # second SIGTERM (`timeout` signals the process and its group) cut the stop short. Here a
    # second one only sets the event again, as for `serve` and `dingtalk`.
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stopping.set)
    # No access log: WeCom's query strings carry signatures, and nothing about users is kept.
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        await stopping.wait()
    finally:
        await runner.cleanup()  # the callbacks in hand answered, then the scheduler's stop
        stopped()

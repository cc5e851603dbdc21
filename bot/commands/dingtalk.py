"""`clusterbot dingtalk`: the dialog as a DingTalk (钉钉) app robot, in Stream mode."""

from __future__ import annotations

import logging
import os

from bot.commands.common import add_channel_options, cli_list, server_fail, serving, stopped
from . import HELP


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "dingtalk", help=HELP["dingtalk"],
        description="Serve the pre-screening dialog as a DingTalk app robot in Stream mode: the process connects "
                    "out to DingTalk (no public URL needed) and replies through the robot's OpenAPI. The AppKey and "
                    "AppSecret come from DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET; the secret is never logged.")
    p.add_argument("--client-id", default=None, help="the app's AppKey / Client ID (default: DINGTALK_CLIENT_ID)")
    p.add_argument("--robot-code", default=None, help="the robot's code (default: the Client ID)")
    p.add_argument("--endpoint", default=None, metavar="URL",
                   help="the OpenAPI and Stream gateway (default: DINGTALK_OPENAPI_ENDPOINT, or https://api.dingtalk.com)")
    p.add_argument("--oapi-endpoint", default=None, metavar="URL",
                   help="the older API, for file uploads (default: DINGTALK_OAPI_ENDPOINT, or https://oapi.dingtalk.com)")
    add_channel_options(p)
    p.set_defaults(run=run)


def fail(key: str, **fields) -> int:
    return server_fail("dingtalk", key, **fields)


def run(args) -> int:
    # The options are checked before the DingTalk SDK is imported: a mistyped command is told
    # at once, not after half a second of imports.
    client_id = (args.client_id or os.environ.get("DINGTALK_CLIENT_ID") or "").strip()
    secret = os.environ.get("DINGTALK_CLIENT_SECRET", "").strip()
    missing = [name for name, value in (("--client-id / DINGTALK_CLIENT_ID", client_id),
                                        ("DINGTALK_CLIENT_SECRET", secret)) if not value]
    if missing:
        return fail("missing", names=cli_list(missing))
    endpoints = []
    for option, value, env in (("--endpoint", args.endpoint, "DINGTALK_OPENAPI_ENDPOINT"),
                               ("--oapi-endpoint", args.oapi_endpoint, "DINGTALK_OAPI_ENDPOINT")):
        url = value or os.environ.get(env) or None
        if url is not None:  # None: the default
            url = url.strip()
            if not url.startswith(("http://", "https://")):
                return fail("endpoint", option=option, text=url)
        endpoints.append(url)
    from bot.dingtalk import DEFAULT_ENDPOINT, DEFAULT_OAPI, DingTalkConfig

    config = DingTalkConfig(client_id, secret, endpoints[0] or DEFAULT_ENDPOINT, endpoints[1] or DEFAULT_OAPI,
                            args.robot_code or "")
    from bot import logs

    logs.configure(args.log_level, args.log_format)
    logging.getLogger("websockets").setLevel(logging.WARNING)  # its URLs carry the stream's ticket
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    import asyncio

    refused = asyncio.run(serve(config, args.db, args.reminder_interval))
    if refused:
        return fail("dingtalk_refused", client_id=client_id, status=refused)
    return 0


async def serve(config, db: str | None, reminder_interval: float) -> int | None:
    """Until SIGTERM or SIGINT; or until the gateway refuses the credentials at the first
    connection (no retry mends them): then its HTTP status."""
    import asyncio
    import signal

    from bot.clock import Clock
    from bot.dingtalk import DingTalkChannel, start_stream
    from bot.im_port import ChannelProcess
    from storage.db import make_engine

    clock = Clock()
    channel = DingTalkChannel(config, clock)
    process = ChannelProcess(make_engine(db), clock, channel, reminder_interval)
    serving()
    process.start()  # the scheduler's first tick sends what the last run left unsent
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stopping.set)
    refused: list[int] = []

    def on_refused(status: int) -> None:
        refused.append(status)
        stopping.set()
    start_stream(config, process.receive, channel.download, on_refused)
    try:
        await stopping.wait()
        return refused[0] if refused else None
    finally:
        await process.stop()
        await channel.close()
        stopped()

"""WeCom: time from a user's callback to the app's reply arriving at the API, clusterbot
against a bare echo app, both as processes against the same fake WeCom on 127.0.0.1.

    .venv/bin/python bench/wecom_bench.py [--users 20] [--messages 10]

The floor (`echo`, below, run as its own process) does what any WeCom app must per message:
verify and decrypt the callback with wechatpy, and send one message/send with a cached
token. clusterbot also commits the turn (SQLite, fsync), writes the outbox and sends the
reply as a text and a card. Each user sends its messages one after the other, waiting for
the first reply; the users run side by side. Printed: p50 and p99 per message and the
ratios to the floor measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))

from bench.standins.fakewecom import AES_KEY, AGENT_ID, CORP_ID, SECRET, TOKEN, FakeWeCom  # noqa: E402

ECHO = r'''
import asyncio, json, sys
import aiohttp, xmltodict
from aiohttp import web
from wechatpy.enterprise.crypto import WeChatCrypto
token, key, corp, api, port, secret = sys.argv[1:7]
crypto = WeChatCrypto(token, key, corp)
state = {}
async def session():
    # One token for all: the first messages arrive together, and each must wait for it.
    if "lock" not in state:
        state["lock"] = asyncio.Lock()
    async with state["lock"]:
        if "s" not in state:
            s = aiohttp.ClientSession()
            async with s.get(f"{api}/cgi-bin/gettoken", params={"corpid": corp, "corpsecret": secret}) as r:
                state["t"] = (await r.json())["access_token"]
            state["s"] = s
    return state["s"]
async def verify(request):
    q = request.query
    return web.Response(text=crypto.check_signature(q["msg_signature"], q["timestamp"], q["nonce"], q["echostr"]))
async def message(request):
    q = request.query
    m = xmltodict.parse(crypto.decrypt_message(await request.text(), q["msg_signature"], q["timestamp"], q["nonce"]))["xml"]
    s = await session()
    body = {"touser": m["FromUserName"], "agentid": int(m["AgentID"]), "msgtype": "text", "text": {"content": m["Content"]}}
    async with s.post(f"{api}/cgi-bin/message/send", params={"access_token": state["t"]}, data=json.dumps(body)) as r:
        await r.read()
    return web.Response(text="")
app = web.Application()
app.router.add_get("/wecom/callback", verify)
app.router.add_post("/wecom/callback", message)
web.run_app(app, host="127.0.0.1", port=int(port), print=None, access_log=None)
'''

COMMANDS = ["/start", "/list", "/help", "/status", "/deadlines"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(fake: FakeWeCom, which: str, db: Path) -> subprocess.Popen:
    port = free_port()
    fake.callback_url = f"http://127.0.0.1:{port}/wecom/callback"
    if which == "echo":
        args = [sys.executable, "-c", ECHO, TOKEN, AES_KEY, CORP_ID, fake.base_url, str(port), SECRET]
    else:
        args = [sys.executable, "-m", "bot.cli", "wecom", "--corp-id", CORP_ID, "--agent-id", str(AGENT_ID),
                "--listen", f"127.0.0.1:{port}", "--api-base-url", fake.base_url, "--db", str(db),
                "--log-level", "WARNING"]
    env = {**os.environ, "WECOM_SECRET": SECRET, "WECOM_TOKEN": TOKEN, "WECOM_AES_KEY": AES_KEY}
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None and time.monotonic() < deadline, f"{which} did not start"
        try:
            if fake.verify_url().status_code == 200:
                return proc
        except requests.ConnectionError:
            time.sleep(0.05)


def run_user(fake: FakeWeCom, user: str, messages: int) -> list[float]:
    times = []
    for i in range(messages):
        seen = len(fake.messages_to(user))
        began = time.perf_counter()
        fake.user_sends(user, COMMANDS[i % len(COMMANDS)])
        fake.wait_for(user, lambda m: True, timeout=60, start=seen)
        times.append(time.perf_counter() - began)
    return times


def measure(which: str, users: int, messages: int, workdir: Path) -> list[float]:
    with FakeWeCom() as fake:
        proc = start(fake, which, workdir / f"{which}.db")
        try:
            with ThreadPoolExecutor(users) as pool:
                runs = list(pool.map(lambda u: run_user(fake, f"{which}{u}", messages), range(users)))
        finally:
            proc.terminate()
            proc.wait(20)
    return [t for run in runs for t in run]


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--messages", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        floor = measure("echo", args.users, args.messages, Path(tmp))
        ours = measure("clusterbot", args.users, args.messages, Path(tmp))
    for name, values in (("echo app (floor)", floor), ("clusterbot wecom", ours)):
        print(f"{name:18} p50 {p(values, 50) * 1000:7.1f} ms   p99 {p(values, 99) * 1000:7.1f} ms   "
              f"mean {statistics.mean(values) * 1000:7.1f} ms")
    print(f"ratio to the floor: p50 {p(ours, 50) / p(floor, 50):.2f}x, p99 {p(ours, 99) / p(floor, 99):.2f}x, "
          f"mean {statistics.mean(ours) / statistics.mean(floor):.2f}x  ({args.users} users x {args.messages} messages)")


if __name__ == "__main__":
    main()

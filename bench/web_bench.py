"""Web chat latency and throughput: N browsers at once (N = 1, 50, 200) answer pre-screening
questions through `clusterbot web`, as a ratio to a bare Starlette echo app of the same
shape (bench/web_echo.py: a post, its answer on the page's event stream) in the same run.

    .venv/bin/python bench/web_bench.py                 # N = 1, 50, 200
    .venv/bin/python bench/web_bench.py --users 1 50 --answers 5

To clusterbot a message is an answer: saved to SQLite (one commit) with its replies in the
outbox, the four measures evaluated, the next question sent on the stream and marked sent.
Its latency runs from the post until the next question has arrived on the page's stream.
Both servers run as separate processes; the browsers are aiohttp clients of this process.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.official import asked_fact, eligible_facts, typed_answer as chat_answer  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args: list[str], port: int, env: dict | None = None) -> subprocess.Popen:
    proc = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{args[1]} did not start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)


class Browser:
    """One browser: a cookie, the page's event stream, posts."""

    def __init__(self, base: str, user: str):
        self.base, self.user = base, user
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                          timeout=aiohttp.ClientTimeout(total=None, sock_read=120))
        self.events: asyncio.Queue = asyncio.Queue()

    async def open(self) -> None:
        await self.http.get(f"{self.base}/?user={self.user}")
        opened = asyncio.get_running_loop().create_future()
        self.reader = asyncio.create_task(self._read(opened))
        await opened

    async def _read(self, opened) -> None:
        async with self.http.get(f"{self.base}/events?user={self.user}") as response:
            opened.set_result(None)
            async for line in response.content:
                if line.startswith(b"data: "):
                    await self.events.put(json.loads(line[6:]))

    async def say(self, text: str) -> dict:
        """Post a line; the next question (or result) that arrives on the stream."""
        async with self.http.post(f"{self.base}/send?user={self.user}", json={"text": text}) as response:
            await response.read()
        while True:
            event = await self.events.get()
            if event["kind"] in ("question", "result"):
                return event

    async def close(self) -> None:
        self.reader.cancel()
        await self.http.close()


async def run_users(base: str, n: int, per_user) -> tuple[float, list[float]]:
    browsers = [Browser(base, f"u{i}") for i in range(n)]
    await asyncio.gather(*(b.open() for b in browsers))
    try:
        prepare = getattr(per_user, "prepare", None)
        ready = (await asyncio.gather(*(prepare(b, i) for i, b in enumerate(browsers))) if prepare
                 else [None] * n)
        began = time.perf_counter()
        results = await asyncio.gather(*(per_user(b, state) for b, state in zip(browsers, ready)))
        wall = time.perf_counter() - began
    finally:
        await asyncio.gather(*(b.close() for b in browsers))
    return wall, [x for r in results for x in r]


class Echo:
    def __init__(self, messages: int):
        self.messages = messages

    async def __call__(self, browser: Browser, _state) -> list[float]:
        latencies = []
        for i in range(self.messages):
            began = time.perf_counter()
            await browser.say(f"{browser.user} {i}")
            latencies.append(time.perf_counter() - began)
        return latencies


class Clusterbot:
    """Each browser starts a Jiangsu pre-screening, then answers `answers` questions."""

    def __init__(self, answers: int):
        self.answers, self.facts = answers, eligible_facts()

    async def prepare(self, browser: Browser, i: int) -> dict:
        await browser.say(f"/new 压测集群{i}")
        return await browser.say("2")  # 江苏, typed

    async def __call__(self, browser: Browser, question: dict) -> list[float]:
        latencies = []
        for _ in range(self.answers):
            fact = asked_fact(question["text"])
            began = time.perf_counter()
            question = await browser.say(chat_answer(fact, self.facts[fact]))
            latencies.append(time.perf_counter() - began)
        return latencies


def bare_commit_ms(folder: str, n: int = 200) -> float:
    """A second floor: one SQLite insert with its own commit (WAL, synchronous=FULL), as the
    product's database is set up; a message costs a few of them."""
    con = sqlite3.connect(f"{folder}/floor.db")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE t (x)")
    began = time.perf_counter()
    for i in range(n):
        con.execute("INSERT INTO t VALUES (?)", (i,))
        con.commit()
    con.close()
    return (time.perf_counter() - began) / n * 1000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1, 50, 200])
    parser.add_argument("--answers", type=int, default=10)
    args = parser.parse_args()
    print(f"{dt.date.today()} {platform.machine()} {os.cpu_count()} cores, CPython {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        echo_port, bot_port = free_port(), free_port()
        echo = start([sys.executable, "bench/web_echo.py", str(echo_port)], echo_port)
        bot = start([sys.executable, "-m", "bot.cli", "web", "--listen", f"127.0.0.1:{bot_port}",
                     "--db", f"{tmp}/bench.db", "--key-file", f"{tmp}/key", "--log-level", "WARNING"], bot_port,
                    env={"CLUSTERBOT_FAKE_NOW": "2026-11-23T10:00:00"})
        try:
            commit = bare_commit_ms(tmp)
            print(f"a bare SQLite commit: {commit:.2f} ms")
            for n in args.users:
                floor_wall, floor = asyncio.run(run_users(f"http://127.0.0.1:{echo_port}", n, Echo(args.answers)))
                wall, ours = asyncio.run(run_users(f"http://127.0.0.1:{bot_port}", n, Clusterbot(args.answers)))
                per, floor_per = wall / len(ours), floor_wall / len(floor)
                print(f"N={n:>4}: {per * 1000:7.2f} ms per message ({len(ours)} in {wall:.2f} s), echo "
                      f"{floor_per * 1000:6.2f} ms: {per / floor_per:5.2f}x; latency p50 "
                      f"{statistics.median(ours) * 1000:.1f} ms ({statistics.median(ours) / statistics.median(floor):.2f}x), "
                      f"p99 {percentile(ours, 0.99) * 1000:.1f} ms ({percentile(ours, 0.99) / percentile(floor, 0.99):.2f}x); "
                      f"{per * 1000 / commit:.1f} bare commits")
        finally:
            for proc in (echo, bot):
                proc.terminate()
                proc.wait(20)


if __name__ == "__main__":
    main()

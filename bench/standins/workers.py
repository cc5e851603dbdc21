"""Worker processes for the tests and bench/: `clusterbot serve` in webhook mode, pointed at
one fake Bot API, and `clusterbot web`; each on its own port, all on one database."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.standins.ports import free_port

ROOT = Path(__file__).parents[1]


class Process:
    """A worker process on its own port of 127.0.0.1, with its /healthz and /readyz."""

    def __init__(self, name: str, log: Path, env: dict | None = None):
        self.name, self.log = name, log
        self.port = free_port()
        self.env = {**os.environ, "CLUSTERBOT_WORKER": name, **(env or {})}
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def get(self, path: str) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def start(self, timeout: float = 60) -> "Process":
        return self.launch().ready(timeout)

    def launch(self) -> "Process":
        """Start the process (several may start together; then `ready()` each)."""
        self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli", *self.command()], cwd=ROOT, env=self.env,
                                     stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        return self

    def ready(self, timeout: float = 60) -> "Process":
        deadline = time.monotonic() + timeout
        while True:  # ready: it answers, and its database too
            assert self.proc.poll() is None, self.log.read_text(errors="replace")
            try:
                if self.get("/readyz")[0] == 200:
                    return self
            except (OSError, ValueError):
                pass
            assert time.monotonic() < deadline, f"worker {self.name} not ready"
            time.sleep(0.05)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.alive:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, and its exit status."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise
        return self.proc.returncode


class Worker(Process):
    """`clusterbot serve` on a webhook, pointed at the fake Bot API."""

    def __init__(self, name: str, fake, db_url: str, log: Path, *extra: str, env: dict | None = None):
        super().__init__(name, log, env)
        self.fake, self.db_url, self.extra = fake, db_url, extra

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def command(self) -> list[str]:
        return ["serve", "--token", self.fake.token, "--api-base-url", self.fake.base_url, "--db", self.db_url,
                "--webhook-url", self.url, "--listen", f"127.0.0.1:{self.port}", *self.extra]


class WebWorker(Process):
    """`clusterbot web`; several share one database and one cookie key file. Without a
    CLUSTERBOT_WORKER of its own: the default (host, web, port) must tell them apart."""

    def __init__(self, name: str, db_url: str, key_file: Path, log: Path, *extra: str, env: dict | None = None):
        super().__init__(name, log, env)
        self.env.pop("CLUSTERBOT_WORKER")
        self.db_url, self.key_file, self.extra = db_url, key_file, extra

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return ["web", "--listen", f"127.0.0.1:{self.port}", "--db", self.db_url, "--key-file", str(self.key_file),
                *self.extra]


class Page:
    """One browser session over plain HTTP: its cookie, its page's event stream on one process (reconnecting
    to the next live one when that process goes, as the page does through the proxy), and
    its posts to the other processes (again to the next when one goes, as the proxy does)."""

    def __init__(self, i: int, workers: list[WebWorker], home: int, changed: threading.Condition,
                 wait: float = 60):
        self.i, self.workers, self.home, self.changed, self.wait = i, workers, home, changed, wait
        self.texts: list[str] = []
        self.holder: WebWorker | None = None
        self.streams = 0
        self.closing = False
        with urllib.request.urlopen(f"http://127.0.0.1:{workers[home].port}/", timeout=10) as resp:
            self.cookie = resp.headers["Set-Cookie"].split(";")[0]
        self.thread = threading.Thread(target=self.listen, name=f"page {i}", daemon=True)
        self.thread.start()

    def ring(self, start: int) -> list[WebWorker]:
        return [self.workers[(start + k) % len(self.workers)] for k in range(len(self.workers))]

    def listen(self) -> None:
        while not self.closing:
            for worker in self.ring(self.home):
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", worker.port, timeout=30)
                    connection.request("GET", "/events", headers={"Cookie": self.cookie})
                    response = connection.getresponse()
                    if response.status != 200:
                        continue
                    with self.changed:
                        self.holder, self.streams = worker, self.streams + 1
                        self.changed.notify_all()
                    for raw in response:  # until the process stops or goes
                        line = raw.decode()
                        if line.startswith("data: "):
                            with self.changed:
                                self.texts.append(json.loads(line[6:])["text"])
                                self.changed.notify_all()
                except (OSError, http.client.HTTPException):
                    pass
                with self.changed:
                    self.holder = None
                if self.closing:
                    return
            time.sleep(0.2)  # no process answered: the page waits its retry

    def say(self, text: str, message_id: str, k: int) -> None:
        """Post to a live process other than the page's, else the next one, with the same id."""
        body = json.dumps({"text": text, "id": message_id}).encode()
        others = [w for w in self.workers if w is not self.holder] or [self.holder]
        deadline = time.monotonic() + self.wait
        for worker in (others[k % len(others):] + others[:k % len(others)] + [self.holder]) * 10:
            if worker is None:
                continue
            request = urllib.request.Request(f"http://127.0.0.1:{worker.port}/send", data=body, headers={
                "Cookie": self.cookie, "Content-Type": "application/json", "Accept-Language": "zh-CN"})
            try:
                with urllib.request.urlopen(request, timeout=30) as resp:
                    assert resp.status == 200 and json.loads(resp.read()) == {"lang": "zh"}
                    return
            except urllib.error.HTTPError:  # an answer (401: the processes' keys differ): wrong
                raise
            except (OSError, http.client.HTTPException):  # refused, or reset by the kill
                assert time.monotonic() < deadline, f"user {self.i}: {text!r} not taken"
                time.sleep(0.1)
        raise AssertionError(f"user {self.i}: {text!r} not taken by any process")

    def wait_for(self, condition, what: str) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: condition(self), self.wait), f"user {self.i}: {what}: {self.texts}"


def start_together(fake, workers: list[Worker], connections: int = 32) -> None:
    """Start the workers at once, then have the fake Bot API spread updates over them."""
    for worker in workers:
        worker.launch()
    for worker in workers:
        worker.ready()
    fake.spread_webhook([w.url for w in workers], connections=connections)


def send_new_clusters(fake, first_user: int, users: int, messages: int) -> None:
    """Each user sends `/new 集群<i>-<k>` for k = 0 … messages - 1: a dialog turn each, whose
    reply names the cluster (the order it was answered in can be read back)."""
    for k in range(messages):
        for i in range(users):
            fake.user_sends(first_user + i, f"/new 集群{i}-{k}")

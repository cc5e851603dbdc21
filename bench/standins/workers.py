"""`clusterbot serve` worker processes in webhook mode, for the tests and bench/: each on its
own port, all pointed at one fake Bot API and one database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.standins.ports import free_port

ROOT = Path(__file__).parents[1]


class Worker:
    def __init__(self, name: str, fake, db_url: str, log: Path, *extra: str, env: dict | None = None):
        self.name, self.fake, self.db_url, self.log, self.extra = name, fake, db_url, log, extra
        self.port = free_port()
        self.env = {**os.environ, "CLUSTERBOT_WORKER": name, **(env or {})}
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def get(self, path: str) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def start(self, timeout: float = 60) -> "Worker":
        return self.launch().ready(timeout)

    def launch(self) -> "Worker":
        """Start the process (several may start together; then `ready()` each)."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--token", self.fake.token, "--api-base-url",
             self.fake.base_url, "--db", self.db_url, "--webhook-url", self.url,
             "--listen", f"127.0.0.1:{self.port}", *self.extra],
            cwd=ROOT, env=self.env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        return self

    def ready(self, timeout: float = 60) -> "Worker":
        deadline = time.monotonic() + timeout
        while True:  # ready: its webhook answers and its database too
            assert self.proc.poll() is None, self.log.read_text(errors="replace")
            try:
                if self.get("/readyz")[0] == 200:
                    return self
            except (OSError, ValueError):
                pass
            assert time.monotonic() < deadline, f"worker {self.name} not ready"
            time.sleep(0.05)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
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

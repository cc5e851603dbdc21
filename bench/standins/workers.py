"""Worker processes for the tests and bench/: `clusterbot serve` in webhook mode, pointed at
one fake Bot API, and `clusterbot web`; each on its own port, all on one database."""

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

from bench.standins.postgres import free_port

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

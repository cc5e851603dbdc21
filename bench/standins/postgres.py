"""A real PostgreSQL server for the tests: initdb into a temporary directory, pg_ctl on
127.0.0.1 at a free port, stopped at the end. Root cannot run postgres, so as root the
server runs as the unprivileged `postgres` user (which Debian's package creates).

`.ci/run` installs Debian's `postgresql` when no binaries are found."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from bench.standins.ports import free_port

SERVICE_USER = "postgres"


def binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, or Debian's versioned folder."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent  # /usr/local/bin may hold only a link
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    return Path(folders[-1]) if folders else None


class PostgresServer:
    """One throwaway server; `database()` gives a fresh, empty database's SQLAlchemy URL."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="clusterbot-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0

    def _run(self, *args: str, **kw) -> subprocess.CompletedProcess:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_root:  # postgres refuses to run as root
            command = ["runuser", "-u", SERVICE_USER, "--", *command]
        return subprocess.run(command, check=True, capture_output=True, text=True, **kw)

    def start(self) -> "PostgresServer":
        if self.as_root:
            shutil.chown(self.root, SERVICE_USER)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        self.major = int((self.data / "PG_VERSION").read_text())  # PostgreSQL's, as 15
        # fsync off: a test server's data need not survive a power cut, and it is much faster.
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w",
                  "-t", "30", "start")
        return self

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(sql)

    def database(self, template: str | None = None) -> str:
        """A new database: empty, or a copy of `template` (a database's name or URL; nobody
        may be connected to it), which is much quicker than making the same schema again."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        copy = f' TEMPLATE "{template.rsplit("/", 1)[-1]}"' if template else ""
        # Copied file by file (as always before PostgreSQL 15): 15's default copies the template
        # block by block through the WAL, 1.6 times as long here.
        strategy = " STRATEGY FILE_COPY" if self.major >= 15 else ""
        self._admin(f'CREATE DATABASE "{name}"{copy}{strategy}')
        return self.url(name)

    def drop(self, url: str) -> None:
        """Drop a database, the connections still open to it closed first: DROP … WITH (FORCE)
        waits for them in steps of 100 ms (a test's engine left open cost each test that)."""
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            others = "from pg_stat_activity where datname = %s and pid <> pg_backend_pid()"
            conn.execute(f"select pg_terminate_backend(pid) {others}", (name,))
            deadline = time.monotonic() + 5
            while conn.execute(f"select count(*) {others}", (name,)).fetchone()[0] and time.monotonic() < deadline:
                time.sleep(0.002)  # the backends ending: a few milliseconds
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')  # FORCE: one that came since


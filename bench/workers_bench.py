"""Messages per second with 1, 2 and 4 `clusterbot serve` workers behind one webhook
address on one PostgreSQL database, as a ratio to one worker on SQLite (the embedded
default) measured in the same run, against the same local Bot API server.

    .venv/bin/python bench/workers_bench.py                  # 200 users × 5 messages
    .venv/bin/python bench/workers_bench.py --users 100 --messages 3
    .venv/bin/python bench/workers_bench.py --web --users 30      # `clusterbot web`: 1, 2, 3 workers

Each message is a turn of the dialog (`/new <name>`: a profile created, committed, the reply
written to the outbox and sent); the fake Bot API delivers like Telegram behind a load
balancer (bench/standins/fakebotapi.py spread_webhook: chats side by side, each chat's updates one at
a time). The time runs from the first update queued to the last reply received. PostgreSQL
is a throwaway server (bench/standins/postgres.py: fsync off, as on a test machine); the workers and
the database share this machine's cores, so more workers help only while cores are free.

With --web, the workers are `clusterbot web` processes: each user's page holds its event
stream on one of them and posts each message to another (the worst case: the reply goes
through NOTIFY to the page's process), waiting for the reply before the next message, as a
person would; the floor is one web process on SQLite.
"""

from __future__ import annotations

import argparse
import platform
import threading
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.standins.fakebotapi import FakeBotApi  # noqa: E402
from bench.standins.postgres import PostgresServer, binaries  # noqa: E402
from bench.standins.workers import Page, WebWorker, Worker, send_new_clusters, start_together  # noqa: E402

FIRST_USER = 800_000
CREATED = re.compile(r"已创建集群「")


def replies(fake: FakeBotApi, users: int) -> int:
    return sum(len(CREATED.findall(m.get("text", ""))) for i in range(users)
               for m in fake.messages(FIRST_USER + i) if m.get("from", {}).get("is_bot"))


def run(db_url: str, workers: int, users: int, messages: int, folder: Path) -> float:
    """Messages per second through `workers` workers on the database at `db_url`."""
    with FakeBotApi(webhook_timeout=60) as fake:
        for i in range(users):
            fake.register_user(FIRST_USER + i, first_name=f"官员{i}", language_code="zh-hans")
        running = [Worker(f"bench{n}", fake, db_url, folder / f"{workers}-{n}.log", "--log-level", "WARNING")
                   for n in range(workers)]
        try:
            start_together(fake, running)
            started = time.monotonic()
            send_new_clusters(fake, FIRST_USER, users, messages)
            total = users * messages
            deadline = started + 600
            while replies(fake, users) < total:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{workers} workers: not every message answered in 600 s")
                time.sleep(0.2)
            elapsed = time.monotonic() - started
        finally:
            for worker in running:
                worker.kill()
    return total / elapsed


def run_web(db_url: str, workers: int, users: int, messages: int, folder: Path) -> float:
    """Messages per second through `workers` web processes on the database at `db_url`."""
    running = [WebWorker(f"web{n}", db_url, folder / f"web-{workers}.key", folder / f"web-{workers}-{n}.log",
                         "--log-level", "WARNING") for n in range(workers)]
    changed = threading.Condition()
    try:
        for worker in running:
            worker.launch()
        for worker in running:
            worker.ready()
        pages = [Page(i, running, i % workers, changed) for i in range(users)]
        for page in pages:
            page.wait_for(lambda p: p.holder is not None, "the stream open")

        def talk(page: Page) -> None:
            for k in range(messages):
                page.say(f"/new 网页{page.i}-{k}", f"n{k}", k)
                page.wait_for(lambda p: sum(len(CREATED.findall(t)) for t in p.texts) > k, f"message {k} answered")

        threads = [threading.Thread(target=talk, args=(page,)) for page in pages]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(600)
        elapsed = time.monotonic() - started
        if sum(len(CREATED.findall(t)) for page in pages for t in page.texts) < users * messages:
            raise SystemExit(f"{workers} web workers: not every message answered")
        for page in pages:
            page.closing = True
    finally:
        for worker in running:
            worker.kill()
    return users * messages / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--messages", type=int, default=5, help="messages per user")
    parser.add_argument("--web", action="store_true", help="clusterbot web workers (1, 2, 3) instead of serve")
    args = parser.parse_args()
    measure, counts, kind = (run_web, (1, 2, 3), "web ") if args.web else (run, (1, 2, 4), "")
    bin_dir = binaries()
    if bin_dir is None:
        raise SystemExit("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    server = PostgresServer(bin_dir).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            floor = measure(f"sqlite:///{folder / 'bench.db'}", 1, args.users, args.messages, folder)
            print(f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}; "
                  f"{args.users} users × {args.messages} messages")
            print(f"floor: 1 {kind}worker on SQLite: {floor:.1f} messages/s")
            for workers in counts:
                rate = measure(server.database(), workers, args.users, args.messages, folder)
                print(f"{workers} {kind}worker{'s' if workers > 1 else ''} on PostgreSQL: {rate:.1f} messages/s, "
                      f"{rate / floor:.2f}x the SQLite worker")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

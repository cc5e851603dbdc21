"""Four `clusterbot serve` workers behind one webhook address, on one PostgreSQL database,
as a province would run them: 100 officials answer at once, their updates spread over the
workers, 500 deadline reminders fall due meanwhile, one worker is killed with SIGKILL and
another restarted. Every update is answered once and in order per user, every reminder sent
once; what a killed worker had sent but not yet marked is sent again, and counted."""

from __future__ import annotations

import datetime as dt
import re
import time

from sqlalchemy import insert
from sqlmodel import select

from bot.clock import SHANGHAI
from storage import outbox, repo
from storage import tracking as store
from storage.db import make_engine, session
from storage.models import User
from storage.tracking import TrackedCluster
from bench.standins.fakebotapi import FakeBotApi
from bench.standins.workers import Worker, send_new_clusters, start_together

# 100 users are three times the updates the fake Bot API has in flight at once (32): every worker
# is kept busy and each chat's updates queue behind each other, as with 200, at 40% of the CPU.
# Five reminders each: several per chat.
USERS, UPDATES_EACH, CLUSTERS_EACH = 100, 3, 5
FIRST_USER = 700_000
# A cluster certified 2024-06-01 nationally: its 30-day reminder of the 2025-04-30 report
# falls due at 2025-03-31 09:00 in Shanghai, ten seconds after the workers' clocks start.
CERTIFIED = dt.date(2024, 6, 1)
FAKE_NOW = "2025-03-31T08:59:50"
CREATED = re.compile(r"已创建集群「集群(\d+)-(\d+)」")
REMINDED = re.compile(r"期限提醒：#(\d+)「")


def seed_reminders(db_url: str) -> None:
    """USERS × CLUSTERS_EACH tracked clusters, each with one reminder due during the run: the
    first tracked as a user would, the others copied from it (the same calendar)."""
    engine = make_engine(db_url)
    tracked_on = dt.datetime(2025, 3, 1, 10, tzinfo=SHANGHAI)
    with session(engine) as s:
        users = [repo.get_or_create_user(s, "telegram", str(FIRST_USER + i)) for i in range(USERS)]
        first = store.track(s, users[0], "集群", ["national"], CERTIFIED, tracked_on)
        template = first.model_dump(exclude={"id", "user_id", "number"})
        s.execute(insert(TrackedCluster), [{**template, "user_id": user.id, "number": n}
                                         for user in users for n in range(1, CLUSTERS_EACH + 1)
                                         if (user.id, n) != (users[0].id, 1)])
        for user in users:
            user.chat_id, user.last_tracked_number = user.external_id, CLUSTERS_EACH
            s.add(user)
        s.commit()
    with session(engine) as s:
        due = s.exec(select(TrackedCluster).where(TrackedCluster.next_due_at
                                                  == dt.datetime(2025, 3, 31, 1, tzinfo=dt.timezone.utc))).all()
        assert len(due) == USERS * CLUSTERS_EACH
    engine.dispose()


def transcripts(fake: FakeBotApi) -> dict[int, tuple[list[int], list[int]]]:
    """Per user: the updates answered (their sequence numbers, in the order answered) and the
    reminders received (the clusters' numbers)."""
    seen = {}
    for i in range(USERS):
        chat = FIRST_USER + i
        texts = [m.get("text", "") for m in fake.messages(chat) if m.get("from", {}).get("is_bot")]
        seen[chat] = ([int(m.group(2)) for t in texts for m in CREATED.finditer(t)],
                      [int(m.group(1)) for t in texts for m in REMINDED.finditer(t)])
    return seen


def wait_for(fake: FakeBotApi, condition, timeout: float) -> dict:
    """Poll the chats until `condition(transcripts)` holds; the transcripts."""
    deadline = time.monotonic() + timeout
    while True:
        seen = transcripts(fake)
        if condition(seen):
            return seen
        assert time.monotonic() < deadline, f"not reached in {timeout} s: {summary(seen)}"
        time.sleep(0.2)  # reading every chat takes the fake's lock: not too often


def answered(seen) -> int:
    return sum(len(set(updates)) for updates, _ in seen.values())


def summary(seen) -> str:
    return (f"{answered(seen)}/{USERS * UPDATES_EACH} updates answered, "
            f"{sum(len(set(r)) for _, r in seen.values())}/{USERS * CLUSTERS_EACH} reminders")


def run_workers(fake: FakeBotApi, workers: list[Worker], db_url: str):
    """Start the workers, send every update, kill one and restart another on the way; the
    transcripts once everything is answered and the outbox drained, the time it took, and
    the updates each worker answered."""
    start_together(fake, workers)
    started = time.monotonic()
    send_new_clusters(fake, FIRST_USER, USERS, UPDATES_EACH)
    total = USERS * UPDATES_EACH
    wait_for(fake, lambda seen: answered(seen) >= total // 3, timeout=120)
    workers[1].kill()                      # mid-run, mid-send
    wait_for(fake, lambda seen: answered(seen) >= total // 2, timeout=120)
    assert workers[2].stop() == 0          # a restart: SIGTERM, then up again
    workers[2].start()
    workers[1].start()                     # the killed one comes back, and takes back its leases
    seen = wait_for(fake, lambda seen: answered(seen) == total and all(
        set(r) == set(range(1, CLUSTERS_EACH + 1)) for _, r in seen.values()), timeout=180)
    engine = make_engine(db_url)
    deadline = time.monotonic() + 60
    while True:  # the outbox drained: nothing more will be sent
        with session(engine) as s:
            if outbox.unfinished_count(s) == 0:
                break
        assert time.monotonic() < deadline
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    seen = transcripts(fake)
    for worker in workers:
        assert worker.stop() == 0
    by_worker = {w.url: 0 for w in workers}
    for delivery in fake.webhook_deliveries:
        if delivery["status"] == 200:
            by_worker[delivery["url"]] += 1
    return seen, elapsed, by_worker


def test_four_workers_one_database_a_kill_and_a_restart(postgres, tmp_path):
    db_url = postgres.database()
    seed_reminders(db_url)
    with FakeBotApi(webhook_timeout=60) as fake:
        for i in range(USERS):
            fake.register_user(FIRST_USER + i, first_name=f"官员{i}", language_code="zh-hans")
        workers = [Worker(f"w{n}", fake, db_url, tmp_path / f"w{n}.log", "--reminder-interval", "1",
                          env={"CLUSTERBOT_FAKE_NOW": FAKE_NOW}) for n in range(4)]
        try:
            seen, elapsed, by_worker = run_workers(fake, workers, db_url)
        finally:
            for worker in workers:  # whatever failed, no worker outlives the test
                worker.kill()
    total = USERS * UPDATES_EACH
    duplicated_updates = sum(len(u) - len(set(u)) for u, _ in seen.values())
    duplicated_reminders = sum(len(r) - len(set(r)) for _, r in seen.values())
    print(f"\n4 workers, {USERS} users: {total} updates and {USERS * CLUSTERS_EACH} reminders in {elapsed:.1f} s; "
          f"updates handled per worker {sorted(by_worker.values())}; sent twice after the kill: "
          f"{duplicated_updates} replies, {duplicated_reminders} reminders")
    for chat, (updates, reminders) in seen.items():
        assert list(dict.fromkeys(updates)) == list(range(UPDATES_EACH)), chat   # each once, in order
        assert sorted(set(reminders)) == list(range(1, CLUSTERS_EACH + 1)), chat
    with session(make_engine(db_url)) as s:  # each update handled once: one profile per update
        assert len(s.exec(select(User)).all()) == USERS
        for user in s.exec(select(User)):
            assert len(repo.user_profiles(s, user)) == UPDATES_EACH
    assert all(count > 0 for count in by_worker.values())
    # Sent again: only what the killed worker had sent and not yet marked (marks are written
    # every 50 ms): a few chats' worth, never a pattern.
    assert duplicated_updates + duplicated_reminders <= 40

"""Several workers on one database, played by threads with their own connections: a
redelivered update is handled once even when both copies arrive at once, a new user's
first messages make one user, and tracked clusters' numbers never collide."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlmodel import select

from bot.clock import SHANGHAI, ManualClock
from dialogs.conversation import Conversation
from storage.db import make_engine, session
from storage.models import ProcessedUpdate, User
from storage.tracking import TrackedCluster

WORKERS = 8


def at_once(fn, count: int = WORKERS) -> list:
    """Run fn(i) in `count` threads released together; their results in order."""
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait(timeout=10)
        return fn(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def conversations(db_url: str, count: int = WORKERS) -> list[Conversation]:
    """One Conversation per worker, each with its own engine (its own connections)."""
    clock = ManualClock(dt.datetime(2024, 6, 1, 10, tzinfo=SHANGHAI))
    return [Conversation(make_engine(db_url), clock, channel="telegram") for _ in range(count)]


def test_the_same_update_arriving_at_every_worker_at_once_is_handled_once(db_url):
    workers = conversations(db_url)
    replies = at_once(lambda i: workers[i].handle("7", text="/new 示例县机械集群", update_id="555"))
    assert sum(1 for r in replies if r) == 1
    with session(workers[0].engine) as s:
        assert len(s.exec(select(ProcessedUpdate)).all()) == 1
        assert len(s.exec(select(User)).all()) == 1


def test_clusters_tracked_at_once_by_one_new_user_get_distinct_numbers(db_url):
    workers = conversations(db_url)
    replies = at_once(lambda i: workers[i].handle("8", text=f"/track 集群{i} national 2024-06-01",
                                                  update_id=str(100 + i)))
    assert all(replies)
    with session(workers[0].engine) as s:
        numbers = sorted(t.number for t in s.exec(select(TrackedCluster)))
        assert numbers == list(range(1, WORKERS + 1))
        assert len(s.exec(select(User)).all()) == 1


def test_workers_sweeping_at_once_send_each_reminder_once(db_url):
    from bot.reminders import sweep
    from storage import repo
    from storage import tracking as store

    engines = [make_engine(db_url) for _ in range(WORKERS)]
    tracked_on = dt.datetime(2024, 6, 1, 10, tzinfo=SHANGHAI)
    with session(engines[0]) as s:
        for i in range(40):
            store.track(s, repo.get_or_create_user(s, "telegram", f"u{i}"), f"集群{i}", ["national"],
                        dt.date(2024, 6, 1), tracked_on)
        s.commit()
    sent: list[tuple[str, str]] = []
    due = dt.datetime(2025, 3, 31, 9, 0, tzinfo=SHANGHAI)  # every cluster's 30-day reminder
    counts = at_once(lambda i: sweep(engines[i], due, "telegram",
                                     lambda _s, user, reply: sent.append((user.external_id, reply.text))))
    assert sum(counts) == len(sent) == 40
    assert sorted(who for who, _ in sent) == sorted(f"u{i}" for i in range(40))


def test_workers_claiming_the_outbox_at_once_lease_each_chat_to_one(db_url):
    from dialogs.messages import Reply
    from storage import outbox

    engines = [make_engine(db_url) for _ in range(WORKERS)]
    with session(engines[0]) as s:
        for chat in range(60):
            for i in range(3):
                outbox.enqueue(s, "telegram", str(chat), Reply(f"{chat}-{i}").to_json())
        s.commit()

    def claim(i):
        with session(engines[i]) as s:
            return [(r.chat_id, r.id) for r in outbox.claim(s, f"w{i}", ["telegram"])]

    claims = at_once(claim)
    owners: dict[str, set[int]] = {}
    for worker, rows in enumerate(claims):
        for chat, _row in rows:
            owners.setdefault(chat, set()).add(worker)
    claimed = [row for rows in claims for _, row in rows]
    assert len(claimed) == len(set(claimed)) == 180       # every row once, none twice
    assert all(len(workers) == 1 for workers in owners.values())  # a chat's rows to one worker

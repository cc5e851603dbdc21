"""A channel's `clusterbot …` command in its own process, for the WeCom and DingTalk tests."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import migrated_sqlite

ROOT = Path(__file__).parents[1]
NOW = "2026-11-23T10:00:00"
UNSENT = "select count(*) from outbox where sent_at is null and refused_at is null"


def count(db: Path, sql: str, *params) -> int:
    with sqlite3.connect(db) as con:
        return con.execute(sql, params).fetchone()[0]


def last_ids(db: Path) -> dict[str, int]:
    """The id of the last user, cluster and answer stored: a test that shares a process with
    earlier ones looks only at the rows after them."""
    return {table: count(db, f"select coalesce(max(id), 0) from {table}") for table in ("users", "profiles", "answers")}


class ChannelProcess:
    """Started with `start(args, env, ready)`: `ready()` is polled until true (it may raise
    ConnectionError while the process comes up); the log is `<db>.log`."""

    def __init__(self, db: Path, now: str = NOW):
        self.db, self.now = db, now
        self.log = db.with_suffix(".log")
        self.proc = None
        self.before, self.log_start = dict.fromkeys(("users", "profiles", "answers"), 0), 0  # see `mark`

    def launch(self, args: list[str], env: dict, ready, timeout: float = 30) -> None:
        migrated_sqlite(self.db)
        self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli", *args, "--db", str(self.db)],
                                     cwd=ROOT, env={**os.environ, "CLUSTERBOT_FAKE_NOW": self.now, **env},
                                     stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        try:
            while True:
                assert self.proc.poll() is None, self.log.read_text(errors="replace")
                assert time.monotonic() < deadline, f"{args[0]} did not come up"
                try:
                    if ready():
                        return
                except (ConnectionError, OSError):
                    pass
                time.sleep(0.02)  # polling for the process to come up, bounded by the deadline
        except BaseException:  # not up in time: not left running after the test (it was, under load)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(10)
            raise

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def quiet(self) -> bool:
        """Nothing a test arranged on the fake is left to happen (a fault to answer…)."""
        return True

    def settle(self) -> None:
        """Wait until every reply is sent and the fake is `quiet`: the process is as a new one
        would be, for the next test."""
        deadline = time.monotonic() + 15
        while not (self.quiet() and count(self.db, UNSENT) == 0):
            assert self.proc.poll() is None, self.log.read_text(errors="replace")
            assert time.monotonic() < deadline, "the process did not settle"
            time.sleep(0.02)  # polling the database, bounded by the deadline

    def mark(self) -> None:
        """What the database and the log hold now are an earlier test's: `before` and
        `log_since_mark` leave them out."""
        self.before, self.log_start = last_ids(self.db), self.log.stat().st_size

    def log_since_mark(self) -> str:
        with open(self.log, "rb") as log:
            log.seek(self.log_start)
            return log.read().decode(errors="replace")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def sharing(name: str, new_fake, start):
    """The fixtures of a module whose tests that only talk to a running process share one, with
    one fake platform: a start is 0.7 s of CPU. `shared_process`: the process, `start(fake,
    folder)`, once a module (tests/conftest.py runs the tests that take it on one worker);
    `name`: that process for a test, settled before and after it and what it held marked (each
    test has users of its own and looks at what it added); `fake`: its fake for such a test, a
    new one (`new_fake()`) for the others."""
    @pytest.fixture(scope="module")
    def shared_process(tmp_path_factory):
        with new_fake() as server:
            running = start(server, tmp_path_factory.mktemp(name))
            yield running
            running.stop()

    @pytest.fixture(name=name)
    def process(shared_process):
        shared_process.settle()
        shared_process.mark()
        yield shared_process
        shared_process.settle()  # what the test began has ended: the next one is not disturbed by it

    @pytest.fixture
    def fake(request):
        if name in request.fixturenames:
            yield request.getfixturevalue("shared_process").fake
            return
        with new_fake() as server:
            yield server
    return shared_process, process, fake


class Person:
    """Someone chatting with the bot through a fake platform (`user_sends`, `user_presses`,
    `wait_for`); each read starts after what they have already read."""

    def __init__(self, fake, user_id: str, to: str | None = None):
        self.fake, self.id, self.to = fake, user_id, to or user_id
        self.read = 0

    def until(self, predicate, timeout: float = 15) -> list[dict]:
        got = self.fake.wait_for(self.to, predicate, timeout, start=self.read)
        self.read += len(got)
        return got

    def send(self, text: str, until) -> list[dict]:
        self.fake.user_sends(self.id, text)
        return self.until(until)

    def press(self, card: dict, label: str, until) -> list[dict]:
        self.fake.user_presses(self.id, card, label)
        return self.until(until)


def prescreen(person: Person, last: list[dict], text_of, labels, is_card, limit: int = 80) -> list[dict]:
    """Answer every question with the eligible cluster's facts: a choice by its button, a
    figure typed; returns the messages up to the final result."""
    from tests.chat_helpers import asked_fact, chat_answer
    from tests.conftest import eligible_facts

    facts = eligible_facts()
    for _ in range(limit):
        text = "\n".join(text_of(m) for m in last)
        if "全部问题已答完" in text:
            return last
        if "年份对吗" in text:
            last = person.press(last[-1], "是", until=is_card)
            continue
        fact = asked_fact(text)
        assert fact, text
        answer = chat_answer(fact, facts[fact])
        if is_card(last[-1]) and answer in labels(last[-1]):
            last = person.press(last[-1], answer, until=is_card)
        else:
            last = person.send(answer, until=is_card)
    raise AssertionError("too many questions")


REMINDER = ("⏰ 期限提醒", "2027年4月30日")


def a_reminder_arrives_once(person: Person, db: Path, text_of) -> None:
    """Run at 08:59:57 on 2027-03-31: a cluster certified nationally on 2024-06-01 gets its
    30-day reminder of the annual report due 2027-04-30 (第十六条) at 09:00, once."""
    import sqlite3

    def is_reminder(m: dict) -> bool:
        return all(words in text_of(m) for words in REMINDER)
    person.send("/track 甲集群 national 2024-06-01", until=lambda m: "甲集群" in text_of(m))
    reminder = person.until(is_reminder, timeout=20)[-1]
    assert "第十六条" in text_of(reminder)
    # the sweep enqueued it once, marked in the same transaction: later sweeps pass it by
    with sqlite3.connect(db) as con:
        rows = con.execute("select payload from outbox where payload like ? and payload like ?",
                           [f"%{w}%" for w in REMINDER]).fetchall()
    assert len(rows) == 1
    assert len([m for m in person.fake.messages_to(person.to) if is_reminder(m)]) == 1

"""The dialog's speed and memory, with a real SQLite file.

    .venv/bin/python bench/dialog_bench.py

1. Messages per second through the dialog (the time inside `Conversation.handle`: parse,
   validate, one commit per answer, evaluate, render the next question), as a ratio to bare
   SQLite inserts of the same answer rows (one commit each, same pragmas), each conversation's
   right after it.
2. Peak memory with 10,000 stored profiles (2,000 officials with five each): a process that
   serves officials picked at random, against the same with 100 profiles stored.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.clock import ManualClock  # noqa: E402
from dialogs.conversation import Conversation  # noqa: E402
from storage.db import make_engine  # noqa: E402
from bench.official import asked_fact, eligible_facts, official_facts, typed_answer  # noqa: E402

NOW = dt.datetime(2026, 11, 23, 10, 0)


def converse(conversation: Conversation, user: str, facts: dict,
             spent: list[float] | None = None) -> tuple[int, list[tuple[str, str]]]:
    """One full pre-screening against all four measures; returns the answers given. `spent`
    adds up the time inside the dialog (wall, CPU), without the official's own reading."""
    def handle(text: str):
        start, cpu = time.perf_counter(), time.process_time()
        replies = conversation.handle(user, text=text)
        if spent is not None:
            spent[0] += time.perf_counter() - start
            spent[1] += time.process_time() - cpu
        return replies

    handle("/new 集群")
    replies = handle("全部")
    answered = []
    while True:
        text = replies[-1].text
        if "年份对吗" in text:
            replies = handle("是")
            continue
        fact = asked_fact(text)
        if fact is None or replies[-1].kind != "question":
            return len(answered), answered
        answer = typed_answer(fact, facts[fact])
        replies = handle(answer)
        answered.append((fact, answer))


def bare_table(path: Path, synchronous: str = "FULL") -> sqlite3.Connection:
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(f"PRAGMA synchronous={synchronous}")
    con.execute("CREATE TABLE answers (id INTEGER PRIMARY KEY, profile_id INTEGER, fact TEXT, value_json TEXT,"
                " skipped BOOLEAN, source TEXT, created_at TEXT)")
    return con


def bare_inserts(con: sqlite3.Connection, rows: list[tuple[str, str]], profile_id: int) -> float:
    start = time.perf_counter()
    for fact, value in rows:
        con.execute("INSERT INTO answers (profile_id, fact, value_json, skipped, source, created_at)"
                    " VALUES (?, ?, ?, 0, 'dialog', ?)", (profile_id, fact, json.dumps(value), NOW.isoformat()))
        con.commit()
    return time.perf_counter() - start


PER_USER = 5  # profiles per official: 10,000 profiles are 2,000 officials' work


def seed_profiles(db: Path, count: int) -> None:
    """`count` profiles, PER_USER to an official, each with a full set of answers, written
    directly with SQL (the dialog would take minutes to type them)."""
    engine = make_engine(f"sqlite:///{db}")
    engine.dispose()
    con = sqlite3.connect(db)
    stamp = NOW.isoformat(sep=" ")
    facts = [(f, json.dumps(v, ensure_ascii=False)) for f, v in eligible_facts().items()]
    for u in range(count // PER_USER):
        user_id = con.execute("INSERT INTO users (channel, external_id, display_name, lang, created_at) "
                              "VALUES ('terminal', ?, '', 'zh', ?)", (f"seed{u}", stamp)).lastrowid
        for i in range(PER_USER):
            profile_id = con.execute(
                "INSERT INTO profiles (user_id, name, measures, lang, state, created_at, updated_at, deleted)"
                " VALUES (?, ?, 'national,jiangsu,guangdong,shaanxi', 'zh', 'done', ?, ?, 0)",
                (user_id, f"集群{u}-{i}", stamp, stamp)).lastrowid
            con.executemany("INSERT INTO answers (profile_id, fact, value_json, skipped, source, created_at)"
                            " VALUES (?, ?, ?, 0, 'dialog', ?)", [(profile_id, f, v, stamp) for f, v in facts])
        con.execute("UPDATE users SET active_profile_id=? WHERE id=?", (profile_id, user_id))
    con.commit()
    con.close()


def memory_probe(db: str, profiles: int, samples: int) -> None:
    """Child process: `samples` officials picked at random each list their clusters, switch
    to one and read its result; then report the peak RSS."""
    conversation = Conversation(make_engine(f"sqlite:///{db}"), ManualClock(NOW))
    gc.freeze()  # as above
    rng = random.Random(1)
    for _ in range(samples):
        official = f"seed{rng.randrange(profiles // PER_USER)}"
        conversation.handle(official, text="/list")
        conversation.handle(official, text=f"/switch {rng.randint(1, PER_USER)}")
        conversation.handle(official, text="/result")
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux


def peak_rss(db: Path, profiles: int, samples: int) -> float:
    out = subprocess.run([sys.executable, __file__, "--probe", str(db), str(profiles), str(samples)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=10, help="full conversations for the speed figure")
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--probe", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        memory_probe(args.probe[0], int(args.probe[1]), int(args.probe[2]))
        return

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        conversation = Conversation(make_engine(f"sqlite:///{tmp / 'dialog.db'}"), ManualClock(NOW))
        gc.freeze()  # what `clusterbot chat` does once its dialog is made (bot/commands/common.serving)
        converse(conversation, "warm-up", official_facts(199))
        rows: list[tuple[str, str]] = []
        messages = 0
        spent = [0.0, 0.0]  # in Conversation.handle: the bench's reading of the replies is not counted
        bare, t_floor = bare_table(tmp / "bare.db"), 0.0
        # The same inserts with no flush to the disk: how much of the floor is the fsync
        # (which the dialog's one commit a message pays as well).
        unflushed, t_unflushed = bare_table(tmp / "unflushed.db", "OFF"), 0.0
        for u in range(args.users):
            n, answered = converse(conversation, f"user{u}", official_facts(u), spent)
            messages += n + 2
            rows += answered
            # The floor right after each conversation: the shared disk's speed drifts, and
            # both then see the same.
            t_floor += bare_inserts(bare, answered, u)
            t_unflushed += bare_inserts(unflushed, answered, u)
        bare.close()
        unflushed.close()
        t_dialog, cpu_dialog = spent
        n_rows = len(rows)

        seed_profiles(tmp / "many.db", args.profiles)
        seed_profiles(tmp / "few.db", 100)
        rss_many = peak_rss(tmp / "many.db", args.profiles, 200)
        rss_few = peak_rss(tmp / "few.db", 100, 200)
        size_mb = (tmp / "many.db").stat().st_size / 1e6

    print(f"clusterbot dialog benchmark — {dt.date.today()} — {platform.python_implementation()} "
          f"{platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; SQLite WAL, synchronous=FULL")
    print(f"  {args.users} full conversations against all four measures: {messages} messages, {n_rows} answers saved")
    print(f"  dialog        {messages / t_dialog:8.1f} messages/s  ({t_dialog / messages * 1000:.2f} ms per message, "
          f"{cpu_dialog / messages * 1000:.2f} ms of it CPU)")
    print(f"  floor         {n_rows / t_floor:8.1f} bare SQLite inserts/s, one commit each "
          f"({t_floor / n_rows * 1000:.2f} ms per insert; {t_unflushed / n_rows * 1000:.2f} ms of it without the "
          f"fsync, synchronous=OFF)")
    print(f"  ratio         {(t_dialog / messages) / (t_floor / n_rows):8.1f}x the time of a bare insert per message")
    print(f"  peak RSS, 200 officials at random listing, switching and reading a result, "
          f"{args.profiles:,} profiles stored ({size_mb:.0f} MB file): {rss_many:.0f} MiB; "
          f"with 100 stored: {rss_few:.0f} MiB")


if __name__ == "__main__":
    main()

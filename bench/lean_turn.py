"""What the dialog's aim of 2x a bare insert leaves: the same officials' answers through the
dialog and through a lean turn, each against the bare insert-and-commit, in one run.

    .venv/bin/python bench/lean_turn.py

The lean turn keeps only what a typed answer cannot do without, on the product's own schema
and functions: one transaction (BEGIN IMMEDIATE … COMMIT, synchronous=FULL) with the user's
and profile's read, the answers since the last turn, the answer parsed (dialogs.parse) and
inserted, four measures evaluated (engine.evaluate_many) and the questions still needed
(dialogs.questions.needed), the next question rendered (its cached text), the profile's state
updated and the reply written to the outbox as JSON; on the driver's connection, with no
ORM, no Turn, no confirmation asked back, no news of a new failure, no buttons but one. It
answers the questions the dialog asked, in the dialog's order (recorded from the dialog's
own run, untimed). It is not a product: a floor for the product's layers, as the bare
insert is one for the database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.dialog_bench import NOW, bare_inserts, bare_table, converse  # noqa: E402
from bench.official import asked_fact, official_facts  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from dialogs.conversation import Conversation, question_text  # noqa: E402
from dialogs.messages import Button, Reply  # noqa: E402
from dialogs.parse import parse_answer  # noqa: E402
from dialogs.questions import needed, rulesets_for  # noqa: E402
from engine import Profile, catalogue, evaluate_many  # noqa: E402
from storage.db import make_engine  # noqa: E402

ALL = "national,jiangsu,guangdong,shaanxi"


class LeanTurns:
    """Typed answers on the product's schema, with the least around the product's core."""

    def __init__(self, path: Path):
        make_engine(f"sqlite:///{path}").dispose()  # the product's tables and indexes
        self.con = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=FULL"):
            self.con.execute(f"PRAGMA {pragma}")
        self.kept: dict[int, tuple[int, dict]] = {}  # profile -> (last answer row read, answers)

    def start(self, official: str) -> None:
        stamp = NOW.isoformat(" ")
        con = self.con
        user = con.execute("INSERT INTO users (channel, external_id, display_name, lang, last_tracked_number,"
                           " created_at) VALUES ('lean', ?, '', 'zh', 0, ?)", (official, stamp)).lastrowid
        profile = con.execute("INSERT INTO profiles (user_id, name, measures, lang, state, created_at, updated_at,"
                              " deleted) VALUES (?, '集群', ?, 'zh', 'asking', ?, ?, 0)",
                              (user, ALL, stamp, stamp)).lastrowid
        con.execute("UPDATE users SET active_profile_id = ? WHERE id = ?", (profile, user))

    def turn(self, official: str, text: str, asked: str) -> None:
        con, cat, on = self.con, catalogue(), NOW.date()
        stamp = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None).isoformat(" ")
        con.execute("BEGIN IMMEDIATE")
        lang, profile, measures = con.execute(
            "SELECT u.lang, p.id, p.measures FROM users u JOIN profiles p ON p.id = u.active_profile_id"
            " WHERE u.channel = 'lean' AND u.external_id = ?", (official,)).fetchone()
        last, answers = self.kept.get(profile, (0, {}))
        answers = dict(answers)
        for row_id, fact, value_json in con.execute(
                "SELECT id, fact, value_json FROM answers WHERE profile_id = ? AND id > ? ORDER BY id",
                (profile, last)):
            answers[fact], last = json.loads(value_json), row_id
        self.kept[profile] = (last, dict(answers))
        value = parse_answer(cat[asked], text, answers.get("data_year", on.year - 1)).value
        value_json = json.dumps(value, ensure_ascii=False)
        con.execute("INSERT INTO answers (profile_id, fact, value_json, skipped, source, created_at)"
                    " VALUES (?, ?, ?, 0, 'dialog', ?)", (profile, asked, value_json, stamp))
        answers[asked] = value
        replies = [Reply(f"已保存：{asked} {value_json}")]
        left = needed(evaluate_many(Profile(answers, on), rulesets_for(measures), on, traced=True), answers)
        following = left[0] if left else None
        if following:
            numbered = [f for f in cat.facts if f in answers or f in left]
            replies.append(Reply(question_text(lang, following, numbered.index(following) + 1, len(numbered), None, ""),
                                 actions=[Button("跳过", f"c:{profile}:x:/skip")], kind="question"))
        con.execute("UPDATE profiles SET state = ?, current_fact = ?, updated_at = ? WHERE id = ?",
                    ("asking" if following else "done", following, stamp, profile))
        con.executemany("INSERT INTO outbox (channel, chat_id, payload, created_at, next_attempt_at, attempts)"
                        " VALUES ('lean', ?, ?, ?, ?, 0)",
                        [(official, json.dumps(r.to_json(), ensure_ascii=False), stamp, stamp) for r in replies])
        con.execute("COMMIT")


def recorded(conversation: Conversation, official: str, facts: dict, spent: list[float]) -> tuple[int, list]:
    """A full conversation through the dialog (its time added to `spent`): its messages, and
    each typed answer with the fact it answered (a yes to "年份对吗" answers none)."""
    pairs: list[tuple[str, str]] = []
    handle = conversation.handle
    asking: list[str | None] = [None]

    def recording(user, text=None, **kw):
        start = time.perf_counter()  # the dialog's own time: not the recording's look at its reply
        replies = handle(user, text=text, **kw)
        spent[0] += time.perf_counter() - start
        if asking[0] is not None:
            pairs.append((text, asking[0]))
        last = replies[-1] if replies else None
        asking[0] = (asked_fact(last.text) if last is not None and last.kind == "question"
                     and "年份对吗" not in last.text else None)
        return replies

    conversation.handle = recording
    try:
        n, _ = converse(conversation, official, facts)
    finally:
        del conversation.handle
    return n + 2, pairs  # its /new and its choice of measures, as the dialog bench counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        conversation = Conversation(make_engine(f"sqlite:///{tmp / 'dialog.db'}"), ManualClock(NOW))
        lean = LeanTurns(tmp / "lean.db")
        bare = bare_table(tmp / "bare.db")
        gc.freeze()  # as the dialog bench
        recorded(conversation, "warm-up", official_facts(199), [0.0])
        lean.start("warm-up")
        for text, fact in recorded(conversation, "warm-up 2", official_facts(198), [0.0])[1]:
            lean.turn("warm-up", text, fact)
        spent, t_lean, t_floor, typed, messages = [0.0], 0.0, 0.0, 0, 0
        for u in range(args.users):  # the three alternate, official by official: the disk drifts
            n, pairs = recorded(conversation, f"user{u}", official_facts(u), spent)
            messages += n
            lean.start(f"user{u}")
            start = time.perf_counter()
            for text, fact in pairs:
                lean.turn(f"user{u}", text, fact)
            t_lean += time.perf_counter() - start
            t_floor += bare_inserts(bare, [(fact, text) for text, fact in pairs], u)
            typed += len(pairs)
        bare.close()
    floor = t_floor / typed
    print(f"clusterbot lean turn benchmark — {dt.date.today()} — {args.users} officials, {messages} dialog messages, "
          f"{typed} typed answers")
    print(f"  floor       {floor * 1000:.3f} ms a bare SQLite insert with its commit")
    print(f"  dialog      {spent[0] / messages * 1000:.3f} ms a message       {spent[0] / messages / floor:.2f}x")
    print(f"  lean turn   {t_lean / typed * 1000:.3f} ms a typed answer  {t_lean / typed / floor:.2f}x")


if __name__ == "__main__":
    main()

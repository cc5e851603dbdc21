"""Migrations: a database made by the code before migrations existed (main at ac038e8,
dumped in tests/data/legacy/ by make.py there) is upgraded in place with its answers kept,
and the models agree with the revisions (a schema change without a revision fails here)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import psycopg
import pytest
import sqlite3
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel, select

from bot.clock import SHANGHAI, ManualClock
from dialogs.conversation import Conversation
from dialogs.messages import Reply
from storage import migrate, repo
from storage.db import make_engine, session
from storage.models import OutboxMessage
from storage import tracking as store
from storage.tracking import Reminder, TrackedCluster

LEGACY = Path(__file__).parent / "data" / "legacy"
# The upgrade is what these tests are about: db_url gives them an empty database.
pytestmark = pytest.mark.empty_database


def load_legacy(db_url: str) -> None:
    """Make the database as main's code left it: its schema and rows, from the dump."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as conn:
            conn.executescript((LEGACY / "sqlite.sql").read_text(encoding="utf-8"))
    else:
        with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database,
                             autocommit=True) as conn:
            conn.execute((LEGACY / "postgresql.sql").read_text(encoding="utf-8"))


def replayed(db_url: str):
    """An engine on the empty database at `db_url` brought to the newest revision by Alembic,
    every revision in turn (what an upgrade does; `make_engine` builds an empty database from
    the models instead)."""
    engine = create_engine(db_url)
    migrate.upgrade(engine, replay=True)
    return engine


def schema(engine) -> dict:
    """What SQLAlchemy's inspection reads of every table. Columns by name: a revision adds a
    column at the end of its table, create_all puts it where the model has it, and no
    statement of ours depends on the order (none says SELECT * or INSERT without names)."""
    found = inspect(engine)
    return {table: {"columns": {c["name"]: (str(c["type"]), c["nullable"], c["default"])
                                for c in found.get_columns(table)},
                    "primary key": found.get_pk_constraint(table),
                    "foreign keys": sorted(map(repr, found.get_foreign_keys(table))),
                    "indexes": sorted(repr(_written(index)) for index in found.get_indexes(table)),
                    "unique": sorted(map(repr, found.get_unique_constraints(table))),
                    "checks": sorted(map(repr, found.get_check_constraints(table)))}
            for table in found.get_table_names()}


def _written(index: dict) -> dict:
    """An index as reflected, a partial one's condition as its text (reflected as an object)."""
    return {**index, "dialect_options": {k: str(v) for k, v in index.get("dialect_options", {}).items()}}


def second_empty_database(db_url: str, request) -> str:
    if make_url(db_url).get_backend_name() == "sqlite":
        return f"sqlite:///{Path(make_url(db_url).database).with_name('replayed.db')}"
    server = request.getfixturevalue("postgres")
    url = server.database()
    request.addfinalizer(lambda: server.drop(url))
    return url


def test_the_newest_revision_read_from_the_files_is_alembics():
    # migrate.head() reads the revision files itself, so that a start need not import Alembic.
    from alembic.script import ScriptDirectory
    assert migrate.head() == ScriptDirectory.from_config(migrate.config()).get_current_head()


def test_the_models_and_the_revisions_agree(db_url):
    engine = replayed(db_url)
    with engine.connect() as connection:
        assert migrate.current(connection) == migrate.head()
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       SQLModel.metadata)
    assert differences == [], ("the models changed without a revision: run "
                               "`clusterbot db revision -m \"why\"` and read the file it writes")


def test_a_new_database_made_from_the_models_is_the_one_the_revisions_build(db_url, request):
    made = make_engine(db_url)  # empty: create_all, stamped at the newest revision
    with made.connect() as connection:
        assert migrate.current(connection) == migrate.head()
    made_schema = schema(made)
    assert set(made_schema) == set(SQLModel.metadata.tables) | {"alembic_version"}
    assert made_schema == schema(replayed(second_empty_database(db_url, request)))


def test_a_database_made_before_migrations_is_upgraded_in_place_with_its_answers(db_url):
    load_legacy(db_url)
    engine = make_engine(db_url)  # what every start does: upgrade to the newest revision
    with engine.connect() as connection:
        assert migrate.current(connection) == migrate.head()
    with session(engine) as s:
        user = repo.find_user(s, "telegram", "4242")
        answers = repo.current_answers(s, repo.active_profile(s, user))
        assert answers == {"county_level": True, "provincial_certified": True, "area_km2": repo.SKIPPED}
        (tracked,) = s.exec(select(TrackedCluster)).all()
        assert tracked.number == 1
        # the planned rows went (only sends are stored); the cluster is left to the next
        # sweep to plan again (0007), which finds its next due time as the rows had it
        assert (tracked.planned_until, tracked.next_due_at) == (None, None)
        assert s.exec(select(Reminder)).all() == []
        store.plan(s, tracked, dt.datetime(2024, 6, 2, 10, tzinfo=SHANGHAI))
        assert tracked.next_due_at == dt.datetime(2025, 3, 31, 1, tzinfo=dt.timezone.utc)
        assert [r.lead_days for r in store.planned(s, tracked)][:3] == [30, 7, 1]
        s.rollback()
        # the replies the Telegram outbox left unsent are neutral replies now, still to send
        unsent = s.exec(select(OutboxMessage).where(OutboxMessage.sent_at == None)).all()  # noqa: E711
        assert len(unsent) == 14
        assert Reply.from_json(json.loads(unsent[0].payload)).text == "已创建集群「示例县机械集群」。"
    # and the dialog carries on where it stood, on the upgraded database
    conversation = Conversation(engine, ManualClock(dt.datetime(2024, 6, 2, 10, tzinfo=SHANGHAI)),
                                channel="telegram")
    conversation.handle("4242", text="1", update_id="2000")
    assert conversation.handle("4242", text="1", update_id="1003") == []  # handled before the upgrade
    conversation.handle("4242", text="/track 乙集群 jiangsu 2024-01-05", update_id="2001")
    with session(engine) as s:
        user = repo.find_user(s, "telegram", "4242")
        assert len(repo.current_answers(s, repo.active_profile(s, user))) == 4
        assert sorted(t.number for t in s.exec(select(TrackedCluster))) == [1, 2]


def test_upgrading_twice_changes_nothing(db_url):
    engine = make_engine(db_url)
    make_engine(db_url)
    with engine.connect() as connection:
        assert migrate.current(connection) == migrate.head()


def test_an_upgrade_plans_the_tracked_clusters_again_for_the_reports_of_the_certification_year(db_url):
    """0007: a cluster certified 2026-02-28 in Jiangsu and tracked when the first report was
    read as due in 2027 (its next reminder 30 days before 2027-03-31) is reminded of
    2026-03-31 and 2026-04-10 by the first sweep after the upgrade."""
    from alembic import command

    from bot.reminders import sweep

    engine = create_engine(db_url)
    with engine.begin() as connection:
        command.upgrade(migrate.config(connection), "0006")
    with session(engine) as s:
        user = repo.get_or_create_user(s, "terminal", "alice")
        at = dt.datetime(2026, 3, 1, 10, tzinfo=SHANGHAI)
        # the row as the schema of 0006 has it (the model has columns of later revisions)
        columns = {c["name"] for c in inspect(s.connection()).get_columns("tracked_clusters")}
        row = dict(user_id=user.id, number=1, name="甲集群", measures="jiangsu", certified_on=dt.date(2026, 2, 28),
                   lead_days="30,7,1", remind_hour=9, remind_minute=0, planned_until=dt.date(2027, 4, 4),
                   planned_at=at, created_at=at, updated_at=at,
                   next_due_at=store.due_at(dt.date(2027, 3, 31), 30))  # as the earlier reading planned it
        s.execute(TrackedCluster.__table__.insert().values({k: v for k, v in row.items() if k in columns}))
        s.commit()
    engine = make_engine(db_url)  # what every start does: upgrade to the newest revision
    sent = []
    sweep(engine, dt.datetime(2026, 3, 24, 9, tzinfo=SHANGHAI), "terminal",
          lambda _s, _user, reply: sent.append(reply.text))
    assert any("2026年3月31日（还有 7 天）" in text for text in sent)
    assert any("2026年4月10日（还有 17 天）" in text for text in sent)

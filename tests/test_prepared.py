"""Statements run on the driver's connection (storage/prepared.py) store and read what the
ORM would, on SQLite and PostgreSQL: a turn's rows stay readable and comparable by the rest
of the product, which reads them through SQLAlchemy."""

from __future__ import annotations

import datetime as dt

import pytest

from sqlalchemy import bindparam, insert, select

from storage import repo
from storage.db import make_engine, session
from storage.models import OutboxMessage, Profile, User
from storage.prepared import Prepared, placeholders, unit, write_changes

WHEN = dt.datetime(2026, 11, 23, 10, 0, 0, 250, tzinfo=dt.timezone.utc)
COLUMNS = ("channel", "chat_id", "payload", "created_at", "next_attempt_at", "attempts", "claimed_until")


def test_written_on_the_driver_reads_as_the_orms(db_url):
    engine = make_engine(db_url)
    prepared = Prepared(insert(OutboxMessage.__table__).values(placeholders(COLUMNS)))
    row = {"channel": "t", "chat_id": "1", "payload": "{}", "created_at": WHEN, "next_attempt_at": WHEN,
           "attempts": 0, "claimed_until": None}
    with session(engine) as s:
        prepared.run(s, [row, {**row, "chat_id": "2"}])
        s.connection().execute(insert(OutboxMessage.__table__), {**row, "chat_id": "3"})
        s.commit()
    with session(engine) as s:
        rows = s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
        assert [r.chat_id for r in rows] == ["1", "2", "3"]
        assert {r.created_at for r in rows} == {WHEN}  # the same instant, whoever wrote it
        # and the same stored form: a comparison in SQL sees them equal
        same = s.connection().execute(select(OutboxMessage.id).where(OutboxMessage.created_at == WHEN)).all()
        assert len(same) == 3
        found = Prepared(select(OutboxMessage.chat_id, OutboxMessage.created_at, OutboxMessage.claimed_until)
                         .where(OutboxMessage.created_at >= bindparam("since")).order_by(OutboxMessage.id))
        assert found.rows(s, {"since": WHEN}) == [("1", WHEN, None), ("2", WHEN, None), ("3", WHEN, None)]
        assert found.rows(s, {"since": WHEN + dt.timedelta(microseconds=1)}) == []
    engine.dispose()


def official(db_url, external_id: str, *clusters: str):
    """A database with an official on channel "t" and their clusters (the last one active)."""
    engine = make_engine(db_url)
    with session(engine) as s:
        user = repo.get_or_create_user(s, "t", external_id, "某某")
        for name in clusters:
            repo.create_profile(s, user, name, "zh")
        s.commit()
    return engine


def test_a_turn_writes_only_what_changed_and_leaves_nothing_to_flush(db_url):
    engine = official(db_url, "42", "集群")
    with session(engine) as s:
        user, profile, drafting = repo.user_turn(s, "t", "42")
        assert (user.display_name, profile.name, profile.state, drafting) == ("某某", "集群", "choose_measures", False)
        assert not s.dirty  # loaded as a query would: nothing changed yet
        profile.state, profile.current_fact = "asking", "cluster_revenue"
        user.chat_id = "99"
        # Meanwhile another column of the profile changes elsewhere: a turn writes only its own.
        s.connection().execute(Profile.__table__.update().where(Profile.id == profile.id).values(province="jiangsu"))
        write_changes(s)
        assert not s.dirty and profile.state == "asking"  # let go, still readable
        s.commit()
    with session(engine) as s:
        user, profile, _ = repo.user_turn(s, "t", "42")
        assert (profile.state, profile.current_fact, profile.province, user.chat_id) == (
            "asking", "cluster_revenue", "jiangsu", "99")
        assert s.get(Profile, profile.id) is profile and s.get(User, user.id) is user  # one object per row
    engine.dispose()


def test_a_column_left_out_gets_its_model_default_and_a_computed_one_is_refused(db_url):
    engine = make_engine(db_url)
    users = User.__table__
    given = ("channel", "external_id", "created_at")
    prepared = Prepared(insert(users).values(placeholders(given)).returning(users.c.id))
    with session(engine) as s:
        (user_id,), = prepared.rows(s, {"channel": "t", "external_id": "7", "created_at": WHEN})
        s.commit()
        assert s.get(User, user_id).last_tracked_number == 0  # the model's default, not NULL
    without_created_at = Prepared(insert(users).values(placeholders(given[:2])))
    with session(engine) as s, pytest.raises(ValueError, match="created_at"):
        without_created_at.run(s, {"channel": "t", "external_id": "8"})
    engine.dispose()


def test_a_unit_makes_a_session_only_when_asked_and_keeps_one_object_per_row(db_url):
    engine = official(db_url, "43", "集群", "另一个")
    # A turn that reads and writes through Prepared statements only: no Session is made.
    with unit(engine) as u:
        user, profile, _ = repo.user_turn(u, "t", "43")
        profile.state = "asking"
        repo.touch(u, profile)  # a kept object: its changes are written at commit
        repo.add_answer(u, profile, "area_km2", 10)
        assert u._session is None and [type(o) for o in u.dirty] == [Profile]
        u.commit()
    # A change made before the Session is needed is kept, and a query gets the same objects.
    with unit(engine) as u:
        user, profile, _ = repo.user_turn(u, "t", "43")
        assert (profile.name, profile.state) == ("另一个", "asking")
        profile.current_fact = "cluster_revenue"
        profiles = repo.user_profiles(u, user)  # a query: the Session is made, autoflushed first
        assert u._session is not None and profiles[1] is profile
        assert u.get(User, user.id) is user
        profiles[0].name = "改名"
        u.commit()
    # Left without a commit: nothing is written.
    with unit(engine) as u:
        _, profile, _ = repo.user_turn(u, "t", "43")
        profile.state = "done"
        repo.add_answer(u, profile, "area_km2", 20)
    with session(engine) as s:
        user, profile, _ = repo.user_turn(s, "t", "43")
        assert (profile.state, profile.current_fact) == ("asking", "cluster_revenue")
        assert [p.name for p in repo.user_profiles(s, user)] == ["改名", "另一个"]
        assert repo.current_answers(s, profile) == {"area_km2": 10}
    engine.dispose()


def test_stored_answers_the_catalogue_no_longer_accepts_are_set_aside(db_url):
    engine = official(db_url, "44", "集群")
    with session(engine) as s:
        _, profile, _ = repo.user_turn(s, "t", "44")
        repo.add_answer(s, profile, "area_km2", 10)
        repo.add_answer(s, profile, "hitech_count", 10**30 - 1)  # above a range added since
        repo.add_answer(s, profile, "removed_fact", 1)
        repo.add_answer(s, profile, "removed_too", skipped=True)
        repo.add_answer(s, profile, "accident_level", skipped=True)
        s.commit()
        for _ in range(2):  # the second time from what was remembered
            answers = repo.current_answers(s, profile)
            assert answers == {"area_km2": 10, "accident_level": repo.SKIPPED}
            assert answers.unreadable == [("hitech_count", 10**30 - 1), ("removed_fact", 1)]
    engine.dispose()


def test_a_turn_reads_only_the_answers_since_the_last_and_still_sees_every_change(db_url):
    """The answers a turn read are kept per profile once committed, and the next turn reads
    only the rows after them (storage/repo.py): what another worker added meanwhile (a
    restart included) is seen, and what a turn wrote and then undid is never kept."""
    here, elsewhere = official(db_url, "45", "集群"), make_engine(db_url)  # two workers, one database

    def answers_in_a_turn(engine, *adds, commit=True):
        with unit(engine) as u:
            _, profile, _ = repo.user_turn(u, "t", "45")
            for fact, value, source in adds:
                repo.add_answer(u, profile, fact, value, source=source)
            answers = dict(repo.current_answers(u, profile))
            if commit:
                u.commit()
            return answers

    assert answers_in_a_turn(here, ("area_km2", 10, "dialog")) == {"area_km2": 10}
    assert answers_in_a_turn(here) == {"area_km2": 10}  # from the kept ones and no new row
    assert answers_in_a_turn(elsewhere, ("hitech_count", 3, "dialog"), ("area_km2", None, "restart")) == {
        "hitech_count": 3}
    assert answers_in_a_turn(here) == {"hitech_count": 3}  # the other worker's rows, the restart too
    # Read, then undone: the rows it saw are gone, and SQLite gives a new row the same id again.
    assert answers_in_a_turn(here, ("area_km2", 99, "dialog"), commit=False) == {"hitech_count": 3, "area_km2": 99}
    assert answers_in_a_turn(elsewhere, ("area_km2", 12, "dialog")) == {"hitech_count": 3, "area_km2": 12}
    assert answers_in_a_turn(here) == {"hitech_count": 3, "area_km2": 12}
    with session(here) as s:  # and outside a turn, every row read as before
        _, profile, _ = repo.user_turn(s, "t", "45")
        assert repo.current_answers(s, profile) == {"hitech_count": 3, "area_km2": 12}
    here.dispose()
    elsewhere.dispose()


def test_the_answers_a_turn_reads_from_the_rows_since_the_last_are_those_every_row_gives(db_url):
    """Answers kept from the last turn and changed by the rows since (storage/repo.py) are
    the same, in the same order, with the same stored texts and set-aside values, as those
    read from every row, whatever the rows say: answers, changes, skips, restarts, values the
    catalogue does not accept, facts it no longer has."""
    import random

    engine = official(db_url, "46", "集群")
    rng = random.Random(7)
    readable = [("area_km2", 10), ("area_km2", 80), ("hitech_count", 3), ("total_output", {"2023": 30, "2024": 45}),
                ("accident_level", None), ("removed_too", None), ("pillar_industry", True), ("champion_count", 1)]
    unreadable = [("hitech_count", 10**30 - 1), ("removed_fact", 1)]
    for step in range(120):
        with unit(engine) as u:
            _, profile, _ = repo.user_turn(u, "t", "46")
            for _ in range(rng.choice((0, 1, 1, 2, 3))):
                fact, value = rng.choice(unreadable if rng.random() < 0.08 else readable)
                kind = rng.choices(("dialog", "skip", "restart"), (12, 3, 1))[0]
                repo.add_answer(u, profile, fact, value, skipped=kind == "skip" or value is None,
                                source="restart" if kind == "restart" else "dialog")
            kept = repo.current_answers(u, profile)
            u.commit()
        with session(engine) as s:
            every_row = repo.current_answers(s, profile)
        assert list(kept.items()) == list(every_row.items()), step
        assert (kept.texts, kept.unreadable) == (every_row.texts, every_row.unreadable), step
    engine.dispose()


def test_a_datetime_is_converted_as_the_column_converts_it_on_sqlite():
    """On SQLite a datetime column's two conversions are done in one (storage/prepared.py):
    the same text written and the same aware UTC datetime read, whatever the zone given; a
    naive datetime still refused as SQLModel refuses it."""
    import random

    from storage.prepared import _quicker_bind, _quicker_result

    dialect = make_engine("sqlite://").dialect
    column = Profile.__table__.c.updated_at.type
    own_bind = column.dialect_impl(dialect).bind_processor(dialect)
    own_result = column.dialect_impl(dialect).result_processor(dialect, None)
    bind, result = _quicker_bind(column, dialect), _quicker_result(column, dialect)
    assert bind is not own_bind and result is not own_result  # the quicker ones are used
    rng = random.Random(3)
    for _ in range(2000):
        zone = dt.timezone(dt.timedelta(minutes=rng.randrange(-14 * 60, 14 * 60 + 1)))
        value = dt.datetime(rng.randint(1900, 2100), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
                            rng.randint(0, 59), rng.randint(0, 59), rng.choice([0, rng.randint(0, 999_999)]),
                            tzinfo=zone)
        text = bind(value)
        assert text == own_bind(value)
        assert result(text) == own_result(text) and result(text).tzinfo == own_result(text).tzinfo
    for text in ("2026-11-23 10:00:00", "2026-11-23 10:00:00.5", None):  # written by others
        assert result(text) == own_result(text)
    assert bind(None) is None
    with pytest.raises(ValueError):
        bind(dt.datetime(2026, 1, 1))

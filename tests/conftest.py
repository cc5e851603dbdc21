"""Shared fixtures: an eligible cluster to vary, and evaluation helpers."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from engine import catalogue, evaluate, load_rulesets, validate_facts

DATA = Path(__file__).parent / "data"
ON = dt.date(2026, 1, 15)  # 近三年 = 2023–2025, the fixture's years; Shaanxi's term has ended (a notice)


def eligible_facts() -> dict:
    """A cluster that meets every criterion of all four measures (tests vary one fact)."""
    raw = json.loads((DATA / "eligible.json").read_text(encoding="utf-8"))
    raw.pop("name")
    return raw


def evaluate_with(jurisdiction: str, on: dt.date = ON, drop: tuple = (), **changes):
    """Evaluate the eligible cluster with some facts changed or dropped."""
    raw = copy.deepcopy(eligible_facts())
    raw.update(changes)
    for fact in drop:
        raw.pop(fact, None)
    facts, errors = validate_facts(raw, catalogue())
    assert not errors, errors
    return evaluate(facts, load_rulesets()[jurisdiction], on)


def series_as_of(on: dt.date) -> dict:
    """The fixture's series moved to the 近三年 of another evaluation date."""
    shift = on.year - 1 - 2025
    return {fact: {str(int(y) + shift): v for y, v in value.items()}
            for fact, value in eligible_facts().items() if isinstance(value, dict)}


def status_of(jurisdiction: str, criterion: str, **changes) -> str:
    return evaluate_with(jurisdiction, **changes).by_id(criterion).status


@pytest.fixture
def eligible():
    return eligible_facts()


# --- the databases: every test taking `db_url` runs on SQLite and on PostgreSQL ---------------

@pytest.fixture(scope="session")
def postgres():
    """One PostgreSQL server for the whole run (about 2 s to start)."""
    from bench.standins.postgres import PostgresServer, binaries

    bin_dir = binaries()
    if bin_dir is None:
        pytest.fail("PostgreSQL is not installed: .ci/run installs it (apt-get install postgresql)")
    server = PostgresServer(bin_dir).start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty database: a SQLite file, or a new database on the session's server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'clusterbot.db'}"
        return
    server = request.getfixturevalue("postgres")
    url = server.database()
    yield url
    server.drop(url)  # and the connections the test's engines still hold

"""The one database engine: SQLite in WAL mode by default, any SQLAlchemy URL by
configuration. Nothing SQLite-only appears in the queries; the pragmas below are set only
when the URL is SQLite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from . import migrate, models, tracking  # noqa: F401  (registers the tables)

ENV_URL = "CLUSTERBOT_DB"


def default_url() -> str:
    """`CLUSTERBOT_DB`, or a SQLite file in the user's data directory."""
    if os.environ.get(ENV_URL):
        return os.environ[ENV_URL]
    folder = Path(platformdirs.user_data_dir("clusterbot", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'clusterbot.db'}"


def normalise_url(url: str) -> str:
    """Accept a bare file path as well as a URL."""
    if "://" in url:
        return url
    return f"sqlite:///{Path(url).expanduser().resolve()}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # the transactions are begun by _sqlite_begin
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")   # wait for another writer instead of failing
    cursor.execute("PRAGMA journal_mode=WAL")     # readers do not block the writer
    cursor.execute("PRAGMA synchronous=FULL")     # an acknowledged answer survives a crash
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection) -> None:
    # Take the write lock at the start: a transaction that reads and then writes would fail
    # with "database is locked" when another wrote meanwhile; this one waits its turn instead
    # (what SELECT … FOR UPDATE on the user does on PostgreSQL).
    # (On the driver's connection: this runs before every transaction, and SQLAlchemy's
    # statement machinery would cost more than the statement.)
    driver = connection.connection.driver_connection
    if not driver.in_transaction:  # a turn's Unit may have begun it already (storage/prepared.py)
        driver.execute("BEGIN IMMEDIATE")


def make_engine(url: str | None = None) -> Engine:
    url = normalise_url(url or default_url())
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    migrate.upgrade(engine)  # `clusterbot db upgrade`, at every start
    return engine


def session(engine: Engine) -> Session:
    # Objects stay readable after commit: replies are rendered from them.
    return Session(engine, expire_on_commit=False)


@contextmanager
def light_session(engine: Engine) -> Iterator[Session]:
    """A session whose commits wait for no fsync (SQLite: synchronous=NORMAL on its own
    connection, FULL again after): for writes whose loss in a power cut is harmless, the
    outbox's leases and marks (a reply is then sent again). Elsewhere a plain session."""
    if engine.dialect.name != "sqlite":
        with session(engine) as s:
            yield s
        return
    with engine.connect() as conn:
        # On the driver's connection: SQLite refuses the pragma inside a transaction, and every
        # statement through SQLAlchemy begins one (BEGIN IMMEDIATE, above).
        raw = conn.connection.dbapi_connection
        raw.execute("PRAGMA synchronous=NORMAL")
        try:
            with Session(bind=conn, expire_on_commit=False) as s:
                yield s
        finally:
            conn.rollback()
            raw.execute("PRAGMA synchronous=FULL")

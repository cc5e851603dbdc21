"""The one database engine: SQLite in WAL mode by default, any SQLAlchemy URL by
configuration. Nothing SQLite-only appears in the queries; the pragmas below are set only
when the URL is SQLite."""

from __future__ import annotations

import os
import re
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
    return f"sqlite:///{folder / 'clusterbot.db'}"  # the folder is made where it is opened (make_engine)


def normalise_url(url: str) -> str:
    """Accept a bare file path as well as a URL; `postgres://` and `postgresql://` (as libpq
    and many hosting panels write them) are read with psycopg 3, the driver installed."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    scheme, rest = url.split("://", 1)
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    return url


class DatabaseUnavailable(Exception):
    """The database cannot be opened at start: `kind` says which setting is wrong ("url": not
    a URL this product reads; "url_syntax": a URL that cannot be parsed; "connect": no
    database answers there; "file": a SQLite file that cannot be made or written; "locked":
    one another process keeps locked; "not_sqlite": a file that is no SQLite database, or
    damaged; "privilege": a user that may not do what the upgrade does; "revision": a schema a
    newer version made), `url` names it without its password, `reason` is the driver's or
    the system's first line. bot.cli says it in one line, in the user's language."""

    def __init__(self, kind: str, url: str, reason: str):
        super().__init__(f"{kind}: {url}: {reason}")
        self.kind, self.url, self.reason = kind, url, reason


def shown_url(url: str) -> str:
    """The URL as a message may show it: its password hidden."""
    # Up to the last @: a password with an unencoded @ or / would otherwise show its tail.
    url = re.sub(r"(://[^:/@?#]*):.*@", r"\1:***@", url)
    return re.sub(r"([?&]password=)[^&]*", r"\1***", url)  # libpq's own parameter, as in ?host=/run/postgresql


@contextmanager
def opening(url: str) -> Iterator[None]:
    """Around what opens the database at `url` (an engine made, its first connection): a URL
    this product cannot read, a database that does not answer or a SQLite file that cannot be
    made or written raises DatabaseUnavailable, naming which (a fault of the schema or of ours
    stays as it is). Every command opens its database through it."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    shown = shown_url(url)
    sqlite = url.startswith("sqlite")
    try:
        make_url(url)
    except ValueError:  # a port that is no number: mostly a password's unencoded : @ / #
        raise DatabaseUnavailable("url_syntax", shown, "") from None  # its words may quote the password
    try:
        yield
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise DatabaseUnavailable("url", shown, first_line(exc)) from None
    except OSError as exc:  # the SQLite file's folder cannot be made
        raise DatabaseUnavailable("file", shown, first_line(exc)) from None
    except migrate.UnknownRevision as exc:
        raise DatabaseUnavailable("revision", shown, exc.revision) from None
    except Exception as exc:
        if sqlite and storage_fault(exc) == "locked":  # another process holds the write lock
            raise DatabaseUnavailable("locked", shown, first_line(exc)) from None
        if not isinstance(exc, DBAPIError):
            raise
        name = type(exc.orig).__name__  # sqlite3's, psycopg's: the DB-API's name
        if sqlite and name == "DatabaseError":  # a file of something else, or damaged: not ours to read
            raise DatabaseUnavailable("not_sqlite", shown, first_line(exc)) from None
        if getattr(exc.orig, "sqlstate", None) == "42501":  # insufficient_privilege: the upgrade's DDL
            raise DatabaseUnavailable("privilege", shown, first_line(exc)) from None
        if name != "OperationalError":
            raise
        raise DatabaseUnavailable("file" if sqlite else "connect", shown, first_line(exc)) from None


# What keeps a database from taking a write, by SQLite's result code and PostgreSQL's SQLSTATE.
_SQLITE_FAULTS = (("SQLITE_FULL", "full"), ("SQLITE_READONLY", "readonly"), ("SQLITE_BUSY", "locked"),
                  ("SQLITE_LOCKED", "locked"), ("SQLITE_IOERR", "unavailable"), ("SQLITE_CANTOPEN", "unavailable"))
_PG_FAULTS = {"53100": "full", "25006": "readonly", "55P03": "locked"}


def storage_fault(exc: BaseException) -> str | None:
    """"full", "readonly", "locked" or "unavailable" when `exc` (or what caused it) is the
    database refusing a write for a reason of its own, which an operator can mend and the same
    message may then pass; None for anything else (a bug of ours)."""
    seen: BaseException | None = exc
    for _ in range(5):  # the driver's error, SQLAlchemy's wrapping, an error raised handling it
        if seen is None:
            return None
        inner = getattr(seen, "orig", None) or seen
        name = getattr(inner, "sqlite_errorname", None) or ""
        for prefix, fault in _SQLITE_FAULTS:
            if name.startswith(prefix):
                return fault
        state = getattr(inner, "sqlstate", None) or ""
        if state in _PG_FAULTS:
            return _PG_FAULTS[state]
        if state.startswith(("08", "57P")) or (
                type(inner).__module__.startswith("psycopg") and type(inner).__name__ == "OperationalError"):
            return "unavailable"  # the server gone or shutting down
        seen = seen.__cause__ or seen.__context__
    return None


def first_line(exc: BaseException) -> str:
    """The driver's own words, without SQLAlchemy's wrapping ("(psycopg.OperationalError) …",
    the background link): its first line, which names the cause."""
    inner = getattr(exc, "orig", None) or exc
    if isinstance(inner, OSError) and inner.strerror:
        return f"{inner.strerror}: {inner.filename}" if inner.filename else inner.strerror
    lines = [line.strip() for line in str(inner).splitlines() if line.strip()]
    return lines[0] if lines else type(inner).__name__


BUSY_TIMEOUT_MS = 10_000  # how long a SQLite connection waits for another writer's lock


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # the transactions are begun by _sqlite_begin
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")   # wait for another writer instead of failing
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
    """The engine of `url` (a URL or a SQLite file's path; default: default_url), its database
    upgraded; one that cannot be opened raises DatabaseUnavailable (`opening`)."""
    url = normalise_url(url or default_url())
    with opening(url):
        if url.startswith("sqlite"):
            path = url.split(":///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                _writable(path)
            engine = create_engine(url, connect_args={"check_same_thread": False})
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = create_engine(url, pool_pre_ping=True)
        try:
            migrate.upgrade(engine)  # `clusterbot db upgrade`, at every start
        except Exception:
            engine.dispose()
            raise
    return engine


def _writable(path: str) -> None:
    """SQLite opens a file it may not write (its mode, a read-only mount, chattr +i) read-only
    without a word, and every answer typed would then fail: open the file and its WAL for
    writing here, so that such a file is refused at start (OSError, said by `opening`)."""
    for name in (path, f"{path}-wal"):
        try:
            os.close(os.open(name, os.O_RDWR))
        except FileNotFoundError:
            continue  # made by SQLite, in a folder that is checked as it is made


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

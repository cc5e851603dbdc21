"""Statements of every message, run on the driver's connection.

SQLAlchemy's statement machinery costs 40 to 300 µs per execution (more with ORM loading),
several times what SQLite itself takes; the few statements each message runs are therefore
written as Core statements as usual, compiled once per dialect, and executed on the
session's (or the Unit's) own DBAPI connection, inside its transaction, with the columns'
own conversions (a SQLite datetime is stored in the format SQLAlchemy writes, so
comparisons still hold). A turn runs on a Unit (below), which makes a Session only when
something needs the ORM.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, bindparam, inspect, update
from sqlalchemy.orm import Session, configure_mappers


class Prepared:
    """A Core statement, compiled once per dialect and driver; `run` executes it with a dict of the
    bind parameters' values, `rows` gives the result rows with the columns' conversions;
    either in a session's transaction or on a connection."""

    def __init__(self, statement):
        self.statement = statement
        self._by_dialect: dict[tuple[str, str], tuple] = {}
        self._last: tuple = (None, None)  # the dialect asked for last, and its compiled form

    def _compiled(self, dialect) -> tuple:
        if dialect is self._last[0]:  # a process has one engine, or a few
            return self._last[1]
        key = (dialect.name, dialect.driver)  # the driver decides the placeholders' style
        found = self._by_dialect.get(key)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            # name -> (its conversion, its value when not given: a literal's, such as a LIMIT)
            binds = {name: (_quicker_bind(bind.type, dialect), bind.value)
                     for bind, name in compiled.bind_names.items()}
            # A column left out of an INSERT gets its model default, as SQLAlchemy's execution
            # would give it; a computed default has no place on this path.
            for column in getattr(compiled, "insert_prefetch", ()):
                if not column.default.is_scalar:
                    raise ValueError(f"{column}: give it, its default is computed")
                binds[column.key] = (binds[column.key][0], column.default.arg)
            # (position, conversion) of the result columns that have one: a SELECT's, or RETURNING's
            results = tuple((i, process) for i, column in enumerate(self.statement.exported_columns)
                            if (process := _quicker_result(column.type, dialect)))
            order = compiled.positiontup  # None when the driver takes named parameters
            plan = tuple((name, *binds[name]) for name in (binds if order is None else order))
            found = (compiled.string, order is not None, plan, results)
            self._by_dialect[key] = found
        self._last = (dialect, found)
        return found

    def run(self, s: Session | Connection, params: dict[str, Any] | list[dict[str, Any]]):
        """The driver's cursor after the statement (a list of dicts: executemany)."""
        return self._execute(s, params)[0]

    def rows(self, s: Session | Connection, params: dict[str, Any]) -> list[tuple]:
        """All the result rows (fetched at once: no statement is left open in the transaction)."""
        cursor, results = self._execute(s, params)
        if not results:
            return cursor.fetchall()  # nothing to convert: the driver's rows as they are
        converted = []
        for row in cursor.fetchall():
            row = list(row)
            for i, process in results:  # a few columns of many (a user's and profile's times)
                row[i] = process(row[i])
            converted.append(tuple(row))
        return converted

    def _execute(self, s: Session | Connection | Unit, params):
        if type(s) is Unit:  # a turn's: its driver connection found once, not per statement
            dialect, driver = s.dialect, s.driver
        else:
            connection = s if isinstance(s, Connection) else s.connection()
            dialect, driver = connection.dialect, connection.connection.driver_connection
        sql, positional, plan, results = self._compiled(dialect)
        cursor = driver.cursor()
        if isinstance(params, list):
            cursor.executemany(sql, [self._convert(p, positional, plan) for p in params])
        else:
            cursor.execute(sql, self._convert(params, positional, plan))
        return cursor, results

    @staticmethod
    def _convert(params: dict, positional: bool, plan: tuple) -> Any:
        """The driver's parameters: each value converted, in the placeholders' order or by name."""
        values = [process(params.get(name, default)) if process else params.get(name, default)
                  for name, process, default in plan]
        return values if positional else dict(zip((name for name, _, _ in plan), values))


# An aware datetime on SQLite: the column's conversions (SQLModel's UTCDateTime, then the
# dialect's DATETIME text) are two calls and a dict a value, five to eight times a message;
# the same text is written, or read back, in one. Each is used only where it gives the same
# values as the column's own conversion, checked with these when a statement is compiled.
_SAMPLES = [dt.datetime(2026, 11, 23, 2, 0, 0, 0, tzinfo=dt.timezone.utc),
            dt.datetime(2026, 11, 23, 10, 0, 5, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8))),
            dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.timezone(dt.timedelta(hours=-5))), None]


def _datetime_text(value: dt.datetime | None, _utc=dt.timezone.utc) -> str | None:
    if value is None:
        return None
    value = value.astimezone(_utc)
    return "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (value.year, value.month, value.day, value.hour,
                                                   value.minute, value.second, value.microsecond)


def _quicker_bind(type_, dialect):
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    if process is None or dialect.name != "sqlite":
        return process

    def quicker(value):
        if value is not None and value.utcoffset() is None:
            return process(value)  # naive: the column's own answer (SQLModel refuses it)
        return _datetime_text(value)

    return _if_alike(quicker, process, _SAMPLES)


def _quicker_result(type_, dialect):
    process = type_.dialect_impl(dialect).result_processor(dialect, None)
    if process is None or dialect.name != "sqlite":
        return process
    read, utc = dt.datetime.fromisoformat, dt.timezone.utc

    def quicker(text):
        if text is None:
            return None
        try:
            value = read(text)
        except (TypeError, ValueError):
            return process(text)
        return value.replace(tzinfo=utc) if value.tzinfo is None else process(text)

    return _if_alike(quicker, process, [_datetime_text(v) for v in _SAMPLES])


def _if_alike(quicker, process, samples):
    """`quicker` where it gives what the column's `process` gives for every sample (the same
    type, value and zone), else `process`."""
    def alike(a, b) -> bool:
        return type(a) is type(b) and a == b and getattr(a, "tzinfo", None) == getattr(b, "tzinfo", None)

    try:
        return quicker if all(alike(quicker(v), process(v)) for v in samples) else process
    except Exception:  # noqa: BLE001 - a conversion that refuses a sample: the column's own
        return process


def adopt(s: Session | Unit, model, values: dict[str, Any]):
    """An instance of `model` with these column values (every column's), in the session as
    if a query had loaded it (persistent, unchanged): later changes are flushed as the ORM's
    would be."""
    # Made as SQLAlchemy's loading makes them: the values set in place, no change recorded
    # (the model's constructor records each as a change, 15 µs an attribute), and the
    # identity key set (what make_transient_to_detached does, with nothing to reset: 10 µs).
    mapper = _mapper(model)
    instance = mapper.class_manager.new_instance()
    instance.__dict__.update(values)
    instance._sa_instance_state.key = mapper.identity_key_from_primary_key(
        [values[column.key] for column in mapper.primary_key])
    if isinstance(s, Unit):
        s.keep(instance)
    else:
        s.add(instance)
    return instance


@lru_cache(maxsize=None)
def _mapper(model):
    configure_mappers()  # once: the attributes' machinery is set up with the first query
    return inspect(model)


def placeholders(names) -> dict[str, Any]:
    """A statement's values as bind parameters of the same names: {"fact": bindparam("fact"), …},
    for an INSERT or UPDATE whose values come with each run."""
    return {name: bindparam(name) for name in names}


_UPDATES: dict[tuple[str, tuple[str, ...]], Prepared] = {}


def write_changes(s: Session | Unit) -> None:
    """The changed columns of each changed object in the session, in one UPDATE of its row
    on the driver's connection; the objects are then let go (their values stay readable).
    For the end of a turn: the ORM's unit of work takes some 200 µs for one changed row."""
    for instance in list(s.dirty):
        state = inspect(instance)
        if len(state.mapper.primary_key) != 1:
            continue  # a row named by several columns: left to the ORM's flush
        table, (key_column,) = state.mapper.local_table, state.mapper.primary_key
        # committed_state: the first value of each attribute set since loading (what
        # `unmodified` leaves out, without a look at every other column)
        changed = tuple(sorted(key for key in state.committed_state if key in state.mapper.column_attrs))
        if changed:
            update_of = _UPDATES.get((table.name, changed))
            if update_of is None:
                update_of = _UPDATES[(table.name, changed)] = Prepared(
                    update(table).where(key_column == bindparam("key_"))
                    .values(placeholders(changed)))
            update_of.run(s, {**{key: state.dict[key] for key in changed}, "key_": state.identity[0]})
        if state.session_id is not None:
            state.session.expunge(instance)


class Unit:
    """One message's transaction on one connection, with an ORM Session on it made only
    when something needs one (a query, a new object): a turn that reads and writes its
    rows through Prepared statements never pays for a Session's transaction (some 80 µs).
    It stands in for the Session: what it does not do itself is the Session's."""

    def __init__(self, connection: Connection):
        self.conn = connection
        self.dialect = connection.dialect
        self.driver = connection.connection.driver_connection  # the DBAPI's, for Prepared
        # On SQLite the transaction is begun on the driver (`unit`) and the connection is the
        # thread's own (_turn_connection); elsewhere SQLAlchemy's, on a connection of the pool.
        self.sqlite = connection.dialect.name == "sqlite"
        self.loaded: list = []  # instances read by Prepared statements (adopt), in no session yet
        self._session: Session | None = None
        self.on_commit: list = []  # called once the transaction is committed (what it read is then true)

    def connection(self) -> Connection:
        return self.conn

    def get_bind(self) -> Connection:
        return self.conn

    @property
    def session(self) -> Session:
        if self._session is None:
            # On the connection's transaction, which this Session neither commits nor ends.
            from sqlmodel import Session as ModelSession  # with .exec, as storage.db.session's

            self._session = ModelSession(bind=self.conn, expire_on_commit=False)
            for instance in self.loaded:
                self._session.add(instance)  # one object per row, as if the session had read it
        return self._session

    def __getattr__(self, name: str):
        return getattr(self.session, name)

    def keep(self, instance) -> None:
        self.loaded.append(instance)
        if self._session is not None:
            self._session.add(instance)

    def add(self, instance) -> None:
        if self._session is not None or not any(instance is kept for kept in self.loaded):
            self.session.add(instance)  # a kept one's changes are written at commit anyway

    @property
    def dirty(self) -> list:
        if self._session is not None:
            return list(self._session.dirty)
        return [instance for instance in self.loaded if inspect(instance).modified]

    def commit(self) -> None:
        write_changes(self)
        if self._session is not None:
            self._session.flush()
        if self.conn.in_transaction():
            self.conn.commit()
        else:
            self.driver.commit()  # begun on the driver (`unit`, SQLite), and no Session joined it
        for call in self.on_commit:
            call()
        self.on_commit.clear()

    def __enter__(self) -> Unit:
        return self

    def __exit__(self, *_exc) -> None:
        # (A class's, not contextlib's: its generator was a fiftieth of a message.)
        try:
            self.close()
        finally:
            if not self.sqlite:
                self.conn.close()  # back to the pool

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
        if self.conn.in_transaction():
            self.conn.rollback()  # a turn that failed before its commit
        elif self.sqlite and self.driver.in_transaction:
            self.driver.rollback()  # the same, begun on the driver


_KEPT = threading.local()  # this thread's SQLite connection for turns: (engine, connection)


def _turn_connection(engine) -> Connection:
    """On SQLite, a connection kept per thread for the turns (a file handle: the pool's
    checkout, return and reset were a twentieth of a message's instructions); one per
    thread at a time, the previous engine's given back. Elsewhere the pool's, with its
    checks (a PostgreSQL connection may have been dropped meanwhile)."""
    if engine.dialect.name != "sqlite":
        return engine.connect()
    kept = getattr(_KEPT, "pair", None)
    if kept is not None and kept[0] is engine and not kept[1].closed and not kept[1].invalidated:
        return kept[1]
    if kept is not None:
        kept[1].close()
    _KEPT.pair = (engine, engine.connect())
    return _KEPT.pair[1]


@contextmanager
def reading(engine) -> Iterator[Connection]:
    """A connection for a read outside any transaction, run through Prepared statements
    (on the driver's connection, which on SQLite commits each statement itself: no write
    lock is taken): on SQLite the thread's turn connection, elsewhere the pool's."""
    if engine.dialect.name == "sqlite":
        yield _turn_connection(engine)
        return
    with engine.connect() as conn:
        yield conn


def unit(engine) -> Unit:
    """A Unit on a new transaction of one of the engine's connections (begun at once: on
    SQLite the write lock is taken at the start, storage/db.py), for a `with` that ends it."""
    u = Unit(_turn_connection(engine))
    try:
        if u.sqlite:
            # On the driver: SQLAlchemy's begin and commit were a twentieth of a message. A
            # Session made later joins it (SQLAlchemy's begin then finds it open: storage/db.py).
            u.driver.execute("BEGIN IMMEDIATE")
        else:
            u.conn.begin()
    except BaseException:
        u.__exit__()
        raise
    return u

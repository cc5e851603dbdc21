"""Statements of every message, run on the driver's connection.

SQLAlchemy's statement machinery costs 40 to 300 µs per execution (more with ORM loading),
several times what SQLite itself takes; the few statements each message runs are therefore
written as Core statements as usual, compiled once per dialect, and executed on the
session's own DBAPI connection, inside its transaction, with the columns' own conversions
(a SQLite datetime is stored in the format SQLAlchemy writes, so comparisons still hold).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, inspect, update
from sqlalchemy.orm import Session, configure_mappers, make_transient_to_detached
from sqlalchemy.orm.instrumentation import manager_of_class


class Prepared:
    """A Core statement, compiled once per dialect and driver; `run` executes it with a dict of the
    bind parameters' values, `rows` gives the result rows with the columns' conversions;
    either in a session's transaction or on a connection."""

    def __init__(self, statement):
        self.statement = statement
        self._by_dialect: dict[tuple[str, str], tuple] = {}

    def _compiled(self, dialect) -> tuple:
        key = (dialect.name, dialect.driver)  # the driver decides the placeholders' style
        found = self._by_dialect.get(key)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            # name -> (its conversion, its value when not given: a literal's, such as a LIMIT)
            binds = {name: (bind.type.dialect_impl(dialect).bind_processor(dialect), bind.value)
                     for bind, name in compiled.bind_names.items()}
            # A column left out of an INSERT gets its model default, as SQLAlchemy's execution
            # would give it; a computed default has no place on this path.
            for column in getattr(compiled, "insert_prefetch", ()):
                if not column.default.is_scalar:
                    raise ValueError(f"{column}: give it, its default is computed")
                binds[column.key] = (binds[column.key][0], column.default.arg)
            results = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                       for column in self.statement.exported_columns]  # a SELECT's, or RETURNING's
            found = (compiled.string, compiled.positiontup, binds, results)
            self._by_dialect[key] = found
        return found

    def run(self, s: Session | Connection, params: dict[str, Any] | list[dict[str, Any]]):
        """The driver's cursor after the statement (a list of dicts: executemany)."""
        return self._execute(s, params)[0]

    def rows(self, s: Session | Connection, params: dict[str, Any]) -> list[tuple]:
        """All the result rows (fetched at once: no statement is left open in the transaction)."""
        cursor, results = self._execute(s, params)
        if not any(results):
            return cursor.fetchall()  # nothing to convert: the driver's rows as they are
        return [tuple(process(value) if process else value for process, value in zip(results, row))
                for row in cursor.fetchall()]

    def _execute(self, s: Session | Connection, params):
        connection = s.connection() if isinstance(s, Session) else s
        sql, order, binds, results = self._compiled(connection.dialect)
        cursor = connection.connection.driver_connection.cursor()
        if isinstance(params, list):
            cursor.executemany(sql, [self._convert(p, order, binds) for p in params])
        else:
            cursor.execute(sql, self._convert(params, order, binds))
        return cursor, results

    @staticmethod
    def _convert(params: dict, order, binds) -> Any:
        values = {}
        for name, (process, default) in binds.items():
            value = params.get(name, default)
            values[name] = process(value) if process else value
        return [values[name] for name in order] if order is not None else values


def adopt(s: Session, model, values: dict[str, Any]):
    """An instance of `model` with these column values, in the session as if a query had
    loaded it (persistent, unchanged): later changes are flushed as the ORM's would be."""
    # Made as SQLAlchemy's loading makes them: the values set in place, no change recorded
    # (the model's constructor records each as a change, 15 µs an attribute).
    configure_mappers()  # once: the attributes' machinery is set up with the first query
    instance = manager_of_class(model).new_instance()
    instance.__dict__.update(values)
    make_transient_to_detached(instance)
    s.add(instance)
    return instance


def placeholders(names) -> dict[str, Any]:
    """A statement's values as bind parameters of the same names: {"fact": bindparam("fact"), …},
    for an INSERT or UPDATE whose values come with each run."""
    return {name: bindparam(name) for name in names}


_UPDATES: dict[tuple[str, tuple[str, ...]], Prepared] = {}


def write_changes(s: Session) -> None:
    """The changed columns of each changed object in the session, in one UPDATE of its row
    on the driver's connection; the objects are then let go (their values stay readable).
    For the end of a turn: the ORM's unit of work takes some 200 µs for one changed row."""
    for instance in list(s.dirty):
        state = inspect(instance)
        if len(state.mapper.primary_key) != 1:
            continue  # a row named by several columns: left to the ORM's flush
        table, (key_column,) = state.mapper.local_table, state.mapper.primary_key
        changed = tuple(sorted(key for key in state.mapper.column_attrs.keys() if key not in state.unmodified))
        if changed:
            update_of = _UPDATES.get((table.name, changed))
            if update_of is None:
                update_of = _UPDATES[(table.name, changed)] = Prepared(
                    update(table).where(key_column == bindparam("key_"))
                    .values(placeholders(changed)))
            update_of.run(s, {**{key: state.dict[key] for key in changed}, "key_": state.identity[0]})
        s.expunge(instance)

"""Alembic's environment: the tables of storage.models and storage.tracking, on the
connection `storage.migrate` hands over (no alembic.ini, no URL of its own)."""

from alembic import context
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from storage import models, tracking  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata


def render_item(kind, obj, autogen_context):
    """A column of a decorated type (sqlmodel's AutoString, UTCDateTime) is written as the
    plain type it stores, so that a revision never imports the application's code."""
    if kind == "type" and isinstance(obj, TypeDecorator):
        impl = obj.impl_instance if hasattr(obj, "impl_instance") else obj.impl
        return f"sa.{impl!r}"
    return False


def run_migrations_online() -> None:
    connection = context.config.attributes["connection"]
    # SQLite alters a table by copying it: batch mode does that for every ALTER.
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, compare_type=True,
                      render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()

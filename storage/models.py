"""The tables. Answers are never overwritten: each answer or edit is a new row, so the
current answer of a fact is its latest row and a reviewer can read what changed."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from pydantic import ConfigDict
from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm.attributes import set_attribute
from sqlmodel import Field, SQLModel


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Table(SQLModel):
    """The base of every table. Rows are made by SQLAlchemy and by their constructors, which
    validate nothing: pydantic's validator of a table is built when first asked for, not
    at every start."""

    model_config = ConfigDict(defer_build=True)

    def __setattr__(self, name: str, value) -> None:
        # A column set as SQLModel sets it, less pydantic's half: SQLAlchemy's set_attribute
        # writes the instance's __dict__ (which pydantic reads) and records the change, and
        # pydantic's would only write it again, validating nothing (no validate_assignment).
        # A turn sets five or so columns, some 5 µs each the whole way.
        columns = _COLUMN_ATTRIBUTES.get(type(self))
        if columns is None:
            columns = _COLUMN_ATTRIBUTES[type(self)] = frozenset(
                sa_inspect(type(self)).column_attrs.keys()) if hasattr(type(self), "__table__") else frozenset()
        if name in columns:
            # A column set to the value it holds changes nothing (a turn sets the profile's
            # state, question and pending each time, most often as they were): not recorded.
            held = self.__dict__.get(name, _UNSET)
            if held is value or (held == value and type(held) is type(value)):
                return
            set_attribute(self, name, value)
        else:
            super().__setattr__(name, value)


_COLUMN_ATTRIBUTES: dict[type, frozenset[str]] = {}
_UNSET = object()


class User(Table, table=True):
    """A person on a channel (the terminal, a Telegram account)."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    external_id: str = Field(max_length=64)
    display_name: str = Field(default="", max_length=200)
    lang: str = Field(default="zh", max_length=8)
    active_profile_id: Optional[int] = Field(default=None)
    chat_id: Optional[str] = Field(default=None, max_length=64)  # where reminders go
    # The number of the user's last tracked cluster: the next one's is taken from here by one
    # UPDATE … RETURNING, so two at once never get the same number (storage/tracking.py).
    last_tracked_number: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: dt.datetime = Field(default_factory=utcnow)


class Profile(Table, table=True):
    """One cluster an official pre-screens: its name, the measures chosen, and where the
    dialog stands (the state and the question being asked)."""

    __tablename__ = "profiles"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    name: str = Field(max_length=200)
    measures: str = Field(default="", max_length=100)  # comma list of jurisdictions
    # The cluster's province (a provincial jurisdiction, or "other"): another province's
    # measure is evaluated for comparison only. None until asked or derived.
    province: Optional[str] = Field(default=None, max_length=32)
    lang: str = Field(default="zh", max_length=8)
    state: str = Field(default="choose_measures", max_length=32)
    current_fact: Optional[str] = Field(default=None, max_length=64)
    # A value awaiting confirmation, a pick list shown, the way back: small JSON.
    pending: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    deleted: bool = Field(default=False)


class Answer(Table, table=True):
    """One answer to one question, or a skip (value null); later rows supersede earlier ones."""

    __tablename__ = "answers"
    __table_args__ = (Index("ix_answers_profile_fact", "profile_id", "fact", "id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="profiles.id")
    fact: str = Field(max_length=64)
    value_json: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    skipped: bool = Field(default=False)
    source: str = Field(default="dialog", max_length=16)  # dialog | edit | import
    created_at: dt.datetime = Field(default_factory=utcnow)


class ProcessedUpdate(Table, table=True):
    """An incoming update already handled: a redelivered one is recognised and ignored."""

    __tablename__ = "processed_updates"

    channel: str = Field(primary_key=True, max_length=32)
    update_id: str = Field(primary_key=True, max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow)


UNFINISHED = "sent_at IS NULL AND refused_at IS NULL"  # an outbox row neither sent nor given up


class OutboxMessage(Table, table=True):
    """A reply committed together with what it acknowledges, then delivered (bot/delivery.py):
    a reply the channel failed to take (rate limit, timeout, restart) is retried, never lost.
    Channel-neutral: the payload is the dialog's `Reply` as JSON, rendered by the channel."""

    __tablename__ = "outbox"
    # The rows still to send, per chat, in order: what every turn, claim and tick looks for.
    # Partial, so that neither the lookups nor the index grow with the rows sent long ago;
    # and the only index that begins with the channel, so SQLite's planner, which knows no
    # sizes, takes it. A sent message by its id (what a press was made on) has the other.
    # (PostgreSQL's condition: `dialect_options`.)
    __table_args__ = (Index("ix_outbox_pending", "channel", "chat_id", "id", sqlite_where=text(UNFINISHED)),
                      Index("ix_outbox_sent", "sent_message_id", "chat_id", "channel"))

    id: Optional[int] = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    chat_id: str = Field(max_length=64)
    payload: str = Field(sa_column=Column(Text, nullable=False))  # Reply.to_json()
    edit_of: Optional[str] = Field(default=None, max_length=64)  # the channel's id of a message to update
    created_at: dt.datetime = Field(default_factory=utcnow)
    next_attempt_at: dt.datetime = Field(default_factory=utcnow)
    attempts: int = Field(default=0)
    # A lease: the sender that claimed the row, until when; an expired lease is claimable again.
    claimed_by: Optional[str] = Field(default=None, max_length=64)
    claimed_until: Optional[dt.datetime] = Field(default=None)
    sent_at: Optional[dt.datetime] = Field(default=None)
    sent_message_id: Optional[str] = Field(default=None, max_length=64)  # the channel's id of the sent message
    refused_at: Optional[dt.datetime] = Field(default=None)  # given up: the channel refused it
    refused_reason: Optional[str] = Field(default=None, max_length=500)
    error: Optional[str] = Field(default=None, max_length=500)  # the last "later" reason


def dialect_options(dialect: str) -> None:
    """The tables' PostgreSQL-only options, set before a PostgreSQL schema is made from the
    models or compared with them (storage/migrate.py); nothing for another dialect. Written
    in the table, a `postgresql_where` made SQLAlchemy load its PostgreSQL dialect at every
    start of every command, to check the keyword: some 15 ms of the chat's start, which never
    needs it."""
    if dialect != "postgresql":
        return
    for index in OutboxMessage.__table__.indexes:
        if index.name == "ix_outbox_pending":
            index.dialect_kwargs["postgresql_where"] = text(UNFINISHED)

"""The few functions that read and write the tables. Every query is scoped to a user or to
a profile the caller already holds: a user only ever reaches their own profiles."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import weakref
from collections import OrderedDict
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, and_, bindparam, delete, exists, insert, type_coerce
from sqlmodel import Session, select

from engine import catalogue

from .models import Answer, ProcessedUpdate, Profile, User, utcnow
from .prepared import Prepared, Unit, adopt, placeholders

SKIPPED = object()  # the current answer of a fact the user chose to skip
MAX_ID = 2**63 - 1  # the largest row id: SQLite's and PostgreSQL's 64-bit integers


class Answers(dict):
    """fact -> current value. `unreadable`: stored (fact, value) pairs the catalogue no longer
    accepts (out of a range added since, a fact removed): they count as not answered, so no
    stored value can make a later command fail; the rows themselves are kept."""

    def __init__(self):
        super().__init__()
        self.unreadable: list[tuple[str, Any]] = []
        # fact -> the stored JSON of each value: what the answers hold, told more cheaply than
        # by writing them all as JSON again (dialogs/questions.py keys evaluations by it).
        # A value set without its text (below) leaves its fact out, so no text is stale.
        self.texts: dict[str, str] = {}

    def __setitem__(self, fact: str, value: Any) -> None:
        super().__setitem__(fact, value)
        self.texts.pop(fact, None)

    def set_stored(self, fact: str, value: Any, text: str) -> None:
        """A value with the JSON it is stored as."""
        super().__setitem__(fact, value)
        self.texts[fact] = text


_INSERTS_NEW: dict[tuple, Prepared] = {}


def insert_new(s: Session, model, **values) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True if the row is new. Insert first, never check
    then insert: of two workers inserting the same key at once, the second waits for the
    first's commit and then learns that it lost. (Every message of a channel that numbers
    its updates records one: the statement is built once per dialect, table and columns.)"""
    dialect = s.get_bind().dialect.name
    key = (dialect, model, tuple(values))
    prepared = _INSERTS_NEW.get(key)
    if prepared is None:
        if dialect == "postgresql":  # imported here: the PostgreSQL dialect is
            from sqlalchemy.dialects.postgresql import insert  # slow to load, and chat needs none
        else:
            from sqlalchemy.dialects.sqlite import insert
        table = model.__table__
        # RETURNING, not rowcount: an INSERT's rowcount is not reported on every driver.
        prepared = _INSERTS_NEW[key] = Prepared(
            insert(table).values(placeholders(values)).on_conflict_do_nothing()
            .returning(*table.primary_key.columns))
    return bool(prepared.rows(s, values))


def get_or_create_user(s: Session, channel: str, external_id: str, display_name: str = "",
                       lang: str = "zh") -> User:
    return user_turn(s, channel, external_id, display_name, lang)[0]


_TURN_QUERY = None


def _turn_query() -> Prepared:
    """Built once: the user's columns, their active profile's, and whether a /track draft
    is open, in one round trip (a turn's first statement)."""
    global _TURN_QUERY
    if _TURN_QUERY is None:
        from .tracking import TrackingDraft  # storage.tracking imports this module
        users, profiles = User.__table__, Profile.__table__
        _TURN_QUERY = Prepared(
            select(*users.columns, *profiles.columns, exists().where(TrackingDraft.user_id == users.c.id))
            .select_from(users.outerjoin(profiles, and_(profiles.c.id == users.c.active_profile_id,
                                                        profiles.c.user_id == users.c.id,
                                                        profiles.c.deleted == False)))  # noqa: E712
            .where(users.c.channel == bindparam("channel"), users.c.external_id == bindparam("external_id"))
            # Only the user's row is locked (a profile is reached through its user).
            .with_for_update(of=users))
    return _TURN_QUERY


def user_turn(s: Session, channel: str, external_id: str, display_name: str = "",
              lang: str = "zh") -> tuple[User, Profile | None, bool]:
    """The user (created if new), their active profile, and whether a /track draft is open.
    The user is locked until the transaction ends, so that their turns run one at a time
    whichever worker handles them (SELECT … FOR UPDATE OF users; SQLite's transactions hold
    the write lock from their start: storage/db.py). Read on the driver's connection and
    put in the session as loaded (storage/prepared.py): this is every message's first read."""
    params = {"channel": channel, "external_id": external_id}
    rows = _turn_query().rows(s, params)
    if not rows:
        insert_new(s, User, channel=channel, external_id=external_id, display_name=display_name[:200],
                   lang=lang, created_at=utcnow())
        rows = _turn_query().rows(s, params)
    row = rows[0]
    users, profiles = _COLUMN_NAMES
    user = adopt(s, User, dict(zip(users, row)))
    profile_row = row[len(users):len(users) + len(profiles)]
    profile = None if profile_row[0] is None else adopt(s, Profile, dict(zip(profiles, profile_row)))
    return user, profile, bool(row[-1])


_COLUMN_NAMES = (tuple(User.__table__.columns.keys()), tuple(Profile.__table__.columns.keys()))


def find_user(s: Session, channel: str, external_id: str) -> User | None:
    return s.exec(select(User).where(User.channel == channel, User.external_id == external_id)).first()


_USER_LANG = Prepared(select(User.lang).where(User.channel == bindparam("channel"),
                                              User.external_id == bindparam("external_id")))


def user_lang(conn, channel: str, external_id: str) -> str | None:
    """A user's language, or None for a user not known yet (a read on `prepared.reading`'s
    connection: a web message answers with it)."""
    found = _USER_LANG.rows(conn, {"channel": channel, "external_id": external_id})
    return found[0][0] if found else None


def user_profiles(s: Session, user: User) -> list[Profile]:
    """The user's clusters; a /new still waiting for its name is not one yet."""
    return list(s.exec(select(Profile).where(Profile.user_id == user.id, Profile.deleted == False,  # noqa: E712
                                             Profile.name != "").order_by(Profile.id)))


_NAMES = Prepared(select(Profile.name).where(Profile.user_id == bindparam("user_id"),
                                             Profile.deleted == False, Profile.name != ""))  # noqa: E712


def profile_names(s: Session, user: User) -> list[str]:
    """The names of the user's clusters (as user_profiles, the names alone, on the prepared
    path: a /new asks it, and the ORM's query was most of a /new). A user made by this very
    message has none."""
    if user.id is None:
        return []
    return [name for (name,) in _NAMES.rows(s, {"user_id": user.id})]


def own_profile(s: Session, user: User, profile_id: int | None, given_up_too: bool = False) -> Profile | None:
    """The profile only if it belongs to this user (a crafted id of another's gets None, and so
    does one no database row can have: forged button data never reaches SQL as an overflow).
    A cluster given up (deleted) is None too, unless `given_up_too`: its old buttons are the
    user's own, stale, not another's."""
    if profile_id is None or not 0 < profile_id <= MAX_ID:
        return None
    profile = s.get(Profile, profile_id)
    if profile is None or profile.user_id != user.id or (profile.deleted and not given_up_too):
        return None
    return profile


def active_profile(s: Session, user: User) -> Profile | None:
    return own_profile(s, user, user.active_profile_id)


_NEW_PROFILE = Prepared(insert(Profile.__table__).values(placeholders(
    ("user_id", "name", "lang", "state", "created_at", "updated_at"))).returning(*Profile.__table__.columns))


def create_profile(s: Session, user: User, name: str, lang: str) -> Profile:
    """A new profile, the user's active one (inserted on the driver's connection, its other
    columns the model's defaults, and read back as if loaded: the ORM's flush was a third
    of a /new)."""
    now = utcnow()
    (row,) = _NEW_PROFILE.rows(s, {"user_id": user.id, "name": name[:200], "lang": lang,
                                   "state": "naming" if not name else "choose_measures",
                                   "created_at": now, "updated_at": now})
    profile = adopt(s, Profile, dict(zip(_COLUMN_NAMES[1], row)))
    user.active_profile_id = profile.id
    s.add(user)
    return profile


def touch(s: Session, profile: Profile) -> None:
    profile.updated_at = utcnow()
    s.add(profile)


def answer_rows(s: Session, profile: Profile) -> list[Answer]:
    return list(s.exec(select(Answer).where(Answer.profile_id == profile.id).order_by(Answer.id)))


@lru_cache(maxsize=4096)
def _parsed(value_json: str) -> Any:
    return json.loads(value_json)


def _stored_value(value_json: str) -> Any:
    """A stored answer's value: the same texts recur on every message, parsed once; a series
    (or list) is copied, so that no caller changes the remembered one."""
    value = _parsed(value_json)
    return value.copy() if type(value) in (dict, list) else value


@lru_cache(maxsize=8192)
def _accepted(catalogue_id: int, fact: str, value_json: str) -> bool:
    """Whether the catalogue accepts a stored answer: the same answers are read on every
    message of a profile, each checked once."""
    return catalogue().accepts(fact, _parsed(value_json))


# `skipped` only as true or false: as the driver gives it (1 or true), with no conversion per row.
_CURRENT = Prepared(select(Answer.id, Answer.fact, Answer.value_json, type_coerce(Answer.skipped, Integer),
                           Answer.source)
                    .where(Answer.profile_id == bindparam("profile_id"), Answer.id > bindparam("after"))
                    .order_by(Answer.id))

# Per engine, the stored answers of the profiles of recent turns, as committed: profile id ->
# (the last row's id, fact -> its JSON or None when skipped, the catalogue's id, the Answers
# read from them). Rows are only ever added (a restart is a row too), and a profile's only
# within its user's turns, one at a time: a turn reads only the rows after that id, finds
# what every earlier row left, and changes only the answers of the facts those rows name.
_KEPT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
KEPT_PROFILES = 256


def current_answers(s: Session | Unit, profile: Profile) -> Answers:
    """fact -> current value (or SKIPPED); a fact cleared by a restart has no entry.
    (Read on the driver's connection: this runs on every message; in a turn, only the rows
    since the profile's last turn in this process.)"""
    kept_here = None
    if isinstance(s, Unit):
        kept_here = _KEPT.get(s.conn.engine)
        if kept_here is None:
            kept_here = _KEPT[s.conn.engine] = OrderedDict()
    # Taken out while the turn runs (its transaction may be undone): put back, as this turn
    # read it, once committed (below). So the answers kept can be the turn's own, uncopied.
    last, before, catalogue_id, kept = (kept_here.pop(profile.id, None) if kept_here is not None else None) or (
        0, {}, None, None)
    current: dict[str, str | None] = dict(before)  # fact -> the stored JSON, None when skipped
    named, restarted = [], False
    for last, fact, value_json, skipped, source in _CURRENT.rows(s, {"profile_id": profile.id, "after": last}):
        if source == "restart":
            current.pop(fact, None)
            restarted = True  # a fact answered again after it goes last: read anew
        else:
            current[fact] = None if skipped else value_json
        named.append(fact)
    cat = catalogue()
    answers = None
    if kept is not None and catalogue_id == id(cat) and not restarted:
        answers = _changed(kept, before, current, named, cat)
    if answers is None:
        answers = _read(current, cat)
    if kept_here is not None:  # kept once this turn's transaction is committed (it may be undone)
        read = (last, current, id(cat), _copy(answers))  # a copy: the caller may change its own
        s.on_commit.append(lambda: _keep(kept_here, profile.id, read))
    return answers


def _read(current: dict[str, str | None], cat) -> Answers:
    """The answers of a profile from each fact's last stored JSON, in the order facts were first answered."""
    answers = Answers()
    for fact, value_json in current.items():
        if value_json is None:
            if fact in cat.facts:  # a skip of a fact since removed is forgotten
                answers[fact] = SKIPPED
        elif _accepted(id(cat), fact, value_json):
            answers.set_stored(fact, _stored_value(value_json), value_json)
        else:
            answers.unreadable.append((fact, _stored_value(value_json)))
    return answers


def _changed(answers: Answers, before: dict, current: dict, named: list[str], cat) -> Answers | None:
    """`answers` (read from `before`) with the facts `named` by new rows (none a restart) as
    `_read(current)` would give them, in the same order; None where only a new reading does
    (a value the catalogue does not accept, a fact it no longer has, or one of those before:
    its place is where it was first answered)."""
    for fact in dict.fromkeys(named):
        if fact not in cat.facts or (fact in before and fact not in answers):
            return None
        value_json = current[fact]
        if value_json is None:
            answers[fact] = SKIPPED
        elif _accepted(id(cat), fact, value_json):
            answers.set_stored(fact, _stored_value(value_json), value_json)
        else:
            return None
    return answers


def _copy(answers: Answers) -> Answers:
    """Another Answers with the same values (a series or list copied, as `_stored_value` gives them)."""
    copy = Answers()
    dict.update(copy, {fact: value.copy() if type(value) in (dict, list) else value
                       for fact, value in answers.items()})
    copy.texts.update(answers.texts)
    copy.unreadable = list(answers.unreadable)
    return copy


def _keep(kept_here: OrderedDict, profile_id: int, read: tuple) -> None:
    kept_here[profile_id] = read
    kept_here.move_to_end(profile_id)
    if len(kept_here) > KEPT_PROFILES:
        kept_here.popitem(last=False)


_ADD_ANSWER = Prepared(insert(Answer.__table__).values(placeholders(
    ("profile_id", "fact", "value_json", "skipped", "source", "created_at"))))


def add_answer(s: Session, profile: Profile, fact: str, value: Any = None, skipped: bool = False,
               source: str = "dialog") -> str | None:
    """A new answer row (on the driver's connection: nothing reads it back as an object);
    returns the value's stored JSON (None for a skip or a restart)."""
    value_json = None if skipped or source == "restart" else json.dumps(value, ensure_ascii=False)
    _ADD_ANSWER.run(s, {"profile_id": profile.id, "fact": fact, "skipped": skipped, "source": source,
                        "created_at": utcnow(), "value_json": value_json})
    return value_json


# A platform delivers an update again within a day at most (Telegram keeps an unconfirmed
# one 24 hours; WeCom and DingTalk retry within minutes): a week is kept.
KEEP_PROCESSED = dt.timedelta(days=7)


def prune_processed(s: Session, now: dt.datetime) -> int:
    """Forget the updates handled more than KEEP_PROCESSED ago (in the caller's transaction)."""
    return s.exec(delete(ProcessedUpdate).where(ProcessedUpdate.created_at < now - KEEP_PROCESSED)).rowcount


def first_time(s: Session, channel: str, update_id: str) -> bool:
    """Record an incoming update; False if it was already handled (a redelivery, or the
    same update being handled by another worker right now)."""
    return insert_new(s, ProcessedUpdate, channel=channel, update_id=update_key(update_id), created_at=utcnow())


UPDATE_KEY = 64  # processed_updates.update_id


def update_key(update_id: str) -> str:
    """The key kept of an update's id: the id, or past UPDATE_KEY characters (a WeCom card
    press names its task, time and button) its digest, the same for the same id."""
    if len(update_id) <= UPDATE_KEY:
        return update_id
    return "sha256:" + hashlib.sha256(update_id.encode("utf-8", "surrogatepass")).hexdigest()[:UPDATE_KEY - 7]

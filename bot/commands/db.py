"""`clusterbot db`: the schema's migrations (storage/migrate.py). Every other command
upgrades the database at start already; these are for operators and for the next change."""

from __future__ import annotations

import sys
from . import HELP


def register(subparsers) -> None:
    p = subparsers.add_parser("db", help=HELP["db"],
                              description="Schema migrations (Alembic). `upgrade` is also run by every command at start.")
    p.add_argument("action", choices=["upgrade", "current", "revision"],
                   help="upgrade: to the newest revision; current: the database's revision and the newest; "
                        "revision: autogenerate the next revision from the models (give -m)")
    p.add_argument("--db", default=None, help="database URL or SQLite file (default: CLUSTERBOT_DB, or the user's file)")
    p.add_argument("-m", "--message", default=None, help="for revision: what changed and why")
    p.set_defaults(run=run)


def run(args) -> int:
    from sqlalchemy import create_engine

    from storage import migrate
    from storage.db import default_url, make_engine, normalise_url, opening

    from .common import cli_t

    url = normalise_url(args.db or default_url())
    if args.action == "revision":
        if not args.message:
            print(f"clusterbot db revision: {cli_t('db.no_message')}", file=sys.stderr)
            return 2
        # A plain engine: make_engine would build an empty database from the models, where
        # the revision must be the difference between the models and the revisions.
        with opening(url):
            migrate.revision(create_engine(url), args.message)
        return 0
    if args.action == "upgrade":
        make_engine(url).dispose()  # which upgrades
    with opening(url), create_engine(url).connect() as connection:
        print(cli_t("db.revisions", current=migrate.current(connection) or cli_t("db.none"), newest=migrate.head()))
    return 0

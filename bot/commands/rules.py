"""`clusterbot rules`: the criteria of each measure with their thresholds side by side."""

from __future__ import annotations

import sys

from bot.clock import Clock
from dialogs.compare import criteria_side_by_side, term_lines
from engine import load_rulesets

from . import HELP
from .common import add_common


def register(subparsers) -> None:
    p = subparsers.add_parser("rules", help=HELP["rules"])
    add_common(p)
    p.add_argument("--format", "-f", choices=["table", "markdown"], default="table")
    p.set_defaults(run=run)


def run(args, stdout=None) -> int:
    out = stdout or sys.stdout
    out.write(criteria_side_by_side(args.jurisdiction, args.lang, args.format) + "\n")
    # a measure whose own term has ended is listed as its articles read, and said so (today's date)
    notes = term_lines(args.jurisdiction, args.lang, Clock().today())
    if notes:
        out.write("\n" + "\n".join(("> " if args.format == "markdown" else "") + n for n in notes) + "\n")
    return 0

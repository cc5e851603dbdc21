"""`clusterbot ask TEXT`: a quick question answered with the matching criteria side by side, or
the articles on deadlines, duties and the measures' terms (in force today: CLUSTERBOT_FAKE_NOW moves it)."""

from __future__ import annotations

import sys

from bot.clock import Clock
from dialogs.compare import answer_question
from dialogs.messages import without_controls
from locales import t

from . import HELP
from .common import framed_error, lang_arg


def register(subparsers) -> None:
    p = subparsers.add_parser("ask", help=HELP["ask"])
    p.add_argument("text", nargs="+")
    p.add_argument("--lang", type=lang_arg, default="zh")
    p.set_defaults(run=run)


def run(args, stdout=None, stderr=None) -> int:
    question = without_controls(" ".join(args.text))  # quoted back when nothing matches
    if not question.strip():  # ask "": no question, as no argument is (exit 2), not "nothing found"
        print(framed_error(args.lang, "ask", t(args.lang, "cli.empty_question")), file=stderr or sys.stderr)
        return 2
    (stdout or sys.stdout).write(answer_question(question, args.lang, Clock().today()) + "\n")
    return 0

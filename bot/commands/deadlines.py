"""`clusterbot deadlines`: the deadline calendar of a certified cluster, as a table, JSON or
an iCalendar file (RFC 5545, by the icalendar library)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from bot.clock import Clock
from dialogs.reports import pad, text_width
from engine import certified_together
from engine.deadlines import (
    DEFAULT_HOUR, DEFAULT_LEAD_DAYS, DEFAULT_MINUTE, CertificationDateError, Deadline, Duty, LeadDaysError, calendars,
    certified_dates, check_certified_on, duties, first_validity_end, lead_days,
)
from engine.rules import add_years
from locales import fmt_date, t
from locales.deadlines import (
    CalendarEntry, consequence, describe, duties_block, duty_text, lead_days_refusal, refusal, summary, to_ics,
)

from . import HELP, common
from .common import cli_t, date_arg, jurisdictions_arg, lang_arg

EPILOG = """\
defaults: --from is the certification date; --until is one year after the last day of the
first three-year validity period, so the re-review deadline and the first annual report(s)
of the next period are included. Deadlines in later validity periods assume the re-review
passed; deadlines after a measure's own term ended are listed and flagged.
formats: table (terminal), json (an array: date, kind, jurisdiction, citation, article_text,
description, ...), ics (iCalendar: import into a calendar; re-importing updates the events;
each event's UID carries the --cluster name, so several clusters share one calendar; alarms
on the --alarms days before each deadline, those of the chat's reminders by default).
Exit status: 0 done, 2 bad arguments."""


def register(subparsers) -> None:
    p = subparsers.add_parser("deadlines", help=HELP["deadlines"],
        description="The deadlines of a cluster certified on a date under one or more measures:\n"
                    "annual reports, the end of each three-year validity period and the re-review,\n"
                    "and the end of a measure's own term, each with its article quoted verbatim.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    # Required (unlike elsewhere): a cluster is certified under particular measures, and the
    # calendar of all four at once would mislead.
    p.add_argument("--jurisdiction", "-j", type=certified_under_arg, required=True, metavar="J",
                   help="the measure(s) the cluster is certified under: national, one province "
                        "(jiangsu|guangdong|shaanxi), or both as a comma list (national,jiangsu; 国家,江苏)")
    p.add_argument("--certified-on", type=certified_on_arg, required=True, metavar="YYYY-MM-DD",
                   help="the certification date; certified under two measures, each its own: "
                        "national=YYYY-MM-DD,jiangsu=YYYY-MM-DD (国家=…,江苏=…)")
    p.add_argument("--from", dest="start", type=date_arg, default=None, metavar="YYYY-MM-DD",
                   help="first day listed (default: the certification date)")
    p.add_argument("--until", type=date_arg, default=None, metavar="YYYY-MM-DD",
                   help="last day listed (default: one year after the end of the first validity period, or after --from if that is later)")
    p.add_argument("--format", "-f", choices=["table", "json", "ics"], default="table",
                   help="table (default), json or ics")
    p.add_argument("--cluster", default="", metavar="NAME",
                   help="the cluster's name: in the calendar's name, each event's title and UID")
    # No default here: --help says "the chat's reminder days" (engine.deadlines.DEFAULT_LEAD_DAYS).
    p.add_argument("--alarms", type=days_arg, default=None, metavar="DAYS",
                   help="ics: alarms this many days before each deadline, a comma list (default: the chat's reminder days)")
    p.add_argument("--lang", type=lang_arg, default="zh", help="zh (default) or en")
    p.set_defaults(run=run)

    def error(message: str):
        """A bad argument is one line naming the option, exit 2: no usage block."""
        p.exit(2, argparse._("%(prog)s: error: %(message)s\n") % {"prog": p.prog, "message": message})

    p.error = error


def run(args, stdout=None, stderr=None) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    rulesets, certified_on, lang = args.jurisdiction, args.certified_on, args.lang
    if isinstance(certified_on, dict) and set(certified_on) != {r.jurisdiction for r in rulesets}:
        # each measure of -j its date, and no other: a date of another measure is no certification
        print(_error(lang, t(lang, "cli.certified_on_measures", given=_names(certified_on, lang),
                             chosen=_names([r.jurisdiction for r in rulesets], lang))), file=err)
        return 2
    start = args.start or min(certified_dates(rulesets, certified_on).values())
    # a --from past the default end (a later validity period) lists the year after it: the
    # --until never given is not said to come before it
    until = args.until or max(_default_until(rulesets, certified_on), _one_year_after(start))
    if until < start:
        print(_error(lang, t(lang, "cli.until_before_from", until=until, start=start)), file=err)
        return 2
    if until > (last := add_years(start, UNTIL_YEARS)):  # 9999-12-31 took tens of seconds, 19 MB of .ics
        print(_error(lang, t(lang, "cli.until_too_far", until=until, start=start, years=UNTIL_YEARS, last=last)),
              file=err)
        return 2
    clock = Clock()
    try:
        check_certified_on(rulesets, certified_on, clock.today())
    except CertificationDateError as error:
        print(_error(lang, _t_argparse(lang, "argument %(argument_name)s: %(message)s")
                     % {"argument_name": "--certified-on", "message": refusal(error, lang)}), file=err)
        return 2
    if isinstance(certified_on, dt.date) and len(rulesets) > 1:
        # national 第十二条: 并已认定为省级集群 — the province certified first, on its own day, and
        # each measure counts its three years from its own certification: one date for both
        # is said, not silently read as the province's.
        print(t(lang, "cli.one_date_two_measures", date=certified_on.isoformat()), file=err)
    deadlines = calendars(rulesets, certified_on, start, until)
    standing = duties(rulesets)
    if args.format == "json":
        items = [deadline_json(d, lang) for d in deadlines] + [duty_json(d, lang) for d in standing]
        out.write(json.dumps(items, ensure_ascii=False, indent=2) + "\n")
    elif args.format == "ics":
        # the chat's reminder days and time, unless other days are given
        alarms = DEFAULT_LEAD_DAYS if args.alarms is None else args.alarms
        # One line: a name is a calendar's and an event's title (a line break or a control
        # character in an iCalendar text is refused by the format).
        name = " ".join("".join(ch if ch.isprintable() else " " for ch in args.cluster).split())
        entry = CalendarEntry(name, certified_dates(rulesets, certified_on), deadlines, alarms, dt.time(DEFAULT_HOUR, DEFAULT_MINUTE))
        out.write(to_ics([entry], lang, clock.now()))
    else:
        out.write(table(deadlines, lang) + "\n\n" + duties_block(standing, lang) + "\n")
    return 0


UNTIL_YEARS = 100  # the furthest --until: some 33 validity periods, more than any cluster lives


def _error(lang: str, message: str) -> str:
    return common.framed_error(lang, "deadlines", message)


def _t_argparse(lang: str, text: str) -> str:
    return t(lang, f"argparse.{text}")


def certified_under_arg(text: str):
    """--jurisdiction: the measures of one cluster's certification, as the chat's /track takes
    them (national, one province, or both)."""
    rulesets = jurisdictions_arg(text, "bad_certified_under")  # no `all`: a cluster is certified by two at most
    if not certified_together([r.jurisdiction for r in rulesets]):
        raise argparse.ArgumentTypeError(cli_t("one_province"))
    return rulesets


def certified_on_arg(text: str):
    """--certified-on: one date for every measure (2024-06-01), or each measure's own
    (national=2024-06-01,jiangsu=2023-10-01; 国家=…，江苏=…; = or :) as {jurisdiction: date}."""
    import re
    import unicodedata

    from engine import parse_jurisdictions  # here: --help needs no engine

    text = unicodedata.normalize("NFKC", text).strip()
    if not re.search(r"[=:]", text):
        return date_arg(text)
    dates: dict[str, dt.date] = {}
    for part in filter(None, (p.strip() for p in re.split(r"[,、;]", text))):
        name, sep, day = [w.strip() for w in re.split(r"([=:])", part, maxsplit=1) + ["", ""]][:3]
        try:
            names = parse_jurisdictions(name)  # all, 全部 or nothing: every measure, refused below
        except ValueError:
            names = []
        if not sep or len(names) != 1 or names[0] in dates:
            raise argparse.ArgumentTypeError(cli_t("bad_certified_on", text=text, part=part))
        dates[names[0]] = date_arg(day)
    return dates


def _names(jurisdictions, lang: str) -> str:
    from engine import load_rulesets

    rulesets = load_rulesets()
    return t(lang, "list_sep").join(rulesets[j].short.get(lang) for j in jurisdictions)


def days_arg(text: str) -> tuple[int, ...]:
    """--alarms 30,7,1: days before a deadline, read as the chat's /remind reads them."""
    try:
        return lead_days(text)
    except LeadDaysError as error:
        raise argparse.ArgumentTypeError(lead_days_refusal(error, common.CLI_LANG)) from None


def _one_year_after(day: dt.date) -> dt.date:
    try:
        return add_years(day, 1)
    except ValueError:  # beyond year 9999
        return dt.date.max


def _default_until(rulesets, certified_on: dt.date) -> dt.date:
    """One year after the first validity period: its re-review and the next annual report(s)."""
    try:
        return add_years(first_validity_end(rulesets, certified_on), 1)
    except ValueError:  # beyond year 9999
        return dt.date.max


# --- wording: summary, describe and consequence are in locales/deadlines.py (shared with the chat)


def deadline_json(d: Deadline, lang: str) -> dict:
    return {
        "date": d.date.isoformat(),
        "kind": d.kind,
        "jurisdiction": d.jurisdiction,
        "citation": d.citation,
        "article_text": d.article_text,
        "description": describe(d, lang),
        "ruleset": d.ruleset,
        "summary": summary(d, lang),
        "consequence": consequence(d, lang),
        "report_year": d.report_year,
        "validity_period": d.period.cycle if d.period else None,
        "after_term_end": d.after_term_end,
        "due_on_certification_day": d.due_on_certification_day,
    }


def duty_json(d: Duty, lang: str) -> dict:
    """A standing duty among the deadlines: no date (null), kind standing_duty."""
    return {"date": None, "kind": "standing_duty", "jurisdiction": d.jurisdiction, "citation": d.citation,
            "article_text": d.article_text, "description": duty_text(d, lang), "gist": d.gist.get(lang),
            "ruleset": d.ruleset,
            "revocation": {"citation": d.revocation.citation, "article_text": d.revocation.article_text}}


# --- table --------------------------------------------------------------------------------

def table(deadlines: list[Deadline], lang: str) -> str:
    if not deadlines:
        return t(lang, "deadlines.table.empty")
    heads = [t(lang, f"deadlines.table.{k}") for k in ("date", "kind", "measure", "citation", "description")]
    rows = [[d.date.isoformat(), t(lang, f"deadlines.kind.{d.kind}"), d.measure.get(lang), d.citation,
             describe(d, lang)] for d in deadlines]
    # The description is last and not padded: it may be long, and wraps on its own.
    widths = [max(text_width(row[i]) for row in [heads] + rows) + 2 for i in range(4)]
    lines = [heads] + [["-" * (w - 2) for w in widths] + ["-" * text_width(heads[4])]] + rows
    return "\n".join("".join(pad(cell, w) for cell, w in zip(line, widths)) + line[4] for line in lines)


# --- iCalendar: locales/deadlines.py writes it (shared with the chat's /deadlines ics) ------

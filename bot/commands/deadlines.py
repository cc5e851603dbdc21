"""`clusterbot deadlines`: the deadline calendar of a certified cluster, as a table, JSON or
an iCalendar file (RFC 5545, written by hand: no runtime dependency for ~60 lines)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from bot.clock import Clock
from dialogs.reports import pad, text_width
from engine.deadlines import (
    CertificationDateError, Deadline, Duty, calendars, check_certified_on, duties, first_validity_end,
)
from engine.rules import add_years
from locales import fmt_date, t
from locales.deadlines import consequence, describe, duties_block, duty_text, refusal, summary

from .common import date_arg, jurisdictions_arg, lang_arg

EPILOG = """\
defaults: --from is the certification date; --until is one year after the last day of the
first three-year validity period, so the re-review deadline and the first annual report(s)
of the next period are included. Deadlines in later validity periods assume the re-review
passed; deadlines after a measure's own term ended are listed and flagged.
formats: table (terminal), json (an array: date, kind, jurisdiction, citation, article_text,
description, ...), ics (iCalendar: import into a calendar; re-importing updates the events).
Exit status: 0 done, 2 bad arguments."""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "deadlines", help="the deadlines of a certified cluster: annual reports, validity, re-review",
        description="The deadlines of a cluster certified on a date under one or more measures:\n"
                    "annual reports, the end of each three-year validity period and the re-review,\n"
                    "and the end of a measure's own term, each with its article quoted verbatim.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    # Required (unlike elsewhere): a cluster is certified under particular measures, and the
    # calendar of all four at once would mislead.
    p.add_argument("--jurisdiction", "-j", type=jurisdictions_arg, required=True, metavar="J",
                   help="the measure(s) the cluster is certified under: national|jiangsu|guangdong|shaanxi|all, "
                        "or a comma list (national,jiangsu)")
    p.add_argument("--certified-on", type=date_arg, required=True, metavar="YYYY-MM-DD",
                   help="the certification date")
    p.add_argument("--from", dest="start", type=date_arg, default=None, metavar="YYYY-MM-DD",
                   help="first day listed (default: the certification date)")
    p.add_argument("--until", type=date_arg, default=None, metavar="YYYY-MM-DD",
                   help="last day listed (default: one year after the end of the first validity period)")
    p.add_argument("--format", "-f", choices=["table", "json", "ics"], default="table",
                   help="table (default), json or ics")
    p.add_argument("--lang", type=lang_arg, default="zh", help="zh (default) or en")
    p.set_defaults(run=run)

    def error(message: str):
        """A bad argument is one line naming the option, exit 2: no usage block."""
        p.exit(2, f"{p.prog}: error: {message}\n")

    p.error = error


def run(args, stdout=None, stderr=None) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    rulesets, certified_on, lang = args.jurisdiction, args.certified_on, args.lang
    start = args.start or certified_on
    until = args.until or _default_until(rulesets, certified_on)
    if until < start:
        print(f"clusterbot deadlines: error: argument --until: {until} is before --from {start}; "
              "expected a date on or after it", file=err)
        return 2
    clock = Clock()
    try:
        check_certified_on(rulesets, certified_on, clock.today())
    except CertificationDateError as error:
        print(f"clusterbot deadlines: error: argument --certified-on: {refusal(error, lang)}", file=err)
        return 2
    deadlines = calendars(rulesets, certified_on, start, until)
    standing = duties(rulesets)
    if args.format == "json":
        items = [deadline_json(d, lang) for d in deadlines] + [duty_json(d, lang) for d in standing]
        out.write(json.dumps(items, ensure_ascii=False, indent=2) + "\n")
    elif args.format == "ics":
        out.write(to_ics(deadlines, lang, certified_on, clock.now()))
    else:
        out.write(table(deadlines, lang) + "\n\n" + duties_block(standing, lang) + "\n")
    return 0


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
    }


def duty_json(d: Duty, lang: str) -> dict:
    """A standing duty among the deadlines: no date (null), kind standing_duty."""
    return {"date": None, "kind": "standing_duty", "jurisdiction": d.jurisdiction, "citation": d.citation,
            "article_text": d.article_text, "description": duty_text(d, lang), "ruleset": d.ruleset,
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


# --- iCalendar (RFC 5545) -----------------------------------------------------------------

def ics_escape(text: str) -> str:
    """TEXT values (RFC 5545 3.3.11): backslash, semicolon, comma and newlines escaped."""
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def ics_fold(line: str) -> str:
    """Lines of at most 75 octets (RFC 5545 3.1), split between characters so that UTF-8
    Chinese is never cut inside a character; continuation lines start with a space."""
    parts, current, size = [], "", 0
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > 75:
            parts.append(current)
            current, size = " ", 1
        current += ch
        size += n
    parts.append(current)
    return "\r\n".join(parts)


def uid(d: Deadline) -> str:
    """Stable across exports, so that re-importing updates an event instead of adding one."""
    return f"{d.jurisdiction}-{d.kind}-{d.date:%Y%m%d}-certified-{d.certified_on:%Y%m%d}@clusterbot"


def to_ics(deadlines: list[Deadline], lang: str, certified_on: dt.date, now: dt.datetime) -> str:
    """A VCALENDAR with one all-day VEVENT per deadline and reminders 30 and 7 days before."""
    stamp = now.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:-//clusterbot//deadlines//{lang.upper()}",
             "CALSCALE:GREGORIAN",
             f"X-WR-CALNAME:{ics_escape(t(lang, 'deadlines.ics.calendar', certified_on=fmt_date(certified_on, lang)))}",
             "X-WR-TIMEZONE:Asia/Shanghai"]
    for d in deadlines:
        title = ics_escape(summary(d, lang))
        lines += ["BEGIN:VEVENT", f"UID:{uid(d)}", f"DTSTAMP:{stamp}",
                  # All-day: the deadline is a calendar date (Asia/Shanghai); DTEND is exclusive.
                  f"DTSTART;VALUE=DATE:{d.date:%Y%m%d}",
                  f"DTEND;VALUE=DATE:{d.date + dt.timedelta(days=1):%Y%m%d}",
                  f"SUMMARY:{title}", f"DESCRIPTION:{ics_escape(ics_description(d, lang))}",
                  f"CATEGORIES:{ics_escape(t(lang, f'deadlines.kind.{d.kind}'))}", "TRANSP:TRANSPARENT"]
        for before in ("-P30D", "-P7D"):
            lines += ["BEGIN:VALARM", "ACTION:DISPLAY", f"TRIGGER:{before}", f"DESCRIPTION:{title}", "END:VALARM"]
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(ics_fold(line) + "\r\n" for line in lines)


def ics_description(d: Deadline, lang: str) -> str:
    """The description, then the article that sets the date and, if any, the revocation
    clause, both verbatim."""
    parts = [describe(d, lang), "", t(lang, "deadlines.ics.article", citation=d.citation, text=d.article_text)]
    if d.missed is not None:
        parts.append(t(lang, "deadlines.ics.consequence") + consequence(d, lang))
    if d.after_term_end:
        parts.append(t(lang, "deadlines.ics.term") + t(lang, "deadlines.ics.article", citation=d.term.citation,
                                                        text=d.term.article_text))
    return "\n".join(parts)

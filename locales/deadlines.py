"""Wording of a deadline (engine.deadlines.Deadline), shared by `clusterbot deadlines`, the
tracked clusters' list in the chat and the reminders. Article texts are quoted verbatim from
the ruleset; only the sentences around them are here and in deadlines.yaml."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Mapping

from engine.deadlines import (
    ANNUAL_REPORT, MAX_LEAD_DAYS, MAX_LEADS, MEASURE_TERM_END, RE_REVIEW, VALIDITY_END, CertificationDateError,
    Deadline, Duty, LeadDaysError,
)

from . import fmt_date, t


def summary(d: Deadline, lang: str) -> str:
    """A one-line title: what is due, for which measure."""
    return t(lang, f"deadlines.summary.{d.kind}", measure=d.measure.get(lang), title=d.title.get(lang),
             year=d.report_year, to=d.to.get(lang) if d.to else "", cycle=d.period.cycle if d.period else "")


def describe(d: Deadline, lang: str) -> str:
    """What is due, to whom, for which year, and what happens if it is missed."""
    fields = dict(date=fmt_date(d.date, lang), citation=d.citation, title=d.title.get(lang),
                  issuer=d.issuer.get(lang), missed=d.missed.citation if d.missed else "")
    if d.kind == ANNUAL_REPORT:
        fields.update(year=d.report_year, to=d.to.get(lang))
    elif d.kind in (RE_REVIEW, VALIDITY_END):
        fields.update(cycle=d.period.cycle, first=fmt_date(d.period.first_day, lang),
                      last=fmt_date(d.period.last_day, lang))
    elif d.kind == MEASURE_TERM_END:
        fields.update(start=fmt_date(d.term.from_, lang), years=d.term.years)
    key = d.kind if d.missed or d.kind != ANNUAL_REPORT else "annual_report_duty"  # no consequence stated
    return t(lang, f"deadlines.describe.{key}", **fields) + flags(d, lang)


def flags(d: Deadline, lang: str) -> str:
    """The notes a date carries that the text alone does not settle (in a later validity
    period, owed only if the re-review before it passed; due on the certification day itself;
    due after the measure's own term ended), "" for none: one wording for the `deadlines`
    table, JSON and calendar, the chat's /deadlines list and the reminders."""
    text = t(lang, "deadlines.later_cycle", cycle=d.period.cycle) if d.assumes_re_review else ""
    if d.due_on_certification_day:
        text += t(lang, "deadlines.on_certification_day")
    if d.after_term_end:
        text += t(lang, "deadlines.after_term", term_end=fmt_date(d.term.last_day, lang),
                  term_citation=d.term.citation)
    return text


def consequence(d: Deadline, lang: str) -> str | None:
    """The revocation clause a miss falls under, quoted verbatim; None where none is stated."""
    if d.missed is None:
        return None
    return t(lang, "deadlines.consequence", revocation_citation=d.revocation.citation,
             revocation_text=d.revocation.article_text, missed_citation=d.missed.citation,
             missed_text=d.missed.article_text)


def duty_text(d: Duty, lang: str) -> str:
    """A standing duty, quoted with the revocation article it falls under."""
    return t(lang, "deadlines.duties.item", measure=d.measure.get(lang), citation=d.citation, text=d.article_text,
             gist=d.gist.get(lang), revocation_citation=d.revocation.citation, revocation_text=d.revocation.article_text)


def duties_block(duties: list[Duty], lang: str) -> str:
    if not duties:
        return ""
    return "\n".join([t(lang, "deadlines.duties.heading")] + [duty_text(d, lang) for d in duties])


def refusal(error: CertificationDateError, lang: str) -> str:
    """Why a certification date cannot be, in the user's language."""
    r = error.ruleset
    fields = dict(date=fmt_date(error.day, lang), today=fmt_date(error.limit, lang), national=fmt_date(error.limit, lang))
    if r is not None:
        fields.update(measure=r.short.get(lang), document=r.document, start=fmt_date(r.term.from_, lang),
                      last=fmt_date(error.limit, lang), citation=r.term.citation, text=r.term.article_text)
    return t(lang, f"deadlines.refused.{error.kind}", **fields)
def lead_days_refusal(error: LeadDaysError, lang: str) -> str:
    """Why days are no reminder setting (the chat's /remind, `deadlines --alarms`): one wording."""
    shown = t(lang, "tracking.lead_sep").join(error.shown) or error.text.strip()
    return t(lang, "deadlines.bad_lead_days", text=shown, max=MAX_LEAD_DAYS, count=MAX_LEADS)


# --- iCalendar (RFC 5545), written by the icalendar library: `clusterbot deadlines -f ics`
# and the chat's /deadlines ics ------------------------------------------------------------

@dataclass(frozen=True)
class CalendarEntry:
    """One cluster's part of a calendar: its deadlines, the days before each to alarm and the
    time of day (Asia/Shanghai) the alarms ring, as the chat's reminders come."""
    cluster: str
    certified_on: dt.date | Mapping[str, dt.date]  # one date, or each measure's (certified_text)
    deadlines: list[Deadline]
    alarm_days: tuple[int, ...]
    alarm_time: dt.time


def certified_text(certified_on: dt.date | Mapping[str, dt.date], lang: str) -> str:
    """The certification date, or each measure's when they differ (国家（工信部）2024年6月1日、
    江苏2023年10月15日): a cluster certified nationally was certified by its province first."""
    if isinstance(certified_on, dt.date):
        return fmt_date(certified_on, lang)
    if len(set(certified_on.values())) == 1:
        return fmt_date(next(iter(certified_on.values())), lang)
    from engine import load_rulesets

    rulesets = load_rulesets()
    return t(lang, "list_sep").join(
        t(lang, "deadlines.certified_each", measure=rulesets[j].short.get(lang), date=fmt_date(day, lang))
        for j, day in certified_on.items())


def cluster_key(cluster: str) -> str:
    """A short, stable identity of a cluster's name for UIDs (any characters, ASCII out)."""
    return hashlib.sha256(cluster.encode("utf-8")).hexdigest()[:12]


def uid(d: Deadline, cluster: str = "") -> str:
    """Stable across exports, so that re-importing updates an event instead of adding one;
    it carries the cluster, so two clusters certified the same day keep their own events."""
    return (f"{d.jurisdiction}-{d.kind}-{d.date:%Y%m%d}-certified-{d.certified_on:%Y%m%d}"
            f"-cluster-{cluster_key(cluster)}@clusterbot")


def calendar_name(entries: list[CalendarEntry], lang: str) -> str:
    if len(entries) > 1:
        return t(lang, "deadlines.ics.calendar_of_many", n=len(entries))
    entry = entries[0] if entries else CalendarEntry("", dt.date.today(), [], (), dt.time())
    key = "deadlines.ics.calendar_of" if entry.cluster else "deadlines.ics.calendar"
    return t(lang, key, cluster=entry.cluster, certified_on=certified_text(entry.certified_on, lang))


def to_ics(entries: list[CalendarEntry], lang: str, now: dt.datetime) -> str:
    """A VCALENDAR with one all-day VEVENT per deadline, each with an alarm on each of its
    cluster's reminder days."""
    import icalendar  # here: only an .ics needs it, and it takes a tenth of a second to load

    cal = icalendar.Calendar()
    cal.add("prodid", f"-//clusterbot//deadlines//{lang.upper()}")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", icalendar.vText(calendar_name(entries, lang)))  # TEXT: ; , \ escaped, as SUMMARY
    cal.add("x-wr-timezone", "Asia/Shanghai")
    for entry in entries:
        prefix = t(lang, "deadlines.ics.cluster_prefix", cluster=entry.cluster) if entry.cluster else ""
        for d in entry.deadlines:
            title = prefix + summary(d, lang)
            event = icalendar.Event()
            event.add("uid", uid(d, entry.cluster))
            event.add("dtstamp", now.astimezone(dt.timezone.utc))
            # All-day: the deadline is a calendar date (Asia/Shanghai); DTEND is exclusive.
            event.add("dtstart", d.date)
            event.add("dtend", d.date + dt.timedelta(days=1))
            event.add("summary", title)
            event.add("description", ics_description(d, lang))
            event.add("categories", [t(lang, f"deadlines.kind.{d.kind}")])
            event.add("transp", "TRANSPARENT")
            # validity_end falls on the day of its re_review, under the same article, whose
            # alarm already says the period ends: one alarm for the day, as the chat reminds once
            # (storage.tracking.REMINDED_KINDS); the event stays, the day's fact.
            for days in (() if d.kind == VALIDITY_END else entry.alarm_days):
                alarm = icalendar.Alarm()
                alarm.add("action", "DISPLAY")
                # relative to the all-day event's start, its midnight: the days before, at the time
                at = entry.alarm_time
                alarm.add("trigger", dt.timedelta(days=-days, hours=at.hour, minutes=at.minute))
                alarm.add("description", title)
                event.add_component(alarm)
            cal.add_component(event)
    return cal.to_ical().decode("utf-8")


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

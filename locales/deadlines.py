"""Wording of a deadline (engine.deadlines.Deadline), shared by `clusterbot deadlines`, the
tracked clusters' list in the chat and the reminders. Article texts are quoted verbatim from
the ruleset; only the sentences around them are here and in deadlines.yaml."""

from __future__ import annotations

from engine.deadlines import (
    ANNUAL_REPORT, MEASURE_TERM_END, RE_REVIEW, VALIDITY_END, CertificationDateError, Deadline, Duty,
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
    text = t(lang, f"deadlines.describe.{key}", **fields)
    if d.assumes_re_review and d.kind == ANNUAL_REPORT:
        text += t(lang, "deadlines.later_cycle", cycle=d.period.cycle)
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
             revocation_citation=d.revocation.citation, revocation_text=d.revocation.article_text)


def duties_block(duties: list[Duty], lang: str) -> str:
    if not duties:
        return ""
    return "\n".join([t(lang, "deadlines.duties.heading")] + [duty_text(d, lang) for d in duties])


def refusal(error: CertificationDateError, lang: str) -> str:
    """Why a certification date cannot be, in the user's language."""
    r = error.ruleset
    fields = dict(date=fmt_date(error.day, lang), today=fmt_date(error.limit, lang))
    if r is not None:
        fields.update(measure=r.short.get(lang), document=r.document, start=fmt_date(r.term.from_, lang),
                      citation=r.term.citation, text=r.term.article_text)
    return t(lang, f"deadlines.refused.{error.kind}", **fields)

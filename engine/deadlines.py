"""The deadline calendar of a certified cluster: annual reports, the end of each three-year
validity period and the re-review, and the end of the measure's own term.

Pure: the certification date and the window [start, until] are arguments, there is no
clock, and every date and article text comes from the ruleset (engine/rulesets/*.yaml).
All dates are calendar dates in Asia/Shanghai, as the measures write them.

Readings (one place each, below):
- 每年X月X日前 / 3月底前: due on or before that day, every year, on the previous year (上一年度);
  every due date from the certification day on is owed, in the certification year too (a
  cluster certified 2026-02-28 reports on 2026-03-31: 每年 names no exception, and a miss is
  a ground for revocation). A cluster certified on a due date itself is listed as owing that
  day's report, flagged `due_on_certification_day` (the texts do not settle it).
- 集群有效期为三年: counted from the certification day in whole years, so the last valid day
  is add_years(certified_on, 3) - 1 day; each 复核通过 extends it by three years from the
  day after (有效期延长三年).
- 有效期满未申请复核 is a ground for revocation: the re-review must be applied for no later
  than the last valid day.
- A measure with a term (有效期N年) ends on term.last_day; later deadlines are still listed,
  flagged `after_term_end`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from itertools import takewhile
from typing import Iterable, Iterator, Mapping, Optional, Union

from .rules import JURISDICTIONS, Quote, Ruleset, Term, Text, add_years

ANNUAL_REPORT = "annual_report"
RE_REVIEW = "re_review"
VALIDITY_END = "validity_end"
MEASURE_TERM_END = "measure_term_end"
KINDS = (ANNUAL_REPORT, RE_REVIEW, VALIDITY_END, MEASURE_TERM_END)

_DAY = dt.timedelta(days=1)

# Reminders before a deadline: the chat's /remind and `clusterbot deadlines --alarms` read their
# days by this one rule (here, where both can read it without loading the storage): whole days,
# 0 (the day itself) to a year ahead, at most MAX_LEADS of them; DEFAULT_LEAD_DAYS unless set,
# at the default time (Asia/Shanghai).
DEFAULT_LEAD_DAYS = (30, 7, 1)
DEFAULT_HOUR, DEFAULT_MINUTE = 9, 0
MAX_LEAD_DAYS = 365
MAX_LEADS = 6
_LEAD_SEPARATORS = re.compile(r"[\s,;、。]+|和|及|与|\band\b|\bbefore\b|\bahead\b|\bearlier\b", re.IGNORECASE)
# Days said as people say them: a month is 30 days (30 is the first default lead), a week 7,
# 半个月 15; Chinese numerals (十五天, 一周) as figures.
_CN_NUMBER = re.compile("[一二两三四五六七八九十百]+")
_HALF_MONTH = re.compile(r"半\s*个?\s*月")
_MONTHS = re.compile(r"(\d+)\s*(?:个?\s*月|months?\b)", re.IGNORECASE)
_WEEKS = re.compile(r"(\d+)\s*(?:个?\s*(?:周|星期|礼拜)|weeks?\b)", re.IGNORECASE)
_YEARS = re.compile(r"(\d+)\s*(?:年|years?\b)", re.IGNORECASE)
_ONE = re.compile(r"\b(?:a|an|one)\s+(?=(?:day|week|month)s?\b)", re.IGNORECASE)
_DAYS = re.compile(r"天|\bdays?\b", re.IGNORECASE)


class LeadDaysError(ValueError):
    """Days that are no reminder setting; `shown`: the words at fault, or the whole text when
    each word is a day but they are none or too many."""

    def __init__(self, text: str, shown: list[str]):
        super().__init__(text)
        self.text, self.shown = text, shown


def cn_number(numeral: str) -> int | str:
    """一 → 1, 十五 → 15, 两 → 2 (cn2an); a numeral it cannot read is kept, refused as typed."""
    import cn2an  # here: loading it is a tenth of a second, and most settings are in figures

    try:
        return int(cn2an.cn2an(numeral.replace("两", "二"), "smart"))
    except Exception:  # noqa: BLE001 - cn2an's own errors on what is no numeral
        return numeral


def lead_days(text: str) -> tuple[int, ...]:
    """'30,7,1', '30 7 1', '30、7、1天', '提前15天', '３０，７', '提前一个月、一周和一天', 'a month, a week and a day before' → (30, 7, 1), the
    largest first, each once; LeadDaysError otherwise."""
    typed = text = unicodedata.normalize("NFKC", text)
    text = text.replace("提前", " ")
    if _CN_NUMBER.search(text):
        text = _CN_NUMBER.sub(lambda m: str(cn_number(m.group(0))), text)
    text = _HALF_MONTH.sub(" 15 ", _ONE.sub("1 ", text))
    text = _YEARS.sub(lambda m: f" {int(m.group(1)) * 365} ", text)
    text = _MONTHS.sub(lambda m: f" {int(m.group(1)) * 30} ", text)
    text = _DAYS.sub(" ", _WEEKS.sub(lambda m: f" {int(m.group(1)) * 7} ", text))
    words = [w for w in _LEAD_SEPARATORS.split(text) if w]
    bad = [w for w in words if not (w.isascii() and w.isdigit() and int(w) <= MAX_LEAD_DAYS)]
    if bad or not words or len(words) > MAX_LEADS:
        # the words as typed when read through words (提前两年 is 730): 730 was never typed
        converted = text.split() != typed.replace("提前", " ").split()
        raise LeadDaysError(typed, [typed.strip()] if converted else bad)
    return tuple(sorted({int(w) for w in words}, reverse=True))


@dataclass(frozen=True)
class Period:
    """One validity period of a certification: the first (cycle 1) or one after a re-review."""
    cycle: int
    first_day: dt.date
    last_day: dt.date


@dataclass(frozen=True)
class Deadline:
    date: dt.date
    kind: str                       # one of KINDS
    jurisdiction: str
    ruleset: str                    # ruleset id, e.g. national-2022
    citation: str                   # of the article that sets the date
    article_text: str               # verbatim from the ruleset
    measure: Text                   # the measure's short name (国家（工信部）, 江苏, ...)
    title: Text                     # the measure's full title
    issuer: Text                    # who issued it (and organises the re-review)
    term: Term                      # the measure's own term: article, first day, years, last_day
    certified_on: dt.date
    period: Optional[Period] = None  # the validity period the date falls in; None for measure_term_end
    to: Optional[Text] = None        # annual_report: to whom it is sent
    report_year: Optional[int] = None  # annual_report: the year it covers (上一年度)
    missed: Optional[Quote] = None   # the revocation item naming a miss, where the measure states one
    revocation: Optional[Quote] = None  # the lead-in of that revocation article (…撤销其认定)
    after_term_end: bool = False     # due after the measure's own term ended: the then-current rules apply
    due_on_certification_day: bool = False  # annual_report due the very day of the certification

    @property
    def assumes_re_review(self) -> bool:
        """Due in a later validity period: only if the re-review(s) before it passed."""
        return self.period is not None and self.period.cycle > 1


def validity_periods(ruleset: Ruleset, certified_on: dt.date) -> Iterator[Period]:
    """The validity periods of a certification, one after another: the first, then one per
    passed re-review (up to the end of the calendar, year 9999)."""
    # 第十五条 etc.: 集群有效期为三年 … 复核通过的有效期延长三年. A period starts on its first
    # day and covers whole years (as rules.add_years reads every term); an extension starts on
    # the day after the previous period and is the same three years (the text says 三年 in both
    # places; the ruleset stores the number once, in validity.years).
    years = ruleset.deadlines.validity.years
    first, cycle = certified_on, 1
    while True:
        try:
            anniversary = add_years(first, years)
        except ValueError:  # beyond year 9999
            return
        yield Period(cycle, first, anniversary - _DAY)
        first, cycle = anniversary, cycle + 1


def calendar(ruleset: Ruleset, certified_on: dt.date, start: dt.date, until: dt.date) -> list[Deadline]:
    """Every deadline of one measure for a cluster certified on `certified_on`, with
    start <= date <= until, in date order."""
    dl = ruleset.deadlines
    term = ruleset.term

    def make(date, kind, quote, **extra) -> Deadline:
        return Deadline(
            date=date, kind=kind, jurisdiction=ruleset.jurisdiction, ruleset=ruleset.id,
            citation=quote.citation, article_text=quote.article_text,
            measure=ruleset.short, title=ruleset.title, issuer=ruleset.issuer,
            certified_on=certified_on, term=term,
            after_term_end=term.last_day is not None and date > term.last_day, **extra)

    periods = list(takewhile(lambda p: p.first_day <= until, validity_periods(ruleset, certified_on)))
    firsts = [p.first_day for p in periods]

    def period_on(day: dt.date) -> Optional[Period]:
        i = bisect_right(firsts, day) - 1
        return periods[i] if i >= 0 else None

    found: list[Deadline] = []

    # Annual reports, e.g. national 第十六条: 于每年4月30日前填报集群上一年度有关工作开展情况.
    # 前 is read as "on or before". 每年 names no exception for the certification year: every
    # due date on or after the certification day is owed (the first may cover a year before
    # it), in the validity period containing the date; one on the day itself is flagged.
    for year in range(max(certified_on.year, start.year), until.year + 1):
        for report in dl.annual_reports:
            due = dt.date(year, report.month, report.day)
            if max(start, certified_on) <= due <= until:
                found.append(make(due, ANNUAL_REPORT, report, to=report.to, report_year=year - 1,
                                  period=period_on(due), due_on_certification_day=due == certified_on,
                                  missed=dl.missed.annual_report if report.revocable else None,
                                  revocation=dl.revocation if report.revocable else None))

    # Validity and re-review, e.g. national 第十五条 with 第十七条（一）: 有效期满未申请复核 is a
    # ground for revocation, so the re-review is applied for by the last valid day.
    for period in periods:
        if start <= period.last_day <= until:
            found.append(make(period.last_day, RE_REVIEW, dl.validity, period=period,
                              missed=dl.missed.re_review, revocation=dl.revocation))
            found.append(make(period.last_day, VALIDITY_END, dl.validity, period=period))

    # The measure's own term, e.g. Guangdong 第十九条: 自2023年2月28日起实施，有效期3年.
    if term.last_day is not None and start <= term.last_day <= until:
        found.append(make(term.last_day, MEASURE_TERM_END, term))

    return sorted(found, key=_order)


# One certification date for every measure, or each measure's own: a cluster certified
# nationally was certified by its province first (national 第十二条 并已认定为省级集群), on
# another day, and each measure counts its three years from its own certification.
CertifiedOn = Union[dt.date, Mapping[str, dt.date]]
# 第十二条 并已认定为省级集群（首批申请除外）: only a national certification of the first batch
# (2022, as the national ruleset's reading of that criterion says) may precede the province's.
FIRST_BATCH_YEAR = 2022


def certified_dates(rulesets: Iterable[Ruleset], certified_on: CertifiedOn) -> dict[str, dt.date]:
    """Each measure's certification date, by jurisdiction."""
    if isinstance(certified_on, dt.date):
        return {r.jurisdiction: certified_on for r in rulesets}
    return {r.jurisdiction: certified_on[r.jurisdiction] for r in rulesets}


def calendars(rulesets: Iterable[Ruleset], certified_on: CertifiedOn, start: dt.date,
              until: dt.date) -> list[Deadline]:
    """The calendars of several measures (a cluster certified nationally and provincially,
    each on its own date or both on one) merged in date order."""
    rulesets = list(rulesets)
    dates = certified_dates(rulesets, certified_on)
    return sorted((d for r in rulesets for d in calendar(r, dates[r.jurisdiction], start, until)), key=_order)


@dataclass(frozen=True)
class Duty:
    """A standing duty of a certified cluster, with no date: breaking it is a revocation item
    (发现虚假申报…, 重大变动未及时更新报备), quoted in the measure's own words."""
    jurisdiction: str
    ruleset: str
    measure: Text
    citation: str
    article_text: str
    revocation: Quote
    gist: Text  # the ground in a few words (engine.rules.Ground)


def duties(rulesets: Iterable[Ruleset]) -> list[Duty]:
    return [Duty(r.jurisdiction, r.id, r.short, q.citation, q.article_text, r.deadlines.revocation,
                 q.gist)
            for r in rulesets for q in r.deadlines.duties]


class CertificationDateError(ValueError):
    """A certification date that cannot be: before the measure took effect, after its term
    ended, or in the future."""

    def __init__(self, kind: str, ruleset: Ruleset | None, day: dt.date, limit: dt.date):
        super().__init__(f"{kind}: {day} ({limit})")
        self.kind, self.ruleset, self.day, self.limit = kind, ruleset, day, limit


def check_certified_on(rulesets: Iterable[Ruleset], certified_on: CertifiedOn, today: dt.date) -> None:
    """Raises CertificationDateError for a date after today, or outside a chosen measure's
    term: before it took effect (江苏 自2023年5月1日起实施: no Jiangsu certification is dated
    before it) or after its last day (陕西 有效期2年: none is dated after 2025-04-27)."""
    rulesets = list(rulesets)
    days = [certified_on] if isinstance(certified_on, dt.date) else list(certified_on.values())
    for day in days:
        if day > today:
            raise CertificationDateError("future", None, day, today)
    national = None if isinstance(certified_on, dt.date) else certified_on.get("national")
    for r in rulesets:
        day = certified_dates([r], certified_on)[r.jurisdiction]
        if national is not None and r.jurisdiction != "national" and day > national \
                and national.year > FIRST_BATCH_YEAR:
            raise CertificationDateError("province_after_national", r, day, national)
        if day < r.term.from_:
            raise CertificationDateError("before_in_force", r, day, r.term.from_)
        if r.term.last_day is not None and day > r.term.last_day:
            raise CertificationDateError("after_term", r, day, r.term.last_day)


def first_validity_end(rulesets: Iterable[Ruleset], certified_on: CertifiedOn) -> dt.date:
    """The last valid day of the first validity period, the latest among the measures."""
    rulesets = list(rulesets)
    dates = certified_dates(rulesets, certified_on)
    return max(next(validity_periods(r, dates[r.jurisdiction]),
                    Period(1, dates[r.jurisdiction], dt.date.max)).last_day for r in rulesets)


def _order(d: Deadline):
    return (d.date, JURISDICTIONS.index(d.jurisdiction), KINDS.index(d.kind))

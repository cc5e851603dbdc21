"""Tracking certified clusters in the chat, channel-agnostic: /track (guided, or one line
for experts), /deadlines, /remind, /pause, /resume, /untrack, and the wording of a reminder.

Called by dialogs.conversation.Turn, inside its one transaction per message. The guided
/track keeps its step in the database (storage.tracking.TrackingDraft): name → measures →
date; a restart asks the same step again. Clusters are named by the user's own numbers
(#1, #2 …) or names: a user reaches only their own.

```mermaid
stateDiagram-v2
    [*] --> name: /track
    name --> measures: a name
    measures --> date: measures chosen
    date --> [*]: a valid date (tracked, reminders planned)
    date --> province_date: national and a province: the date is the national one
    province_date --> [*]: the province's own date, or 同一天
    date --> date: a bad or future date (refused, nothing stored changes)
    name --> [*]: /cancel
    measures --> [*]: /cancel
    date --> [*]: /cancel
```
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata

from engine import certified_together, load_rulesets
from engine.deadlines import (
    MAX_LEAD_DAYS, MEASURE_TERM_END, CertificationDateError, Deadline, LeadDaysError, check_certified_on, cn_number,
    duties, lead_days,
)
from locales import fmt_date, render, t, t_count
from locales.deadlines import (
    CalendarEntry, certified_text, consequence, describe, duties_block, flags, lead_days_refusal, refusal, summary,
    to_ics,
)
from storage import tracking as store
from storage.tracking import HORIZON_DAYS, Reminder, TrackedCluster

from .messages import Button, Reply, file_stem
from .parse import clean_name, name_cut, normalise

BUTTON_PREFIX = "t:"        # t:<step>:<value>, a tracking choice button
STEPS = ("name", "measures", "date")
# Certified nationally and by a province, a cluster has two certification dates: the province
# certified it first (national 第十二条 并已认定为省级集群), and each measure counts its three
# years from its own. The date step then asks the national one, this step the province's.
PROVINCE_DATE = "province_date"
SAME_DAY = re.compile(r"(同一天|同日|同一日|相同|一样|same(\s+day)?)[。.!！]?", re.IGNORECASE)
LISTED_PER_CLUSTER = 8
# Commands that start asking something else: an open guided /track is abandoned.
ABANDONS_DRAFT = {"new", "switch", "edit", "back", "skip", "restart", "focus"}

_MONTH = (r"(?P<m>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DAY = r"(?P<d>\d{1,2})(?:st|nd|rd|th)?"
# An English month is named, so 1 June 2024 is one day; 1/6/2024 is refused (June or January?).
DATE_FORMS = (
    re.compile(r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?"),  # 2024-06-01 2024/6/1 2024年6月1日 (1号)
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),                                        # 20240601
    re.compile(rf"{_DAY}\s+(?:of\s+)?{_MONTH}\s*,?\s*(?P<y>\d{{4}})", re.IGNORECASE),                 # 1 June 2024
    re.compile(rf"{_MONTH}\s+{_DAY}\s*,?\s*(?P<y>\d{{4}})", re.IGNORECASE),                          # June 1, 2024
)
MONTHS = {name: n for n, name in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
TIME_FORM = re.compile(r"(?:(上午|早上|早晨|中午|下午|晚上)\s*)?"  # 下午3点 is 15:00, as officials say a time
                       r"(\d{1,2})\s*(?::|点|时)\s*(?:(\d{1,2})\s*分?|(半))?")  # 9:00 9点 9点30分 8点半 21:30
AFTERNOON = ("中午", "下午", "晚上")
# 9am, 9:30pm, 9 p.m.: English users write the time so; a 12-hour clock, 12am is midnight
AM_PM = re.compile(r"(\d{1,2}(?::\d{1,2})?)\s*([ap])\.?m\.?", re.IGNORECASE)


class Refused(ValueError):
    """An answer that cannot be used; `reply` says what is expected."""

    def __init__(self, reply: Reply):
        super().__init__(reply.text)
        self.reply = reply


# --- reading answers -------------------------------------------------------------------------

def date_form(text: str) -> re.Match | None:
    """The text as one of the DATE_FORMS (2024-06-01, 2024 年 6 月 1 日 …), a real day or not."""
    # a full stop the input method puts after a sentence (2024年6月1日。) is no part of the date
    text = unicodedata.normalize("NFKC", text).strip().rstrip("。").strip()
    return next((match for form in DATE_FORMS if (match := form.fullmatch(text))), None)


def parse_date(text: str) -> dt.date:
    """2024-06-01, 2024/6/1, 2024.6.1, 2024年6月1日, 20240601, 1 June 2024, Jun 1 2024, full-width
    digits; ValueError otherwise."""
    match = date_form(text)
    if match is None:
        raise ValueError(text)
    month = match["m"]
    month = int(month) if month.isdigit() else MONTHS[month.lower()[:3]]
    return dt.date(int(match["y"]), month, int(match["d"]))  # ValueError for 2023-02-29, month 13 …


def parse_time(text: str) -> tuple[int, int]:
    text = unicodedata.normalize("NFKC", text).strip()
    text = re.sub("[一二两三四五六七八九十]+", lambda m: str(cn_number(m.group(0))), text)  # 早上八点, 九点半
    if twelve := AM_PM.fullmatch(text):
        clock, half = twelve.groups()
        hour, minute = parse_time(clock if ":" in clock else clock + ":00")
        if not 1 <= hour <= 12:
            raise ValueError(text)
        return hour % 12 + (12 if half.lower() == "p" else 0), minute
    match = TIME_FORM.fullmatch(text)
    if not match:
        raise ValueError(text)
    part, hour, minute = match.group(1), int(match.group(2)), 30 if match.group(4) else int(match.group(3) or 0)
    if part and not (1 <= hour <= 12 or (part in AFTERNOON and hour <= 23)):  # 上午0点, 上午15点
        raise ValueError(text)
    if part in AFTERNOON and hour < 12 and not (part == "中午" and hour >= 11):  # 中午11点 is 11:00, 中午1点 13:00
        hour += 12
    elif hour == 12 and part in ("上午", "早上", "早晨", "晚上"):  # 晚上12点, 上午12点: midnight, as 12am
        hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(text)
    return hour, minute


def looks_like_time(word: str) -> bool:
    return bool(re.search(r"[:：点时]", word) or AM_PM.fullmatch(unicodedata.normalize("NFKC", word)))


# --- wording shared by the list and the reminders ----------------------------------------------

def days_phrase(lang: str, deadline: dt.date, today: dt.date) -> str:
    n = (deadline - today).days
    if n == 0:
        return t(lang, "tracking.due_today")
    return t_count(lang, "tracking.days_left", n) if n > 0 else t_count(lang, "tracking.days_overdue", -n)


def measures_text(lang: str, jurisdictions: list[str]) -> str:
    rulesets = load_rulesets()
    return t(lang, "list_sep").join(rulesets[j].short.get(lang) for j in jurisdictions if j in rulesets)


def settings_text(lang: str, tracked: TrackedCluster) -> str:
    # the days counted in the singular when there is one lead of one day (1 day before)
    n = tracked.leads[0] if len(tracked.leads) == 1 else len(tracked.leads)
    return t_count(lang, "tracking.settings", n, leads=t(lang, "tracking.lead_sep").join(map(str, tracked.leads)),
             time=f"{tracked.remind_hour:02d}:{tracked.remind_minute:02d}",
             paused=t(lang, "tracking.paused_mark") if tracked.paused_at else "")


def reminder_reply(tracked: TrackedCluster, reminder: Reminder, deadline: Deadline, lang: str,
                   today: dt.date, outcome: str) -> Reply:
    """The message of one reminder: the cluster, what is due, the date, the days left, the
    article (citation and verbatim text) and what a miss leads to; says when it is late or
    the deadline has passed (outcome: on_time | late | missed)."""
    due_local = reminder.due_at.astimezone(store.SHANGHAI)
    text = render(lang, "reminder.j2", number=tracked.number, name=tracked.name, summary=summary(deadline, lang),
                  date=fmt_date(deadline.date, lang), days=days_phrase(lang, deadline.date, today),
                  description=describe(deadline, lang), citation=deadline.citation,
                  article_text=deadline.article_text, consequence=consequence(deadline, lang),
                  missed=outcome == store.MISSED, late=outcome == store.LATE,
                  # the measure's own term ending is no duty of the cluster: not a 期限已过
                  term_end=deadline.kind == MEASURE_TERM_END,
                  due=f"{fmt_date(due_local.date(), lang)} {due_local:%H:%M}")
    actions = [Button(t(lang, "tracking.action.deadlines"), "/deadlines"),
               Button(t(lang, "tracking.action.pause"), f"/pause #{tracked.number}")]
    return Reply(text, actions=actions, kind="reminder")


def cluster_block(turn, tracked: TrackedCluster) -> str:
    """One tracked cluster: its settings and its deadlines over the planning horizon."""
    until = turn.today + dt.timedelta(days=HORIZON_DAYS)
    deadlines = store.deadlines_of(tracked, turn.today, until)
    items = [{"date": fmt_date(d.date, turn.lang), "days": days_phrase(turn.lang, d.date, turn.today),
              "summary": summary(d, turn.lang), "citation": d.citation, "note": flags(d, turn.lang).strip()}
             for d in deadlines[:LISTED_PER_CLUSTER]]
    rulesets = load_rulesets()
    standing = duties(rulesets[j] for j in tracked.jurisdictions if j in rulesets)
    # tracked under both before the province's own date was asked: its calendar counts from
    # the one date given, which is said until it is tracked again
    one_date = "national" in tracked.jurisdictions and len(tracked.jurisdictions) > 1 \
        and tracked.provincial_certified_on is None
    return render(turn.lang, "tracked.j2", number=tracked.number, name=tracked.name,
                  measures=measures_text(turn.lang, tracked.jurisdictions),
                  certified=certified_text(tracked.certified_dates, turn.lang), settings=settings_text(turn.lang, tracked),
                  items=items, more=len(deadlines) - len(items), horizon=HORIZON_DAYS,
                  warning=turn.t("tracking.one_date_for_both", number=tracked.number) if one_date else "",
                  duties=duties_block(standing, turn.lang))


# --- the guided /track ------------------------------------------------------------------------

def cmd_track(turn, arg: str) -> list[Reply]:
    """/track, or /track 名称 [measures] [date]: what is given is kept, the rest is asked."""
    words = clean_name(arg, None).split()  # the name keeps its characters (（江苏） stays full-width)
    data: dict = {}
    # The date: the last words that make one (2024 年 6 月 1 日 is five), else a last word with a
    # digit, refused when it is no date. The name keeps one word at least.
    dated = next((k for k in range(1, len(words)) if date_form(" ".join(words[k:]))), None)
    if dated is None and len(words) >= 2 and re.search(r"\d", normalise(words[-1])):
        dated = len(words) - 1
    if dated is not None and any(date_form(" ".join(words[k:dated])) for k in range(dated)):
        # two dates (国家 江苏 2024-06-01 2023-10-15): which is whose cannot be told from the line,
        # and the earlier one became part of the name; the province's is asked on its own
        return [Reply(turn.t("tracking.two_dates"), kind="error")]
    if dated is not None:
        try:
            data["date"] = check_date(turn, " ".join(words[dated:]))
        except Refused as refused:
            return [refused.reply]
        del words[dated:]
    # The measures: the last words that all name one (国家 江苏, as the question suggests, is two).
    for k in range(1, len(words)):
        if chosen := turn.read_measures(" ".join(words[k:])):
            if (refused := certification_refusal(turn, " ".join(words[k:]), chosen)) is not None:
                return [refused]
            data["measures"] = chosen
            del words[k:]
            break
    if words:
        data["name"], cut = name_cut(" ".join(words))
        if cut:
            return [turn.name_cut_note(data["name"])] + next_step(turn, data)
    return next_step(turn, data)


def next_step(turn, data: dict) -> list[Reply]:
    """Ask for the first thing still missing, or track the cluster when nothing is."""
    refused = []
    if "name" in data and (same := tracked_named(turn, data["name"])) is not None:
        # Tracked twice, every reminder would come twice: the one tracked is said, and how to
        # change it; another name may be given instead.
        del data["name"]
        refused = [Reply(turn.t("tracking.already_tracked", number=same.number, name=same.name,
                                measures=measures_text(turn.lang, same.jurisdictions),
                                certified=certified_text(same.certified_dates, turn.lang)), kind="error")]
    if "date" in data and "measures" in data:
        rulesets = load_rulesets()
        two = province_of(data)
        for key, measures in (("date", ["national"] if two else data["measures"]), (PROVINCE_DATE, [two])):
            if key not in data or not all(measures):
                continue
            try:  # a date before a chosen measure took effect cannot be its certification
                check_certified_on([rulesets[j] for j in measures if j in rulesets],
                                   dt.date.fromisoformat(data[key]), turn.today)
            except CertificationDateError as error:
                refused.append(Reply(refusal(error, turn.lang) + turn.t("tracking.unchanged"), kind="error"))
                del data[key]
        if two and "date" in data and PROVINCE_DATE in data:
            try:  # the province certified first (national 第十二条), the first batch aside
                check_certified_on([rulesets["national"], rulesets[two]],
                                   {"national": dt.date.fromisoformat(data["date"]),
                                    two: dt.date.fromisoformat(data[PROVINCE_DATE])}, turn.today)
            except CertificationDateError as error:
                refused.append(Reply(refusal(error, turn.lang) + turn.t("tracking.unchanged"), kind="error"))
                del data[PROVINCE_DATE]
    missing = [step for step in STEPS if step not in data]
    if not missing and province_of(data) and PROVINCE_DATE not in data:
        missing = [PROVINCE_DATE]
    if refused:
        save_draft(turn, missing[0], data)
        return refused + [ask(turn, missing[0], data)]
    if not missing:
        return finish(turn, data)
    save_draft(turn, missing[0], data)
    return [ask(turn, missing[0], data)]


def province_of(data: dict) -> str | None:
    """The province's measure of a cluster certified under the national one and a province's."""
    measures = data.get("measures") or []
    return next((j for j in measures if j != "national"), None) if "national" in measures else None


def tracked_named(turn, name: str) -> TrackedCluster | None:
    """The user's tracked cluster (not stopped) of this very name, if any."""
    return next((c for c in store.user_tracked(turn.s, turn.user) if c.name == name), None)


def ask(turn, step: str, data: dict) -> Reply:
    if step == "name":
        return Reply(turn.t("tracking.ask_name"), kind="question")
    if step == "measures":
        choices = [Button(r.short.get(turn.lang), f"{BUTTON_PREFIX}measures:{j}") for j, r in load_rulesets().items()]
        return Reply(turn.t("tracking.ask_measures", name=data["name"]), choices=choices, kind="question")
    rulesets = load_rulesets()
    if step == PROVINCE_DATE:
        return Reply(turn.t("tracking.ask_province_date", name=data["name"],
                            province=rulesets[province_of(data)].short.get(turn.lang),
                            national=fmt_date(dt.date.fromisoformat(data["date"]), turn.lang)), kind="question")
    if province_of(data):
        return Reply(turn.t("tracking.ask_national_date", name=data["name"]), kind="question")
    return Reply(turn.t("tracking.ask_date", name=data["name"]), kind="question")


def certification_refusal(turn, text: str, chosen: list[str]) -> Reply | None:
    """A cluster is certified by the national measure, one province's, or both: an option
    number not offered (5, 全部) or two provinces are refused."""
    numbers = [int(w) for w in re.split(r"[\s,;/+和及与]+", normalise(text)) if w.isdigit()]
    if any(not 1 <= n <= len(load_rulesets()) for n in numbers):
        return Reply(turn.t("tracking.not_offered", n=len(load_rulesets())), kind="error")
    if not certified_together(chosen) or "全部" in text or "all" in text.lower():
        return Reply(turn.t("tracking.one_province"), kind="error")
    return None


# A turn knows from its first query whether a draft is open (`turn.drafting`): the many
# messages without one read nothing more.

def draft_data(turn) -> tuple[str, dict] | None:
    draft = store.draft_of(turn.s, turn.user) if turn.drafting else None
    return (draft.step, json.loads(draft.data)) if draft else None


def save_draft(turn, step: str, data: dict) -> None:
    store.save_draft(turn.s, turn.user, step, data)
    turn.drafting = True


def drop_draft(turn) -> None:
    if turn.drafting:
        store.drop_draft(turn.s, turn.user)
        turn.drafting = False


def draft_prompt(turn) -> list[Reply] | None:
    """The question of an open guided /track, if any."""
    open_draft = draft_data(turn)
    return [ask(turn, *open_draft)] if open_draft else None


def on_draft_answer(turn, text: str) -> list[Reply] | None:
    """A message answering the open guided /track; None when none is open."""
    open_draft = draft_data(turn)
    if open_draft is None:
        return None
    step, data = open_draft
    try:
        if step == "name":
            name, cut = name_cut(clean_name(text, None))
            if not name:
                return [ask(turn, step, data)]
            data["name"] = name
            if cut:
                return [turn.name_cut_note(name)] + next_step(turn, data)
        elif step == "measures":
            chosen = turn.read_measures(text)
            if (refused := certification_refusal(turn, text, chosen)) is not None:
                return [refused, ask(turn, step, data)]
            if not chosen:
                return [Reply(turn.t("tracking.bad_measures"), kind="error"), ask(turn, step, data)]
            data["measures"] = chosen
        elif step == PROVINCE_DATE:
            same = SAME_DAY.fullmatch(normalise(text).strip()) and "date" in data
            data[PROVINCE_DATE] = data["date"] if same else check_date(turn, text)
        else:
            data["date"] = check_date(turn, text)
    except Refused as refused:
        return [refused.reply, ask(turn, step, data)]
    return next_step(turn, data)


def is_name_answer(turn, text: str, command: tuple[str, str]) -> bool:
    """跟踪集群 or 跟踪 typed alone while the guided /track asks for the name is the name: read
    as /track, it began the same /track again and asked the same question with no word why."""
    if command != ("track", "") or text.startswith("/"):
        return False
    open_draft = draft_data(turn)
    return open_draft is not None and open_draft[0] == "name"


def on_button(turn, data: str) -> list[Reply]:
    """A choice button of the guided /track: only for the step now asked."""
    step, _, value = data[len(BUTTON_PREFIX):].partition(":")
    open_draft = draft_data(turn)
    if open_draft is None or open_draft[0] != step:
        return turn.stale_button()
    return on_draft_answer(turn, value)


def check_date(turn, text: str) -> str:
    """A certification date as ISO text, or Refused saying the expected form."""
    try:
        day = parse_date(text)
    except ValueError:
        # written as a date, but no day of the calendar (2月30日, 2023-02-29, month 13): said so
        key = "tracking.no_such_date" if date_form(text) else "tracking.bad_date"
        raise Refused(Reply(turn.t(key, text=text.strip()), kind="error")) from None
    try:
        check_certified_on([], day, turn.today)  # the measures' first days are checked once chosen
    except CertificationDateError as error:
        raise Refused(Reply(refusal(error, turn.lang) + turn.t("tracking.unchanged"), kind="error")) from None
    return day.isoformat()


def finish(turn, data: dict) -> list[Reply]:
    drop_draft(turn)
    province_date = data.get(PROVINCE_DATE)
    tracked = store.track(turn.s, turn.user, data["name"], data["measures"],
                          dt.date.fromisoformat(data["date"]), turn.now,
                          provincial_certified_on=dt.date.fromisoformat(province_date) if province_date else None)
    turn.replanned = True  # reminders may be due at once: the sweep is woken
    text = turn.t("tracking.tracked", number=tracked.number, name=tracked.name) + "\n" + cluster_block(turn, tracked)
    actions = [Button(turn.t("tracking.action.remind"), "/remind"),
               Button(turn.t("tracking.action.deadlines"), "/deadlines")]
    return [Reply(text, actions=actions)] + back_to_question(turn)


def back_to_question(turn) -> list[Reply]:
    """After a /track finished mid-pre-screening, the question being asked again."""
    if turn.profile is not None and turn.profile.state in ("asking", "confirm_series", "picking"):
        return turn.prompt()
    return []


def cancel_draft(turn) -> bool:
    """/cancel of an open guided /track; False if none was open."""
    if draft_data(turn) is None:
        return False
    drop_draft(turn)
    return True


def abandon_draft(turn, command: str) -> None:
    if command in ABANDONS_DRAFT:
        drop_draft(turn)


# --- the other commands ---------------------------------------------------------------------

def find(turn, word: str) -> TrackedCluster | None:
    """'#2', '2', '2号' or a name → one of this user's tracked clusters (never another's)."""
    return named(store.user_tracked(turn.s, turn.user), word)


def named(clusters: list[TrackedCluster], word: str) -> TrackedCluster | None:
    """The cluster of these that '#2', '2', '2号' or a name names."""
    typed, word = clean_name(word), normalise(word)
    number = re.fullmatch(r"#?(\d+)号?", word)
    for tracked in clusters:
        if (number and tracked.number == int(number.group(1))) or tracked.name in (typed, word):
            return tracked
    return None


def targets(turn, word: str, command: str, all_by_default: bool) -> list[TrackedCluster] | list[Reply]:
    """The clusters a command acts on: the one named, or all (or the only one) when none is.
    Returns replies instead when there is none, the name is unknown, or a choice is needed."""
    clusters = store.user_tracked(turn.s, turn.user)
    if not clusters:
        return [Reply(turn.t("tracking.none"))]
    if word:
        found = find(turn, word)
        return [found] if found else [Reply(turn.t("tracking.unknown_cluster", word=word), kind="error")]
    if all_by_default or len(clusters) == 1:
        return clusters
    lines = [turn.t("tracking.which", example=f"/{command} #{clusters[0].number}")]
    lines += [turn.t("tracking.cluster_line", number=c.number, name=c.name) for c in clusters]
    return [Reply("\n".join(lines), actions=[Button(f"#{c.number} {c.name}", f"/{command} #{c.number}")
                                             for c in clusters])]


def is_replies(found: list) -> bool:
    return bool(found) and isinstance(found[0], Reply)


def cmd_deadlines(turn, arg: str) -> list[Reply]:
    """/deadlines [#n]: the list; /deadlines ics [#n]: the same as one calendar file."""
    words = arg.split()
    as_calendar = bool(words) and words[0].lower() in ("ics", "日历")
    found = targets(turn, " ".join(words[as_calendar:]), "deadlines", all_by_default=True)
    if is_replies(found):
        return found
    if as_calendar:
        return [calendar_reply(turn, found)]
    return [Reply("\n\n".join([turn.t("tracking.heading")] + [cluster_block(turn, c) for c in found]),
                  actions=[Button(turn.t("tracking.action.remind"), "/remind")])]


def calendar_reply(turn, clusters: list[TrackedCluster]) -> Reply:
    """The tracked clusters' deadlines over the planning horizon as one .ics file, each
    event's alarms on that cluster's reminder days."""
    until = turn.today + dt.timedelta(days=HORIZON_DAYS)
    entries = [CalendarEntry(c.name, c.certified_dates, store.deadlines_of(c, turn.today, until), tuple(c.leads),
                             dt.time(c.remind_hour, c.remind_minute)) for c in clusters]
    name = f"{file_stem(clusters[0].name) if len(clusters) == 1 else turn.t('tracking.calendar_file')}.ics"
    return Reply(turn.t("tracking.calendar_written", clusters=t_count(turn.lang, "tracking.calendar_clusters", len(entries)),
                        deadlines=t_count(turn.lang, "tracking.calendar_deadlines",
                                          sum(len(e.deadlines) for e in entries))),
                 documents=[(name, to_ics(entries, turn.lang, turn.now).encode("utf-8"))])


def is_setting(word: str) -> bool:
    """A word of /remind's days or time (14, 30,7,1, 400,-1, 提前一周, 9:00, 8点半), never of a name."""
    word = normalise(word)
    if re.fullmatch(r"(提前)?[-+\d.,;、天]+", word) or TIME_FORM.fullmatch(word) or AM_PM.fullmatch(word):
        return True
    if word.startswith("提前"):  # days, read or refused as such (提前两年), never a name
        return True
    try:
        parse_time(word)  # 下午三点半
        return True
    except ValueError:
        pass
    return bool(re.search(r"[天周月星期礼拜]", word)) and reads_as_days(word)  # 一个月、一周和一天


def remind_target(turn, words: list[str]) -> int:
    """How many leading words of /remind name the cluster: the most that name a tracked one
    (#2, 2号, 乙 集群: a name keeps its spaces, as /track took it), else all before the
    trailing days and time (an unknown name, said so); none when the first is a setting
    (400,-1 is bad days, not a name)."""
    if not words or is_setting(words[0]):
        return 0
    clusters = store.user_tracked(turn.s, turn.user)
    known = next((k for k in range(len(words), 0, -1) if named(clusters, " ".join(words[:k]))), None)
    if known is not None:
        return known
    for k in range(len(words)):  # the fewest words for the name: the rest days and a time
        days = [w for w in words[k:] if not looks_like_time(w)]
        if all(is_setting(w) for w in words[k:]) or (days and reads_as_days(" ".join(days))):
            return k
    return len(words)


def reads_as_days(text: str) -> bool:
    """Days as `lead_days` reads them (a month, a week and a day before)."""
    try:
        return bool(lead_days(text))
    except LeadDaysError:
        return False


def cmd_remind(turn, arg: str) -> list[Reply]:
    """/remind [#n] [days] [time]: without days or time, the settings and the usage."""
    words = clean_name(arg, limit=None).split()  # characters kept, as /track keeps a name
    k = remind_target(turn, words)
    # "9 am" is one time, not the days 9 and a word "am"
    target, words = " ".join(words[:k]), AM_PM.sub(r"\1\2m", normalise(" ".join(words[k:]))).split()
    time_words = [w for w in words if looks_like_time(w)]
    rest = [w for w in words if not looks_like_time(w)]
    found = targets(turn, target, "remind", all_by_default=True)
    if is_replies(found):
        return found
    if not time_words and not rest:
        lines = [turn.t("tracking.remind_current", number=c.number, name=c.name, settings=settings_text(turn.lang, c))
                 for c in found]
        return [Reply("\n".join(lines + [turn.t("tracking.remind_usage", max=MAX_LEAD_DAYS)]))]
    leads = hour = minute = None
    problems = []  # each wrong part named: the days, the time, or both
    try:
        if rest:
            leads = lead_days(" ".join(rest))  # the rule `deadlines --alarms` reads too
    except LeadDaysError as error:
        problems.append(lead_days_refusal(error, turn.lang))
    try:
        if time_words:
            if len(time_words) > 1:
                raise ValueError(" ".join(time_words))
            hour, minute = parse_time(time_words[0])
    except ValueError:
        problems.append(turn.t("tracking.bad_time", text=" ".join(time_words)))
    if problems:
        return [Reply("\n".join(problems + [turn.t("tracking.nothing_changed")]), kind="error")]
    for tracked in found:
        store.set_times(turn.s, tracked, turn.now, leads=leads, hour=hour, minute=minute)
        turn.replanned = True  # reminders may be due at once: the sweep is woken
    return [Reply("\n".join(turn.t("tracking.remind_set", number=c.number, name=c.name,
                                   settings=settings_text(turn.lang, c)) for c in found))]


def cmd_pause(turn, arg: str) -> list[Reply]:
    found = targets(turn, arg.strip(), "pause", all_by_default=True)
    if is_replies(found):
        return found
    # each cluster said as it was: paused now, or paused already (nothing changed)
    done = [(c, store.pause(turn.s, c, turn.now)) for c in found]
    lines = [turn.t("tracking.paused" if now else "tracking.already_paused", number=c.number, name=c.name)
             for c, now in done]
    if any(now for _, now in done):
        lines.append(turn.t("tracking.paused_note"))
    return [Reply("\n".join(lines), actions=[Button(turn.t("tracking.action.resume"), "/resume")])]


def cmd_resume(turn, arg: str) -> list[Reply]:
    found = targets(turn, arg.strip(), "resume", all_by_default=True)
    if is_replies(found):
        return found
    done = [(c, store.resume(turn.s, c, turn.now)) for c in found]
    if any(now for _, now in done):
        turn.replanned = True  # reminders may be due at once: the sweep is woken
    return [Reply("\n".join(turn.t("tracking.resumed" if now else "tracking.not_paused", number=c.number, name=c.name)
                            for c, now in done))]


def cmd_untrack(turn, arg: str) -> list[Reply]:
    # Never all at once by default: with several clusters, the user names the one to stop.
    found = targets(turn, arg.strip(), "untrack", all_by_default=False)
    if is_replies(found):
        return found
    tracked = found[0]
    store.stop(turn.s, tracked, turn.now)
    return [Reply(turn.t("tracking.untracked", number=tracked.number, name=tracked.name))]

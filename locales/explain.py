"""Turn the engine's trace into sentences: what was compared, with the figures, and the
margin. One function per check kind, in the user's language."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from engine import FAIL, NA, PASS, UNKNOWN, WARNING, WORDS, catalogue
from engine.evaluate import CriterionResult, Notice, Outcome
from engine.facts import FIGURE_TYPES, YEAR_RE, Fact, FactError, latest_three, round2, year_key
from engine.rules import Ruleset

from . import fmt_date, fmt_large, fmt_list, fmt_number, t


def label(fact_id: str, lang: str) -> str:
    return catalogue()[fact_id].label(lang)


def _join(lang: str, items) -> str:
    return t(lang, "list_sep").join(items)


def _join_clauses(lang: str, items) -> str:
    """Items that hold a comma themselves (2023年 68.00%，差 2.00个百分点), joined so that a
    reader sees where one ends: ；/; rather than 、/, ."""
    return t(lang, "explain.clause_sep").join(items)


def _space(lang: str) -> str:
    return " " if lang == "en" else ""


def plain_figure(number: float, lang: str) -> str:
    """A threshold as the article writes it: 40, not 40.00 (1,000 in English)."""
    return fmt_number(int(number) if float(number).is_integer() else number, lang=lang)


def unit_after(fact_id: str, lang: str, gap: bool = False, figure: str = "") -> str:
    """A unit as it follows a figure: 亿元 and % right after it; 'km²' after a space; after a
    `figure` written 1, the unit's one_{lang} where the catalogue gives one (1 firm)."""
    cat = catalogue()
    unit = cat.gap_unit_label(fact_id, lang) if gap else cat.unit_label(fact_id, lang)
    if figure == "1" and cat[fact_id].unit:
        unit = cat.units[cat[fact_id].unit].get(f"one_{lang}", unit)
    if lang == "zh" or not unit or unit == "%":
        return unit
    return " " + unit


def _requirement(word: str, threshold: float, fact_id: str, lang: str) -> str:
    """条文要求 … as Chinese writes it: 在40亿元以上, but 不低于70%."""
    key = "explain.requirement_after" if word in ("以上", "以下") else "explain.requirement"
    op, _ = WORDS[word]
    figure = plain_figure(threshold, lang)
    return t(lang, key, word=word, threshold=figure, unit=unit_after(fact_id, lang, figure=figure),
             op=t(lang, f"op.{op}"))


def _years_text(fact_id: str, years, lang: str, exact: bool = False) -> str:
    return _join(lang, (t(lang, "value.year_item", year=y, value=figure, unit=unit_after(fact_id, lang, figure=figure))
                        for y, v in years for figure in (_figure(v, lang, exact),)))


def _figure(value, lang: str, exact: bool = False) -> str:
    """A figure to two decimals; `exact`: one with more written out in full (0.0045, not 0.00)."""
    if exact and isinstance(value, float) and round2(value) != value:
        return format(Decimal(repr(value)), "f")
    return fmt_number(value, lang=lang)


def value_text(fact_id: str, value: Any, lang: str, exact: bool = False) -> str:
    """A fact's value as a person reads it: 45.00亿元, 是, 较大, 2023年 45.00亿元、…; `exact`: as
    asked back, no figure shown as 0.00 that is not 0 (2025年 0.0045亿元)."""
    cat = catalogue()
    spec = cat[fact_id]
    if isinstance(value, bool):
        kind = "trend" if spec.type == "trend" else "bool"  # 持续下降, not 是
        return t(lang, f"value.{kind}_true" if value else f"value.{kind}_false")
    if spec.type in ("level", "rank"):
        return cat.option_label(spec.type, value, lang)
    if isinstance(value, dict):
        return _years_text(fact_id, sorted((int(y), v) for y, v in value.items()), lang, exact)
    if isinstance(value, (int, float)):
        figure = _figure(value, lang, exact)
        return figure + unit_after(fact_id, lang, figure=figure)
    return str(value)


def explain(result: CriterionResult, lang: str) -> str:
    """The explanation of one criterion result: figures compared, margin, reading."""
    c = result.criterion
    if result.status == NA:
        text = t(lang, "explain.not_applicable", label=label(c.applies_if, lang))
    elif result.status == UNKNOWN and c.applies_if in result.outcome.missing:
        text = t(lang, "explain.condition_unknown", label=label(c.applies_if, lang))
    else:
        text = explain_outcome(result.outcome, lang)
    parts = [text]
    if c.exclusion:
        parts.append(t(lang, "explain.exclusion"))
    if c.reading:
        parts.append(t(lang, "explain.reading", text=c.reading_text(lang, failed=result.status == FAIL)))
    return _space(lang).join(parts)


def explain_outcome(o: Outcome, lang: str) -> str:
    kind = o.check.kind
    if kind in ("any_of", "all_of"):
        items = [t(lang, "explain.any_of_item", n=i + 1, text=explain_outcome(part, lang))
                 for i, part in enumerate(o.parts)]
        return _space(lang).join([t(lang, f"explain.{kind}"), *items])
    if kind == "sum":
        return _sum(o, lang)
    if o.status == UNKNOWN:
        return _unknown(o, lang)
    return _EXPLAINERS[kind](o, lang)


def _unknown(o: Outcome, lang: str) -> str:
    fact = getattr(o.check, "fact", None)
    if o.derived and o.inputs and o.observed is None:  # both counts given, no figure: no employees
        patents, employees = catalogue()[fact].derive["per_10k"]
        return t(lang, "explain.per_10k_no_employees", label=label(fact, lang),
                 employees=label(employees, lang), patents=label(patents, lang), count=o.inputs[patents])
    if o.window and o.failing_years and o.check.kind == "falling":  # a given year did not fall
        return window_text(fact, o.window, lang) + _space(lang) + t(
            lang, "explain.window_not_falling", label=label(fact, lang), values=_years_text(fact, o.years, lang),
            years=_join(lang, (t(lang, "explain.window_year", year=y) for y in o.failing_years)))
    if o.window and o.failing_years:  # the years given already fail: it cannot pass
        op = WORDS[o.check.word][0]
        unit, gap_unit = unit_after(fact, lang), unit_after(fact, lang, gap=True)
        key = "explain.every_year_fail_upper" if op[0] == "<" else "explain.every_year_fail"
        items = _join_clauses(lang, (t(lang, key, year=y, value=fmt_number(v, lang=lang), unit=unit,
                               margin=fmt_number(round2(abs(v - o.threshold)), lang=lang), gap_unit=gap_unit)
                             for y, v in o.years))
        return window_text(fact, o.window, lang) + _space(lang) + t(
            lang, "explain.window_failing", items=items,
            requirement=_requirement(o.check.word, o.threshold, fact, lang))
    if o.window:
        return window_text(fact, o.window, lang)
    if fact and o.observed is not None and catalogue()[fact].type in ("series", "trend"):
        return t(lang, "explain.unknown_years", label=label(fact, lang))
    if fact and fact not in o.missing:  # e.g. a rate series with fewer than three years
        return t(lang, "explain.unknown_years", label=label(fact, lang))
    if o.inputs is not None and not o.derived:  # a figure derivable from counts, neither given (facts.md)
        inputs = [f for f in catalogue()[fact].derive["per_10k"] if f not in o.inputs]
        return t(lang, "explain.per_10k_missing", label=label(fact, lang),
                 inputs=fmt_list((label(f, lang) for f in inputs), lang))
    parts = [t(lang, "explain.refused", label=label(f, lang)) for f in o.refused]  # given, but refused
    if rest := [f for f in o.missing if f not in o.refused]:
        parts.insert(0, t(lang, "explain.unknown", labels=_join(lang, (label(f, lang) for f in rest))))
    return _space(lang).join(parts)


def window_text(fact_id: str, issue: dict, lang: str) -> str:
    """Why a series has no 近三年 window, naming the years expected (Profile.window_issue)."""
    years = lambda ys: _join(lang, (t(lang, "explain.window_year", year=y) for y in ys))  # noqa: E731
    expected = years(issue["expected"])
    if issue["incomplete"]:
        return t(lang, "explain.window_incomplete", label=label(fact_id, lang), data_year=issue["data_year"])
    parts = []
    if issue["later"]:
        parts.append(t(lang, "explain.window_later", years=years(issue["later"])))
    if issue.get("refused"):  # given, but refused: the command's message says why
        parts.append(t(lang, "explain.window_refused", years=years(issue["refused"])))
    if issue["missing"]:
        parts.append(t(lang, "explain.window_missing", years=years(issue["missing"])))
    return t(lang, "explain.window", label=label(fact_id, lang), expected=expected,
             problems=_join_clauses(lang, parts))


def _comparison_fields(o: Outcome, fact_id: str, lang: str) -> dict:
    op, _ = WORDS[o.check.word]
    unit = unit_after(fact_id, lang)
    return dict(label=label(fact_id, lang), unit=unit, word=o.check.word, op=t(lang, f"op.{op}"),
                threshold=plain_figure(o.threshold, lang),
                requirement=_requirement(o.check.word, o.threshold, fact_id, lang))


def _margin_sentence(o: Outcome, fact_id: str, lang: str) -> str:
    """How far the figure is from the threshold, read with the article's own word."""
    word = o.check.word
    op, soft = WORDS[word]
    margin = fmt_number(abs(o.margin), lang=lang) if isinstance(o.observed, float) else plain_figure(abs(o.margin), lang)
    gap_unit = unit_after(fact_id, lang, gap=True, figure=margin)
    upper = op[0] == "<"
    if o.margin == 0:
        if o.status == PASS:
            return t(lang, "explain.pass_exact", word=word)
        threshold = plain_figure(o.threshold, lang)
        return t(lang, "explain.fail_exact", word=word, threshold=threshold,
                 unit=unit_after(fact_id, lang, figure=threshold), op=t(lang, f"op.{op}"))
    if o.status == PASS:
        key = "explain.pass_upper_margin" if upper else "explain.pass_margin"
    elif soft:
        key = "explain.warn_upper_margin"
    else:
        key = "explain.fail_upper_margin" if upper else "explain.fail_margin"
    return t(lang, key, margin=margin, gap_unit=gap_unit)


def _threshold(o: Outcome, lang: str) -> str:
    fact_id = o.check.fact
    fields = _comparison_fields(o, fact_id, lang)
    observed = fmt_number(o.observed, lang=lang)
    observed += "" if lang == "zh" else unit_after(fact_id, lang, figure=observed)
    if o.derived:
        inputs = fmt_list((f"{label(f, lang)} {plain_figure(v, lang)}" for f, v in o.inputs.items()), lang)
        sentence = t(lang, "explain.threshold_derived", observed=observed, inputs=inputs, **fields)
    else:
        sentence = t(lang, "explain.threshold", observed=observed, **fields)
        if o.inputs:  # annual rates averaged geometrically
            years = [(int(y), v) for y, v in o.inputs.items()]
            sentence = sentence[:-1] + t(lang, "explain.rate_series",
                                         years=_join(lang, (str(y) for y, _ in years)),
                                         rates=_join(lang, (f"{fmt_number(v, lang=lang)}%" for _, v in years))) + sentence[-1]
        elif o.period:  # a 近三年 average given as one figure: name the years it must cover
            sentence = sentence[:-1] + t(lang, "explain.rate_given", first=o.period[0], last=o.period[1]) + sentence[-1]
    return sentence + _space(lang) + _margin_sentence(o, fact_id, lang)


def _every_year(o: Outcome, lang: str) -> str:
    fact_id = o.check.fact
    op, _ = WORDS[o.check.word]
    fields = _comparison_fields(o, fact_id, lang)
    unit, gap_unit = fields["unit"], unit_after(fact_id, lang, gap=True)
    sentence = t(lang, "explain.every_year", years=_years_text(fact_id, o.years, lang), **fields)
    upper = op[0] == "<"
    if o.status == PASS and o.margin == 0:
        return sentence + _space(lang) + t(lang, "explain.every_year_pass_exact", word=o.check.word)
    if o.status == PASS:
        key = "explain.every_year_pass_upper" if upper else "explain.every_year_pass"
        return sentence + _space(lang) + t(lang, key, margin=fmt_number(abs(o.margin), lang=lang), gap_unit=gap_unit)
    failing = [(y, v) for y, v in o.years if y in o.failing_years]
    key = "explain.every_year_fail_upper" if upper else "explain.every_year_fail"
    # a year exactly at a threshold whose word excludes it (高于 70, a year of 70) is named as such
    items = _join_clauses(lang, (t(lang, key, year=y, value=fmt_number(v, lang=lang), unit=unit,
                           margin=fmt_number(round2(abs(v - o.threshold)), lang=lang), gap_unit=gap_unit)
                         if round2(v - o.threshold) else
                         t(lang, "explain.every_year_fail_exact", year=y, value=plain_figure(o.threshold, lang),
                           unit=unit_after(fact_id, lang, figure=plain_figure(o.threshold, lang)), word=o.check.word)
                         for y, v in failing))
    key = "explain.every_year_warn" if o.status == WARNING else "explain.every_year_short"
    return sentence + _space(lang) + t(lang, key, items=items)


def _sum(o: Outcome, lang: str) -> str:
    check = o.check
    op, _ = WORDS[check.word]
    first = check.facts[0]
    unit = unit_after(first, lang, figure=str(o.observed))  # the total's
    parts = " + ".join(t(lang, "explain.sum_item", label=label(f, lang), value=o.inputs.get(f, "?"))
                       for f in check.facts)
    if o.status == UNKNOWN:
        return t(lang, "explain.sum_unknown", parts=parts, total=o.observed, unit=unit,
                 labels=_join(lang, (label(f, lang) for f in o.missing)))
    fields = dict(parts=parts, total=o.observed, unit=unit, word=check.word,
                  threshold=plain_figure(check.value, lang), op=t(lang, f"op.{op}"),
                  requirement=_requirement(check.word, check.value, first, lang))
    margin = plain_figure(abs(o.observed - check.value), lang)
    absent = [f for f in check.facts if f not in o.inputs]
    if absent and o.status == PASS:
        # passes on the counts known (the others can only add): the total is at least this
        sentence = t(lang, "explain.sum_partial", labels=_join(lang, (label(f, lang) for f in absent)), **fields)
        tail = (t(lang, "explain.sum_partial_pass_exact", word=check.word) if o.observed == check.value
                else t(lang, "explain.sum_partial_pass_margin", margin=margin,
                       gap_unit=unit_after(first, lang, figure=margin)))
        note = [t(lang, "explain.sum_note")] if len(check.facts) > 1 else []
        return _space(lang).join([sentence, tail, *note])
    sentence = t(lang, "explain.sum", **fields)
    if o.status == PASS:
        tail = (t(lang, "explain.pass_exact", word=check.word) if o.observed == check.value
                else t(lang, "explain.pass_margin", margin=margin, gap_unit=unit_after(first, lang, figure=margin)))
    else:
        tail = t(lang, "explain.fail_margin", margin=margin, gap_unit=unit_after(first, lang, figure=margin))
    note = [t(lang, "explain.sum_note")] if len(check.facts) > 1 else []
    return _space(lang).join([sentence, tail, *note])


def _declared(o: Outcome, lang: str) -> str:
    if o.observed is None:  # a preference not answered: a warning, no verdict waits on it
        return t(lang, f"explain.{o.check.kind}_unanswered", label=label(o.check.fact, lang))
    outcome = "pass" if o.status == PASS else ("warn" if o.status == WARNING else "fail")
    return t(lang, f"explain.{o.check.kind}_{outcome}", label=label(o.check.fact, lang))


def _rank(o: Outcome, lang: str) -> str:
    fact_id = o.check.fact
    return t(lang, "explain.rank", label=label(fact_id, lang), value=value_text(fact_id, o.observed, lang),
             wanted=t(lang, f"explain.rank_wanted_{o.check.rank}")) + t(lang, f"explain.verdict_{o.status}")


def _level(o: Outcome, lang: str) -> str:
    check = o.check
    cat = catalogue()
    text = t(lang, "explain.level", label=label(check.fact, lang),
             value=cat.option_label("level", o.observed, lang),
             bound=cat.option_label("level", check.bound, lang))
    return text + t(lang, f"explain.verdict_{o.status}")


def _falling(o: Outcome, lang: str) -> str:
    fact_id = o.check.fact
    if isinstance(o.observed, bool):
        key = "explain.falling_bool_pass" if o.status == PASS else "explain.falling_bool_fail"
        return t(lang, key, label=label(fact_id, lang))
    text = t(lang, "explain.falling_series", label=label(fact_id, lang),
             years=_years_text(fact_id, o.years, lang))
    if o.status == PASS:
        return text + _space(lang) + t(lang, "explain.falling_pass")
    failing = _join(lang, (str(y) for y in o.failing_years))
    return text + _space(lang) + t(lang, "explain.falling_fail", years=failing)


_EXPLAINERS = {
    "threshold": _threshold,
    "every_year": _every_year,
    "declared": _declared,
    "declared_not": _declared,
    "preferred": _declared,
    "rank_at_least": _rank,
    "level_below": _level,
    "falling": _falling,
}


def notice_text(notice: Notice, ruleset: Ruleset, lang: str) -> str:
    return t(lang, f"notice.{notice.kind}", short=ruleset.short.get(lang), document=ruleset.document,
             citation=notice.citation, text=notice.article_text, date=fmt_date(notice.date, lang))


def _bound(number: float, lang: str) -> str:
    """A range's end: 10,000,000 in English, 1000万 in Chinese."""
    return fmt_large(number, lang)


def expected_text(spec: Fact, lang: str, chat: bool = False, csv: bool = False, years: tuple[str, ...] = ()) -> str:
    """What a fact's value must look like, in words; `chat`: as typed in the dialog
    (2023:45 2024:48), `csv`: as a CSV gives it (a column a year, headed with `years`, the
    window's when known), not as JSON."""
    if spec.type not in FIGURE_TYPES:
        return t(lang, f"expected.{spec.type}")
    if not spec.unit and spec.type == "count":  # a bare whole number, a year (data_year): no 1,900
        return t(lang, "expected.whole", min=int(spec.min), max=int(spec.max))
    if spec.type == "count":
        return t(lang, "expected.count", min=_bound(spec.min, lang), max=_bound(spec.max, lang),
                 unit=unit_after(spec.id, lang))
    number = expected_number(spec, lang)
    if spec.type == "number":
        return number
    if csv:  # a cell holds no JSON object: a year's figure is a column of its own
        first, second, third = years[-3:] if len(years) >= 3 else ("2023", "2024", "2025")
        return t(lang, f"expected.csv_{spec.type}", number=number, fact=spec.id, label=spec.label(lang),
                 first=first, second=second, third=third)
    if spec.type in ("series", "rate"):
        return t(lang, f"expected.{'chat_' if chat else ''}{spec.type}", number=number)
    return t(lang, f"expected.{spec.type}", number=number)


def expected_number(spec: Fact, lang: str) -> str:
    """A figure's range in words, with its unit: 0 到 100 之间的数（单位：%）; of a series, each
    year's."""
    unit = catalogue().unit_label(spec.id, lang)
    return t(lang, "expected.number", min=_bound(spec.min, lang), max=_bound(spec.max, lang),
             unit_hint=t(lang, "expected.unit_hint", unit=unit) if unit else "")


def given_text(value: Any, lang: str, depth: int = 0) -> str:
    """A value as it was given, for a message: quoted text, 2023年 120、2024年 80, never raw
    JSON; what is nested deeper than a series is shown as … (a hostile file nests 1,000 deep)."""
    if depth > 2:
        return "…"
    if isinstance(value, str):
        return f"“{_cut(value)}”"
    if value is None:
        return t(lang, "value.empty")
    if isinstance(value, bool):
        return t(lang, "value.bool_true" if value else "value.bool_false")
    if isinstance(value, dict):
        return t(lang, "list_sep").join(_given_item(k, v, lang, depth) for k, v in list(value.items())[:5]) \
            or t(lang, "value.empty")
    if isinstance(value, list):
        return t(lang, "list_sep").join(given_text(v, lang, depth + 1) for v in value[:5]) or t(lang, "value.empty")
    try:
        return _cut(str(value))
    except ValueError:  # an integer too long to write out
        return "…"


def _given_item(key: Any, value: Any, lang: str, depth: int) -> str:
    """One entry of an object given: a year's (2023年 45), else its key quoted, as written
    (an area given as {"value": 80} is no "value年 80")."""
    shown = given_text(value, lang, depth + 1)
    if YEAR_RE.match(year_key(key)):
        return t(lang, "value.given_year", year=year_key(key), value=shown)
    return t(lang, "value.given_key", name=_cut(str(key)), value=shown)


def fact_error_text(error: FactError, cluster: str, lang: str, window: tuple[str, ...] = (), csv: bool = False) -> str:
    """A refused value, naming the cluster, the fact and what is expected (`window`: the
    years of 近三年, for a year given after them; `csv`: the value was a CSV cell)."""
    if error.code == "unknown_fact":
        suggestion = t(lang, "fact_error.suggestion", nearest=error.suggestion) if error.suggestion else ""
        return t(lang, "fact_error.unknown_fact", cluster=cluster, fact=shown_value(error.fact), suggestion=suggestion)
    if error.code == "name":
        return t(lang, "fact_error.name", cluster=cluster)
    spec = catalogue()[error.fact]
    if error.code == "column_unit":  # a column headed with a unit not the fact's (bot.inputs)
        return t(lang, "fact_error.column_unit", cluster=cluster, column=error.value, written=error.suggestion,
                 label=spec.label(lang), fact=error.fact, unit=catalogue().unit_label(error.fact, lang))
    if error.code == "later_year" and error.fact == "data_year":
        return t(lang, "fact_error.data_year_later", cluster=cluster, year=error.value)
    if error.code == "later_year":
        later = sorted(y for y in error.value if y > window[-1])
        return t(lang, "fact_error.later_year", cluster=cluster, label=spec.label(lang), fact=error.fact,
                 years=t(lang, "list_sep").join(later), first=window[0], last=window[-1],
                 expected=t(lang, "list_sep").join(window))
    if error.years and isinstance(error.value, dict):
        return _refused_years_text(error, spec, cluster, lang)
    expected = expected_text(spec, lang, csv=csv, years=window)
    if error.code == "year":
        expected += t(lang, "expected.year")
    shown = _cut(given_text(error.value, lang))
    return t(lang, "fact_error.invalid", cluster=cluster, label=spec.label(lang), fact=error.fact,
             value=shown, expected=expected)


def fraction_note_text(fact_id: str, figures: dict, cluster: str, lang: str) -> str:
    """A share most likely written as a fraction (bot.inputs._fractions: {year or None: figure}),
    asked as the chat asks it; evaluated as given, so a note, not a refusal."""
    sep = t(lang, "list_sep")
    plain = lambda number: format(number.normalize(), "f")  # noqa: E731  0.81, 81: as written
    typed = [Decimal(repr(v)) for v in figures.values()]
    items = [t(lang, "fact_note.year_value", year=year, value=plain(v)) if year else plain(v)
             for year, v in zip(figures, typed)]
    return t(lang, "fact_note.fraction", cluster=cluster, label=catalogue()[fact_id].label(lang),
             items=sep.join(items), meant=sep.join(plain(v.scaleb(2)) + "%" for v in typed),
             typed=sep.join(plain(v) + "%" for v in typed))


def large_note_text(fact_id: str, figures: dict, cluster: str, lang: str, derived: bool = False) -> str:
    """A figure beyond its fact's plausible_max (bot.inputs._large: {year or None: figure}), as
    the chat asks it back: in 亿元, with its reading in 万元; evaluated as given, so a note.
    `derived`: made from two counts (每万人), the counts named."""
    spec = catalogue()[fact_id]
    items = [t(lang, "fact_note.year_value", year=year, value=value_text(fact_id, v, lang, exact=True)) if year
             else value_text(fact_id, v, lang, exact=True) for year, v in figures.items()]
    fields = dict(cluster=cluster, label=spec.label(lang), items=t(lang, "list_sep").join(items),
                  limit=value_text(fact_id, spec.plausible_max, lang))
    if derived:
        inputs = fmt_list((f"“{catalogue()[f].label(lang)}”" for f in catalogue().inputs[fact_id]), lang)
        return t(lang, "fact_note.implausible_derived", inputs=inputs, **fields)
    if spec.read_in_wan(1) is None:
        return t(lang, "fact_note.implausible", **fields)
    meant = [value_text(fact_id, spec.read_in_wan(v), lang, exact=True) for v in figures.values()]
    return t(lang, "fact_note.large", meant=t(lang, "list_sep").join(meant), **fields)


def _refused_years_text(error: FactError, spec: Fact, cluster: str, lang: str) -> str:
    """A series refused for some of its years: those years alone, and what one year's entry
    must be (2023年 的值 101 无效，应为0 到 100 之间的数), not the good years beside them."""
    # a key as validation saw it: 2024年 is 2024 (engine.facts.year_key), unless a year was given twice
    keys = [year_key(k) for k in error.value]
    keys = keys if len(set(keys)) == len(keys) else [str(k).strip() for k in error.value]
    items = [t(lang, "fact_error.year_value", year=_cut(year), value=given_text(amount, lang, 1))
             if YEAR_RE.match(year) else t(lang, "fact_error.year_key", year=given_text(year, lang))
             for year, amount in zip(keys, error.value.values()) if year in error.years]
    if len(items) > 5:
        items = items[:5] + ["…"]
    if not any(YEAR_RE.match(str(year).strip()) for year in error.years):  # only years refused, no figure
        expected = t(lang, "expected.year_only")
    else:
        expected = expected_number(spec, lang) + (t(lang, "expected.year") if error.code == "year" else "")
    return t(lang, "fact_error.invalid_years", cluster=cluster, label=spec.label(lang), fact=error.fact,
             items=t(lang, "list_sep").join(items), expected=expected)


SHOWN_CHARS = 60


def _cut(text: str) -> str:
    """A refused value is quoted short: a 5,000-digit number is cut."""
    return text[:SHOWN_CHARS] + "…" if len(text) > SHOWN_CHARS else text


def shown_value(value: Any, dump: bool = False) -> str:
    """A refused value as the message quotes it: short (a 5,000-digit number is cut), and
    never failing (a value nested too deep to write is shown as …)."""
    try:
        text = json.dumps(value, ensure_ascii=False) if dump else str(value)
    except (RecursionError, ValueError):
        text = "…"
    text = _cut(text)
    return text if dump else f"“{text}”"

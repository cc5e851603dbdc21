"""The application form in the product: the check's report (plain text, markdown, JSON) for
the CLI and the chat, /form (填表) writing the form pre-filled with the answers given so far,
and a filled form sent as a file, checked and answered with the report."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from typing import TYPE_CHECKING, Any

from engine import catalogue
from engine.facts import round2
from engine.rules import WORDS
from locales import fmt_date, fmt_number, t, t_count
from locales.explain import explain, label, unit_after, value_text

from .compare import requirement
from .form_files import Blank, FormFileError, layout, read_bytes, write_docx, write_xlsx
from .messages import Attachment, Reply, file_stem
from .reports import VerdictTable, evaluation_json, markdown_report

# engine.form (the form's description, its models and checks) is imported where a form is
# written or read: the chat imports this module at every start and needs none of it there.
if TYPE_CHECKING:
    from engine.form import Finding, FormReport


def finding_text(f: Finding, lang: str) -> str:
    """Where (section, field, year), what is wrong, and the form's own sentence."""
    params = {k: (fmt_number(v, lang=lang) if isinstance(v, float) and math.isfinite(v) else
                  t(lang, "list_sep").join(v) if isinstance(v, list) else
                  fmt_date(v, lang) if isinstance(v, dt.date) else v)
              for k, v in f.params.items()}
    if f.code in ("range", "below", "range_other_unit", "decimals", "implausible", "implausible_other_unit"):
        params["unit"] = unit_after(f.params["fact"], lang) if f.params.get("fact") else ""  # the fact's, if any
    if f.code in ("range_other_unit", "label_unit", "implausible_other_unit"):  # the money units the form writes, by name
        units = {u["zh"]: u[lang] for u in catalogue().units.values()}
        params.update({k: units.get(f.params[k], f.params[k]) for k in ("written", "asked") if f.params.get(k)})
    if f.code == "wrong_unit":  # the unit written as it is in the cell; the row's by its id (个 is of several)
        params["asked"] = catalogue().units[f.params["unit"]][lang]
    if f.code in ("promise_false", "answer_contradicted"):  # the facts by name, their values in words
        params.update({f"{k}_text": value_text(f.params["fact"], f.params[k], lang)
                       for k in ("value", "known", "given") if k in f.params}, fact_label=label(f.params["fact"], lang))
    if f.code == "criterion":
        return _where(f, lang) + _criterion_text(f, lang)
    key = "decimals_converted" if f.code == "decimals" and f.params.get("written") else f.code  # 0.01234亿元 in 万元
    return _where(f, lang) + t(lang, f"form.finding.{key}", **params)


def _where(f: Finding, lang: str) -> str:
    """Section, row and year, followed by what a message needs to read on (a space in English)."""
    if f.field is None:
        return t(lang, "form.where_section", section=f.section) + ("" if lang == "zh" else " ")
    return where_text(f.section, f.field, f.under, lang, f.year) + ("" if lang == "zh" else " ")


def where_text(section: str, field: str, under: str | None, lang: str, year: str | None = None) -> str:
    """A row of the form: its section, its label, and the row it belongs to where the label is
    not enough (一、基本情况「集群运营管理机构」下的「联系人」), with the year if any."""
    row = t(lang, "form.row_under", field=field, under=under) if under else t(lang, "form.row", field=field)
    return t(lang, "form.where_year", section=section, row=row, year=year) if year else \
        t(lang, "form.where", section=section, row=row)


def _criterion_text(f: Finding, lang: str) -> str:
    """A criterion of the form's own measure failed: for a year of 近三年每年, the figure and how
    far it is from the threshold; otherwise the criterion's explanation."""
    result, ruleset = f.params["result"], f.params["ruleset"]
    check, o = result.criterion.check, result.outcome
    head = {"measure": ruleset.short.get(lang), "citation": result.criterion.citation}
    if f.year is None:
        key = "criterion" if f.severity == "error" else "criterion_warning"
        return t(lang, f"form.finding.{key}", explanation=explain(result, lang), **head)
    value, gap = f.params["value"], round2(abs(f.params["value"] - o.threshold))
    kind = "exact" if not gap else "over" if WORDS[check.word][0].startswith("<") else "short"
    return t(lang, f"form.finding.criterion_{kind}", value=fmt_number(value, lang=lang) + unit_after(check.fact, lang),
             requirement=requirement(check, lang), word=check.word,
             margin=fmt_number(gap, lang=lang) + unit_after(check.fact, lang, gap=True), **head)


def quote_line(f: Finding, lang: str) -> str:
    """The form's own sentence, or for a failed criterion the article's, with its citation."""
    if f.code == "criterion":
        return t(lang, "form.report.article", citation=f.params["result"].criterion.citation, quote=f.quote)
    return t(lang, "form.report.quote", quote=f.quote)


def summary(report: FormReport, lang: str) -> str:
    errors, warnings = len(report.errors), len(report.findings) - len(report.errors)
    notes = t_count(lang, "form.report.notes", warnings)
    if report.passed:
        return t(lang, "form.report.warnings_only", notes=notes) if warnings else t(lang, "form.report.passed")
    return t(lang, "form.report.failed", problems=t_count(lang, "form.report.problems", errors), notes=notes)


def _role(i: int, lang: str) -> str:
    return t(lang, "form.report.own_measure" if i == 0 else "form.report.comparison")


def report_text(report: FormReport, lang: str, file: str = "") -> str:
    """The terminal and chat report: the findings with their quotes, then the verdicts."""
    lines = [t(lang, "form.report.title", name=report.name or "—")]
    if file:
        lines.append(t(lang, "form.report.file", file=file))
    lines.append(summary(report, lang))
    if report.findings:  # a heading with nothing under it: none when the form passes clean
        lines += ["", t(lang, "form.report.findings")]
    for f in report.findings:
        lines.append(f"  [{t(lang, f'form.severity.{f.severity}')}] {finding_text(f, lang)}")
        lines.append("      " + quote_line(f, lang))
    lines += ["", t(lang, "form.report.evaluation")]
    # Each measure's verdict on its own line, not a table of columns: a chat's proportional
    # font (the web page, Telegram, WeCom) set the verdicts under another measure's heading.
    table = VerdictTable(lang)
    table.add(report.name or "—", report.evaluations)
    (_, *verdicts), under = table.rows[0]
    lines += [t(lang, "form.report.verdict", measure=ev.ruleset.short.get(lang), role=_role(i, lang), verdict=verdict)
              for i, (ev, verdict) in enumerate(zip(report.evaluations, verdicts))]
    lines += under
    own = report.evaluations[0]
    if own.missing:
        lines.append(t(lang, "form.report.missing", measure=own.ruleset.short.get(lang),
                       labels=t(lang, "dialog.label_sep").join(label(f, lang) for f in own.missing)))  # a label holds 、
    return "\n".join(lines)


def report_markdown(report: FormReport, lang: str, file: str = "") -> str:
    lines = [f"# {t(lang, 'form.report.title', name=report.name or '—')}", ""]
    if file:
        lines += [t(lang, "form.report.file", file=file), ""]
    lines += [f"**{summary(report, lang)}**", ""]
    if report.findings:
        lines += [f"## {t(lang, 'form.report.findings')}", ""]
    for f in report.findings:
        lines += [f"- **{t(lang, f'form.severity.{f.severity}')}** {finding_text(f, lang)}",
                  f"  > {quote_line(f, lang)}", ""]
    lines += [f"## {t(lang, 'form.report.evaluation')}", ""]
    lines += [f"- {ev.ruleset.short.get(lang)}{_role(i, lang)}" for i, ev in enumerate(report.evaluations)]
    body = markdown_report(report.name or "—", report.evaluations, lang, answers=report.facts)
    return "\n".join(lines) + "\n\n" + re.sub(r"^#", "##", body, flags=re.M)


def report_json(report: FormReport, lang: str, file: str = "") -> dict[str, Any]:
    return {
        "file": file, "cluster": report.name, "passed": report.passed,
        "findings": [{"code": f.code, "severity": f.severity, "section": f.section, "field": f.field,
                      "year": f.year, "message": finding_text(f, lang), "quote": f.quote}
                     for f in report.findings],
        "facts": report.facts,
        "evaluations": [{**evaluation_json(report.name, ev, lang), "for_comparison": i > 0}
                        for i, ev in enumerate(report.evaluations)],
    }


def file_error_text(error: FormFileError, lang: str) -> str:
    return t(lang, f"form.file.{error.code}", size=error.detail, detail=error.detail, **error.params)


# --- the chat -------------------------------------------------------------------------------

def form_data_year(answers: dict) -> str | None:
    """The form's year columns follow the latest year the answers give, when it is later."""
    from engine.form import load_form  # deferred: see the top

    years = [y for v in answers.values() if isinstance(v, dict) for y in v]
    latest = max(years, default=None)
    return latest if latest and latest > load_form().data_year else None


def form_documents(name: str, answers: dict, lang: str) -> Reply:
    """/form: the form as XLSX and DOCX, pre-filled with the answers; the blank fields listed."""
    from engine.form import load_form  # deferred: see the top

    lay = layout(answers, name, form_data_year(answers))
    total = sum(1 for s in load_form().sections for f in s.fields if f.required and f.kind != "statement")
    stem = file_stem(name)
    stem = f"{stem}-{t(lang, 'form.chat.file_stem')}"
    filled = total - len(lay.blank)
    lines = [t_count(lang, "form.chat.written", filled, name=name, filled=filled)]
    if lay.blank:
        lines.append(t_count(lang, "form.chat.blank_heading", len(lay.blank)))
        # the first 30, and every checklist answered but for its boxes however far down
        shown = lay.blank[:30] + [blank for blank in lay.blank[30:] if blank.answered is not None]
        lines += [_blank_item(blank, lang) for blank in shown]
        if len(lay.blank) > len(shown):
            lines.append(t(lang, "form.chat.and_more", n=len(lay.blank) - len(shown)))
    lines.append(t(lang, "form.chat.send_back"))
    return Reply("\n".join(lines), documents=[(f"{stem}.xlsx", write_xlsx(lay)),
                                              (f"{stem}.docx", write_docx(lay, load_form().title))])


def _name_key(name: str) -> str:
    """A cluster's name as compared: full-width letters and digits as half-width, no white space."""
    return "".join(unicodedata.normalize("NFKC", name).split())


def _blank_item(blank: Blank, lang: str) -> str:
    """A field still to fill; a checklist answered yes (or with a count) asks for its boxes."""
    where = where_text(blank.section, blank.label, blank.under, lang)
    if blank.answered is None:
        return t(lang, "form.chat.blank_item", where=where)
    key = "blank_answered_yes" if blank.answered is True else "blank_answered_count"
    return t(lang, f"form.chat.{key}", where=where, n=blank.answered)


def check_attachment(attachment: Attachment, answers: dict, on: dt.date, lang: str,
                     cluster: str | None = None) -> Reply:
    """A filled form sent as a file: the report, or one line saying why it cannot be read.
    When the form's 集群名称 is the current cluster's (`cluster`), the chat's answers stand in
    for what the form does not ask (the 承诺函's facts); a form for another cluster, or naming
    none, is checked alone, by its own years, and the reply says so."""
    try:  # (a file over a channel's limit never gets here: the channel says it, as unreadable)
        tables = read_bytes(attachment.content, attachment.filename)
    except FormFileError as exc:
        return Reply(t(lang, "form.chat.unreadable", file=attachment.filename, reason=file_error_text(exc, lang)),
                     kind="error")
    from engine.form import check_form, cluster_name  # deferred: see the top

    from .parse import read_figure

    named = cluster_name(tables)
    same = cluster is not None and bool(named) and _name_key(named) == _name_key(cluster)
    report = check_form(tables, on, extra_facts=answers if same else None,
                        data_year=form_data_year(answers) if same else None, figure=read_figure)
    text = report_text(report, lang, attachment.filename)
    if cluster is not None and not same:
        text = t(lang, "form.chat.other_cluster" if named else "form.chat.unnamed", form=named,
                 current=cluster) + "\n\n" + text
    return Reply(text, kind="result",
                 documents=[(file_stem(re.sub(r"\.\w+$", "", attachment.filename), "form") + ".md",
                             report_markdown(report, lang, attachment.filename).encode("utf-8"))])

"""Evaluations rendered for people and programs: the JSON of facts.md, a CSV row, a terminal
table with the measures side by side, and the markdown pre-screening report."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Iterator

from engine import FAIL, NA, PASS, UNKNOWN, WARNING, catalogue
from engine.evaluate import Evaluation, term_notices
from locales import fmt_date, render, t, t_count
from locales.explain import explain, label, notice_text, value_text


def evaluation_json(cluster: str, ev: Evaluation, lang: str) -> dict:
    """One (cluster, jurisdiction) object, exactly the shape of facts.md."""
    return {
        "cluster": cluster,
        "jurisdiction": ev.ruleset.jurisdiction,
        "ruleset": ev.ruleset.id,
        "verdict": ev.verdict,
        "criteria": [
            {
                "id": r.criterion.id,
                "status": r.status,
                "citation": r.criterion.citation,
                "article_text": r.criterion.article_text,
                "explanation": explain(r, lang),
                "values": r.values,
            }
            for r in ev.results
        ],
        "notices": [notice_text(n, ev.ruleset, lang) for n in ev.notices],
    }


CSV_HEADER = ["cluster", "jurisdiction", "ruleset", "verdict", "failed", "unknown", "warnings", "notices"]
# What a spreadsheet reads as the start of a formula (OWASP, CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(cell: str) -> str:
    """A cell of the CSV summary from the input (the cluster's name) as Excel shows it: one a
    spreadsheet would run as a formula (=1+2, @SUM(…)) gets a leading ', as OWASP advises."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def evaluation_csv_row(cluster: str, ev: Evaluation, lang: str) -> list[str]:
    """A summary row for batch screening: which criteria failed, are unknown or warn."""
    # From the statuses alone: a batch row needs no explanation, so no trace is built. A batch
    # writes four rows per cluster: one pass over the statuses, and what follows from the
    # measure, the date and the language alone (labels, notices) is made once.
    r = ev.ruleset
    labels, notices = csv_fixed_cells(r, ev.on, lang)
    found: dict[str, list[str]] = {FAIL: [], UNKNOWN: [], WARNING: []}
    for label, status in zip(labels, ev.statuses):
        if status is not PASS and status in found:
            found[status].append(label)
    return [csv_text(cluster), r.jurisdiction, r.id, ev.verdict, "; ".join(found[FAIL]), "; ".join(found[UNKNOWN]),
            "; ".join(found[WARNING]), notices]


def csv_fixed_cells(ruleset, on: dt.date, lang: str) -> tuple[tuple[str, ...], str]:
    """What a measure's summary rows take from the measure, the date and the language alone:
    each criterion's label (its id and citation), and the notices (a term not yet begun or
    ended). Also the batch's fast CSV writer's (bot/commands/evaluate.py)."""
    key = (ruleset.id, on, lang)
    found = _CSV_FIXED.get(key)
    if found is None:
        evaluation_notices = term_notices(ruleset, on)
        found = (tuple(f"{c.id} {c.citation}" for c in ruleset.criteria),
                 " ".join(notice_text(n, ruleset, lang) for n in evaluation_notices))
        if len(_CSV_FIXED) < 4096:  # bounded: one entry per measure, date and language
            _CSV_FIXED[key] = found
    return found


_CSV_FIXED: dict[tuple, tuple[tuple[str, ...], str]] = {}


def text_width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - text_width(text))


class VerdictTable:
    """The verdicts of each cluster side by side, then each failure with its citation (the
    terminal's batch), a cluster at a time: the columns are as wide as the widest
    cell, so nothing is printed before the last cluster, and what is kept until then is the
    text to print alone, not the evaluations (20,000 clusters kept whole took 1.9 GB). A line
    that recurs (the same criterion failed, the same notice) is kept once for all clusters."""

    def __init__(self, lang: str):
        self.lang, self.heads = lang, None
        self.rows: list[tuple[tuple[str, ...], tuple[str, ...]]] = []  # (cells, the lines under them)
        self._kept: dict[str, str] = {}

    def add(self, name: str, evaluations: list[Evaluation]) -> None:
        lang, keep = self.lang, self._keep
        if self.heads is None:
            self.heads = [t(lang, "report.cluster")] + [ev.ruleset.short.get(lang) for ev in evaluations]
        cells = (name, *(keep(t(lang, f"verdict.{ev.verdict}")) for ev in evaluations))
        lines = []
        for ev in evaluations:
            measure = ev.ruleset.short.get(lang)
            # From the statuses: a criterion's result (its trace, its explanation) is not printed.
            for criterion, status in zip(ev.ruleset.criteria, ev.statuses):
                if status in (FAIL, WARNING):
                    lines.append(keep("  " + t(lang, "report.table_item", measure=measure,
                                               status=t(lang, f"status.{status}"), citation=criterion.citation,
                                               criterion=t(lang, f"criterion.{criterion.id}"),
                                               text=criterion.article_text)))
            unknown = ev.statuses.count(UNKNOWN)
            if unknown:
                lines.append(keep("  " + t_count(lang, "report.table_unknown", unknown, measure=measure)))
            for n in ev.notices:
                lines.append(keep("  " + t(lang, "report.table_notice", text=notice_text(n, ev.ruleset, lang))))
        self.rows.append((cells, tuple(lines)))

    def _keep(self, text: str) -> str:
        return self._kept.setdefault(text, text)

    def __bool__(self) -> bool:
        return bool(self.rows)

    def text(self) -> str:
        return "\n".join(self.lines())

    def lines(self) -> Iterator[str]:
        """The table's lines, one at a time: a batch's table written whole as one string took
        as much memory again as the text kept."""
        if not self.rows:
            return
        heads = self.heads
        widths = [max(text_width(row[i]) for row in [heads, *(cells for cells, _ in self.rows)]) + 2
                  for i in range(len(heads))]
        yield "".join(pad(cell, w) for cell, w in zip(heads, widths)).rstrip()
        yield "".join("-" * (w - 2) + "  " for w in widths).rstrip()
        for cells, lines in self.rows:
            yield "".join(pad(cell, w) for cell, w in zip(cells, widths)).rstrip()
            yield from lines


def _criterion_items(ev: Evaluation, status: str, lang: str) -> list[dict]:
    return [
        {"id": r.criterion.id, "citation": r.criterion.citation, "article_text": r.criterion.article_text,
         "explanation": explain(r, lang)}
        for r in ev.with_status(status)
    ]


def report_context(cluster: str, evaluations: list[Evaluation], lang: str,
                   answers: dict | None = None, for_comparison: set[str] = frozenset(),
                   notes: dict[str, str] | None = None) -> dict:
    """What the markdown report shows: per measure the verdict, then each failed, unknown and
    warning criterion with its citation, the verbatim article and the figures compared, and
    the passed (and not applicable) ones in a compact table, figures too. No internal ids:
    the report goes into a memo as it is."""
    cat = catalogue()
    on = evaluations[0].on if evaluations else dt.date.today()
    measures = []
    for ev in evaluations:
        r = ev.ruleset
        measures.append({
            "short": r.short.get(lang) + (t(lang, "dialog.for_comparison") if r.jurisdiction in for_comparison else ""),
            "title": r.title.get(lang), "document": r.document,
            "ruleset": r.id, "version": r.version, "verdict": ev.verdict,
            "verdict_text": t(lang, f"verdict.{ev.verdict}"),
            "counts": {s: ev.statuses.count(s) for s in ("pass", "fail", "unknown", "warning", "not_applicable")},
            "failed": _criterion_items(ev, FAIL, lang),
            "unknown": _criterion_items(ev, UNKNOWN, lang),
            "warnings": _criterion_items(ev, WARNING, lang),
            "passed": _criterion_items(ev, PASS, lang),
            "not_applicable": _criterion_items(ev, NA, lang),
            "notices": ([notes[r.jurisdiction]] if r.jurisdiction in (notes or {}) else [])
                       + [notice_text(n, r, lang) for n in ev.notices],
        })
    answer_rows = []
    if answers is not None:
        for fact_id in cat.facts:
            if fact_id in answers:
                answer_rows.append({"id": fact_id, "label": label(fact_id, lang),
                                    "value": value_text(fact_id, answers[fact_id], lang)})
    return {"cluster": cluster, "on": fmt_date(on, lang), "measures": measures,
            "answers": answer_rows, "with_answers": answers is not None}


def markdown_report(cluster: str, evaluations: list[Evaluation], lang: str,
                    answers: dict | None = None, for_comparison: set[str] = frozenset(),
                    notes: dict[str, str] | None = None) -> str:
    """`for_comparison`: the provincial measures of another province than the cluster's,
    marked so; `notes`: a note per jurisdiction (why it is for comparison)."""
    context = report_context(cluster, evaluations, lang, answers, for_comparison, notes)
    return render(lang, "report.md.j2", **context) + "\n"

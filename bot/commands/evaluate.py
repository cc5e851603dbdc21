"""`clusterbot evaluate FILE...`: batch screening of clusters against the chosen measures."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys

from bot.clock import Clock
from bot.inputs import Cluster, InputError, Note, read_clusters
from dialogs.reports import (
    CSV_HEADER, csv_fixed_cells, csv_text, evaluation_csv_row, evaluation_json, markdown_report, VerdictTable,
)
from engine import FAIL, PASS, UNKNOWN, WARNING, FactError, Profile, evaluate_many
from engine.facts import window
from locales import t
from locales.explain import fact_error_text, fraction_note_text, large_note_text

from . import HELP
from .common import add_common, evaluation_date_arg


def register(subparsers) -> None:
    p = subparsers.add_parser("evaluate", help=HELP["evaluate"],
                              description="Evaluate clusters against the measures. FILE is a JSON object, a JSON "
                                          "array, JSON Lines or CSV (series as columns such as total_output.2024), "
                                          "or - for standard input. Exit status: 0 done, 1 some values were "
                                          "refused (they count as unknown), 2 unreadable input.")
    p.add_argument("files", nargs="+", metavar="FILE")
    add_common(p)
    p.add_argument("--format", "-f", choices=["json", "table", "markdown", "csv"], default="json")
    p.add_argument("--on", type=evaluation_date_arg, default=None, metavar="YYYY-MM-DD",
                   help="evaluate as on this date (default: today, Asia/Shanghai)")
    p.set_defaults(run=run)


def run(args, stdout=None, stderr=None, stdin=None) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    on = args.on or Clock().today()
    # A tuple: evaluate_many finds the compiled checks of the same tuple at once, per cluster.
    rulesets, lang, fmt = tuple(args.jurisdiction), args.lang, args.format
    notes: list[Note] = []
    refused = False

    def evaluated():
        """Each cluster evaluated as soon as it is read (JSON Lines and CSV a line at a time):
        memory stays flat however long the batch; its refused values are said as it passes."""
        nonlocal refused
        told = 0

        def tell_notes():
            nonlocal told, refused
            for note in notes[told:]:
                print(note_text(note, lang), file=err)
                refused = refused or note.refused
            told = len(notes)

        for cluster in read_clusters(args.files, stdin, notes):
            tell_notes()
            evaluations, errors, years = screen(cluster, rulesets, on)
            if errors or cluster.fractions or cluster.large:
                who = _who(cluster, lang)
            for error in errors:
                refused = True
                print(fact_error_text(error, who, lang, window=years, csv=cluster.csv), file=err)
            for fact, figures in cluster.fractions:  # said, but evaluated as given: no refusal
                print(fraction_note_text(fact, figures, who, lang), file=err)
            for fact, figures in cluster.large:  # one not given is derived (each 10,000 people's)
                print(large_note_text(fact, figures, who, lang, fact not in cluster.facts), file=err)
            yield cluster.name, evaluations
        tell_notes()  # what was found after the last cluster (a file's header and no row)

    try:
        WRITERS[fmt](evaluated(), lang, out)
    except InputError as exc:
        # An unreadable line stops the run there, as jq does: what was read before it is
        # printed (and well-formed), this one line says where it stopped, and the status is 2.
        out.flush()
        print(f"clusterbot evaluate: {exc.text(lang)}", file=err)
        return 2
    return 1 if refused else 0


def note_text(note: Note, lang: str) -> str:
    fields = dict(note.fields)
    if "name" in fields:  # a cluster's name, on one line as everywhere
        fields["name"] = _one_line(fields["name"])
    if "nearest" in fields:  # an unknown column: the id it most likely meant, when there is one
        fields["nearest"] = t(lang, "fact_error.suggestion", nearest=fields["nearest"]) if fields["nearest"] else ""
    return t(lang, f"input.{note.code}", source=note.source, **fields)


def screen(cluster: Cluster, rulesets: tuple, on: dt.date) -> tuple[list, list[FactError], tuple[str, ...]]:
    """One cluster's evaluations, its refused values, and (for their messages) its 近三年. A
    year given after 近三年 is refused too: it always leaves a criterion unknown, so it is
    looked for only then."""
    # the values refused: their criteria say so, not that nothing was given (fact → years, () whole)
    profile = Profile(cluster.facts, on, refused={e.fact: e.years for e in cluster.errors} if cluster.errors else None)
    evaluations = evaluate_many(profile, rulesets, on)
    errors = cluster.errors
    for ev in evaluations:  # a loop, not any() over a generator: a batch asks it per cluster
        if UNKNOWN in ev.statuses:
            errors = errors + [FactError(f, cluster.facts[f], "later_year") for f in profile.later_given()]
            if profile.window is None:  # a data_year not yet over on the date: a later year as well
                errors.append(FactError("data_year", cluster.facts["data_year"], "later_year"))
            break
    return evaluations, errors, window(profile.last) if errors else ()


def _who(cluster: Cluster, lang: str) -> str:
    """The cluster as a refusal or a note names it: its name, and of a CSV row its line, the
    row number Excel shows (two rows may give one name, and a name may be only a position)."""
    name = _one_line(cluster.name)
    return name + t(lang, "input.at_line", line=cluster.line) if cluster.csv and cluster.line else name


def _one_line(name: str) -> str:
    """A name as a message, a table's row or a report's heading quotes it: on one line, line
    breaks and other controls escaped (an escape sequence would reach the terminal)."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in name)


def _indented(obj) -> str:
    """json.dumps(obj, ensure_ascii=False, indent=2), the same text: given an indent, json runs
    its pure-Python encoder, a third of `-f json`'s time; its C encoder's compact text indented
    by msgspec takes half as long."""
    import msgspec

    return msgspec.json.format(json.dumps(obj, ensure_ascii=False).encode(), indent=2).decode()


def _write_json(evaluated, lang, out) -> None:
    """A JSON array streamed one object at a time. Stopped by unreadable input, it is closed
    after what was printed, so the output stays valid JSON (nothing at all before the first)."""
    first = True
    try:
        for name, evaluations in evaluated:
            for ev in evaluations:
                text = _indented(evaluation_json(name, ev, lang))
                out.write(("[\n" if first else ",\n") + text)
                first = False
    except InputError:
        if not first:
            out.write("\n]\n")
        raise
    out.write("[]\n" if first else "\n]\n")


def write_csv(evaluated, lang, out) -> None:
    """The CSV summary, one row per cluster and measure, one write per cluster. The header
    with the first row: unreadable input before any cluster prints nothing. It opens with a
    BOM, by which Excel knows UTF-8 (without it, a Chinese Windows reads GBK: mojibake)."""
    tail = CsvTails(lang)
    header = True
    for name, evaluations in evaluated:
        if header:
            out.write(CSV_BOM + csv_line(CSV_HEADER))
            header = False
        cell = csv_line([csv_text(name), ""])[:-3]  # the name as the csv module writes it, without ",\r\n"
        out.write("".join([cell + tail(ev) for ev in evaluations]))
    if header:
        out.write(CSV_BOM + csv_line(CSV_HEADER))


CSV_BOM = "\ufeff"  # what Excel's own "CSV UTF-8" begins with


class CsvTails:
    """What follows the name in the CSV line of `evaluation_csv_row`, byte for byte (tests pin
    it against the reference): ",jurisdiction,ruleset,verdict,failed,unknown,warnings,notices".

    It follows from the measure, the date and the criteria's statuses. Per measure and date, a
    function is written out that files each criterion's label by its status (one line per
    criterion, the loop of evaluation_csv_row unrolled: a batch writes four rows per cluster,
    and building them was most of the CSV's cost). Where a label or a notice needs quoting,
    the reference row goes through the csv module instead."""

    def __init__(self, lang: str):
        self.lang, self.makers = lang, {}

    def __call__(self, ev) -> str:
        maker = self.makers.get((id(ev.ruleset), ev.on))
        if maker is None:
            maker = self.makers[id(ev.ruleset), ev.on] = self._maker(ev)
        return maker(ev)

    def _maker(self, ev):
        labels, notices = csv_fixed_cells(ev.ruleset, ev.on, self.lang)
        head = csv_line(["", ev.ruleset.jurisdiction, ev.ruleset.id, ""])[:-2]
        end = csv_line(["", notices])[:-2] + "\r\n"
        plain = head.count(",") == 3 and end.count(",") == 1 and all(csv_line([x, ""]) == x + ",\r\n" for x in labels)
        if not plain or len(labels) != len(ev.statuses):
            return lambda ev: csv_line(["", *evaluation_csv_row("", ev, self.lang)[1:]])
        names = [f"s{i}" for i in range(len(labels))]
        lines = ["def tail(ev):",
                 "    failed, unknown, warnings = [], [], []",
                 "    found = {FAIL: failed, UNKNOWN: unknown, WARNING: warnings}",
                 f"    {', '.join(names)}, = ev.statuses"]
        lines += [f"    if {x} is not PASS and {x} in found: found[{x}].append({label!r})"
                  for x, label in zip(names, labels)]
        lines.append(f"    return ''.join(({head!r}, ev.verdict, ',', '; '.join(failed), ',', '; '.join(unknown), ',',"
                     f" '; '.join(warnings), {end!r}))  # one string made, not eight")
        scope = {"PASS": PASS, "FAIL": FAIL, "UNKNOWN": UNKNOWN, "WARNING": WARNING}
        exec(compile("\n".join(lines) + "\n", f"<csv tail {ev.ruleset.id}>", "exec"), scope)
        return scope["tail"]


def csv_line(row: list[str]) -> str:
    """A row of text cells as the csv module writes it (excel: minimal quoting, \r\n), byte
    for byte. A row with no delimiter, quote or line break in any cell is its cells joined,
    which the csv module's writer took three times as long to find (a batch writes four rows
    per cluster); any other goes through the csv module."""
    line = ",".join(row)
    if len(row) > 1 and line.count(",") == len(row) - 1 and '"' not in line and "\n" not in line and "\r" not in line:
        return line + "\r\n"
    buffer = io.StringIO()
    csv.writer(buffer).writerow(row)
    return buffer.getvalue()


def _write_table(evaluated, lang, out) -> None:
    """The columns are as wide as the widest cell: the table is printed once all is read
    (a table is for reading, not for a batch of 100,000); stopped early, what was read.
    Until then it keeps the text it prints, not the evaluations (VerdictTable)."""
    table = VerdictTable(lang)
    try:
        for name, evaluations in evaluated:
            table.add(_one_line(name), evaluations)  # a line break or an escape would break the rows
    except InputError:
        if table:
            out.writelines(line + "\n" for line in table.lines())
        raise
    out.writelines(line + "\n" for line in table.lines())
    if not table:
        out.write("\n")  # as before: an empty table is an empty line


def _write_markdown(evaluated, lang, out) -> None:
    for i, (name, evaluations) in enumerate(evaluated):
        out.write(("\n---\n\n" if i else "") + markdown_report(_one_line(name), evaluations, lang))


WRITERS = {"json": _write_json, "csv": write_csv, "table": _write_table, "markdown": _write_markdown}

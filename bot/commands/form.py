"""`clusterbot form template|check`: the Jiangsu application form (申报表), blank to fill, or
filled and checked the way a reviewer at the city 工信局 would."""

from __future__ import annotations

import json
import os
import sys

from bot.clock import Clock
from bot.inputs import InputError, read_clusters
from dialogs.form_files import FormFileError, layout, read_path, write_docx, write_xlsx
from dialogs.forms import file_error_text, report_json, report_markdown, report_text
from dialogs.parse import read_figure
from engine.form import check_form, cluster_name, load_form, squeeze
from locales import t
from locales.explain import fact_error_text

from . import HELP
from .common import cli_t, evaluation_date_arg, lang_arg


def register(subparsers) -> None:
    p = subparsers.add_parser("form", help=HELP["form"],
                              description="The Jiangsu application form (江苏省中小企业特色产业集群申报表).")
    sub = p.add_subparsers(dest="form_command", metavar="ACTION", required=True)
    tp = sub.add_parser("template", help="write a blank form to fill (one sheet or table per section)")
    tp.add_argument("--format", "-f", choices=["xlsx", "docx"], default=None,
                    help="default: the output's extension (.xlsx or .docx); xlsx for standard output")
    tp.add_argument("-o", "--output", required=True, metavar="FILE", help="the file to write, or - for standard output")
    tp.add_argument("--lang", type=lang_arg, default="zh", help="zh (default) or en")
    tp.set_defaults(run=run_template)
    cp = sub.add_parser("check", help="check filled forms (XLSX or DOCX) and report",
                        description="Check filled forms. Exit status: 0 every form passes, 1 findings "
                                    "(a problem in the form, or a criterion of the Jiangsu measure failed), "
                                    "2 a file cannot be read as the form.")
    cp.add_argument("files", nargs="+", metavar="FILE")
    cp.add_argument("--format", "-f", choices=["table", "markdown", "json"], default="table")
    cp.add_argument("--lang", type=lang_arg, default="zh", help="zh (default) or en")
    cp.add_argument("--facts", metavar="FILE", default=None,
                    help="a cluster's facts as `evaluate` reads them (JSON or CSV): what the form does not ask, "
                         "such as accidents, against which the 承诺函 is checked; of several clusters, the one "
                         "named as the form's 集群名称")
    cp.add_argument("--on", type=evaluation_date_arg, default=None, metavar="YYYY-MM-DD",
                    help="evaluate as on this date (default: today, Asia/Shanghai)")
    cp.set_defaults(run=run_check)


def run_template(args, stdout=None, stderr=None) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    # The format follows the name (申报表.docx is a Word file) unless --format says otherwise.
    suffix = os.path.splitext(args.output)[1].lower()
    fmt = args.format or ("xlsx" if args.output == "-" else {".xlsx": "xlsx", ".docx": "docx"}.get(suffix))
    if fmt is None:
        print(f"clusterbot form template: {cli_t('template_format', file=args.output)}", file=err)
        return 2
    if args.output == "-" and out.isatty():
        print(f"clusterbot form template: {cli_t('binary_to_terminal')}", file=err)
        return 2
    lay = layout()
    content = write_xlsx(lay) if fmt == "xlsx" else write_docx(lay, load_form().title)
    if args.output == "-":
        out.flush()
        getattr(out, "buffer", out).write(content)
        getattr(out, "buffer", out).flush()
        return 0
    try:
        with open(args.output, "wb") as handle:
            handle.write(content)
    except OSError as exc:
        print(f"clusterbot form template: {args.output}: {exc.strerror}", file=err)
        return 2
    return 0


def run_check(args, stdout=None, stderr=None) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    on = args.on or Clock().today()
    extra = {}
    if args.facts:
        try:
            clusters = list(read_clusters([args.facts]))
        except InputError as exc:
            print(f"clusterbot form check: {exc.text(args.lang)}", file=err)
            return 2
        for error in (e for c in clusters for e in c.errors):
            print(fact_error_text(error, args.facts, args.lang), file=err)
    status, reports = 0, []
    for path in args.files:
        try:
            tables = read_path(path)
        except FormFileError as exc:
            print(f"clusterbot form check: {path}: {file_error_text(exc, args.lang)}", file=err)
            status = 2
            continue
        if args.facts:
            extra = _facts_of(clusters, tables)
            if extra is None:  # several clusters, none of the form's name: not another cluster's facts
                names = t(args.lang, "list_sep").join(c.name for c in clusters)
                print(f"clusterbot form check: {path}: "
                      + t(args.lang, "form.file.facts_cluster", name=cluster_name(tables) or "—", names=names,
                          facts=args.facts), file=err)
                status = 2
                continue
        report = check_form(tables, on, extra_facts=extra, figure=read_figure)
        status = max(status, 0 if report.passed else 1)
        reports.append((path, report))
    if args.format == "json":
        json.dump([report_json(r, args.lang, p) for p, r in reports], out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        write = report_markdown if args.format == "markdown" else report_text
        out.write("\n\n".join(write(r, args.lang, p) for p, r in reports) + ("\n" if reports else ""))
    return status


def _facts_of(clusters: list, tables) -> dict | None:
    """The facts of the form's cluster: the one cluster given, or the one whose name is the
    form's 集群名称; None when there are several and none has that name."""
    if len(clusters) <= 1:
        return clusters[0].facts if clusters else {}
    name = squeeze(cluster_name(tables))
    return next((c.facts for c in clusters if name and squeeze(c.name) == name), None)

"""Checking filled application forms: N filled XLSX forms read and checked the way
`clusterbot form check` does (read, locate, every check, the four measures evaluated, the
report rendered), as a ratio to openpyxl loading the same files alone (read-only, data_only,
every cell iterated), in the same run.

    .venv/bin/python bench/form_bench.py            # 1,000 forms (the recorded figure)
    .venv/bin/python bench/form_bench.py -n 200     # quicker
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openpyxl  # noqa: E402

from dialogs.form_files import read_path  # noqa: E402
from dialogs.forms import report_text  # noqa: E402
from engine.form import check_form  # noqa: E402
from bench.standins.form_helpers import passing, write_xlsx  # noqa: E402

ON = dt.date(2024, 6, 1)


def generate(folder: Path, n: int, seed: int = 11) -> list[Path]:
    """Filled forms with figures scattered around the thresholds, some with mistakes."""
    rng = random.Random(seed)
    paths = []
    for i in range(n):
        values = passing()
        values["total_output"] = [round(rng.uniform(30, 60), 2) for _ in range(3)]
        values["sme_output_share"] = [round(rng.uniform(60, 95), 2) for _ in range(3)]
        values["leading_growth"] = [round(rng.uniform(5, 15), 2) for _ in range(3)]
        values["iip_rate"] = [round(rng.uniform(10, 30), 2)]
        if rng.random() < 0.1:
            values["total_output"][1] = "五十二亿"
        if rng.random() < 0.1:
            values["cluster_name"] = [""]
        paths.append(write_xlsx(folder / f"form-{i}.xlsx", values))
    return paths


def load_only(paths: list[Path]) -> int:
    cells = 0
    for path in paths:
        book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
        for sheet in book.worksheets:
            for row in sheet.iter_rows(values_only=True):
                cells += len(row)
        book.close()
    return cells


def check_all(paths: list[Path]) -> int:
    findings = 0
    for path in paths:
        report = check_form(read_path(str(path)), ON)
        report_text(report, "zh", str(path))
        findings += len(report.findings)
    return findings


def timed(fn, *args) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = generate(Path(tmp), args.n)
        size = sum(p.stat().st_size for p in paths) / len(paths) / 1024
        load_only(paths[:20])  # warm the imports and the file cache for both runs
        floor, cells = timed(load_only, paths)
        took, findings = timed(check_all, paths)
    print(f"{platform.machine()}, CPython {platform.python_version()}, openpyxl {openpyxl.__version__}")
    print(f"{args.n} filled XLSX forms ({size:.1f} KiB each, {cells // args.n} cells each)")
    print(f"openpyxl loading alone: {floor:.2f} s ({floor / args.n * 1000:.2f} ms per form)")
    print(f"form check:             {took:.2f} s ({took / args.n * 1000:.2f} ms per form, {findings} findings)")
    print(f"ratio: {took / floor:.2f}x openpyxl loading alone")


if __name__ == "__main__":
    main()

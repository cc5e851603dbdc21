"""Start-up time of the command line: each command run as a user runs it, as a ratio to
`python -c pass` (the interpreter's own start) in the same run; the median of several runs.

    .venv/bin/python bench/startup_bench.py            # 7 runs each
    .venv/bin/python bench/startup_bench.py --runs 3   # quicker

The aim (issue 14) is under 0.5 s for every command. The chat is started and quit at once
(/quit on its standard input) three times over: on a new SQLite file each run (a first start,
which makes the schema), on the file an earlier run made (every later start), and for an
official in the middle of a pre-screening (the start asks the next question again, so it
reads the measures and evaluates them). A command that fails stops the benchmark: a time of
a failure is no start-up time.

The project's modules are compiled first, as Python does by itself at a first start: where
PYTHONDONTWRITEBYTECODE is set (as on the project's machine) every start would compile them
again, 0.15 s of CPU that no installed copy pays.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "示例集群.json"
PACKAGES = ("bot", "dialogs", "engine", "storage", "locales")


def commands(tmp: Path) -> list[tuple[str, list[str], str]]:
    cli = [sys.executable, "-m", "bot.cli"]
    return [
        ("clusterbot --help", cli + ["--help"], ""),
        ("clusterbot rules", cli + ["rules"], ""),
        ("clusterbot evaluate (one cluster)", cli + ["evaluate", str(EXAMPLE)], ""),
        ("clusterbot deadlines", cli + ["deadlines", "-j", "national", "--certified-on", "2024-06-01"], ""),
        ("clusterbot ask 江苏 专利", cli + ["ask", "江苏", "专利"], ""),
        ("clusterbot chat, then /quit (new file)", cli + ["chat", "--db", str(tmp / "new-{run}.db"), "--user", "bench"],
         "/quit\n"),
        ("clusterbot chat, then /quit (its file)", cli + ["chat", "--db", str(tmp / "chat.db"), "--user", "bench"],
         "/quit\n"),
        ("clusterbot chat, then /quit (mid-questions)", cli + ["chat", "--db", str(tmp / "asking.db"), "--user", "bench"],
         "/quit\n"),
    ]


def begin_prescreening(tmp: Path) -> None:
    """The official of the last chat row, with a cluster begun against all four measures."""
    subprocess.run([sys.executable, "-m", "bot.cli", "chat", "--db", str(tmp / "asking.db"), "--user", "bench"],
                   input="/new 集群\n全部\n/quit\n", capture_output=True, text=True, check=True)


def median_time(argv: list[str], stdin: str, runs: int) -> tuple[float, float]:
    """The median wall time and the median CPU time (user + system) of the runs: on a machine
    others load, the CPU time says what the command costs, the wall time what a user waits."""
    times, cpu = [], []
    for n in range(runs):
        argv_n = [a.replace("{run}", str(n)) for a in argv]  # a new file each run
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        run = subprocess.run(argv_n, input=stdin, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if run.returncode not in (0, 1):
            sys.exit(f"{' '.join(argv[2:])}: exit {run.returncode}\n{run.stderr}")
    return statistics.median(times), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="runs of each command; the median is kept")
    args = parser.parse_args()
    for package in PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        begin_prescreening(Path(tmp))
        floor, floor_cpu = median_time([sys.executable, "-c", "pass"], "", args.runs)
        results = [(name, *median_time(argv, stdin, args.runs)) for name, argv, stdin in commands(Path(tmp))]
    print(f"clusterbot start-up benchmark — {dt.date.today()} — {platform.python_implementation()} "
          f"{platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores (median of {args.runs})")
    print(f"  floor  python -c pass                         {floor:6.3f} s  (CPU {floor_cpu:5.3f} s)")
    for name, seconds, cpu in results:
        print(f"  {name:<44} {seconds:6.3f} s  ratio {seconds / floor:5.1f}x  (CPU {cpu:5.3f} s)  "
              f"{'ok' if seconds < 0.5 else 'over'} (aim < 0.5 s)")


if __name__ == "__main__":
    main()

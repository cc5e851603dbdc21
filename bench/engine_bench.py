"""Batch screening speed: evaluate N generated clusters against all four measures from a JSON
Lines file, as a ratio to parsing the same file with json.loads alone, in the same run.

    .venv/bin/python bench/engine_bench.py            # 100,000 clusters (the recorded figure)
    .venv/bin/python bench/engine_bench.py -n 20000   # quicker

The evaluation path is the one `clusterbot evaluate` takes (bot.inputs.read_clusters, then
its `screen`: the four rulesets evaluated, and the refused values), without rendering the output. A second figure
adds the CSV summary rows the command writes for batch screening (its own writer). Last, the peak memory
(RSS) of `clusterbot evaluate -f csv` itself, run as a child process on N and on 5N clusters:
it streams, so the two should be alike.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.inputs import read_clusters  # noqa: E402
from bot.commands.evaluate import screen, write_csv  # noqa: E402
from engine import load_rulesets  # noqa: E402
from bench.official import eligible_facts  # noqa: E402

ON = dt.date(2026, 1, 15)  # 近三年 = 2023–2025, the years generated below


def generate(n: int, seed: int = 7) -> list[dict]:
    """Clusters scattered around the thresholds, with some facts missing or mistyped."""
    rng = random.Random(seed)
    base = eligible_facts()
    out = []
    for i in range(n):
        c = dict(base, name=f"cluster-{i}")
        c["total_output"] = {str(y): round(rng.uniform(25, 60), 2) for y in (2023, 2024, 2025)}
        c["sme_output_share"] = {str(y): round(rng.uniform(60, 95), 2) for y in (2023, 2024, 2025)}
        c["leading_output_share"] = {str(y): round(rng.uniform(60, 95), 2) for y in (2023, 2024, 2025)}
        c["output_growth"] = round(rng.uniform(5, 15), 2)
        c["leading_output_growth"] = {str(y): round(rng.uniform(5, 15), 2) for y in (2023, 2024, 2025)}
        c["rd_growth"] = round(rng.uniform(5, 15), 2)
        c["patent_growth"] = round(rng.uniform(5, 20), 2)
        c["iip_rate"] = round(rng.uniform(10, 30), 2)
        c["area_km2"] = round(rng.uniform(20, 120), 2)
        for k in ("champion_count", "little_giant_count", "srdi_sme_count", "hitech_count", "innovative_sme_count"):
            c[k] = rng.randint(0, 12)
        c["accident_level"] = rng.choice(["none", "none", "general", "larger"])
        c["high_energy_industry"] = rng.random() < 0.2
        if c["high_energy_industry"]:
            c["energy_efficiency_ok"] = rng.random() < 0.8
        for fact in rng.sample(sorted(base), k=rng.randint(0, 3)):  # a few unanswered facts
            c.pop(fact, None)
        if rng.random() < 0.01:
            c["hitech_count"] = -1  # a refused value now and then
        out.append(c)
    return out


def peak_rss(first: Path, tmp: Path, n: int) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of `clusterbot evaluate -f csv` on n clusters: the first
    file repeated, as the command would read a larger batch."""
    path = tmp / f"clusters-{n}.jsonl"
    with first.open("rb") as source, path.open("wb") as out:
        whole = source.read()
        count = whole.count(b"\n")
        for _ in range(n // count):
            out.write(whole)
    # VmHWM, not getrusage: Linux carries ru_maxrss over from the parent across fork and exec.
    script = ("import re, sys; from bot.cli import main; code = main(sys.argv[1:]); "
              "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1); "
              "sys.stderr.write(f'RSS {hwm}\\n'); sys.exit(code)")
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", script, "evaluate", str(path), "-f", "csv", "--on", str(ON)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    path.unlink()
    return seconds, int(run.stderr.rsplit("RSS ", 1)[1])


def timed(fn) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one call (one process, one thread, the file in the page
    cache: CPU time is the wall time without the moments other processes took the core)."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=100_000, help="clusters (default 100,000)")
    parser.add_argument("--runs", type=int, default=5, help="repetitions; the best is kept")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak RSS of the command")
    args = parser.parse_args()

    rulesets = tuple(load_rulesets().values())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clusters.jsonl"
        path.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in generate(args.n)) + "\n",
                        encoding="utf-8")
        size_mb = path.stat().st_size / 1e6

        def floor():
            with open(path, encoding="utf-8") as f:
                for line in f:
                    json.loads(line)

        verdicts = {}

        def evaluate():
            for cluster in read_clusters([str(path)]):
                for ev in screen(cluster, rulesets, ON)[0]:
                    verdicts[ev.verdict] = verdicts.get(ev.verdict, 0) + 1

        def evaluate_csv():  # the command's CSV writer, into memory
            write_csv(((cluster.name, screen(cluster, rulesets, ON)[0])
                       for cluster in read_clusters([str(path)])), "zh", io.StringIO())

        # Alternated, so that a noisy moment of the machine falls on both alike; the best of
        # each, wall-clock and CPU apart.
        best = {fn: (float("inf"), float("inf")) for fn in (floor, evaluate, evaluate_csv)}
        for _ in range(args.runs):
            for fn in best:
                best[fn] = tuple(map(min, best[fn], timed(fn)))
        (t_floor, c_floor), (t_eval, c_eval), (t_csv, c_csv) = best.values()
        memory = [] if args.no_memory else [(n, peak_rss(path, Path(tmp), n)) for n in (args.n, 5 * args.n)]

    n = args.n
    print(f"clusterbot engine benchmark — {dt.date.today()} — {platform.python_implementation()} "
          f"{platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores")
    print(f"{n:,} clusters × {len(rulesets)} measures from a {size_mb:.1f} MB JSON Lines file (best of {args.runs})")
    print(f"  floor  json.loads per line          {t_floor:7.2f} s  {n / t_floor:10,.0f} clusters/s  "
          f"(CPU {c_floor:.2f} s)")
    print(f"  evaluate (read, validate, 4 measures) {t_eval:5.2f} s  {n / t_eval:10,.0f} clusters/s  "
          f"ratio {t_eval / t_floor:.2f}x, CPU {c_eval / c_floor:.2f}x  (aim ≤ 2x)")
    print(f"  evaluate + CSV summary rows         {t_csv:5.2f} s  ratio {t_csv / t_floor:.2f}x, "
          f"CPU {c_csv / c_floor:.2f}x  (aim ≤ 3x)")
    for clusters, (seconds, kib) in memory:
        print(f"  clusterbot evaluate -f csv, {clusters:,} clusters: peak RSS {kib / 1024:6.1f} MiB "
              f"({seconds:.1f} s, a child process)")
    print(f"  verdicts per (cluster, measure): {dict(sorted(verdicts.items()))} "
          f"(each run counted; {args.runs} runs)")


if __name__ == "__main__":
    main()

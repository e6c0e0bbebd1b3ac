"""Benchmark: one ``backtest run tariff-shock-hedge`` on real prices, with and without the tearsheet.

Workload: 10 tickers (8 traded + benchmark; the universe and hedge sleeves), 2015-01-01 to
2025-12-31 from ``../shared/data/prices`` (relative to the repository), the curated
events. Each repetition is a fresh process (``backtest run ... --out TMP``), so the
figures include Python start-up and imports; a ``backtest --version`` process is
measured too, to show that fixed cost.

Wall time: ``time.perf_counter`` around the child. Peak memory: the child's max
RSS, from ``/usr/bin/time -v`` when it exists, else ``resource.getrusage
(RUSAGE_CHILDREN)`` (which only grows: the first, largest child dominates, so the
figure is then an upper bound).

Run: ``python benchmarks/bench_run.py [--runs N]``. Prints median (min-max) figures.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_PRICES = REPO.parent / "shared" / "data" / "prices"
STRATEGY = "tariff-shock-hedge"
PERIOD = ("--start", "2015-01-01", "--end", "2025-12-31")
CLI = (sys.executable, "-c", "from backtests.cli import main; main()")
GNU_TIME = shutil.which("time") if Path("/usr/bin/time").exists() else None


def _child(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one ``backtest ARGS`` process; fails loudly on a non-zero exit."""
    command = [*CLI, *args]
    if GNU_TIME:
        command = ["/usr/bin/time", "-v", *command]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"backtest {' '.join(args)} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    if GNU_TIME:
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
        peak_kib = int(match.group(1)) if match else 0
    else:
        peak_kib = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return wall, peak_kib / 1024.0


def _summary(label: str, samples: list[tuple[float, float]]) -> None:
    walls = [s[0] for s in samples]
    peaks = [s[1] for s in samples]
    print(
        f"{label:<34} wall {statistics.median(walls):6.2f} s ({min(walls):.2f}-{max(walls):.2f})   "
        f"peak RSS {statistics.median(peaks):7.1f} MiB ({min(peaks):.0f}-{max(peaks):.0f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each case (default 3)")
    args = parser.parse_args()
    if not SHARED_PRICES.is_dir():
        sys.exit(f"reference prices not found at {SHARED_PRICES}; place ../shared/data beside the project")
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        env = {
            **os.environ,
            "BACKTEST_DATA_DIR": str(Path(tmp) / "cache"),
            "BACKTEST_REPORTS_DIR": str(Path(tmp) / "reports"),
            "MPLBACKEND": "Agg",
        }
        base = ["run", STRATEGY, "--prices", str(SHARED_PRICES), *PERIOD]
        cases = {
            "backtest --version (start-up)": lambda i: ["--version"],
            "run --no-tearsheet": lambda i: [*base, "--no-tearsheet", "--out", f"{tmp}/plain-{i}"],
            "run with tearsheet": lambda i: [*base, "--out", f"{tmp}/tearsheet-{i}"],
        }
        print(
            f"{STRATEGY}, {PERIOD[1]} to {PERIOD[3]}, prices {SHARED_PRICES}, {args.runs} runs each, "
            f"peak memory via {'/usr/bin/time -v' if GNU_TIME else 'getrusage(RUSAGE_CHILDREN)'}"
        )
        _child(base + ["--no-tearsheet", "--out", f"{tmp}/warm"], env)  # warm the OS file cache and numba's
        for label, make_args in cases.items():
            _summary(label, [_child(make_args(i), env) for i in range(args.runs)])


if __name__ == "__main__":
    main()

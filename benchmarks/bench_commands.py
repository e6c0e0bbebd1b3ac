"""Benchmark: the project's speed figures, each a whole ``backtest`` process timed from outside.

Every repetition is a fresh process, so the figures include Python start-up, imports,
loading the prices, the work and writing the outputs. Before a case's repetitions one
untimed warm-up run loads numba's on-disk kernel cache (and the OS file cache); the
1,000,000-configuration cases run once, after a 1,000-configuration warm-up.

Cases (``tariff-shock-hedge``, 2015-01-01..2025-12-31, ``--prices DIR``; sweeps with
``--train-until 2022-12-31``):

- ``help``: ``backtest --help``;
- ``run``, ``run-no-tearsheet``: ``backtest run`` with and without the tearsheet;
- ``sweep-1k``: the README's grid, hedge_fraction 0.05:1.0:0.05 x hold_days 1:50:1;
- ``sweep-10k``: hold_days 1:500:1 instead, ``--jobs 1``;
- ``sweep-1m``: 1,000,000 configurations drawn (``--random 1000000 --seed 1``) from
  hedge_fraction 0.001:1.0:0.001 x hold_days 1:2000:1 (the "< 2 GB" memory goal);
- ``sweep-10k-local2``, ``sweep-1m-local2``: the same on ``--cluster local:2`` (Dask).

Measured: wall time (``%e``), CPU time (user + system, ``%U`` + ``%S``: the process and the
workers it waited for) and peak RSS (``%M``) from GNU ``/usr/bin/time -f '%e %U %S %M'``
around the process. CPU time / cores is the least wall time the work could take here.
``%M`` is the largest resident set of any single process of the tree (Linux folds the
reaped workers' peaks in as a maximum, not a sum). For the 1M
sweep (its chunks run in the sweep worker process) and the cluster cases the process
tree is also sampled with psutil every 0.2 s: the peak of the tree's summed RSS and each
worker process's peak (sampled, so short spikes can be missed). The
1-minute load average is read before the warm-up and after the last repetition (the
machine may be shared). Configurations per second = configurations / median wall time
of the whole process; the marginal rate between the 1k and 10k sweeps removes the fixed
cost (start-up, data, reports).

Outputs go to a temporary folder (``BACKTEST_REPORTS_DIR``, ``BACKTEST_DATA_DIR`` and
every ``--out``), deleted at the end; nothing is written into the repository (numba's
kernel cache lives in the installed package's ``__pycache__``, as in any use).

The machine's speed (``machine.describe``) is printed before and after the cases.

Run: ``python benchmarks/bench_commands.py [--runs N] [--prices DIR] [--only CASE,...]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from machine import describe

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PRICES = REPO.parent / "shared" / "data" / "prices"
GNU_TIME = Path("/usr/bin/time")
STRATEGY = "tariff-shock-hedge"
PERIOD = ("--start", "2015-01-01", "--end", "2025-12-31")
SAMPLE_EVERY = 0.2  # seconds between psutil samples of the process tree
GRID_1K = ("--grid", "response.hedge_fraction=0.05:1.0:0.05", "--grid", "response.hold_days=1:50:1")
GRID_10K = ("--grid", "response.hedge_fraction=0.05:1.0:0.05", "--grid", "response.hold_days=1:500:1")
GRID_1M = ("--grid", "response.hedge_fraction=0.001:1.0:0.001", "--grid", "response.hold_days=1:2000:1")
SAMPLE_1M = ("--random", "1000000", "--seed", "1")
LOCAL2 = ("--cluster", "local:2")


@dataclass(frozen=True)
class Case:
    """One command line; ``args(prices, out)`` builds it for a prices folder and an output folder."""

    name: str
    args: Callable[[Path, Path], list[str]]
    configs: int = 0  # configurations a sweep evaluates (0: not a sweep)
    once: bool = False  # one timed run, whatever --runs says
    warm: Callable[[Path, Path], list[str]] | None = None  # warm-up command (default: the case itself)
    workers: bool = False  # sample the process tree for per-worker memory


@dataclass
class Sample:
    """One process: wall and CPU seconds and peak RSS (MiB) from GNU time; tree figures from psutil when sampled."""

    wall: float
    peak_mib: float
    cpu: float = 0.0
    tree_peak_mib: float = 0.0
    worker_peaks_mib: list[float] = field(default_factory=list)


def _run_args(*extra: str) -> Callable[[Path, Path], list[str]]:
    return lambda prices, out: ["run", STRATEGY, "--prices", str(prices), *PERIOD, *extra, "--out", str(out)]


def _sweep_args(*grid: str) -> Callable[[Path, Path], list[str]]:
    return lambda prices, out: [
        *("sweep", STRATEGY, "--prices", str(prices), *PERIOD, *grid),
        *("--train-until", "2022-12-31", "--out", str(out), "--force"),
    ]


CASES = (
    Case("help", lambda prices, out: ["--help"]),
    Case("run", _run_args()),
    Case("run-no-tearsheet", _run_args("--no-tearsheet")),
    Case("sweep-1k", _sweep_args(*GRID_1K), configs=1_000),
    Case("sweep-10k", _sweep_args(*GRID_10K, "--jobs", "1"), configs=10_000),
    Case(
        "sweep-1m",
        _sweep_args(*GRID_1M, *SAMPLE_1M),
        configs=1_000_000,
        once=True,
        warm=_sweep_args(*GRID_1K),
        workers=True,
    ),
    Case("sweep-10k-local2", _sweep_args(*GRID_10K, *LOCAL2), configs=10_000, workers=True),
    Case(
        "sweep-1m-local2",
        _sweep_args(*GRID_1M, *SAMPLE_1M, *LOCAL2),
        configs=1_000_000,
        once=True,
        warm=_sweep_args(*GRID_1K, *LOCAL2),
        workers=True,
    ),
)


def _cli() -> list[str]:
    """The ``backtest`` console script of this interpreter's environment."""
    script = Path(sys.executable).parent / "backtest"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from backtests.cli import main; main()"]


def _sample_tree(process: subprocess.Popen, sample: Sample) -> None:
    """Poll ``process``'s descendants until it ends; keep the peak summed RSS and each worker's peak."""
    import psutil

    root = psutil.Process(process.pid)
    main_pid, peaks = None, {}
    while process.poll() is None:
        total = 0
        try:
            children = root.children(recursive=True)
        except psutil.NoSuchProcess:
            break
        for child in children:
            try:
                rss = child.memory_info().rss
                if main_pid is None and child.ppid() == root.pid:
                    main_pid = child.pid  # the backtest process under /usr/bin/time
                if child.pid != main_pid and "resource_tracker" not in " ".join(child.cmdline()):
                    peaks[child.pid] = max(peaks.get(child.pid, 0), rss)
            except psutil.NoSuchProcess:
                continue
            total += rss
        sample.tree_peak_mib = max(sample.tree_peak_mib, total / 2**20)
        time.sleep(SAMPLE_EVERY)
    sample.worker_peaks_mib = sorted((p / 2**20 for p in peaks.values()), reverse=True)


def measure(command: list[str], env: dict[str, str], scratch: Path, workers: bool) -> Sample:
    """Run ``command`` under GNU time in a fresh process; exit with its stderr if it fails."""
    timing, log = scratch / "time.txt", scratch / "stderr.txt"
    with open(log, "w") as err:
        process = subprocess.Popen(
            [str(GNU_TIME), "-f", "%e %U %S %M", "-o", str(timing), *command],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        sample = Sample(0.0, 0.0)
        if workers:
            _sample_tree(process, sample)
        process.wait()
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed (exit {process.returncode}):\n{log.read_text()[-2000:]}")
    wall, user, system, peak_kib = timing.read_text().split()[-4:]
    sample.wall, sample.cpu, sample.peak_mib = float(wall), float(user) + float(system), int(peak_kib) / 1024.0
    return sample


def run_case(case: Case, runs: int, prices: Path, env: dict[str, str], scratch: Path) -> tuple[list[Sample], str]:
    """(timed samples, load "start->end") of ``case``: one warm-up, then ``runs`` fresh processes."""
    load_start = os.getloadavg()[0]
    out = scratch / case.name
    measure([*_cli(), *(case.warm or case.args)(prices, out)], env, scratch, workers=False)
    shutil.rmtree(out, ignore_errors=True)
    samples = []
    for _ in range(1 if case.once else runs):
        samples.append(measure([*_cli(), *case.args(prices, out)], env, scratch, case.workers))
        shutil.rmtree(out, ignore_errors=True)
    return samples, f"{load_start:.2f}->{os.getloadavg()[0]:.2f}"


def report_line(case: Case, samples: list[Sample], load: str) -> str:
    """``case  runs  min  median  max  cpu  peakRSS  load(start->end)  configs/s``."""
    walls = [s.wall for s in samples]
    rate = f"{case.configs / statistics.median(walls):>10,.0f}" if case.configs else f"{'-':>10}"
    return (
        f"{case.name:<18} {len(samples):>4} {min(walls):>8.2f} {statistics.median(walls):>8.2f} {max(walls):>8.2f} "
        f"{statistics.median(s.cpu for s in samples):>7.2f} {max(s.peak_mib for s in samples):>9,.0f} {load:>14} {rate}"
    )


def workers_line(samples: list[Sample]) -> str:
    """The psutil figures of a case with workers: the tree's summed peak and each worker's peak (max over runs)."""
    tree = max(s.tree_peak_mib for s in samples)
    per_worker = [max(p) for p in zip(*(s.worker_peaks_mib for s in samples), strict=False)]
    workers = ", ".join(f"{p:,.0f}" for p in per_worker) or "none seen"
    return (
        f"{'':<18} psutil (every {SAMPLE_EVERY} s): whole tree peak {tree:,.0f} MiB; "
        f"per worker process peak MiB: {workers}"
    )


def main(argv: list[str] | None = None, names: tuple[str, ...] | None = None) -> int:
    """Run the selected cases (``names``: default every case) and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="timed repetitions per case (default 3)")
    parser.add_argument("--prices", type=Path, default=DEFAULT_PRICES, help=f"price CSVs (default {DEFAULT_PRICES})")
    parser.add_argument("--only", help=f"comma-separated cases, of: {', '.join(c.name for c in CASES)}")
    args = parser.parse_args(argv)
    wanted = tuple(args.only.split(",")) if args.only else names or tuple(c.name for c in CASES)
    unknown = set(wanted) - {c.name for c in CASES}
    if unknown:
        parser.error(f"unknown case(s) {', '.join(sorted(unknown))}")
    if not GNU_TIME.exists():
        sys.exit("needs GNU time at /usr/bin/time (apt-get install time)")
    if not args.prices.is_dir():
        sys.exit(f"prices not found at {args.prices}; pass --prices DIR")
    cases = [c for c in CASES if c.name in wanted]
    if any(c.workers for c in cases):
        try:
            import psutil  # noqa: F401
        except ImportError:
            print("psutil is not installed: per-worker memory of the cluster cases is not measured")
            cases = [replace(c, workers=False) for c in cases]
    print(
        f"{STRATEGY} {PERIOD[1]}..{PERIOD[3]}, prices {args.prices.resolve()}; {os.cpu_count()} cores; "
        f"{args.runs} runs per case (1M cases once), each after one warm-up run; "
        f"wall, CPU (user + sys, median) and peak RSS from /usr/bin/time -f '%e %U %S %M'; "
        "load = 1-minute load average"
    )
    print(describe())
    print(
        f"{'case':<18} {'runs':>4} {'min s':>8} {'median s':>8} {'max s':>8} {'cpu s':>7} {'peakRSS MiB':>9} "
        f"{'load(start->end)':>14} {'configs/s':>10}"
    )
    medians = {}
    with tempfile.TemporaryDirectory(prefix="bench-commands-") as tmp:
        scratch = Path(tmp)
        env = {
            **os.environ,
            "BACKTEST_DATA_DIR": str(scratch / "cache"),
            "BACKTEST_REPORTS_DIR": str(scratch / "reports"),
            "MPLBACKEND": "Agg",
        }
        for case in cases:
            samples, load = run_case(case, args.runs, args.prices, env, scratch)
            medians[case.name] = statistics.median(s.wall for s in samples)
            print(report_line(case, samples, load), flush=True)
            if case.workers:
                print(workers_line(samples), flush=True)
    print(f"after the cases, {describe()}")
    if {"sweep-1k", "sweep-10k"} <= medians.keys():
        marginal = 9_000 / (medians["sweep-10k"] - medians["sweep-1k"])
        print(f"marginal rate, 1k -> 10k sweep (fixed cost removed): {marginal:,.0f} configs/s")
    if {"sweep-10k", "sweep-10k-local2"} <= medians.keys():
        ratio = medians["sweep-10k"] / medians["sweep-10k-local2"]
        print(f"10k sweep, --cluster local:2 vs --jobs 1: {ratio:.2f}x the throughput (median wall times)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark the executors on 10 real tickers, 2015-01-01..2025-12-31.

Fast executor: configurations per second for 1,000 and 10,000 random hedge-window
exposure paths; backtrader: 5 of those configurations, one run each; the ratio; peak
memory of the fast executor (tracemalloc, excluding its input). Plain python:

    python benchmarks/bench_executors.py

Reads ``../shared/data/prices`` beside the repository; skips with a message if missing.
"""

from __future__ import annotations

import argparse

import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from backtests.execution.backtrader_exec import run_backtrader
from backtests.execution.fast_exec import simulate
from backtests.execution.rules import CostModel, RebalanceRule

PRICES = Path(__file__).resolve().parents[2] / "shared" / "data" / "prices"
TICKERS = ("SPY", "QQQ", "EEM", "FXI", "GLD", "TLT", "IEF", "UUP", "ICLN", "REMX")
RISK = {"SPY": 0.35, "QQQ": 0.2, "EEM": 0.15, "FXI": 0.1, "ICLN": 0.1, "REMX": 0.1}
HEDGE = {"GLD": 0.4, "TLT": 0.3, "IEF": 0.2, "UUP": 0.1}
COSTS = CostModel(commission_bps=5.0, slippage_bps=2.0)
RULE = RebalanceRule(schedule="monthly", drift_threshold=0.05)


def load_closes(
    prices_dir: Path, start: str = "2015-01-01", end: str = "2025-12-31"
) -> pd.DataFrame:
    """``TICKERS`` closes: union calendar, forward-filled inside each life, cut to [start, end]."""
    series = {
        t: pd.read_csv(prices_dir / f"{t}.csv", index_col="Date", parse_dates=True)["Close"]
        for t in TICKERS
    }
    closes = pd.DataFrame(series).sort_index().ffill().loc[start:end]
    closes.index.name = "date"
    return closes


def linear_targets(n_days: int) -> tuple[np.ndarray, np.ndarray]:
    """``base`` (all in the risk book) and ``shift`` (risk book -> hedges), T x N."""
    base = np.array([RISK.get(t, 0.0) for t in TICKERS])
    hedge = np.array([HEDGE.get(t, 0.0) for t in TICKERS])
    return np.tile(base, (n_days, 1)), np.tile(hedge - base, (n_days, 1))


def hedge_windows(n_configs: int, n_days: int, seed: int = 7) -> np.ndarray:
    """Step-function exposure paths: 1-8 windows of 5-80 days at level 0.25, 0.5 or 1."""
    rng = np.random.default_rng(seed)
    exposure = np.zeros((n_configs, n_days))
    for c in range(n_configs):
        for _ in range(rng.integers(1, 9)):
            start = rng.integers(0, n_days)
            exposure[c, start : start + rng.integers(5, 81)] = rng.choice((0.25, 0.5, 1.0))
    return exposure


def bench_fast(closes: pd.DataFrame, n_configs: int) -> tuple[float, float, float]:
    """(configs per wall second, per CPU second (all threads), peak MiB beyond the input)."""
    base, shift = linear_targets(len(closes))
    exposure = hedge_windows(n_configs, len(closes))
    tracemalloc.start()
    began, cpu = time.perf_counter(), time.process_time()
    simulate(closes.to_numpy(), base, shift, exposure, COSTS, RULE, 100_000.0, dates=closes.index)
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return n_configs / elapsed, n_configs / cpu, peak / 2**20


def bench_backtrader(closes: pd.DataFrame, n_configs: int = 5) -> tuple[float, float]:
    """(wall seconds, CPU seconds) per backtrader run."""
    base, shift = linear_targets(len(closes))
    exposure = hedge_windows(n_configs, len(closes))
    began, cpu = time.perf_counter(), time.process_time()
    for row in exposure:
        targets = pd.DataFrame(
            base + row[:, None] * shift, index=closes.index, columns=list(TICKERS)
        )
        run_backtrader(closes, targets, COSTS, RULE, 100_000.0)
    return (time.perf_counter() - began) / n_configs, (time.process_time() - cpu) / n_configs


def main() -> int:
    """Run the benchmark and print the figures."""
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    if not PRICES.is_dir():
        print(f"skipped: real price data not found at {PRICES}")
        return 0
    closes = load_closes(PRICES)
    print(f"workload: {closes.shape[1]} tickers x {closes.shape[0]} days, {COSTS}, {RULE}")
    warm = time.perf_counter()
    bench_fast(closes, 4)
    print(f"fast: first call (numba compile or cache load) {time.perf_counter() - warm:.2f} s")
    for n in (1_000, 10_000):
        rate, cpu_rate, peak = bench_fast(closes, n)
        print(
            f"fast: {n:>6} configs: {rate:,.0f} configs/s wall ({cpu_rate:,.0f} per CPU-second, "
            f"{os.cpu_count()} cores), peak memory {peak:,.1f} MiB beyond the input"
        )
    seconds, cpu = bench_backtrader(closes)
    print(
        f"backtrader: {seconds:.2f} s per run wall ({cpu:.2f} CPU-s); "
        f"fast/backtrader = {rate * seconds:,.0f}x wall"
    )
    print(
        f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

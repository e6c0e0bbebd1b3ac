"""Benchmark the sweep path on workload W; compare with a plain numpy loop and with backtrader.

Workload W: 10 real tickers (``../shared/data/prices``), 2015-01-01..2025-12-31, the
driving signal of ``tariff-shock-hedge`` (its trigger on the curated events, evaluated on
the tickers' full history, so the hedge state is warm on day one), costs 5/2 bps, monthly
rebalancing with a 5% drift band, and the grid of the README's sweep example:
``response.hedge_fraction=0.05:1.0:0.05`` x ``response.hold_days=1:50:1`` (1,000
configurations); for 10,000, ``0.01:1.0:0.01`` x ``1:100:1``.

Printed, each with the 1-minute load average beside it (the machine may be shared):

- the fused kernel (``fast_exec.simulate_responses``: hedge-level state machine, targets
  and execution in one compiled pass, daily returns out), configurations per second,
  median of several runs, run in chunks of ``CHUNK`` configurations as the sweep runner
  does; its peak memory beyond the inputs (tracemalloc);
- the yardstick: the same semantics as a plain numpy loop over days, vectorised over
  configurations (defined here, not in the package), and the ratio fused / numpy; the
  two are checked to agree to 1e-9 before timing;
- backtrader, one configuration per run, and the ratio;
- the machine's speed and parallel capacity now (``machine.describe``) and the fused kernel at 1,000
  configurations on one thread against all of them, so that the thread scaling can be
  read against what the machine can give.

Plain python: ``python benchmarks/bench_executors.py``. Skips with a message without the data.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np
import pandas as pd
from machine import describe

from backtests.events.calendar import load_events
from backtests.execution.backtrader_exec import run_backtrader
from backtests.execution.fast_exec import set_threads, simulate_responses
from backtests.execution.rules import (
    CASH_SAFETY,
    DUST,
    TARGET_CHANGE_TOL,
    CostModel,
    RebalanceRule,
    listed_prices,
    scheduled_days,
)
from backtests.portfolio.response import driving_signal, hedge_levels, resting_until
from backtests.strategy import load_spec
from backtests.triggers import MarketContext, evaluate

PRICES = Path(__file__).resolve().parents[2] / "shared" / "data" / "prices"
TICKERS = ("SPY", "QQQ", "EEM", "FXI", "GLD", "TLT", "IEF", "UUP", "ICLN", "REMX")
RISK = {"SPY": 0.35, "QQQ": 0.2, "EEM": 0.15, "FXI": 0.1, "ICLN": 0.1, "REMX": 0.1}
HEDGE = {"GLD": 0.4, "TLT": 0.3, "IEF": 0.2, "UUP": 0.1}
COSTS = CostModel(commission_bps=5.0, slippage_bps=2.0)
RULE = RebalanceRule(schedule="monthly", drift_threshold=0.05)
CASH = 100_000.0
START, END = "2015-01-01", "2025-12-31"
CHUNK = 1_000
GRIDS = {1_000: (np.arange(1, 21) * 0.05, np.arange(1, 51)), 10_000: (np.arange(1, 101) * 0.01, np.arange(1, 101))}


class Workload:
    """Closes on the run period, linear targets, the driving signal on the full calendar."""

    def __init__(self, prices_dir: Path) -> None:
        series = {t: pd.read_csv(prices_dir / f"{t}.csv", index_col="Date", parse_dates=True)["Close"] for t in TICKERS}
        full = pd.DataFrame(series).sort_index().ffill().loc[:END]
        full.index.name = "date"
        spec = load_spec("tariff-shock-hedge")
        outputs = evaluate(
            spec.triggers, MarketContext(calendar=full.index, closes=full, events=load_events(), gpr=None)
        )
        signal, release = driving_signal(spec, outputs, full.index)
        self.signal, self.release = signal.to_numpy(float), release.to_numpy(bool)
        self.in_period = np.asarray(full.index >= START)
        self.closes = full.loc[START:]
        n_days = len(self.closes)
        base = np.array([RISK.get(t, 0.0) for t in TICKERS])
        hedge = np.array([HEDGE.get(t, 0.0) for t in TICKERS])
        self.base, self.shift = np.tile(base, (n_days, 1)), np.tile(hedge - base, (n_days, 1))
        self.steps = spec.response["step_in"], spec.response["step_out"]

    def grid(self, n_configs: int) -> tuple[np.ndarray, ...]:
        """(hedge_fraction, hold_days, step_in, step_out, exit_on_release), fraction outer, hold inner."""
        fractions, holds = GRIDS[n_configs]
        fraction, hold = (a.ravel() for a in np.meshgrid(fractions, holds, indexing="ij"))
        ones = np.ones(len(fraction))
        return fraction, hold, ones * self.steps[0], ones * self.steps[1], ones > 0

    def fused(self, response: tuple[np.ndarray, ...]) -> np.ndarray:
        """Daily returns (C x T) from the fused kernel, in chunks of ``CHUNK`` configurations."""
        rows = [
            simulate_responses(
                self.closes.to_numpy(),
                self.base,
                self.shift,
                self.signal,
                self.release,
                self.in_period,
                *(a[start : start + CHUNK] for a in response),
                COSTS,
                RULE,
                CASH,
                self.closes.index,
            )[:, -1].copy()  # a sweep reduces each chunk to metrics: keep one column, free the chunk
            for start in range(0, len(response[0]), CHUNK)
        ]
        return np.concatenate(rows)

    def numpy_loop(self, response: tuple[np.ndarray, ...]) -> np.ndarray:
        """The same returns from a plain numpy loop over days, vectorised over configurations."""
        fraction, hold, up, down, exits = response
        skip = min(resting_until(self.signal), int(np.argmax(self.in_period)))  # as the kernel does
        levels = numpy_levels(self.signal[skip:], self.release[skip:], hold, up, down, exits)[:, self.in_period[skip:]]
        return numpy_execute(self.closes, self.base, self.shift, fraction[:, None] * levels)


def numpy_levels(signal, release, hold, up, down, exits) -> np.ndarray:
    """The hedge-level state machine (``backtests.portfolio.response``) as numpy ops per day."""
    n = len(hold)
    active, desired = np.zeros(n, bool), np.zeros(n)
    remaining, level = np.zeros(n, np.int64), np.zeros(n)
    out = np.empty((n, len(signal)))
    for t, (s, released) in enumerate(zip(signal, release, strict=True)):
        if s > 0.0:
            desired = np.where(active, np.maximum(desired, s), s)
            active, remaining = np.ones(n, bool), hold.copy()
        if released:
            active = active & ~exits
        target = np.where(active, desired, 0.0)
        low, high = level - down, level + up
        level = np.where(target < low - 1e-12, low, np.where(target > high + 1e-12, high, target))
        out[:, t] = level
        if s == 0.0:
            remaining = np.where(active, remaining - 1, remaining)
            active = active & (remaining > 0)
    return out


def numpy_execute(closes: pd.DataFrame, base: np.ndarray, shift: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """The execution model (``backtests.execution.rules``) as numpy ops per day over C x N arrays."""
    prices = listed_prices(closes.to_numpy(float))
    scheduled = scheduled_days(closes.index, RULE.schedule)
    n_configs, n_days = exposure.shape
    comm, slip = COSTS.commission, COSTS.slippage
    q, cash = np.zeros((n_configs, prices.shape[1])), np.full(n_configs, CASH)
    previous, target = np.full(n_configs, CASH), np.zeros_like(q)
    returns = np.empty((n_configs, n_days))
    for t in range(n_days):
        p = prices[t]
        fresh = base[t] + exposure[:, t : t + 1] * shift[t]
        changed = np.abs(fresh - target).max(axis=1) > TARGET_CHANGE_TOL if t else np.zeros(n_configs, bool)
        target = fresh
        value = cash + q @ p
        due = changed | (t == 0) | scheduled[t]
        due |= np.abs(q * p - target * value[:, None]).max(axis=1) > RULE.drift_threshold * value
        if due.any():
            d = np.where(target == 0.0, -q, target * value[:, None] / p - q)
            d = np.where(due[:, None] & (np.abs(d) * p >= DUST * value[:, None]), d, 0.0)
            sold = np.where(d < 0, -d * p * (1 - slip), 0.0)
            bought = np.where(d > 0, d * p * (1 + slip), 0.0)
            budget = cash + (sold - comm * sold).sum(axis=1) - CASH_SAFETY * value
            cost = (bought + comm * bought).sum(axis=1)
            trim = (cost > 0) & (cost > budget)
            scale = np.where(trim, np.maximum(budget, 0.0) / np.where(cost > 0, cost, 1.0), 1.0)
            d = np.where((d > 0) & trim[:, None], d * scale[:, None], d)
            d = np.where((d > 0) & trim[:, None] & (d * p < DUST * value[:, None]), 0.0, d)
            sells, buys = np.where(d < 0, -d, 0.0) * p * (1 - slip), np.where(d > 0, d, 0.0) * p * (1 + slip)
            cash = cash + (sells - comm * sells).sum(axis=1) - (buys + comm * buys).sum(axis=1)
            q = q + d
            value = cash + q @ p
        returns[:, t] = value / previous - 1.0
        previous = value
    return returns


@dataclass(frozen=True)
class Timing:
    """Seconds of repeated runs (median, fastest, slowest), peak MiB of one traced run, load average."""

    median: float
    fastest: float
    slowest: float
    peak_mib: float
    load: float

    def rate(self, n: int) -> str:
        """``n`` per median second, with the range over the runs (the machine's noise)."""
        return f"{n / self.median:>9,.0f} configs/s (runs {n / self.slowest:,.0f}-{n / self.fastest:,.0f})"


def timed(run, repeats: int) -> Timing:
    """Time ``repeats`` runs, then trace one more for its peak allocation (timed runs are not
    traced: tracemalloc slows every allocation down)."""
    seconds = []
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - began)
    load = os.getloadavg()[0]
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return Timing(statistics.median(seconds), min(seconds), max(seconds), peak / 2**20, load)


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="runs per figure (the median is printed)")
    parser.add_argument("--skip-backtrader", action="store_true", help="leave out the backtrader comparison")
    parser.add_argument("--threads", type=int, default=0, help="numba threads for the fused kernel (0: all cores)")
    args = parser.parse_args()
    if args.threads:
        set_threads(args.threads)
    if not PRICES.is_dir():
        print(f"skipped: real price data not found at {PRICES}")
        return 0
    w = Workload(PRICES)
    print(
        f"workload W: {len(TICKERS)} tickers x {len(w.closes)} days ({START}..{w.closes.index[-1]:%Y-%m-%d}), "
        f"signal on {len(w.signal)} calendar days, {COSTS}, {RULE}; numba threads {numba.get_num_threads()} "
        f"of {os.cpu_count()} cores"
    )
    warm = time.perf_counter()
    small = w.grid(1_000)
    w.fused(tuple(a[:4] for a in small))
    print(f"fused: first call (numba compile or cache load) {time.perf_counter() - warm:.2f} s")
    check = tuple(a[::97] for a in small)
    fused_rows = simulate_responses(
        w.closes.to_numpy(),
        w.base,
        w.shift,
        w.signal,
        w.release,
        w.in_period,
        *check,
        COSTS,
        RULE,
        CASH,
        w.closes.index,
    )
    gap = np.abs(fused_rows - w.numpy_loop(check)).max()
    print(
        f"check: fused vs numpy loop, max |difference| of daily returns over {len(check[0])} configurations = {gap:.1e}"
    )
    if gap > 1e-9:
        print("the numpy yardstick disagrees with the fused kernel; not timing")
        return 1
    print(describe())
    threads, one_thread = numba.get_num_threads(), None
    if threads > 1:  # the 1,000 row below is the all-threads figure it is compared with
        set_threads(1)
        one_thread = timed(lambda r=w.grid(1_000): w.fused(r), args.repeats)
        set_threads(threads)
    rates = {}
    for n_configs in GRIDS:
        response = w.grid(n_configs)
        fused = timed(lambda r=response: w.fused(r), args.repeats)
        loop = timed(lambda r=response: w.numpy_loop(r), max(1, args.repeats // 2))
        rates[n_configs] = n_configs / fused.median
        print(
            f"{n_configs:>6} configs: fused {fused.rate(n_configs)} (load {fused.load:.1f}), "
            f"peak {fused.peak_mib:,.0f} MiB | numpy loop {n_configs / loop.median:>7,.0f} configs/s "
            f"(load {loop.load:.1f}), peak {loop.peak_mib:,.0f} MiB | fused/numpy = {loop.median / fused.median:.1f}x"
        )
        if n_configs == 1_000 and one_thread is not None:
            print(
                f"  1000 configs: fused on 1 thread {one_thread.rate(1_000)} (load {one_thread.load:.1f}); "
                f"{threads} threads give {one_thread.median / fused.median:.2f}x that (medians)"
            )
    if not args.skip_backtrader:
        fraction, hold, up, down, exits = (a[:3] for a in w.grid(1_000))
        levels = hedge_levels(w.signal, w.release, hold, up, down, exits)[:, w.in_period]
        began = time.perf_counter()
        for c in range(3):
            targets = pd.DataFrame(
                w.base + (fraction[c] * levels[c])[:, None] * w.shift, index=w.closes.index, columns=list(TICKERS)
            )
            run_backtrader(w.closes, targets, COSTS, RULE, CASH)
        seconds = (time.perf_counter() - began) / 3
        print(
            f"backtrader: {seconds:.2f} s per configuration (load {os.getloadavg()[0]:.1f}); "
            f"fused at 1,000 configs = {seconds * rates[1_000]:,.0f}x backtrader"
        )
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

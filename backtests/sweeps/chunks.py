"""A sweep's unit of work: one chunk of configurations of one compiled group, simulated and reduced.

``run_chunk(group, chunk)`` returns the chunk's configuration indices, the metrics of
every named range and the in-sample PBO block sums; nothing is summed across chunks,
so any split of a sweep into chunks, run anywhere, merges into the same bytes.

Contract: this module and what it imports load without pandas (``GroupData`` carries
its dates as datetime64 values and each range's calendar years precomputed). A
``SweepWorker`` runs only this module's functions, so it never imports pandas and is
ready (numba's registries and the cached kernels loaded by ``warm_up``) sooner than
the process that loads the data. Only the backtrader executor loads pandas, for its
frames.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from backtests.execution.rules import CostModel, RebalanceRule
from backtests.metrics import summary_metrics_matrix
from backtests.portfolio.response import ResponseArrays
from backtests.sweeps import RANGE_METRICS
from backtests.sweeps.stats import BlockStats, pbo_from_block_stats

if TYPE_CHECKING:
    from backtests.assembly import CompiledRun

PBO_BLOCKS = 10  # in-sample blocks of the CSCV split: C(10, 5) = 252 splits


@dataclass(frozen=True)
class GroupData:
    """One compiled group, as arrays: what every chunk of the group needs.

    ``dates``: the run calendar as datetime64 values; ``years``: the calendar years of each
    named range in ``ranges`` (index positions ``[a, b)``), as ``metrics.calendar_years``.
    """

    dates: np.ndarray
    closes: np.ndarray
    base: np.ndarray
    shift: np.ndarray
    signal: np.ndarray
    release: np.ndarray
    in_period: np.ndarray
    costs: CostModel
    rebalance: RebalanceRule
    cash: float
    ranges: dict[str, tuple[int, int]]
    years: dict[str, float]
    executor: str
    threads: int

    @classmethod
    def of(cls, compiled: CompiledRun, ranges: dict[str, tuple[int, int]], executor: str, threads: int) -> GroupData:
        from backtests.metrics import calendar_years

        calendar = compiled.calendar
        return cls(
            dates=calendar.to_numpy(),
            closes=compiled.closes.to_numpy(),
            base=compiled.base.to_numpy(),
            shift=compiled.shift.to_numpy(),
            signal=compiled.signal.to_numpy(dtype=float),
            release=compiled.release.to_numpy(dtype=bool),
            in_period=compiled.in_period,
            costs=compiled.costs,
            rebalance=compiled.rebalance,
            cash=compiled.cash,
            ranges=ranges,
            years={name: calendar_years(calendar[a:b]) for name, (a, b) in ranges.items()},
            executor=executor,
            threads=threads,
        )

    def limit_threads(self) -> None:
        """Cap numba's threads in this process, so processes x threads never exceed the cores."""
        from backtests.execution.fast_exec import set_threads

        set_threads(self.threads)


@dataclass(frozen=True)
class Chunk:
    """Configurations ``members`` (indices into the sweep) of group ``group``, with their response parameters."""

    group: int
    members: np.ndarray
    response: ResponseArrays


def run_chunk(group: GroupData, chunk: Chunk) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Simulate one chunk of a group: (config indices, metrics per range, PBO block sums and squares)."""
    group.limit_threads()
    returns = _chunk_returns(group, chunk.response)
    metrics = _range_metrics(returns, group)
    a, b = group.ranges["is"]
    stats = BlockStats.from_returns(returns[:, a:b].T, PBO_BLOCKS)
    return chunk.members, metrics, stats.total, stats.squares


def _chunk_returns(group: GroupData, r: ResponseArrays) -> np.ndarray:
    """Daily returns (C x T): the fused compiled kernel, or backtrader one configuration at a time."""
    if group.executor == "fast":
        from backtests.execution.fast_exec import simulate_responses

        return simulate_responses(
            group.closes, group.base, group.shift, group.signal, group.release, group.in_period,
            *r.arrays(),
            group.costs, group.rebalance, group.cash, group.dates,
        )
    import pandas as pd

    from backtests.execution.backtrader_exec import run_backtrader
    from backtests.portfolio.response import hedge_levels

    levels = hedge_levels(group.signal, group.release, r.hold_days, r.step_in, r.step_out, r.exit_on_release)
    exposure = r.hedge_fraction[:, None] * levels[:, group.in_period]
    closes = pd.DataFrame(group.closes, index=pd.DatetimeIndex(group.dates))
    out = np.empty((len(exposure), len(group.dates)))
    for c, row in enumerate(exposure):
        targets = pd.DataFrame(group.base + row[:, None] * group.shift, index=closes.index)
        equity = run_backtrader(closes, targets, group.costs, group.rebalance, group.cash).equity.to_numpy()
        out[c] = equity / np.concatenate([[group.cash], equity[:-1]]) - 1.0
    return out


def _range_metrics(returns: np.ndarray, group: GroupData) -> dict[str, np.ndarray]:
    """Metrics of every range, CAGR over calendar years exactly as ``backtest run`` computes it;
    in sample also the skewness and kurtosis the Deflated Sharpe Ratio needs."""
    out = {}
    for name, (a, b) in group.ranges.items():
        kept = (*RANGE_METRICS, "skew", "kurtosis") if name == "is" else RANGE_METRICS
        for key, values in summary_metrics_matrix(returns[:, a:b], years=group.years[name]).items():
            if key in kept:
                out[f"{name}_{key}"] = values
    return out


_KEPT: dict[str, list[GroupData]] = {}  # in a SweepWorker: the groups of the sweep running now, by key


def keep_groups(key: str, groups: list[GroupData]) -> None:
    """In a worker: hold ``groups`` (sent once per sweep) for the chunks that follow under ``key``."""
    _KEPT.clear()
    _KEPT[key] = groups


def run_kept(key: str, function: Callable[[GroupData, Chunk], Any], chunk: Chunk) -> Any:
    """In a worker: ``function(group, chunk)`` on the group ``keep_groups`` sent under ``key``."""
    return function(_KEPT[key][chunk.group], chunk)


def warm_up() -> None:
    """Load every compiled function a sweep runs, with the argument types a sweep passes: a tiny
    chunk (levels that step in and out, a release, in- and out-of-sample ranges), the PBO of its
    block sums, and a chunk of one configuration (its metrics take another path)."""
    days = 4 * PBO_BLOCKS
    dates = np.datetime64("2020-01-06") + np.arange(days).astype("timedelta64[D]")
    closes = np.linspace(1.0, 2.0, 2 * days).reshape(days, 2)
    closes[::3, 1] *= 0.99
    ranges = {"full": (0, days), "is": (0, days // 2), "oos": (days // 2, days)}
    group = GroupData(
        dates.astype("datetime64[ns]"),
        closes,
        np.tile([0.6, 0.4], (days, 1)),
        np.tile([-0.5, 0.5], (days, 1)),
        (np.arange(days) % 7 == 0).astype(float),
        np.arange(days) % 11 == 0,
        np.ones(days, dtype=bool),
        CostModel(1.0, 1.0),
        RebalanceRule("none", 0.05),
        1_000_000.0,
        ranges,
        {name: (b - a) / 365.25 for name, (a, b) in ranges.items()},
        "fast",
        os.cpu_count() or 1,
    )
    response = ResponseArrays(
        np.array([0.5, 1.0]),
        np.array([3, 9], dtype=np.int64),
        np.array([1.0, 0.5]),
        np.array([1.0, 0.5]),
        np.array([False, True]),
    )
    _, _, total, squares = run_chunk(group, Chunk(0, np.arange(2), response))
    pbo_from_block_stats(BlockStats(np.full(PBO_BLOCKS, days // 2 // PBO_BLOCKS), total, squares))
    run_chunk(group, Chunk(0, np.arange(1), response.take(slice(0, 1))))

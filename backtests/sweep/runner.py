"""Run a parameter sweep: every configuration simulated, measured in and out of sample.

Configurations are grouped by the keys that change the triggers or the
portfolio (``triggers.*``, ``universe.*``, costs...): each group evaluates its
triggers once. Inside a group the response keys (hedge fraction, hold days,
step speeds, de-escalation rule) vary per configuration and are simulated
together by the fast executor, in fixed-size chunks so memory stays flat and
``--jobs`` never changes a result. Only metrics are kept per configuration,
plus per-block sums of in-sample returns for the PBO.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats as sps

from backtests import pipeline
from backtests.errors import BacktestError, UserInputError
from backtests.execution.rules import CostModel, RebalanceRule
from backtests.metrics import calendar_years, summary_metrics_matrix
from backtests.spec import StrategySpec, load_spec
from backtests.sweep import OBJECTIVES
from backtests.sweep.stats import BlockStats, deflated_sharpe_ratio, pbo_from_block_stats

#: Keys the fast path varies per configuration inside one trigger evaluation.
RESPONSE_KEYS = (
    "response.hedge_fraction",
    "response.hold_days",
    "response.step_in",
    "response.step_out",
    "response.on_deescalation",
)
CHUNK = 250
#: The shortest in-sample, out-of-sample or walk-forward range, in trading days.
MIN_RANGE_DAYS = 20
PBO_BLOCKS = 10
METRIC_KEYS = ("cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar")


@dataclass(frozen=True)
class SweepSettings:
    """How to rank and validate: objective, split, walk-forward folds, parallel jobs, executor."""

    objective: str = "sharpe"
    train_until: pd.Timestamp | None = None
    walk_forward: int = 0
    jobs: int = 1
    executor: str = "fast"

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise UserInputError(f"--objective {self.objective!r}: choose one of {', '.join(OBJECTIVES)}")
        if self.walk_forward < 0 or self.walk_forward == 1:
            raise UserInputError("--walk-forward K: K must be 2 or more (number of out-of-sample folds)")
        if self.jobs < 1:
            raise UserInputError("--jobs N: N must be 1 or more")


@dataclass(frozen=True)
class Periods:
    """Index positions (into the run calendar) of the full, in-sample and out-of-sample ranges."""

    calendar: pd.DatetimeIndex
    train_end: int  # exclusive end of the in-sample range
    folds: tuple[tuple[int, int], ...] = ()  # walk-forward test ranges [a, b)

    @classmethod
    def build(cls, inputs: pipeline.RunInputs, settings: SweepSettings) -> Periods:
        """The run period's split; raises ``UserInputError`` when a range would be too short."""
        calendar = inputs.prices.closes.loc[inputs.start : inputs.end].index
        n = len(calendar)
        train_end = n
        if settings.train_until is not None:
            train_end = int(calendar.searchsorted(settings.train_until, side="right"))
            if min(train_end, n - train_end) < MIN_RANGE_DAYS:
                raise UserInputError(
                    f"--train-until {settings.train_until.date()} leaves fewer than {MIN_RANGE_DAYS} trading days "
                    "on one side "
                    f"of {calendar[0].date()}..{calendar[-1].date()}; move it inside the period"
                )
        folds: tuple[tuple[int, int], ...] = ()
        if settings.walk_forward:
            edges = np.linspace(0, n, settings.walk_forward + 2).astype(int)
            if np.diff(edges).min() < MIN_RANGE_DAYS:
                raise UserInputError(
                    f"--walk-forward {settings.walk_forward}: {n} trading days make folds shorter than "
                    f"{MIN_RANGE_DAYS} days; use fewer folds or a longer period"
                )
            folds = tuple((int(edges[k]), int(edges[k + 1])) for k in range(1, settings.walk_forward + 1))
        return cls(calendar, train_end, folds)

    def ranges(self) -> dict[str, tuple[int, int]]:
        """Named ranges whose metrics are kept per configuration."""
        n = len(self.calendar)
        out = {"full": (0, n), "is": (0, self.train_end)}
        if self.train_end < n:
            out["oos"] = (self.train_end, n)
        for k, (a, b) in enumerate(self.folds, start=1):
            out[f"wf{k}_train"] = (0, a)
            out[f"wf{k}_test"] = (a, b)
        return out


@dataclass
class SweepResult:
    """The sweep table (one row per configuration) and the validation statistics."""

    table: pd.DataFrame
    keys: list[str]
    settings: SweepSettings
    periods: Periods
    winner: int
    dsr: float
    pbo: float
    walk_forward: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def run_sweep(
    strategy: str,
    base_overrides: Sequence[str],
    configs: list[dict[str, str]],
    inputs: pipeline.RunInputs,
    settings: SweepSettings,
    periods: Periods,
    progress: Callable[[int], None] = lambda n: None,
) -> SweepResult:
    """Simulate every configuration and rank them by ``settings.objective`` in sample."""
    ranges = periods.ranges()
    keys = list(configs[0]) if configs else []
    metrics: dict[str, np.ndarray] = {}
    block_total = np.zeros((PBO_BLOCKS, len(configs)))
    block_squares = np.zeros((PBO_BLOCKS, len(configs)))
    notes: list[str] = []
    tasks: list[ChunkTask] = []
    for group_overrides, members in _groups(configs):
        spec = load_spec(strategy, [*base_overrides, *group_overrides])
        _check_same_tickers(spec, inputs.spec)
        tasks += _group_tasks(spec, dataclasses.replace(inputs, spec=spec), configs, members, ranges, settings)
    for idx, chunk_metrics, totals, squares in _execute(tasks, settings.jobs):
        for name, values in chunk_metrics.items():
            metrics.setdefault(name, np.full(len(configs), np.nan))[idx] = values
        block_total[:, idx], block_squares[:, idx] = totals, squares
        progress(len(idx))
    if settings.executor == "backtrader":
        notes.append("executor: backtrader (reference), one configuration at a time")
    table = _table(configs, keys, metrics)
    objective = f"is_{settings.objective}"
    if table[objective].isna().all():
        raise BacktestError(
            f"the in-sample {settings.objective} is undefined for every configuration (no variation in returns?); "
            "try another --objective or a longer in-sample period"
        )
    winner = int(np.nanargmax(table[objective].to_numpy()))
    size = periods.train_end // PBO_BLOCKS
    pbo = pbo_from_block_stats(BlockStats(np.full(PBO_BLOCKS, size), block_total, block_squares)).pbo
    if np.isnan(pbo):
        notes.append("PBO undefined: fewer than two distinguishable configurations or too short an in-sample period")
    dsr = _winner_dsr(table, winner, periods.train_end)
    return SweepResult(
        table, keys, settings, periods, winner, dsr, pbo, _walk_forward(table, periods, settings.objective), notes
    )


def _execute(tasks: list[ChunkTask], jobs: int):
    """Run chunk tasks in order, in this process or across ``jobs`` loky workers (same results)."""
    if jobs == 1 or len(tasks) == 1:
        return map(run_chunk, tasks)
    from joblib import Parallel, delayed

    return Parallel(n_jobs=jobs, backend="loky", return_as="generator")(delayed(run_chunk)(t) for t in tasks)


def _groups(configs: list[dict[str, str]]) -> list[tuple[list[str], list[int]]]:
    """Configurations grouped by their non-response overrides, in first-seen order."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, config in enumerate(configs):
        key = tuple(f"{k}={v}" for k, v in config.items() if k not in RESPONSE_KEYS)
        groups.setdefault(key, []).append(i)
    return [(list(k), members) for k, members in groups.items()]


def _check_same_tickers(spec: StrategySpec, base: StrategySpec) -> None:
    if set(spec.tickers()) - set(base.tickers()):
        extra = ", ".join(sorted(set(spec.tickers()) - set(base.tickers())))
        raise UserInputError(f"--grid: a configuration adds tickers ({extra}); add them to the spec before sweeping")


@dataclass(frozen=True)
class ChunkTask:
    """One chunk of configurations of one group: everything a worker process needs."""

    members: np.ndarray
    dates: pd.DatetimeIndex  # the run calendar (T days)
    closes: np.ndarray  # T x N
    base: np.ndarray  # T x N
    shift: np.ndarray  # T x N
    signal: np.ndarray  # full calendar (warm-up included)
    release: np.ndarray
    in_period: np.ndarray  # bool mask of the run period on the full calendar
    response: dict[str, np.ndarray]
    costs: CostModel
    rebalance: RebalanceRule
    cash: float
    ranges: dict[str, tuple[int, int]]
    executor: str


def _group_tasks(spec, inputs, configs, members, ranges, settings) -> list[ChunkTask]:
    """Evaluate the group's triggers once and cut its configurations into chunk tasks."""
    from backtests.spec.response import driving_signal
    from backtests.weights import sleeves

    outputs = pipeline.evaluate_triggers(inputs)
    signal, release = driving_signal(spec, outputs, inputs.prices.closes.index)
    closes = inputs.prices.closes.loc[inputs.start : inputs.end]
    base, shift = sleeves(spec, closes)
    response = _response_arrays(spec, [configs[i] for i in members])
    members_arr = np.asarray(members)
    return [
        ChunkTask(
            members=members_arr[start : start + CHUNK],
            dates=closes.index,
            closes=closes[base.columns].to_numpy(),
            base=base.to_numpy(),
            shift=shift.to_numpy(),
            signal=signal.to_numpy(dtype=float),
            release=release.to_numpy(dtype=bool),
            in_period=np.asarray((signal.index >= inputs.start) & (signal.index <= inputs.end)),
            response={k: v[start : start + CHUNK] for k, v in response.items()},
            costs=CostModel(spec.costs["commission_bps"], spec.costs["slippage_bps"]),
            rebalance=RebalanceRule(spec.rebalance["schedule"], spec.rebalance["drift_threshold"]),
            cash=float(spec.cash),
            ranges=ranges,
            executor=settings.executor,
        )
        for start in range(0, len(members), CHUNK)
    ]


def run_chunk(task: ChunkTask) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Simulate one chunk: (config indices, metrics per range, PBO block sums and squares)."""
    from backtests.spec.response import hedge_levels

    r = task.response
    levels = hedge_levels(task.signal, task.release, r["hold_days"], r["step_in"], r["step_out"], r["exit"])
    exposure = r["hedge_fraction"][:, None] * levels[:, task.in_period]
    equity = _equity(task, exposure)
    returns = _returns(equity, task.cash)
    metrics = _range_metrics(returns, task.ranges, task.dates)
    a, b = task.ranges["is"]
    metrics["is_skew"] = sps.skew(returns[:, a:b], axis=1)
    metrics["is_kurtosis"] = sps.kurtosis(returns[:, a:b], axis=1, fisher=False)
    stats = BlockStats.from_returns(returns[:, a:b].T, PBO_BLOCKS)
    return task.members, metrics, stats.total, stats.squares


def _equity(task: ChunkTask, exposure: np.ndarray) -> np.ndarray:
    """Equity paths (C x T) from the fast executor, or from backtrader one configuration at a time."""
    if task.executor == "fast":
        from backtests.execution.fast_exec import simulate

        return simulate(
            task.closes,
            task.base,
            task.shift,
            exposure,
            task.costs,
            task.rebalance,
            task.cash,
            dates=task.dates,
            keep_equity=True,
        ).equity
    from backtests.execution.backtrader_exec import run_backtrader

    closes = pd.DataFrame(task.closes, index=task.dates)
    out = np.empty((len(exposure), len(task.dates)))
    for c, row in enumerate(exposure):
        targets = pd.DataFrame(task.base + row[:, None] * task.shift, index=closes.index)
        out[c] = run_backtrader(closes, targets, task.costs, task.rebalance, task.cash).equity.to_numpy()
    return out


def _response_arrays(spec: StrategySpec, configs: list[dict[str, str]]) -> dict[str, np.ndarray]:
    """Per-configuration response parameters, each coerced by the spec's own schema."""
    schema = spec.keys()

    def column(key: str) -> list:
        default = spec.get(key)
        return [schema[key].coerce(c[key], key, where="--grid") if key in c else default for c in configs]

    return {
        "hedge_fraction": np.asarray(column("response.hedge_fraction"), dtype=float),
        "hold_days": np.asarray(column("response.hold_days"), dtype=np.int64),
        "step_in": np.asarray(column("response.step_in"), dtype=float),
        "step_out": np.asarray(column("response.step_out"), dtype=float),
        "exit": np.asarray([v == "exit" for v in column("response.on_deescalation")], dtype=bool),
    }


def _returns(equity: np.ndarray, cash: float) -> np.ndarray:
    previous = np.concatenate([np.full((equity.shape[0], 1), cash), equity[:, :-1]], axis=1)
    return equity / previous - 1.0


def _range_metrics(
    returns: np.ndarray, ranges: dict[str, tuple[int, int]], dates: pd.DatetimeIndex
) -> dict[str, np.ndarray]:
    """Metrics of every range, CAGR over calendar years exactly as ``backtest run`` computes it."""
    out = {}
    for name, (a, b) in ranges.items():
        years = calendar_years(dates[a:b])
        for key, values in summary_metrics_matrix(returns[:, a:b], years=years).items():
            if key in METRIC_KEYS:
                out[f"{name}_{key}"] = values
    return out


def _table(configs: list[dict[str, str]], keys: list[str], metrics: dict[str, np.ndarray]) -> pd.DataFrame:
    """Parameters, then metrics grouped in sample, out of sample, full period, walk-forward."""
    order = {"is": 0, "oos": 1, "full": 2}
    names = sorted(metrics, key=lambda n: (order.get(n.split("_")[0], 3), n))
    return pd.concat([pd.DataFrame(configs, columns=keys), pd.DataFrame({n: metrics[n] for n in names})], axis=1)


def _winner_dsr(table: pd.DataFrame, winner: int, n_obs: int) -> float:
    """DSR of the in-sample winner, from its per-period Sharpe, skewness and kurtosis and the trials' spread."""
    per_period = table["is_sharpe"].to_numpy() / np.sqrt(252.0)
    return deflated_sharpe_ratio(
        float(per_period[winner]),
        n_obs=n_obs,
        n_trials=len(table),
        sharpe_variance=float(np.nanvar(per_period, ddof=1)) if len(table) > 1 else 0.0,
        skewness=float(table.at[winner, "is_skew"]),
        kurtosis=float(table.at[winner, "is_kurtosis"]),
    )


def _walk_forward(table: pd.DataFrame, periods: Periods, objective: str) -> list[dict]:
    """Anchored walk-forward: per fold, the best configuration on [0, a) and its score on [a, b)."""
    folds = []
    for k, (a, b) in enumerate(periods.folds, start=1):
        best = int(np.nanargmax(table[f"wf{k}_train_{objective}"].to_numpy()))
        folds.append(
            {
                "fold": k,
                "train": [f"{periods.calendar[0]:%Y-%m-%d}", f"{periods.calendar[a - 1]:%Y-%m-%d}"],
                "test": [f"{periods.calendar[a]:%Y-%m-%d}", f"{periods.calendar[b - 1]:%Y-%m-%d}"],
                "best": best,
                "train_score": float(table.at[best, f"wf{k}_train_{objective}"]),
                "test_score": float(table.at[best, f"wf{k}_test_{objective}"]),
            }
        )
    return folds

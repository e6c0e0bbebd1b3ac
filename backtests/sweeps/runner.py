"""Run a parameter sweep: every configuration simulated, measured in and out of sample.

Configurations are grouped by the keys that change the triggers or the
portfolio (``triggers.*``, ``universe.*``, costs...): each group is compiled
once by ``backtests.assembly.compile_run`` (the same assembly ``run`` uses).
Inside a group the response keys (hedge fraction, hold days, step speeds,
de-escalation rule) vary per configuration and are simulated together by the
fast executor, in fixed-size chunks so memory stays flat and ``jobs`` never
changes a result. Only metrics are kept per configuration, plus per-block sums
of in-sample returns for the PBO.

Two **reference rows** are always evaluated beside the grid: ``spec`` (the
spec's own settings) and ``base`` (the response switched off). They are
reported and written (column ``reference``) but take no part in the ranking,
the Deflated Sharpe Ratio or the PBO.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from backtests import portable_math
from backtests.assembly import RESPONSE_KEYS, CompiledRun, compile_run
from backtests.conventions import TRADING_DAYS_PER_YEAR
from backtests.errors import BacktestError, UserInputError
from backtests.inputs import RunInputs
from backtests.portfolio.response import ResponseArrays
from backtests.strategy import StrategySpec
from backtests.sweeps import OBJECTIVES
from backtests.sweeps.chunks import PBO_BLOCKS, Chunk, GroupData, run_chunk
from backtests.sweeps.grid import Grid
from backtests.sweeps.stats import BlockStats, deflated_sharpe_ratio, pbo_from_block_stats
from backtests.warm_process import WarmProcess

CHUNK = 1000
#: The shortest in-sample, out-of-sample or walk-forward range, in trading days.
MIN_RANGE_DAYS = 20
#: Reference rows: name -> overrides on top of the spec.
REFERENCES: dict[str, dict[str, Any]] = {"spec": {}, "base": {"response.hedge_fraction": 0.0}}
EXECUTORS = ("fast", "backtrader")


@dataclass(frozen=True)
class SweepSettings:
    """How to rank and validate: objective, split, walk-forward folds, parallel jobs, executor."""

    objective: str = "sharpe"
    train_until: pd.Timestamp | None = None
    walk_forward: int = 0
    jobs: int = 1
    executor: str = "fast"
    cluster: str | None = None

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise UserInputError(f"`objective` {self.objective!r}: choose one of {', '.join(OBJECTIVES)}")
        if self.walk_forward < 0 or self.walk_forward == 1:
            raise UserInputError("`walk_forward` K: K must be 2 or more (number of out-of-sample folds)")
        if self.jobs < 1:
            raise UserInputError("`jobs` N: N must be 1 or more")
        if self.cluster is not None and self.jobs != 1:
            raise UserInputError(
                f"`jobs` {self.jobs} with `cluster` {self.cluster!r}: "
                "a cluster's workers are its processes; drop `jobs`"
            )
        if self.executor not in EXECUTORS:
            raise UserInputError(f"`executor` {self.executor!r}: choose one of {', '.join(EXECUTORS)}")
        if self.cluster is not None:
            from backtests.sweeps.parallel import check_cluster

            check_cluster(self.cluster)


@dataclass(frozen=True)
class Periods:
    """Index positions (into the run calendar) of the full, in-sample and out-of-sample ranges."""

    calendar: pd.DatetimeIndex
    train_end: int  # exclusive end of the in-sample range
    folds: tuple[tuple[int, int], ...] = ()  # walk-forward test ranges [a, b)

    @classmethod
    def build(cls, inputs: RunInputs, settings: SweepSettings) -> Periods:
        """The run period's split; raises ``UserInputError`` when a range would be too short."""
        calendar = inputs.prices.closes.loc[inputs.start : inputs.end].index
        n = len(calendar)
        train_end = n
        if settings.train_until is not None:
            train_end = int(calendar.searchsorted(settings.train_until, side="right"))
            if min(train_end, n - train_end) < MIN_RANGE_DAYS:
                raise UserInputError(
                    f"`train_until` {settings.train_until.date()} leaves fewer than {MIN_RANGE_DAYS} trading days "
                    "on one side "
                    f"of {calendar[0].date()}..{calendar[-1].date()}; move it inside the period"
                )
        folds: tuple[tuple[int, int], ...] = ()
        if settings.walk_forward:
            edges = np.linspace(0, n, settings.walk_forward + 2).astype(int)
            if np.diff(edges).min() < MIN_RANGE_DAYS:
                raise UserInputError(
                    f"`walk_forward` {settings.walk_forward}: {n} trading days make folds shorter than "
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
class SweepOutcome:
    """The sweep table (one row per configuration, reference rows last) and the validation statistics.

    ``winner`` indexes ``table`` (never a reference row); ``keys`` are the swept keys.
    """

    table: pd.DataFrame
    keys: list[str]
    settings: SweepSettings
    periods: Periods
    winner: int
    dsr: float
    pbo: float
    walk_forward: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def grid_rows(self) -> pd.DataFrame:
        """The table without the reference rows."""
        return self.table[self.table["reference"] == ""]


def run_sweep(
    spec: StrategySpec,
    grid: Grid,
    inputs: RunInputs,
    settings: SweepSettings,
    periods: Periods,
    progress: Callable[[int], None] = lambda n: None,
    worker: WarmProcess | None = None,
) -> SweepOutcome:
    """Simulate every configuration of ``grid`` and the reference rows; rank the grid by the objective in
    sample. ``worker``: a started ``SweepWorker`` for the compiled work (one job, no cluster)."""
    from backtests.sweeps.parallel import Plan

    ranges = periods.ranges()
    grid_columns = {key: _column(values)[grid.picks[:, j]] for j, (key, values) in enumerate(zip(grid.keys, grid.values))}
    reference_columns = {
        key: _column([REFERENCES[name].get(key, spec.get(key)) for name in REFERENCES])
        for key in {*grid.keys, *(k for r in REFERENCES.values() for k in r)}
    }
    compiled: dict[str, CompiledRun] = {}  # by group overrides: the references share the grid's groups
    size = periods.train_end // PBO_BLOCKS
    with Plan.make(settings.jobs, settings.cluster, worker) as plan:
        grid_part = _evaluate(spec, grid_columns, len(grid), inputs, ranges, settings, plan, progress, compiled)
        references = _evaluate(
            spec, reference_columns, len(REFERENCES), inputs, ranges, settings, plan, lambda n: None, compiled
        )
        blocks = BlockStats(np.full(PBO_BLOCKS, size), grid_part.block_total, grid_part.block_squares)
        pbo = plan.call(pbo_from_block_stats, blocks).pbo
    table = _table(grid_columns, reference_columns, grid.keys, grid_part, references)
    n_grid = len(grid)
    objective = table[f"is_{settings.objective}"].to_numpy()[:n_grid]
    if np.isnan(objective).all():
        raise BacktestError(
            f"the in-sample {settings.objective} is undefined for every configuration (no variation in returns?); "
            "try another `objective` or a longer in-sample period"
        )
    winner = _best(objective)
    notes = []
    if settings.executor == "backtrader":
        notes.append("executor: backtrader (reference), one configuration at a time")
    if np.isnan(pbo):
        notes.append("PBO undefined: fewer than two distinguishable configurations or too short an in-sample period")
    notes += grid.edge_notes(table.iloc[winner])
    grid_table = table.iloc[:n_grid]
    dsr = _winner_dsr(grid_table, winner, periods.train_end)
    walk_forward = _walk_forward(grid_table, periods, settings.objective)
    return SweepOutcome(table, list(grid.keys), settings, periods, winner, dsr, pbo, walk_forward, notes)


def _column(values: Sequence[Any]) -> np.ndarray:
    """A 1-d object array of ``values`` (list values, e.g. ``categories``, stay single cells)."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = value
    return out


@dataclass(frozen=True)
class _Evaluated:
    """Metrics per configuration (name -> array of length C) and the in-sample PBO block sums (blocks x C)."""

    metrics: dict[str, np.ndarray]
    block_total: np.ndarray
    block_squares: np.ndarray


def _evaluate(spec, columns, n, inputs, ranges, settings, plan, progress, compiled) -> _Evaluated:
    """Compile each group once (``compiled``: the groups compiled so far, by their overrides), cut it
    into chunks, run them where ``plan`` says, gather by configuration index."""

    groups, chunks = [], []
    for overrides, members in _groups(columns, n):
        key = repr(sorted(overrides.items()))
        if key not in compiled:
            group_spec = spec.with_overrides(overrides)
            _check_same_tickers(group_spec, spec)
            compiled[key] = compile_run(inputs, group_spec)
        response = _response(compiled[key], columns, members)
        groups.append(GroupData.of(compiled[key], ranges, settings.executor, plan.threads))
        chunks += [
            Chunk(len(groups) - 1, members[start : start + CHUNK], response.take(slice(start, start + CHUNK)))
            for start in range(0, len(members), CHUNK)
        ]
    metrics: dict[str, np.ndarray] = {}
    block_total, block_squares = np.zeros((PBO_BLOCKS, n)), np.zeros((PBO_BLOCKS, n))
    for idx, chunk_metrics, totals, squares in plan.run(run_chunk, groups, chunks):
        for name, values in chunk_metrics.items():
            metrics.setdefault(name, np.full(n, np.nan))[idx] = values
        block_total[:, idx], block_squares[:, idx] = totals, squares
        progress(len(idx))
    return _Evaluated(metrics, block_total, block_squares)


def ranking(values: np.ndarray) -> np.ndarray:
    """Indices from best to worst. Tie rule: values equal to 12 significant digits keep their order
    (the configuration listed first wins), so float noise never reorders them; NaN comes last.

    A value's key is ``round(v / 10**(e - 11)) * 10**(e - 11)``, ``e`` its decade, with the powers
    of ten from ``portable_math`` (never ``log10``, whose last bit varies with the CPU); a value
    that rounds up to the next decade (0.9999999999999999) gets that decade's key (1.0's)."""
    values = np.asarray(values, dtype=float)
    keys = np.full(values.shape, -np.inf)
    finite = np.isfinite(values)
    v = values[finite]
    e = np.maximum(portable_math.decade(v), portable_math.POWERS_OF_TEN_FROM + 11)
    e = np.where(np.abs(np.round(v / portable_math.power_of_ten(e - 11))) >= 1e12, e + 1, e)
    step = portable_math.power_of_ten(np.minimum(e, 308) - 11)  # a unit in the 12th significant digit
    keys[finite] = np.round(v / step) * step
    return np.argsort(-keys, kind="stable")


def _best(values: np.ndarray) -> int:
    """The winner under ``ranking``'s tie rule."""
    return int(ranking(values)[0])


def _groups(columns: Mapping[str, np.ndarray], n: int) -> list[tuple[dict[str, Any], np.ndarray]]:
    """Configurations grouped by their non-response values, in first-seen order: (overrides, member indices)."""
    fixed = [k for k in columns if k not in RESPONSE_KEYS]
    if not fixed:
        return [({}, np.arange(n))]
    codes = np.stack([pd.factorize(pd.Series(columns[k]).map(repr))[0] for k in fixed], axis=1)
    _, first, inverse = np.unique(codes, axis=0, return_index=True, return_inverse=True)
    out = []
    for group in np.argsort(first, kind="stable"):
        members = np.flatnonzero(inverse.ravel() == group)
        out.append(({k: columns[k][members[0]] for k in fixed}, members))
    return out


def _response(compiled: CompiledRun, columns: Mapping[str, np.ndarray], members: np.ndarray) -> ResponseArrays:
    """The members' response parameters: swept values where swept, the group spec's own elsewhere."""
    defaults = compiled.spec.response

    def column(name: str) -> np.ndarray:
        key = f"response.{name}"
        return columns[key][members] if key in columns else np.full(len(members), defaults[name], dtype=object)

    return ResponseArrays(
        column("hedge_fraction").astype(float),
        column("hold_days").astype(np.int64),
        column("step_in").astype(float),
        column("step_out").astype(float),
        column("on_deescalation") == "exit",
    )


def _check_same_tickers(spec: StrategySpec, base: StrategySpec) -> None:
    if set(spec.tickers()) - set(base.tickers()):
        extra = ", ".join(sorted(set(spec.tickers()) - set(base.tickers())))
        raise UserInputError(f"`grid`: a configuration adds tickers ({extra}); add them to the spec before sweeping")


def _table(
    grid_columns: Mapping[str, np.ndarray],
    reference_columns: Mapping[str, np.ndarray],
    keys: Sequence[str],
    grid: _Evaluated,
    references: _Evaluated,
) -> pd.DataFrame:
    """Parameters, ``reference``, then metrics grouped in sample, out of sample, full period, walk-forward.

    Grid rows first (in grid order), then the reference rows (``spec``, ``base``).
    """
    order = {"is": 0, "oos": 1, "full": 2}
    names = sorted(grid.metrics, key=lambda n: (order.get(n.split("_")[0], 3), n))
    frame = {k: np.concatenate([grid_columns[k], reference_columns[k]]) for k in keys}
    params = pd.DataFrame({k: pd.Series(v).infer_objects() for k, v in frame.items()}, columns=list(keys))
    n_grid = len(next(iter(grid.metrics.values())))
    params["reference"] = [""] * n_grid + list(REFERENCES)
    metrics = pd.DataFrame({n: np.concatenate([grid.metrics[n], references.metrics[n]]) for n in names})
    return pd.concat([params, metrics], axis=1)


def _winner_dsr(table: pd.DataFrame, winner: int, n_obs: int) -> float:
    """DSR of the in-sample winner, from its per-period Sharpe, skewness and kurtosis and the trials' spread."""
    per_period = table["is_sharpe"].to_numpy() / np.sqrt(TRADING_DAYS_PER_YEAR)
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
        best = _best(table[f"wf{k}_train_{objective}"].to_numpy())
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

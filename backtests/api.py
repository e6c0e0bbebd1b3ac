"""The Python API: ``run`` and ``sweep`` a ``Strategy``, and load prices and events, the way the CLI does.

The ``backtest`` command is a thin layer over these functions: it parses
options, calls them and prints. Arguments take Python objects (a DataFrame of
closes, a list of event dicts, a GPR Series, typed override values) or paths;
errors are one-line ``UserInputError`` (bad input) or ``BacktestError``
(failures) naming the argument, e.g. "`start` '2020-13-01' is not a date".
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from backtests.inputs import EventsArg, GprArg, PricesArg, RunInputs, load_inputs
from backtests.results import RunResult
from backtests.strategy import StrategySpec as Strategy

if TYPE_CHECKING:
    from backtests.sweeps.heatmap import Figure
    from backtests.sweeps.worker import SweepWorker

StrategyArg = Strategy | str | os.PathLike


def as_strategy(strategy: StrategyArg) -> Strategy:
    """A ``Strategy`` as given, or loaded by shipped name or ``.toml`` path."""
    return strategy if isinstance(strategy, Strategy) else Strategy.load(strategy)


def run(
    strategy: StrategyArg,
    *,
    prices: PricesArg = None,
    events: EventsArg = None,
    gpr: GprArg = None,
    start: Any = None,
    end: Any = None,
    source: str = "auto",
    executor: str = "backtrader",
    data_dir: str | os.PathLike | None = None,
    allow_extreme_moves: bool = False,
) -> RunResult:
    """Backtest ``strategy`` and its unhedged (or untilted) base; see ``RunResult``.

    Example::

        from backtests import Strategy, run
        result = run(Strategy.load("tariff-shock-hedge").with_overrides({"response.hedge_fraction": 0.3}),
                     source="demo", start="2018-01-01", end="2019-12-31")
        result.summary()
    """
    from backtests.pipeline import run_strategy

    inputs = load_inputs(
        as_strategy(strategy),
        prices=prices,
        events=events,
        gpr=gpr,
        start=start,
        end=end,
        source=source,
        data_dir=data_dir,
        allow_extreme_moves=allow_extreme_moves,
    )
    return run_strategy(inputs, executor=executor)


@dataclass
class SweepResult:
    """A finished sweep: the ``table`` (one row per configuration; reference rows ``spec`` and ``base``
    last, marked in ``reference``), the in-sample winner ``best`` as a ``Strategy``, ``dsr`` and ``pbo``."""

    outcome: Any
    strategy: Strategy
    inputs: RunInputs

    @property
    def table(self) -> pd.DataFrame:
        """Parameters, ``reference``, then ``is_*``, ``oos_*``, ``full_*`` and ``wfK_*`` metrics."""
        return self.outcome.table

    @property
    def dsr(self) -> float:
        """Deflated Sharpe Ratio of the winner."""
        return self.outcome.dsr

    @property
    def pbo(self) -> float:
        """Probability of Backtest Overfitting (CSCV); NaN when undefined."""
        return self.outcome.pbo

    @property
    def notes(self) -> list[str]:
        """Caveats: executor, undefined PBO, a winner on the edge of the grid."""
        return self.outcome.notes

    @property
    def best(self) -> Strategy:
        """The winner as a runnable strategy, with the sweep's period written in."""
        row = self.outcome.table.iloc[self.outcome.winner]
        period = {"start": f"{self.inputs.start:%Y-%m-%d}", "end": f"{self.inputs.end:%Y-%m-%d}"}
        return self.strategy.with_overrides({**{k: _plain(row[k]) for k in self.outcome.keys}, **period})

    def heatmap(self) -> Figure:
        """The picture ``save`` writes as ``heatmap.svg``: the objective over the first two swept keys
        (a line for one), in and out of sample side by side. Jupyter shows it inline; ``.svg`` is
        its text, ``.save(path)`` writes it."""
        from backtests.sweeps.report import heatmap_figure

        return heatmap_figure(self.outcome, self.strategy.name, self.inputs.prices.label)

    def save(
        self, folder: str | os.PathLike, *, force: bool = False, winner_tearsheet: bool = False
    ) -> dict[str, Path]:
        """Write sweep.csv, summary.json and the heatmap files into ``folder``; returns name -> path.

        ``winner_tearsheet``: also run the winner on backtrader (same data) and write its run
        folder as ``folder/winner``.
        """
        from backtests.pipeline import run_strategy
        from backtests.sweeps.report import write_outputs

        paths = write_outputs(self.outcome, Path(folder), self.strategy.name, self.inputs.prices.label, force=force)
        if winner_tearsheet:
            best = self.best
            winner = run_strategy(dataclasses.replace(self.inputs, spec=best))
            paths["winner tearsheet"] = winner.save(Path(folder) / "winner", tearsheet=True)["tearsheet"]
        return paths

    def save_best(self, path: str | os.PathLike) -> Path:
        """Write the winner as a runnable spec (TOML, with the sweep's period) to ``path``, atomically."""
        from backtests.atomic import atomic_write_text

        return atomic_write_text(path, self.best.to_toml())


def _plain(value: Any) -> Any:
    """numpy scalars from a table cell back to Python values."""
    return value.item() if hasattr(value, "item") else value


def sweep(
    strategy: StrategyArg,
    grid: Mapping[str, Sequence[Any]],
    *,
    prices: PricesArg = None,
    events: EventsArg = None,
    gpr: GprArg = None,
    start: Any = None,
    end: Any = None,
    source: str = "auto",
    data_dir: str | os.PathLike | None = None,
    allow_extreme_moves: bool = False,
    train_until: Any = None,
    walk_forward: int | None = None,
    objective: str = "sharpe",
    random: int | None = None,
    seed: int | None = None,
    jobs: int = 1,
    executor: str = "fast",
    cluster: str | None = None,
    progress: Callable[[int], None] | None = None,
    on_start: Callable[[RunInputs, int], None] | None = None,
    worker: SweepWorker | None = None,
) -> SweepResult:
    """Evaluate every configuration of ``grid`` (key -> values) and rank them in sample.

    ``on_start(inputs, n_configurations)`` is called once the data are loaded and
    the grid is checked; ``progress(n)`` after each chunk of n configurations.
    ``jobs`` worker processes (at most one per core), or ``cluster`` (``"tcp://HOST:8786"``,
    ``"local"``, ``"local:N"``; not both) to run on Dask: results are byte-identical either
    way. ``worker``: a
    ``backtests.sweeps.worker.SweepWorker`` started before the data load (as ``backtest
    sweep`` does), which runs the compiled work with one job while this process loads; the
    same bytes again.

    Example::

        from backtests import sweep
        result = sweep("tariff-shock-hedge", {"response.hedge_fraction": [0.25, 0.5, 1.0],
                       "response.hold_days": [5, 20, 60]}, source="demo", train_until="2022-12-31")
        result.best.to_toml()
    """
    from backtests.dates import parse_date
    from backtests.sweeps.grid import Grid
    from backtests.sweeps.runner import Periods, SweepSettings, run_sweep

    spec = as_strategy(strategy)
    settings = SweepSettings(
        objective, parse_date(train_until, what="`train_until`"), walk_forward or 0, jobs, executor, cluster
    )
    checked = Grid.build(spec, grid, random=random, seed=seed)
    inputs = load_inputs(
        spec,
        prices=prices,
        events=events,
        gpr=gpr,
        start=start,
        end=end,
        source=source,
        data_dir=data_dir,
        allow_extreme_moves=allow_extreme_moves,
    )
    periods = Periods.build(inputs, settings)
    if on_start is not None:
        on_start(inputs, len(checked))
    outcome = run_sweep(spec, checked, inputs, settings, periods, progress=progress or (lambda n: None), worker=worker)
    return SweepResult(outcome, spec, inputs)


def load_prices(
    tickers: Sequence[str],
    prices: PricesArg = None,
    *,
    start: Any = None,
    end: Any = None,
    source: str = "auto",
    data_dir: str | os.PathLike | None = None,
    calendar: str = "XNYS",
) -> pd.DataFrame:
    """Adjusted closes (dates x tickers, on ``calendar``'s sessions) from a folder of CSVs, the cache,
    Yahoo or the demo market."""
    from backtests.inputs import load_prices as load

    return load(tickers, prices, start=start, end=end, source=source, data_dir=data_dir, calendar=calendar).closes


def load_events(events: EventsArg = None) -> pd.DataFrame:
    """The curated calendar plus ``events`` (CSV paths, a DataFrame or a list of dicts), validated."""
    from backtests.inputs import load_events as load
    from backtests.inputs import split_events

    files, records = split_events(events)
    return load(files, records)

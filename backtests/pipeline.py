"""One backtest end to end: load inputs, evaluate triggers, build targets, execute, measure.

``load_inputs`` is the only part that touches files or the network (through the
data adapters). ``run_strategy`` is deterministic given its inputs: the same
spec and data give the same ``RunResult`` and the same metrics bytes.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from backtests import __version__
from backtests.data.frames import PriceData
from backtests.dates import check_range, parse_date
from backtests.errors import DataUnavailableError, UserInputError
from backtests.results import RunResult
from backtests.spec import StrategySpec
from backtests.triggers import MarketContext, TriggerOutput, evaluate
from backtests.triggers.context import FIRING_COLUMNS

_PACKAGES = ("pandas", "numpy", "backtrader", "quantstats", "yfinance", "click", "pyarrow", "matplotlib")


@dataclass(frozen=True)
class RunInputs:
    """Everything a run reads: the spec, prices, events and the GPR index.

    ``prices`` hold all the history the source has up to ``end``: triggers see it
    all (moving averages and rolling highs are warm on the first day, and a
    result never depends on how far back the data go), while the backtest
    itself runs from ``start`` to ``end``. ``notes`` are caveats to show the user.
    """

    spec: StrategySpec
    prices: PriceData
    events: pd.DataFrame
    gpr: pd.DataFrame | None
    start: pd.Timestamp
    end: pd.Timestamp
    events_files: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def uses_gpr(spec: StrategySpec) -> bool:
    """Whether any trigger of the spec reads the GPR index."""
    return any(params.get("type") == "gpr" for params in spec.triggers.values())


def load_inputs(
    spec: StrategySpec,
    *,
    start: str | None = None,
    end: str | None = None,
    source: str = "auto",
    prices_dir: str | None = None,
    data_dir: str | None = None,
    events_files: Sequence[str] = (),
    on_loading_prices: Callable[[], None] | None = None,
) -> RunInputs:
    """Read prices, events and (when a trigger needs it) the GPR index for ``spec``.

    ``start``/``end`` default to the spec's period. Prices are loaded with all
    the history before the start, so triggers are warm on the first day.
    ``on_loading_prices`` is called once the dates and event files are checked,
    just before the (possibly slow) price load: the CLI prints its progress line
    there, so a mistake in the command line stays a single line on stderr.
    """
    from backtests.data.gpr import cached_gpr
    from backtests.data.loader import load_prices
    from backtests.events.calendar import load_events

    start_ts = parse_date(start or spec.start or None, what="--start")
    end_ts = parse_date(end or spec.end or None, what="--end")
    check_range(start_ts, end_ts)
    events_files = tuple(dict.fromkeys([*spec.data["events"], *events_files]))
    events = load_events(events_files)
    if on_loading_prices is not None:
        on_loading_prices()
    prices = load_prices(
        spec.tickers(), None, end_ts, source=source, prices_dir=prices_dir, data_dir=data_dir, events=events
    )
    closes = prices.closes
    period = closes.loc[start_ts:]
    if len(period) < 2:
        span = f"{closes.index[0].date()} to {closes.index[-1].date()}" if len(closes) else "nowhere"
        raise UserInputError(
            f"fewer than two trading days from {_day(start_ts, 'the first date')} to {_day(end_ts, 'the last date')}: "
            f"the data for {', '.join(spec.tickers())} run from {span}; choose --start/--end inside that range"
        )
    first_benchmark = closes[spec.benchmark].first_valid_index()
    if first_benchmark is None or first_benchmark > period.index[0]:
        raise UserInputError(
            f"benchmark {spec.benchmark} has no price before {_day(first_benchmark, 'the end')}, after the start "
            f"{period.index[0]:%Y-%m-%d}; choose a later --start or another --benchmark"
        )
    gpr, notes = None, ()
    if uses_gpr(spec):
        gpr = cached_gpr(data_dir)
        if gpr is None:
            raise DataUnavailableError(
                f"strategy {spec.name} needs the GPR index, which is not in the cache; "
                "import it with: backtest data import-gpr ../shared/data/gpr/gpr_daily.csv"
            )
        if gpr.index[-1] < period.index[-1]:
            notes = (
                f"the GPR index ends on {gpr.index[-1]:%Y-%m-%d}, before {period.index[-1]:%Y-%m-%d}: GPR triggers "
                "are off after it; import a newer file (backtest data import-gpr) or set --end",
            )
    return RunInputs(spec, prices, events, gpr, period.index[0], period.index[-1], events_files, notes)


def _day(value: pd.Timestamp | None, default: str) -> str:
    return default if value is None else f"{value:%Y-%m-%d}"


def evaluate_triggers(inputs: RunInputs) -> dict[str, TriggerOutput]:
    """Every trigger of the spec, on the full trading calendar (all the history loaded)."""
    closes = inputs.prices.closes
    ctx = MarketContext(calendar=closes.index, closes=closes, events=inputs.events, gpr=inputs.gpr)
    return evaluate(inputs.spec.triggers, ctx)


def run_strategy(inputs: RunInputs, *, command_line: Sequence[str] = ()) -> RunResult:
    """Run the backtest on the backtrader reference executor and measure it against the benchmark."""
    from backtests.execution.backtrader_exec import run_backtrader
    from backtests.execution.rules import CostModel, RebalanceRule
    from backtests.metrics import summary_metrics
    from backtests.spec.response import strategy_hedge_level
    from backtests.weights import target_weights

    spec = inputs.spec
    closes_full = inputs.prices.closes
    outputs = evaluate_triggers(inputs)
    level_full = strategy_hedge_level(spec, outputs, closes_full.index)
    period = slice(inputs.start, inputs.end)
    closes = closes_full.loc[period]
    level = level_full.loc[period]
    targets = target_weights(spec, level, closes)
    execution = run_backtrader(
        closes[targets.columns],
        targets,
        CostModel(spec.costs["commission_bps"], spec.costs["slippage_bps"]),
        RebalanceRule(spec.rebalance["schedule"], spec.rebalance["drift_threshold"]),
        spec.cash,
    )
    benchmark = spec.benchmark
    bench_returns = closes[benchmark].pct_change().fillna(0.0).rename(benchmark)
    firings = firings_in_period(outputs, inputs.start, inputs.end)
    driver = spec.response.get("trigger") or None
    driver_firings = firings if driver is None else firings[firings["trigger"] == driver]
    strategy_metrics = summary_metrics(execution.returns)
    strategy_metrics.update(
        turnover=execution.turnover,
        trigger_firings=int(len(driver_firings)),
        time_hedged=float((level > 0).mean()),
        final_value=float(execution.equity.iloc[-1]),
    )
    signals = pd.DataFrame({name: out.signal for name, out in outputs.items()}, index=closes_full.index).loc[period]
    return RunResult(
        strategy=spec.name,
        description=spec.description,
        spec_toml=reproducible_spec(inputs).to_toml(),
        start=inputs.start,
        end=inputs.end,
        data_label=inputs.prices.label,
        synthetic=inputs.prices.synthetic,
        benchmark=benchmark,
        returns=execution.returns.rename(spec.name),
        benchmark_returns=bench_returns,
        equity=execution.equity,
        weights=execution.weights,
        targets=targets,
        trades=execution.trades,
        hedge_level=level,
        signals=signals,
        firings=firings,
        events=inputs.events,
        metrics={"strategy": strategy_metrics, "benchmark": summary_metrics(bench_returns)},
        manifest=build_manifest(inputs, command_line),
        hedge_tickers=tuple(spec.hedge),
    )


def reproducible_spec(inputs: RunInputs) -> StrategySpec:
    """The spec with the run's actual period and every events file (absolute paths) written in.

    Running it again, with the same data, reproduces the run: an open end ("")
    would move with new data, and ``--events`` files would be forgotten.
    """
    from backtests.spec import apply_overrides

    files = ",".join(str(Path(f).resolve()) for f in inputs.events_files)
    period = [f"start={inputs.start:%Y-%m-%d}", f"end={inputs.end:%Y-%m-%d}", f"events={files}"]
    return dataclasses.replace(inputs.spec, data=apply_overrides(inputs.spec.data, period))


def firings_in_period(outputs: dict[str, TriggerOutput], start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """All triggers' firings dated inside ``[start, end]``, stacked and sorted by date then trigger."""
    frames = [out.firings for out in outputs.values() if len(out.firings)]
    if not frames:
        return pd.DataFrame(columns=list(FIRING_COLUMNS))
    stacked = pd.concat(frames, ignore_index=True)
    inside = stacked[(stacked["date"] >= start) & (stacked["date"] <= end)]
    return inside.sort_values(["date", "trigger"], kind="stable").reset_index(drop=True)


def build_manifest(inputs: RunInputs, command_line: Sequence[str]) -> dict:
    """What is needed to reproduce the run: data source and fingerprints, versions, command line."""
    prices = inputs.prices
    closes = prices.closes.loc[inputs.start : inputs.end]
    return {
        "strategy": inputs.spec.name,
        "period": {"start": f"{inputs.start:%Y-%m-%d}", "end": f"{inputs.end:%Y-%m-%d}"},
        "data": {
            "source": prices.source,
            "label": prices.label,
            "synthetic": prices.synthetic,
            "notes": [*prices.notes, *inputs.notes],
            "tickers": {
                t: {
                    "first": f"{closes[t].first_valid_index():%Y-%m-%d}",
                    "last": f"{closes[t].last_valid_index():%Y-%m-%d}",
                    "sha256": digest,
                }
                for t, digest in sorted(prices.fingerprints().items())
                if t in closes and closes[t].notna().any()
            },
        },
        "events": {"curated": True, "files": list(inputs.events_files), "count": int(len(inputs.events))},
        "gpr": None
        if inputs.gpr is None
        else {"first": f"{inputs.gpr.index[0]:%Y-%m-%d}", "last": f"{inputs.gpr.index[-1]:%Y-%m-%d}"},
        "packages": package_versions(),
        "command_line": list(command_line),
    }


def package_versions() -> dict[str, str]:
    """Versions of Python, geohedge and the packages that shape results."""
    versions = {"python": platform.python_version(), "geohedge": __version__}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions

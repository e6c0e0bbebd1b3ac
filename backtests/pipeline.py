"""One backtest end to end: compile the inputs, execute the targets and the base, measure, attribute.

``backtests.inputs.load_inputs`` is the only part that reads files or the
network; ``run_strategy`` is deterministic given its inputs: the same spec and
data give the same ``RunResult`` and the same metrics bytes. The strategy runs on
the chosen executor (backtrader, the reference, by default); its counterfactual
base (the response switched off) runs on the fast executor, which reproduces
backtrader bit for bit (tested), so a run's files are the same whatever the
executor but for the manifest, which says which ran what.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import platform
from collections.abc import Callable, Sequence

import pandas as pd

from backtests import __version__
from backtests.assembly import CompiledRun, compile_run
from backtests.errors import UserInputError
from backtests.execution.result import ExecutionResult
from backtests.inputs import RunInputs, events_file_paths
from backtests.portfolio.response import ResponseArrays
from backtests.results import RunResult
from backtests.strategy import StrategySpec

_PACKAGES = ("pandas", "numpy", "backtrader", "quantstats", "yfinance", "click", "pyarrow", "matplotlib", "numba")
EXECUTORS = ("backtrader", "fast")


def run_strategy(
    inputs: RunInputs,
    *,
    executor: str = "backtrader",
    command_line: Sequence[str] = (),
    on_preview: Callable[[RunResult], object] | None = None,
) -> RunResult:
    """Run the backtest and its base, measure both against the benchmark and attribute the hedge.

    ``on_preview`` (backtrader only): called, before backtrader runs, with the result of the
    same run on the fast executor, which reproduces backtrader bit for bit (tested), so slow
    work on it (the tearsheet) can start early; check it against the returned result
    (``TearsheetWorker.render`` does) before keeping it.
    """
    if executor not in EXECUTORS:
        raise UserInputError(f"`executor` {executor!r} is unknown; use one of {', '.join(EXECUTORS)}")
    spec = inputs.spec
    compiled = compile_run(inputs)
    response = ResponseArrays.of([spec.response])
    level = pd.Series(compiled.levels(response)[0], index=compiled.calendar, name="hedge_level")
    exposure = (response.hedge_fraction[0] * level).rename("exposure")
    targets = compiled.targets(exposure)
    unhedged = ResponseArrays.of([{**spec.response, "hedge_fraction": 0.0}])
    base = _execute(compiled, unhedged, compiled.base, "fast")

    manifest = build_manifest(inputs, command_line, executor)  # fingerprints every price: once

    def assemble(execution: ExecutionResult, executor: str) -> RunResult:
        ran = {**manifest, "executors": {**manifest["executors"], "strategy": executor}}
        return _result(inputs, compiled, level, exposure, targets, execution, base, ran)

    if on_preview is not None and executor != "fast":
        on_preview(assemble(_execute(compiled, response, targets, "fast"), "fast"))
    return assemble(_execute(compiled, response, targets, executor), executor)


def _result(
    inputs: RunInputs,
    compiled: CompiledRun,
    level: pd.Series,
    exposure: pd.Series,
    targets: pd.DataFrame,
    execution: ExecutionResult,
    base: ExecutionResult,
    manifest: dict,
) -> RunResult:
    """The ``RunResult`` of one execution of the strategy and of its base."""
    from backtests.attribution import attribute
    from backtests.metrics import summary_metrics

    spec = inputs.spec
    closes = inputs.prices.closes.loc[inputs.start : inputs.end]
    bench_returns = closes[spec.benchmark].pct_change().fillna(0.0).rename(spec.benchmark)
    strategy_metrics = {
        **summary_metrics(execution.returns),
        "turnover": execution.turnover,
        "trigger_firings": int(len(compiled.driving_firings())),
        "time_hedged": float((exposure > 0).mean()),
        "final_value": float(execution.equity.iloc[-1]),
    }
    base_metrics = {
        **summary_metrics(base.returns),
        "turnover": base.turnover,
        "trigger_firings": 0,
        "time_hedged": 0.0,
        "final_value": float(base.equity.iloc[-1]),
    }
    result = RunResult(
        strategy=spec.name,
        description=spec.description,
        spec_toml=reproducible_spec(inputs).to_toml(),
        start=inputs.start,
        end=inputs.end,
        data_label=inputs.prices.label,
        synthetic=inputs.prices.synthetic,
        benchmark=spec.benchmark,
        returns=execution.returns.rename(spec.name),
        benchmark_returns=bench_returns,
        equity=execution.equity,
        weights=execution.weights,
        targets=targets,
        trades=execution.trades,
        hedge_level=level,
        signals=compiled.signals(),
        firings=compiled.firings(),
        events=inputs.events,
        metrics={"strategy": strategy_metrics, "benchmark": summary_metrics(bench_returns), "base": base_metrics},
        manifest=manifest,
        hedge_tickers=tuple(spec.hedge),
        base_returns=base.returns.rename(base_label(spec)),
        base_equity=base.equity,
        base_trades=base.trades,
        base_label=base_label(spec),
        driving_signal=compiled.signal.loc[compiled.in_period],
        release=compiled.release.loc[compiled.in_period],
        exposure=exposure,
    )
    episodes, hedge = attribute(result)
    return dataclasses.replace(result, episodes=episodes, metrics={**result.metrics, "hedge": hedge})


def base_label(spec: StrategySpec) -> str:
    """How every text names the counterfactual: ``untilted`` for tilt strategies, else ``unhedged``."""
    return "untilted" if spec.response["kind"] == "tilt" else "unhedged"


def _execute(compiled: CompiledRun, response: ResponseArrays, targets: pd.DataFrame, executor: str) -> ExecutionResult:
    """One configuration on the chosen executor: backtrader trades ``targets``; the fast executor runs the
    sweep's own kernel mode (hedge level and targets formed inside), so ``run`` and a sweep agree bit for bit."""
    from backtests.execution.backtrader_exec import run_backtrader
    from backtests.execution.fast_exec import run_fast_response

    if executor == "backtrader":
        return run_backtrader(compiled.closes, targets, compiled.costs, compiled.rebalance, compiled.cash)
    return run_fast_response(
        compiled.closes,
        compiled.base,
        compiled.shift,
        compiled.signal.to_numpy(dtype=float),
        compiled.release.to_numpy(dtype=bool),
        compiled.in_period,
        response.arrays(),
        compiled.costs,
        compiled.rebalance,
        compiled.cash,
    )


def reproducible_spec(inputs: RunInputs) -> StrategySpec:
    """The spec with the run's actual period and every events file (absolute paths) written in.

    Running it again, with the same data, reproduces the run: an open end ("")
    would move with new data, and event files would be forgotten.
    """
    from backtests.strategy.overrides import apply_overrides

    period = {
        "start": f"{inputs.start:%Y-%m-%d}",
        "end": f"{inputs.end:%Y-%m-%d}",
        "events": events_file_paths(inputs.events_files),
    }
    return dataclasses.replace(inputs.spec, data=apply_overrides(inputs.spec.data, period))


def build_manifest(inputs: RunInputs, command_line: Sequence[str], executor: str) -> dict:
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
        "events": {
            "curated": True,
            "files": list(inputs.events_files),
            "in_memory": inputs.events_in_memory,
            "count": int(len(inputs.events)),
        },
        "executors": {"strategy": executor, "base": "fast"},
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

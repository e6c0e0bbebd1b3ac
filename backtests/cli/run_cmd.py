"""`backtest run STRATEGY`: run one strategy, print the summary, write the run folder."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from backtests.cli.common import (
    DataChoice,
    data_options,
    open_in_browser,
    echo_json,
    note,
)
from backtests.data.frames import SYNTHETIC_LABEL

#: (label, metrics key, format) of the summary table, strategy vs benchmark.
SUMMARY_ROWS = (
    ("CAGR", "cagr", "{:+.2%}"),
    ("Volatility", "volatility", "{:.2%}"),
    ("Sharpe", "sharpe", "{:.2f}"),
    ("Sortino", "sortino", "{:.2f}"),
    ("Max drawdown", "max_drawdown", "{:.2%}"),
    ("Calmar", "calmar", "{:.2f}"),
    ("Turnover (per year)", "turnover", "{:.2f}"),
    ("Trigger firings", "trigger_firings", "{:d}"),
    ("Time hedged", "time_hedged", "{:.1%}"),
)


def synthetic_banner() -> str:
    """The loud line every run on the demo market prints first."""
    return (
        f"*** {SYNTHETIC_LABEL.upper()}: prices are simulated, not market history. "
        "Results say nothing about real markets. ***"
    )


def announce_inputs(inputs) -> None:
    """On stderr: the synthetic-data banner when it applies, then every caveat about the inputs."""
    if inputs.prices.synthetic:
        note(synthetic_banner())
    for line in (*inputs.prices.notes, *inputs.notes):
        note(f"Note: {line}")


@click.command(name="run")
@click.argument("strategy")
@data_options
@click.option("--benchmark", metavar="TICKER", help="Benchmark ticker (default: the spec's `benchmark`).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Write the run into this folder itself.")
@click.option("--open", "open_browser", is_flag=True, help="Open the tearsheet in a browser when done.")
@click.option(
    "--no-tearsheet",
    is_flag=True,
    help="Skip the quantstats tearsheet (the slow part); the events page and data files are still written.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the metrics and paths as JSON on stdout.")
def run_command(
    strategy: str,
    data: DataChoice,
    benchmark: str | None,
    out_dir: str | None,
    open_browser: bool,
    no_tearsheet: bool,
    as_json: bool,
) -> None:
    """Backtest STRATEGY (a shipped name or a .toml path) and write its report folder.

    Prints CAGR, volatility, Sharpe, Sortino, max drawdown, Calmar, turnover,
    trigger firings and time hedged for the strategy and its benchmark, then
    the files written: tearsheet.html, metrics.json, config.toml,
    manifest.json, weights.csv, trades.csv, triggers.csv (under
    reports/STRATEGY/RUN_ID/, or $BACKTEST_REPORTS_DIR, or --out).

    With no prices cached and no network, the run uses the built-in synthetic
    demo market and says so everywhere.

    \b
    Example:
        backtest run tariff-shock-hedge
        backtest run tariff-shock-hedge --prices ../shared/data/prices \\
            --start 2015-01-01 --end 2025-12-31 --set response.hedge_fraction=0.5
        backtest run strategies/my-hedge.toml --source demo --no-tearsheet --json
    """
    from backtests import pipeline
    from backtests.reports.artifacts import new_run_dir, write_run
    from backtests.reports.index import rebuild_index
    from backtests.paths import reports_dir
    from backtests.spec import load_spec

    all_overrides = data.overrides + ((f"benchmark={benchmark}",) if benchmark else ())
    spec = load_spec(strategy, all_overrides)
    # Progress only where loading may take a while (cache, Yahoo, demo); a --prices folder reads at once,
    # and its errors (a missing TICKER.csv) stay a single line on stderr.
    tickers = len(spec.tickers())
    progress = None if data.prices_dir else (lambda: note(f"Loading prices for {tickers} tickers ({data.source})..."))
    inputs = data.load(spec, on_loading_prices=progress)
    announce_inputs(inputs)
    note(f"Running {spec.name} on backtrader, {inputs.start:%Y-%m-%d} to {inputs.end:%Y-%m-%d}...")
    result = pipeline.run_strategy(inputs, command_line=["backtest", *sys.argv[1:]])
    target = Path(out_dir) if out_dir else new_run_dir(spec.name, spec_toml=result.spec_toml)
    if not no_tearsheet:
        note("Writing the tearsheet and report pages...")
    paths = write_run(result, target, tearsheet=not no_tearsheet, command_line=result.manifest["command_line"])
    if not out_dir:
        rebuild_index(reports_dir())
    if as_json:
        echo_json(
            {"metrics": result.metrics, "paths": {k: str(v) for k, v in paths.items()}, "data": result.data_label}
        )
    else:
        _print_summary(result)
        click.echo("")
        first = [k for k in ("tearsheet", "events") if k in paths]
        for name in first + [k for k in paths if k not in first]:
            click.echo(f"{name:<16}{paths[name]}")
    if open_browser:
        page = paths.get("tearsheet", paths.get("events"))
        if page is not None and not open_in_browser(page):
            note(f"No browser here; open {page} yourself")


def _print_summary(result) -> None:
    click.echo(f"{result.strategy}  {result.start:%Y-%m-%d} to {result.end:%Y-%m-%d}  data: {result.data_description}")
    if result.synthetic:
        click.echo(synthetic_banner())
    strat, bench = result.metrics["strategy"], result.metrics["benchmark"]
    head = f"{'':<22}{'Strategy':>12}{'Benchmark (' + result.benchmark + ')':>20}"
    click.echo(head)
    for label, key, fmt in SUMMARY_ROWS:
        click.echo(f"{label:<22}{_fmt(strat.get(key), fmt):>12}{_fmt(bench.get(key), fmt):>20}")


def _fmt(value, fmt: str) -> str:
    if value is None:
        return "-"
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return str(value)

"""`backtest run STRATEGY`: run one strategy, print the summary, write the run folder."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from backtests.cli.common import (
    DataChoice,
    data_options,
    echo_json,
    note,
    open_in_browser,
)

if TYPE_CHECKING:
    from backtests.results import RunResult


def synthetic_banner() -> str:
    """The loud line every run on the demo market prints first."""
    from backtests.data.frames import SYNTHETIC_LABEL

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
@click.option(
    "--executor",
    type=click.Choice(["backtrader", "fast"]),
    default="backtrader",
    show_default=True,
    help="backtrader: the reference executor; fast: the compiled one (parity-tested, much quicker).",
)
@click.option("--out", "out_dir", type=click.Path(), help="Write the run into this folder itself.")
@click.option("--force", is_flag=True, help="Let --out replace a folder that is not one of our run folders.")
@click.option("--open", "open_browser", is_flag=True, help="Open the tearsheet in a browser when done.")
@click.option(
    "--no-tearsheet",
    is_flag=True,
    help="Skip the quantstats tearsheet (the slow part); the events page and data files are still written.",
)
@click.option(
    "--tearsheet-benchmark",
    metavar="base|TICKER",
    help="What the tearsheet compares against: 'base' (the unhedged portfolio) or a ticker (default: the benchmark).",
)
@click.option("--verbose", "-v", is_flag=True, help="List every file written, not only the folder and the two pages.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics and paths as JSON on stdout.")
def run_command(
    strategy: str,
    data: DataChoice,
    benchmark: str | None,
    executor: str,
    out_dir: str | None,
    force: bool,
    open_browser: bool,
    no_tearsheet: bool,
    tearsheet_benchmark: str | None,
    verbose: bool,
    as_json: bool,
) -> None:
    """Backtest STRATEGY (a shipped name or a .toml path) and write its report folder.

    Prints CAGR, volatility, Sharpe, Sortino, max drawdown, Calmar, turnover,
    trigger firings and time hedged for the strategy, its unhedged base (the
    same portfolio with the response off; "untilted" for tilts) and the
    benchmark, then one line on what the hedge did against its base: net,
    inside hedge episodes, outside them (the cost of carry and trading).

    Writes tearsheet.html, events.html, metrics.json, config.toml,
    manifest.json, returns.csv, weights.csv, targets.csv, trades.csv,
    triggers.csv and episodes.csv under reports/STRATEGY/RUN_ID/
    ($BACKTEST_REPORTS_DIR, or --out DIR); prints the folder and the two pages
    (--verbose: every file).

    With no prices cached and no network, the run uses the built-in synthetic
    demo market and says so everywhere.

    \b
    Example:
        backtest run tariff-shock-hedge
        backtest run tariff-shock-hedge --prices ../shared/data/prices \\
            --start 2015-01-01 --end 2025-12-31 --set response.hedge_fraction=0.5
        backtest run green-infra-tilt --tearsheet-benchmark base --verbose
        backtest run strategies/my-hedge.toml --source demo --no-tearsheet --json
    """
    from contextlib import nullcontext

    from backtests.paths import reports_dir
    from backtests.reports.destinations import check_writable_target, run_folder
    from backtests.reports.worker import TearsheetWorker

    target = Path(out_dir) if out_dir else None
    check_writable_target(target if target is not None else reports_dir(), force=force)
    # Once the target is checked: the tearsheet worker imports quantstats while this process reads
    # the spec, loads and runs (an error on the way simply closes it).
    with nullcontext() if no_tearsheet else TearsheetWorker() as renderer:
        from backtests.pipeline import reproducible_spec, run_strategy
        from backtests.reports.index import rebuild_index
        from backtests.reports.navigation import tearsheet_nav

        spec = data.spec(strategy, (f"benchmark={benchmark}",) if benchmark else ())
        # Progress only where loading may take a while (cache, Yahoo, demo); a --prices folder reads at once,
        # and its errors (a missing TICKER.csv) stay a single line on stderr.
        tickers = len(spec.tickers())
        progress = None if data.prices_dir else (lambda: note(f"Loading prices for {tickers} tickers ({data.source})..."))
        inputs = data.load(spec, on_loading_prices=progress)
        announce_inputs(inputs)
        comparison = _tearsheet_benchmark(tearsheet_benchmark, inputs)
        with run_folder(target, spec.name, reproducible_spec(inputs).to_toml()) as folder:

            def draw_early(preview: RunResult) -> None:  # the fast executor's result: backtrader's, bit for bit
                renderer.prepare(preview, top_html=tearsheet_nav(folder), benchmark=comparison)

            note(f"Running {spec.name} on {executor}, {inputs.start:%Y-%m-%d} to {inputs.end:%Y-%m-%d}...")
            result = run_strategy(
                inputs,
                executor=executor,
                command_line=["backtest", *sys.argv[1:]],
                on_preview=None if no_tearsheet else draw_early,
            )
            if not no_tearsheet:
                note("Writing the tearsheet and report pages...")
            paths = result.save(
                folder, tearsheet=not no_tearsheet, tearsheet_benchmark=comparison, force=force, renderer=renderer
            )
    if target is None:
        rebuild_index(reports_dir())
    if as_json:
        echo_json(
            {"metrics": result.metrics, "paths": {k: str(v) for k, v in paths.items()}, "data": result.data_label}
        )
    else:
        _print_summary(result)
        click.echo("")
        click.echo(f"{'run folder':<16}{folder}")
        shown = paths if verbose else {k: v for k, v in paths.items() if k in ("tearsheet", "events")}
        for name, path in shown.items():
            click.echo(f"{name:<16}{path}")
    if open_browser:
        page = paths.get("tearsheet", paths.get("events"))
        if page is not None and not open_in_browser(page):
            note(f"No browser here; open {page} yourself")


def _tearsheet_benchmark(choice: str | None, inputs):
    """None (the spec's benchmark), "base", or the named ticker's returns over the run period."""
    from backtests.inputs import ticker_returns

    return choice if choice in (None, "base") else ticker_returns(inputs, choice)


def _print_summary(result) -> None:
    click.echo(f"{result.strategy}  {result.start:%Y-%m-%d} to {result.end:%Y-%m-%d}  data: {result.data_description}")
    if result.synthetic:
        click.echo(synthetic_banner())
    titles = list(result.summary_columns().values())
    widths = [max(12, len(t) + 2) for t in titles]
    click.echo(f"{'':<22}" + "".join(t.rjust(w) for t, w in zip(titles, widths)))
    for label, cells in result.formatted_summary():
        click.echo(f"{label:<22}" + "".join(c.rjust(w) for c, w in zip(cells, widths)))
    line = result.hedge_line()
    if line:
        click.echo(line)

"""The ``backtest report`` group: list, open and compare finished runs, rebuild the index."""

from __future__ import annotations

from pathlib import Path

import click

from backtests.cli.common import echo_json, echo_table, json_option, note, open_in_browser
from backtests.errors import UserInputError
from backtests.paths import reports_dir
from backtests.reports.catalog import discover_runs, resolve_run
from backtests.reports.index import INDEX_PAGE, rebuild_index

LIST_COLUMNS = ("id", "strategy", "period", "source", "sharpe", "cagr", "max_drawdown", "path")


@click.group(name="report")
def report_group() -> None:
    """List, open and compare finished runs (under $BACKTEST_REPORTS_DIR, else ./reports).

    \b
    Example:
        backtest report list
        backtest report open latest
        backtest report compare RUN_ID_A RUN_ID_B --out compare.html
    """


@report_group.command(name="list")
@json_option
def list_command(as_json: bool) -> None:
    """List finished runs, oldest first: id, strategy, period, data source, key metrics, folder.

    \b
    Example:
        backtest report list
        backtest report list --json | jq '.[-1].path'
    """
    rows = [run.row() for run in discover_runs(reports_dir())]
    if as_json:
        echo_json(rows)
    elif rows:
        echo_table(rows, LIST_COLUMNS)
    else:
        note(f"No finished runs under {reports_dir()}; run `backtest run STRATEGY` first.")


@report_group.command(name="open")
@click.argument("run")
def open_command(run: str) -> None:
    """Open a run's tearsheet in the browser (or print its path when there is no browser).

    RUN is a run id (see `backtest report list`), a run folder, or `latest`.

    \b
    Example:
        backtest report open latest
        backtest report open 20251128T093312Z-3fa2c1
        backtest report open reports/tariff-shock-hedge/20251128T093312Z-3fa2c1
    """
    found = resolve_run(run, reports_dir())
    page = found.path / "tearsheet.html"
    if not page.exists():
        page = found.path / "events.html"
    if open_in_browser(page):
        note(f"Opened {page}")
    else:
        click.echo(str(page))


@report_group.command(name="compare")
@click.argument("runs", nargs=-1, required=True)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False),
    help="Where to write the HTML page (default: compare.html in the reports root).",
)
@json_option
def compare_command(runs: tuple[str, ...], out_file: str | None, as_json: bool) -> None:
    """Compare runs: metrics side by side, and an HTML page overlaying equity curves and drawdowns.

    RUN is a run id, a run folder, or `latest`; give two or more.

    \b
    Example:
        backtest report compare 20251128T093312Z-3fa2c1 20251128T101500Z-9b0e44
        backtest report compare latest reports/tariff-shock-hedge/20251128T093312Z-3fa2c1 \\
            --out cmp.html
    """
    root = reports_dir()
    from backtests.reports.compare import COMPARE_METRICS, label, metric_rows, write_compare

    found = list({r.path.resolve(): r for r in (resolve_run(ref, root) for ref in runs)}.values())
    if len(found) < 2:
        raise UserInputError(
            "compare needs at least two different runs; see `backtest report list`"
        )
    out = Path(out_file) if out_file else root / "compare.html"
    write_compare(found, out, index=root / INDEX_PAGE)
    rows = metric_rows(found)
    if as_json:
        echo_json(rows)
        return
    echo_table(rows, ["run", *[k for k, _, _ in COMPARE_METRICS]])
    note(f"Wrote {out} ({', '.join(label(r) for r in found)})")


@report_group.command(name="index")
def index_command() -> None:
    """Rebuild index.html in the reports root (each run does this itself; use after deleting runs).

    \b
    Example:
        backtest report index
    """
    click.echo(str(rebuild_index(reports_dir())))

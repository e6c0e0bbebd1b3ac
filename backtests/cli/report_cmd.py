"""The ``backtest report`` group: list, open and compare finished runs, rebuild the index."""

from __future__ import annotations

from pathlib import Path

import click

from backtests.cli.common import (
    echo_json,
    echo_table,
    json_option,
    note,
    open_in_browser,
)
from backtests.errors import UserInputError
from backtests.paths import reports_dir
from backtests.reports.catalog import resolve_run, scan
from backtests.reports.index import INDEX_PAGE, rebuild_index

LIST_COLUMNS = ("id", "strategy", "period", "source", "sharpe", "cagr", "max_drawdown", "path")


def _note_incomplete(incomplete: list[Path]) -> None:
    """On stderr: how many run folders were skipped as incomplete."""
    if incomplete:
        s = "" if len(incomplete) == 1 else "s"
        note(
            f"{len(incomplete)} incomplete folder{s} not listed (no valid manifest.json): "
            + ", ".join(str(p) for p in incomplete)
        )


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

    --json adds benchmark, time_hedged and excess_cagr (the hedge's CAGR over its base).
    Incomplete run folders are counted on stderr, not listed.

    \b
    Example:
        backtest report list
        backtest report list --json | jq '.[-1].path'
    """
    catalog = scan(reports_dir())
    rows = [run.row() for run in catalog.runs]
    if as_json:
        echo_json(rows)
    elif rows:
        echo_table(rows, LIST_COLUMNS)
    else:
        note(f"No finished runs under {reports_dir()}; run `backtest run STRATEGY` first.")
    _note_incomplete(catalog.incomplete)


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
    page = found.page("tearsheet.html") or found.path / "events.html"
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
    help="Where to write the HTML page (default: compare/<8 hex>.html in the reports root, listed in the index).",
)
@json_option
def compare_command(runs: tuple[str, ...], out_file: str | None, as_json: bool) -> None:
    """Compare runs: strategy, base and benchmark metrics side by side, and an HTML page.

    The page links to each run and overlays growth of 1, each hedge against its
    base, and drawdowns. RUN is a run id, STRATEGY/RUN_ID, a run folder, or
    `latest`; give two or more.

    \b
    Example:
        backtest report compare 20251128T093312Z-3fa2c1 20251128T101500Z-9b0e44
        backtest report compare latest reports/tariff-shock-hedge/20251128T093312Z-3fa2c1 \\
            --out cmp.html
    """
    from backtests.reports.compare import (
        COMPARE_METRICS,
        default_path,
        label,
        metric_rows,
        write_compare,
    )
    from backtests.reports.folders import check_writable_file

    root = reports_dir()
    found = list({r.path.resolve(): r for r in (resolve_run(ref, root) for ref in runs)}.values())
    if len(found) < 2:
        raise UserInputError(
            "compare needs at least two different runs; see `backtest report list`"
        )
    out = Path(out_file) if out_file else default_path(found, root)
    check_writable_file(out, what="--out")
    write_compare(found, out, index=root / INDEX_PAGE)
    if out.resolve().is_relative_to(root.resolve()):
        rebuild_index(root)
    rows = metric_rows(found)
    if as_json:
        echo_json(rows)
        return
    echo_table(rows, ["run", "series", *[k for k, _, _ in COMPARE_METRICS]])
    note(f"Wrote {out} ({', '.join(label(r) for r in found)})")


@report_group.command(name="index")
def index_command() -> None:
    """Rebuild index.html in the reports root (each run does this itself; use after deleting runs).

    \b
    Example:
        backtest report index
    """
    from backtests.reports.folders import check_writable_folder

    check_writable_folder(reports_dir(), what="reports folder")
    click.echo(str(rebuild_index(reports_dir())))

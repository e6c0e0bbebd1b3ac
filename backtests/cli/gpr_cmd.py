"""``backtest data import-gpr`` and ``backtest data fetch-gpr``: put the GPR index in the cache."""

from __future__ import annotations

import click

from backtests.cli.common import data_dir_option, note
from backtests.data.gpr import GPR_DAILY_URL, GprImport, fetch_gpr, import_gpr
from backtests.data.storage import require_writable
from backtests.paths import data_dir as resolve_data_dir


def _report(result: GprImport) -> None:
    span = f"{result.rows} rows, {result.first:%Y-%m-%d} to {result.last:%Y-%m-%d}"
    if result.changed:
        note(f"Cached the {result.kind} GPR index ({span}) in {result.path}")
    else:
        note(f"The {result.kind} GPR index in {result.path} is already up to date ({span})")


@click.command(name="import-gpr")
@click.argument("file", type=click.Path(dir_okay=False))
@data_dir_option
def import_gpr_command(file: str, data_dir: str | None) -> None:
    """Import the Geopolitical Risk index from FILE (daily or monthly, detected from its columns).

    FILE is the authors' spreadsheet (data_gpr_daily_recent.xls, data_gpr_export.xls,
    or a CSV export of them) or the CSV form date,gpr_index,gpr_acts,gpr_threats.
    Importing the same file again changes nothing.

    \b
    Example:
        backtest data import-gpr ../shared/data/gpr/gpr_daily.csv
        backtest data import-gpr data_gpr_export.xls --data-dir ./cache
    """
    _report(import_gpr(file, data_dir))


@click.command(name="fetch-gpr")
@data_dir_option
def fetch_gpr_command(data_dir: str | None) -> None:
    """Download the authors' daily Geopolitical Risk index and cache it (needs network).

    On failure the cache is left as it was; download the file by hand and use
    `backtest data import-gpr FILE` instead.

    \b
    Example:
        backtest data fetch-gpr
        backtest data fetch-gpr --data-dir ./cache
    """
    require_writable(resolve_data_dir(data_dir) / "gpr")  # before announcing a download
    note(f"Downloading {GPR_DAILY_URL} ...")
    _report(fetch_gpr(data_dir))

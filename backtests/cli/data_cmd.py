"""The ``backtest data`` commands for prices: fetch (Yahoo -> cache), import (CSV -> cache), list, clear, repair.

The GPR commands (``fetch-gpr``, ``import-gpr``, in ``gpr_cmd``) are attached to this group
at the end of this module. Status goes to stderr; ``list`` prints its table or JSON on stdout.
Commands that write check the cache folder is writable before any other work.
"""

from __future__ import annotations

import sys

import click

from backtests import paths
from backtests.cli.common import (
    data_dir_option,
    echo_json,
    echo_table,
    end_option,
    json_option,
    note,
    start_option,
)
from backtests.data.cache import PriceCache, rebuild_summary
from backtests.data.csvfile import CsvSource
from backtests.data.loader import fetch_into_cache
from backtests.data.storage import require_writable
from backtests.data.validate import ALLOW_MOVES_FLAG, check_moves
from backtests.data.yahoo import YahooSource
from backtests.dates import check_range, parse_date
from backtests.errors import UserInputError

_LIST_COLUMNS = ("ticker", "first", "last", "rows", "source")
_IMPORT_WORDS = {"new": "imported", "updated": "imported (replaced)", "unchanged": "unchanged"}


def _cache(data_dir: str | None) -> PriceCache:
    return PriceCache(paths.data_dir(data_dir))


@click.group(name="data")
def data_group() -> None:
    """Manage the local price cache (and GPR index data).

    \b
    Example:
        backtest data import ../shared/data/prices
        backtest data fetch SPY TLT GLD --start 2010-01-01
        backtest data list
    """


@data_group.command(name="fetch")
@click.argument("tickers", nargs=-1, required=True)
@start_option
@end_option
@data_dir_option
def fetch_command(
    tickers: tuple[str, ...], start: str | None, end: str | None, data_dir: str | None
) -> None:
    """Download adjusted daily closes from Yahoo Finance into the cache.

    Only the dates the cache lacks are downloaded. Without --start the whole
    history is fetched; --end defaults to today. Nothing is written unless every
    ticker succeeds.

    \b
    Example:
        backtest data fetch SPY TLT GLD
        backtest data fetch UUP --start 2015-01-01 --end 2024-12-31
    """
    start_ts, end_ts = parse_date(start, what="--start"), parse_date(end, what="--end")
    check_range(start_ts, end_ts)
    cache = _cache(data_dir)
    require_writable(cache.dir)
    status = fetch_into_cache(cache, YahooSource(), list(tickers), start_ts, end_ts)
    for ticker, text in status.items():
        note(f"{ticker}: {text}")
    note(f"cache: {cache.dir}")


@data_group.command(name="import")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    ALLOW_MOVES_FLAG,
    "allow_extreme_moves",
    is_flag=True,
    help="Accept closes more than 10x (or under 0.1x) the previous one (otherwise an error).",
)
@data_dir_option
def import_command(sources: tuple[str, ...], allow_extreme_moves: bool, data_dir: str | None) -> None:
    """Copy prices from CSV files or folders of TICKER.csv into the cache.

    Files hold Date,Close or Yahoo's Date,Open,High,Low,Close,Adj Close,Volume
    (Adj Close is used); the ticker is the file name. A ticker's cached history
    is replaced by the file's; importing the same data again changes nothing.
    A close more than 10 times (or under a tenth of) the previous one is an
    error unless --allow-extreme-moves. Nothing is written unless every file is valid.

    \b
    Example:
        backtest data import ../shared/data/prices
        backtest data import ~/Downloads/SPY.csv ~/Downloads/TLT.csv
    """
    cache = _cache(data_dir)
    require_writable(cache.dir)
    series = {}
    origin = {}
    for source in sources:  # read and validate everything before writing anything
        csv = CsvSource(source)
        files = csv.files()
        for ticker, values in csv.read(list(files)).items():
            if ticker in origin and origin[ticker].resolve() != files[ticker].resolve():
                raise UserInputError(
                    f"{ticker} is in both {origin[ticker]} and {files[ticker]}; import only one"
                )
            series[ticker], origin[ticker] = values, files[ticker]
    if not allow_extreme_moves:
        check_moves(series, origins={ticker: str(path) for ticker, path in origin.items()})
    for ticker, values in series.items():
        result = cache.store(ticker, values, source=f"csv:{origin[ticker].resolve()}")
        note(f"{ticker}: {len(values)} rows {_IMPORT_WORDS[result]}")
    note(f"cache: {cache.dir}")


@data_group.command(name="list")
@json_option
@data_dir_option
def list_command(as_json: bool, data_dir: str | None) -> None:
    """Show the cached tickers: first and last date, rows, source.

    \b
    Example:
        backtest data list
        backtest data list --json
    """
    cache = _cache(data_dir)
    rows = [
        {"ticker": e.ticker, "first": e.first, "last": e.last, "rows": e.rows, "source": e.source}
        for e in cache.entries()
    ]
    for repaired in cache.repairs:
        note(repaired)
    if as_json:
        echo_json(rows)
    elif rows:
        echo_table(rows, _LIST_COLUMNS)
    else:
        note(
            f"the cache {cache.dir} holds no prices; run `backtest data import PATH` or `backtest data fetch TICKER`"
        )


@data_group.command(name="clear")
@click.argument("tickers", nargs=-1)
@click.option("--all", "clear_all", is_flag=True, help="Delete every cached ticker.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@data_dir_option
def clear_command(tickers: tuple[str, ...], clear_all: bool, yes: bool, data_dir: str | None) -> None:
    """Delete cached prices: the given tickers, or all of them.

    Deleting everything asks for confirmation on a terminal; elsewhere (a
    script, CI) it needs --all or --yes.

    \b
    Example:
        backtest data clear SPY
        backtest data clear --all --yes
    """
    if tickers and clear_all:
        raise UserInputError("give tickers or --all, not both")
    cache = _cache(data_dir)
    if not tickers:
        _confirm_clear_all(cache, clear_all=clear_all, yes=yes)
    removed = cache.remove(tickers) if tickers else cache.clear()
    if removed:
        note(f"removed {len(removed)} ticker(s) from {cache.dir}: {', '.join(removed)}")
    else:
        note(f"nothing to remove: {cache.dir} holds no prices")


def _confirm_clear_all(cache: PriceCache, *, clear_all: bool, yes: bool) -> None:
    """Ask on a terminal unless --yes; without a terminal, require --all or --yes (exit 2)."""
    if yes:
        return
    if sys.stdin.isatty():
        count = len(cache.tickers())
        if count:
            click.confirm(f"Delete all {count} cached ticker(s) in {cache.dir}?", abort=True, err=True)
        return
    if not clear_all:
        raise UserInputError(
            "`backtest data clear` without tickers deletes the whole price cache; "
            "add --all (or --yes) to confirm, or name the tickers to delete"
        )


@data_group.command(name="repair")
@data_dir_option
def repair_command(data_dir: str | None) -> None:
    """Rebuild the cache manifest from the checksummed Parquet files.

    Use it when manifest.json is damaged or out of date (it is also rebuilt by
    itself, with a note, whenever it cannot be read). Sources and coverage come
    from each file's footer; corrupt files are listed and left out.

    \b
    Example:
        backtest data repair
        backtest data repair --data-dir ./cache
    """
    cache = _cache(data_dir)
    entries, corrupt = cache.repair()
    note(f"cache manifest {cache.manifest_path} {rebuild_summary(entries)}")
    for message in corrupt:
        note(f"left out: {message}")


def _attach_gpr_commands() -> None:
    from backtests.cli.gpr_cmd import fetch_gpr_command, import_gpr_command

    data_group.add_command(fetch_gpr_command)
    data_group.add_command(import_gpr_command)


_attach_gpr_commands()

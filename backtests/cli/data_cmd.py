"""The ``backtest data`` commands for prices: fetch (Yahoo -> cache), import (CSV -> cache), list, clear.

The GPR commands (``fetch-gpr``, ``import-gpr``) are attached to this group by
``backtests.cli``. Status goes to stderr; ``list`` prints its table or JSON on stdout.
"""

from __future__ import annotations

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
from backtests.data.cache import PriceCache
from backtests.data.csvfile import CsvSource
from backtests.data.loader import fetch_into_cache
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
    status = fetch_into_cache(cache, YahooSource(), list(tickers), start_ts, end_ts)
    for ticker, text in status.items():
        note(f"{ticker}: {text}")
    note(f"cache: {cache.dir}")


@data_group.command(name="import")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True))
@data_dir_option
def import_command(sources: tuple[str, ...], data_dir: str | None) -> None:
    """Copy prices from CSV files or folders of TICKER.csv into the cache.

    Files hold Date,Close or Yahoo's Date,Open,High,Low,Close,Adj Close,Volume
    (Adj Close is used); the ticker is the file name. A ticker's cached history
    is replaced by the file's; importing the same data again changes nothing.

    \b
    Example:
        backtest data import ../shared/data/prices
        backtest data import ~/Downloads/SPY.csv ~/Downloads/TLT.csv
    """
    cache = _cache(data_dir)
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
@data_dir_option
def clear_command(tickers: tuple[str, ...], data_dir: str | None) -> None:
    """Delete cached prices: the given tickers, or all of them.

    \b
    Example:
        backtest data clear SPY
        backtest data clear
    """
    cache = _cache(data_dir)
    removed = cache.remove(tickers) if tickers else cache.clear()
    if removed:
        note(f"removed {len(removed)} ticker(s) from {cache.dir}: {', '.join(removed)}")
    else:
        note(f"nothing to remove: {cache.dir} holds no prices")

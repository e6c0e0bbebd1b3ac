"""CSV price files: one ``TICKER.csv`` per ticker, in a folder or given one by one.

Accepted layouts: ``Date,Close`` (already adjusted, as in ``../shared/data/prices``)
and Yahoo exports ``Date,Open,High,Low,Close,Adj Close,Volume`` (``Adj Close``
is used). The ticker is the file name, upper-cased. Dates are ``YYYY-MM-DD``
(anything after the first 10 characters, e.g. a time, is ignored).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from backtests.data.align import to_price_data
from backtests.data.calendars import DEFAULT_CALENDAR
from backtests.data.frames import PriceData
from backtests.data.validate import clean_tickers, price_series, validate_closes
from backtests.dates import FIRST_DAY, LAST_DAY
from backtests.errors import UserInputError

_MISSING = {"", "null", "nan", "NaN", "NA"}


def read_price_csv(path: str | os.PathLike[str]) -> pd.Series:
    """Read one price CSV into a validated series named after the file's ticker."""
    path = Path(path)
    ticker = clean_tickers([path.stem])[0]
    try:
        raw = pd.read_csv(path, keep_default_na=False, skipinitialspace=True)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserInputError(
            f"{path}: cannot read as CSV ({reason}); expected a Date,Close header"
        ) from None
    columns = {name.strip().lower(): name for name in raw.columns}
    if "date" not in columns or not ({"adj close", "close"} & columns.keys()):
        raise UserInputError(
            f"{path}:1: header {','.join(raw.columns)!r} lacks Date and Close; "
            "expected Date,Close or Yahoo's Date,Open,High,Low,Close,Adj Close,Volume"
        )
    close_col = columns.get("adj close", columns.get("close"))
    dates = _parse_column(
        path, raw, columns["date"], _to_dates, "a date (YYYY-MM-DD)", numeric=False
    )
    closes = _parse_column(path, raw, close_col, _to_numbers, "a number", numeric=True)
    series = price_series(dates, closes, ticker)
    validate_closes({ticker: series}, origins={ticker: str(path)})
    return series


def _to_dates(text: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    return parsed.where((parsed >= FIRST_DAY) & (parsed <= LAST_DAY))  # no nanosecond stamp beyond them


def _to_numbers(text: pd.Series) -> pd.Series:
    return pd.to_numeric(text.where(~text.isin(_MISSING)), errors="coerce")


def _parse_column(
    path: Path, raw: pd.DataFrame, column: str, parse, expected: str, *, numeric: bool
) -> pd.Series:
    """Parse ``column``; a cell that does not parse is reported with its line and column.

    In a ``numeric`` column an empty/null cell becomes NaN, which validation then
    reports with the ticker and date.
    """
    if numeric and pd.api.types.is_numeric_dtype(
        raw[column]
    ):  # clean numbers: the C parser did the work
        return raw[column].astype("float64")
    text = raw[column].astype(str).str.strip()
    parsed = parse(text)
    bad = parsed.isna()
    if numeric:
        bad &= ~text.isin(_MISSING)
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        col = list(raw.columns).index(column) + 1
        raise UserInputError(
            f"{path}:{row + 2}: column {col} ({column.strip()}) is {text.iloc[row]!r}, not {expected}; fix that cell"
        )
    return parsed


class CsvSource:
    """Prices read straight from a CSV file or a folder of ``TICKER.csv`` files."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise UserInputError(
                f"{self.path}: no such file or folder; give a TICKER.csv or a folder of them"
            )

    @property
    def label(self) -> str:
        """The source label used in ``PriceData.source``."""
        return f"csv:{self.path}"

    def files(self) -> dict[str, Path]:
        """Ticker -> CSV file, sorted by ticker."""
        paths = sorted(self.path.glob("*.[cC][sS][vV]")) if self.path.is_dir() else [self.path]
        found: dict[str, Path] = {}
        for file in paths:
            ticker = clean_tickers([file.stem])[0]
            if ticker in found:
                raise UserInputError(
                    f"{file} and {found[ticker]} both hold {ticker}; keep only one"
                )
            found[ticker] = file
        if not found:
            raise UserInputError(
                f"{self.path}: no .csv files found; expected files named TICKER.csv"
            )
        return dict(sorted(found.items()))

    def read(self, tickers: Sequence[str] | None = None) -> dict[str, pd.Series]:
        """Read ``tickers`` (all files when None); an absent ticker is an error listing what exists."""
        files = self.files()
        wanted = clean_tickers(tickers) if tickers is not None else tuple(files)
        missing = [t for t in wanted if t not in files]
        if missing:
            raise UserInputError(
                f"no CSV for {', '.join(missing)} in {self.path} (found: {', '.join(files)}); "
                f"add {missing[0]}.csv or choose among the tickers found"
            )
        return {ticker: read_price_csv(files[ticker]) for ticker in wanted}

    def load(
        self,
        tickers: Sequence[str],
        start: pd.Timestamp | None,
        end: pd.Timestamp | None,
        *,
        calendar: str = DEFAULT_CALENDAR,
        allow_extreme_moves: bool = False,
    ) -> PriceData:
        """Aligned closes for ``tickers`` over ``[start, end]`` on ``calendar``'s sessions."""
        series = self.read(tickers)
        files = self.files()
        return to_price_data(
            series,
            start,
            end,
            source=self.label,
            calendar=calendar,
            allow_extreme_moves=allow_extreme_moves,
            origins={ticker: str(files[ticker]) for ticker in series},
        )

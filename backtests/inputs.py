"""What a run reads: prices, events and the GPR index, from files, the cache or in-memory objects.

``load_inputs`` is the only place a run touches files or the network (through
the data adapters); everything after it is pure. Each source may be given as a
Python object (a DataFrame of closes, a list of event dicts, a GPR Series) or
left to the usual sources (the cache, Yahoo, the demo market, the curated
calendar, the imported GPR index). In-memory objects pass the same validation
as files: prices as ``data import`` checks them, events row by row as an
events file, with row numbers in the messages.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import pandas as pd

from backtests.data.calendars import sessions
from backtests.data.frames import PriceData
from backtests.dates import check_range, parse_date
from backtests.errors import DataUnavailableError, UserInputError
from backtests.strategy import StrategySpec

PathLike = Union[str, os.PathLike]
PricesArg = Union[pd.DataFrame, PriceData, PathLike, None]
EventsArg = Union[pd.DataFrame, Sequence[Mapping[str, Any]], PathLike, Sequence[PathLike], None]
GprArg = Union[pd.Series, pd.DataFrame, str, os.PathLike, None]
GPR_COLUMNS = ("gpr", "gpr_acts", "gpr_threats")


@dataclass(frozen=True)
class RunInputs:
    """Everything a run reads: the spec, prices, events and the GPR index.

    ``prices`` hold all the history the source has up to ``end``: triggers see it
    all (moving averages and rolling highs are warm on the first day, and a
    result never depends on how far back the data go), while the backtest
    itself runs from ``start`` to ``end``. ``events_files`` are the event files
    read (recorded so the run can be reproduced); ``events_in_memory`` counts
    events given as objects. ``notes`` are caveats to show the user.
    """

    spec: StrategySpec
    prices: PriceData
    events: pd.DataFrame
    gpr: pd.DataFrame | None
    start: pd.Timestamp
    end: pd.Timestamp
    events_files: tuple[str, ...] = ()
    events_in_memory: int = 0
    notes: tuple[str, ...] = ()


def uses_gpr(spec: StrategySpec) -> bool:
    """Whether any trigger of the spec reads the GPR index."""
    return any(params.get("type") == "gpr" for params in spec.triggers.values())


def load_inputs(
    spec: StrategySpec,
    *,
    prices: PricesArg = None,
    events: EventsArg = None,
    gpr: GprArg = None,
    start: Any = None,
    end: Any = None,
    source: str = "auto",
    data_dir: PathLike | None = None,
    allow_extreme_moves: bool = False,
    on_loading_prices: Callable[[], None] | None = None,
) -> RunInputs:
    """Read prices, events and (when a trigger needs it) the GPR index for ``spec``.

    ``start``/``end`` default to the spec's period. Prices are loaded with all
    the history before the start, so triggers are warm on the first day.
    Prices sit on the sessions of the spec's exchange ``calendar``;
    ``allow_extreme_moves`` accepts one-day moves beyond 10x (see the data layer).
    ``on_loading_prices`` is called once the dates and events are checked, just
    before the (possibly slow) price load.
    """
    start_ts = parse_date(start if start is not None else spec.start, what="`start`")
    end_ts = parse_date(end if end is not None else spec.end, what="`end`")
    check_range(start_ts, end_ts)
    files, records = split_events(events)
    files = tuple(dict.fromkeys([*spec.data["events"], *files]))
    events_frame = load_events(files, records)
    if on_loading_prices is not None:
        on_loading_prices()
    price_data = load_prices(
        spec.tickers(),
        prices,
        end=end_ts,
        source=source,
        data_dir=data_dir,
        events=events_frame,
        calendar=spec.data["calendar"],
        allow_extreme_moves=allow_extreme_moves,
    )
    closes = price_data.closes
    period = closes.loc[start_ts:] if start_ts is not None else closes
    if len(period) < 2:
        raise UserInputError(_too_short(spec, price_data, start_ts, end_ts))
    first_benchmark = closes[spec.benchmark].first_valid_index()
    if first_benchmark is None or first_benchmark > period.index[0]:
        raise UserInputError(
            f"benchmark {spec.benchmark} has no price before {_day(first_benchmark, 'the end')}, after the start "
            f"{period.index[0]:%Y-%m-%d}; choose a later `start` or another `benchmark`"
        )
    notes = list(_start_notes(price_data, start_ts, period.index[0]))
    gpr_frame = _gpr(spec, gpr, data_dir)
    if gpr_frame is not None and gpr_frame.index[-1] < period.index[-1]:
        notes.append(
            f"the GPR index ends on {gpr_frame.index[-1]:%Y-%m-%d}, before {period.index[-1]:%Y-%m-%d}: GPR "
            "triggers are off after it; import a newer file (backtest data import-gpr) or set `end`"
        )
    return RunInputs(
        spec,
        price_data,
        events_frame,
        gpr_frame,
        period.index[0],
        period.index[-1],
        files,
        len(records),
        tuple(notes),
    )


def load_prices(
    tickers: Sequence[str],
    prices: PricesArg = None,
    *,
    start: Any = None,
    end: Any = None,
    source: str = "auto",
    data_dir: PathLike | None = None,
    events: pd.DataFrame | None = None,
    calendar: str = "XNYS",
    allow_extreme_moves: bool = False,
) -> PriceData:
    """Adjusted closes for ``tickers``: from a DataFrame (dates x tickers), a folder of ``TICKER.csv``,
    or, with ``prices=None``, the ``source`` (``auto``: the cache, else Yahoo, else the demo market),
    on the sessions of exchange ``calendar``."""
    from backtests.data import loader

    if isinstance(prices, PriceData):
        return prices
    if isinstance(prices, pd.DataFrame):
        start_ts, end_ts = parse_date(start, what="`start`"), parse_date(end, what="`end`")
        return _frame_prices(prices, tickers, start_ts, end_ts, calendar, allow_extreme_moves)
    return loader.load_prices(
        tickers,
        start,
        end,
        source=source,
        prices_dir=prices,
        data_dir=data_dir,
        events=events,
        calendar=calendar,
        allow_extreme_moves=allow_extreme_moves,
    )


def _frame_prices(
    frame: pd.DataFrame,
    tickers: Sequence[str],
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    calendar: str,
    allow_extreme_moves: bool,
) -> PriceData:
    """A DataFrame of closes (dates x tickers) through the checks a CSV file gets."""
    from backtests.data.align import to_price_data
    from backtests.data.validate import clean_tickers, price_series

    columns = {str(c).strip().upper(): c for c in frame.columns}
    missing = [t for t in clean_tickers(tickers) if t not in columns]
    if missing:
        raise UserInputError(
            f"`prices` has no column for {', '.join(missing)}; add them to the DataFrame (columns are tickers)"
        )
    try:
        index = pd.DatetimeIndex(frame.index)
    except (TypeError, ValueError):
        raise UserInputError("`prices` must be indexed by dates (a DatetimeIndex)") from None
    series = {}
    for ticker in clean_tickers(tickers):
        column = pd.Series(pd.to_numeric(frame[columns[ticker]], errors="coerce").to_numpy(), index=index)
        first = column.first_valid_index()
        listed = column.loc[first:] if first is not None else column.iloc[:0]
        series[ticker] = price_series(listed.index, listed.to_numpy(), ticker)
    return to_price_data(
        series, start, end, source="DataFrame", calendar=calendar, allow_extreme_moves=allow_extreme_moves
    )


def split_events(events: EventsArg) -> tuple[tuple[str, ...], list[Mapping[str, Any]]]:
    """(event files, in-memory event records) from the ``events`` argument."""
    if events is None:
        return (), []
    if isinstance(events, pd.DataFrame):
        return (), events.to_dict("records")
    if isinstance(events, (str, os.PathLike)):
        return (os.fspath(events),), []
    items = list(events)
    if all(isinstance(e, Mapping) for e in items):
        return (), items
    if all(isinstance(e, (str, os.PathLike)) for e in items):
        return tuple(os.fspath(e) for e in items), []
    raise UserInputError("`events` must be a DataFrame, a list of event dicts, or CSV file paths")


def load_events(files: Iterable[PathLike] = (), records: Sequence[Mapping[str, Any]] = ()) -> pd.DataFrame:
    """The curated calendar plus event files plus in-memory records (each checked like a file row)."""
    from backtests.events.calendar import load_events as load_event_files

    loaded = load_event_files(list(files))
    if not len(records):
        return loaded
    extra = _records_frame(records)
    return pd.concat([loaded, extra], ignore_index=True).sort_values("date", kind="stable").reset_index(drop=True)


def _records_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Event dicts parsed by the events-file parser: the first problem raises, naming the row (1-based)."""
    from backtests.events.calendar import events_frame, parse_event

    rows = []
    for number, record in enumerate(records, start=1):
        event, problems = parse_event({str(k): _cell(v) for k, v in record.items()}, number)
        if problems:
            first = problems[0]
            raise UserInputError(f"`events` row {number}, {first.column}: {first.message}")
        rows.append({**event, "origin": f"events:{number}"})
    return events_frame(rows)


def _cell(value: Any) -> str:
    """An event value as the text a CSV cell would hold (dates ISO, times ISO with offset, lists ``;``-joined)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, (dt.date, pd.Timestamp)):
        stamp = pd.Timestamp(value)
        return stamp.isoformat() if stamp.tzinfo is not None else f"{stamp:%Y-%m-%d}"
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    return str(value)


def _gpr(spec: StrategySpec, gpr: GprArg, data_dir: PathLike | None) -> pd.DataFrame | None:
    """The GPR index when a trigger needs it: the given object or file, else the imported one."""
    from backtests.data.gpr import cached_gpr, load_gpr

    if not uses_gpr(spec):
        return None
    if gpr is None:
        frame = cached_gpr(data_dir)
        if frame is None:
            raise DataUnavailableError(
                f"strategy {spec.name} needs the GPR index, which is not in the cache; import it with: "
                "backtest data import-gpr ../shared/data/gpr/gpr_daily.csv"
            )
        return frame
    if isinstance(gpr, (str, os.PathLike)):
        return load_gpr(gpr)  # any daily layout `backtest data import-gpr` reads, checked there
    frame = gpr.to_frame("gpr") if isinstance(gpr, pd.Series) else gpr.copy()
    if "gpr" not in frame.columns:
        raise UserInputError(
            f"`gpr` needs a column 'gpr' (and optionally gpr_acts, gpr_threats); got {list(frame.columns)}; "
            "or pass the file's path, e.g. gpr='../shared/data/gpr/gpr_daily.csv'"
        )
    try:
        frame.index = pd.DatetimeIndex(frame.index).tz_localize(None).normalize().rename("date")
    except (TypeError, ValueError):
        raise UserInputError("`gpr` must be indexed by dates (a DatetimeIndex)") from None
    values = frame.reindex(columns=list(GPR_COLUMNS)).astype(float)
    checked = values["gpr"]
    if checked.isna().any() or (checked < 0).any() or not values.index.is_monotonic_increasing:
        raise UserInputError("`gpr` must be sorted by date with no missing or negative values in 'gpr'")
    return values


def _start_notes(prices: PriceData, asked: pd.Timestamp | None, first: pd.Timestamp):
    """A note when the run starts later than asked: the earliest price of any ticker limits it."""
    if asked is None or first <= asked + pd.Timedelta(days=7):
        return
    firsts = {t: prices.closes[t].first_valid_index() for t in prices.closes.columns}
    earliest = sorted(t for t, day in firsts.items() if day == first)  # a ticker listed after the end has None
    alone = len(earliest) == 1
    who = f"{earliest[0]}, the ticker with the longest history" if alone else ", ".join(earliest)
    yield (
        f"the run starts on {first:%Y-%m-%d}, not {asked:%Y-%m-%d}: that is the first price of {who} "
        f"({'' if alone else 'none has an earlier one; '}later-listed tickers follow the late-listing policy)"
    )


def _too_short(spec: StrategySpec, prices: PriceData, start: pd.Timestamp | None, end: pd.Timestamp | None) -> str:
    """Why the period has fewer than two rows: the calendar has no sessions there, or the data miss it."""
    closes = prices.closes
    span = f"{closes.index[0]:%Y-%m-%d} to {closes.index[-1]:%Y-%m-%d}" if len(closes) else "nowhere"
    between = f"from {_day(start, 'the first date')} to {_day(end, 'the last date')}"
    calendar = spec.data["calendar"]
    if start is not None and end is not None and len(days := sessions(calendar, start, end)) < 2:
        return (
            f"fewer than two trading days {between}: the {calendar} calendar has {len(days)} session"
            f"{'' if len(days) == 1 else 's'} in that range (weekends and holidays have none); widen `start`/`end`"
        )
    return (
        f"fewer than two trading days {between}: the data for {', '.join(spec.tickers())} run from {span}; "
        "choose `start`/`end` inside that range"
    )


def _day(value: pd.Timestamp | None, default: str) -> str:
    return default if value is None else f"{value:%Y-%m-%d}"


def events_file_paths(files: Iterable[PathLike]) -> list[str]:
    """Absolute paths of event files, as written into a reproducible spec."""
    return [str(Path(f).resolve()) for f in files]


def ticker_returns(inputs: RunInputs, ticker: str) -> pd.Series:
    """Daily returns of one loaded ticker over the run period (first day 0), named by the ticker."""
    symbol = ticker.strip().upper()
    closes = inputs.prices.closes
    if symbol not in closes.columns:
        raise UserInputError(
            f"{ticker}: not among the run's tickers ({', '.join(closes.columns)}); use one of them or 'base'"
        )
    return closes[symbol].loc[inputs.start : inputs.end].pct_change().fillna(0.0).rename(symbol)

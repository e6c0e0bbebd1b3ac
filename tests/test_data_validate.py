"""Validation of price series: ticker names, NaN, sign, duplicate/unsorted dates, gap notes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from backtests.data.validate import check_moves, clean_tickers, price_series, validate_closes
from backtests.errors import UserInputError


def _series(pairs: list[tuple[str, float]], ticker: str = "SPY") -> pd.Series:
    return price_series([d for d, _ in pairs], [v for _, v in pairs], ticker)


def test_clean_tickers_uppercases_dedupes_and_keeps_order():
    assert clean_tickers([" spy", "TLT", "Spy", "brk-b", "^gspc"]) == (
        "SPY",
        "TLT",
        "BRK-B",
        "^GSPC",
    )


@pytest.mark.parametrize("bad", ["../etc", "A B", ""])
def test_clean_tickers_rejects_names_that_are_not_symbols(bad):
    with pytest.raises(UserInputError, match="is not a ticker symbol"):
        clean_tickers([bad])


def test_price_series_is_tz_naive_midnight_named_date():
    series = price_series(pd.DatetimeIndex(["2024-01-02 00:00-05:00"]), [1.0], "SPY")
    assert series.index[0] == pd.Timestamp("2024-01-02") and series.index.name == "date"
    assert series.dtype == "float64" and series.name == "SPY"


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (
            [("2024-01-02", 1.0), ("2024-01-03", float("nan"))],
            "f.csv: SPY has no close (NaN) on 2024-01-03; fill in the price or delete that row",
        ),
        (
            [("2024-01-02", 1.0), ("2024-01-03", 0.0)],
            "f.csv: SPY close is 0 on 2024-01-03; prices must be positive, fix the value or delete that row",
        ),
        (
            [("2024-01-02", 1.0), ("2024-01-02", 2.0)],
            "f.csv: SPY has two rows dated 2024-01-02; keep only one",
        ),
        (
            [("2024-01-03", 1.0), ("2024-01-02", 2.0)],
            "f.csv: SPY dates are out of order: 2024-01-02 comes after 2024-01-03; sort the rows by date",
        ),
        ([], "f.csv: SPY has no prices; add rows or drop the ticker"),
        (
            [("2024-01-02", 1.0), ("2024-01-03", float("inf"))],
            "f.csv: SPY close is inf on 2024-01-03; prices must be finite numbers, fix the value or delete that row",
        ),
        (
            [("2024-01-02", 1.0), ("2024-01-03", 2e12)],
            "f.csv: SPY close is 2e+12 on 2024-01-03; prices must lie between 1e-09 and 1e+12, "
            "fix the value or delete that row",
        ),
    ],
)
def test_bad_series_raise_naming_file_ticker_and_date(pairs, message):
    with pytest.raises(UserInputError) as err:
        validate_closes({"SPY": _series(pairs)}, origins={"SPY": "f.csv"})
    assert str(err.value) == message


def test_only_gaps_longer_than_ten_days_are_noted():
    # 2001-09-10 -> 2001-09-17 is the real 7-day closure: no note. 2002-01-02 -> 2002-01-14 is 12 days.
    closure = _series([("2001-09-07", 1.0), ("2001-09-10", 1.0), ("2001-09-17", 1.0)])
    gap = _series([("2002-01-02", 1.0), ("2002-01-14", 1.0), ("2002-01-15", 1.0)], "XYZ")
    assert validate_closes({"SPY": closure, "XYZ": gap}) == (
        "XYZ has a 12-day gap from 2002-01-02 to 2002-01-14 (prices carried forward); "
        "check the source if this is not a market closure",
    )


def test_moves_of_exactly_ten_times_pass_and_beyond_fail():
    days = ["2024-01-02", "2024-01-03", "2024-01-04"]
    check_moves({"SPY": price_series(days, [1.0, 10.0, 1.0], "SPY")})  # x10 then x0.1: the limits
    with pytest.raises(UserInputError, match=r"^SPY close goes from 10 on 2024-01-03 to 0.999 on 2024-01-04"):
        check_moves({"SPY": price_series(days, [1.0, 10.0, 0.999], "SPY")})


@given(
    st.lists(st.floats(-0.999, 0.999), min_size=1, max_size=30),
    st.integers(0, 29),
    st.floats(2.0, 6.0),
    st.booleans(),
)
def test_only_one_day_ratios_beyond_ten_are_flagged_at_the_first(steps, where, jump, up):
    """Paths whose daily log10 steps stay inside +-0.999 pass; multiplying (or dividing) the path
    from one day on by 10**2 or more makes that day's ratio exceed 10 (or fall below 0.1): named."""
    levels = 10 ** np.concatenate([[0.0], np.cumsum(steps)])
    days = pd.bdate_range("2024-01-01", periods=len(levels))
    check_moves({"X": price_series(days, levels, "X")})
    where = min(where, len(steps) - 1)
    jumped = levels.copy()
    jumped[where + 1 :] *= 10 ** (jump if up else -jump)
    with pytest.raises(UserInputError) as err:
        check_moves({"X": price_series(days, jumped, "X")})
    assert f"on {days[where + 1]:%Y-%m-%d} (x" in str(err.value)

"""The stand-ins of ``backtests.reports.quantstats_fast`` return exactly what quantstats' own
functions return: the same frames, indexes, dtypes and bits.

The reference is always quantstats itself, called on the same input (never a number
copied from our output): hand-made edge cases, random drawdowns (hypothesis), and the real
SPY/TLT history of ``../shared/data``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from backtests.reports.quantstats_fast import (
    drawdown_details_fast,
    group_returns_fast,
    prepare_benchmark_fast,
    safe_resample_fast,
    stand_ins,
)
from backtests.reports.tearsheet import quiet_quantstats


@pytest.fixture(scope="module")
def qs():
    with quiet_quantstats() as module:
        yield module


def _drawdown(values: list[float], start: str = "2020-01-01", tz: str | None = None) -> pd.Series:
    index = pd.bdate_range(start, periods=len(values), tz=tz)
    return pd.Series(values, index=index, name="Strategy", dtype=float)


def _same_details(qs, drawdown: pd.Series | pd.DataFrame) -> pd.DataFrame | None:
    """The stand-in's frame, checked equal to quantstats' (or the same exception as quantstats)."""
    original = qs.stats.drawdown_details
    try:
        expected = original(drawdown)
    except Exception as exc:  # noqa: BLE001 - whatever quantstats raises, the stand-in raises too
        with pytest.raises(type(exc)):
            drawdown_details_fast(original)(drawdown)
        return None
    got = drawdown_details_fast(original)(drawdown)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert list(got.dtypes) == list(expected.dtypes)
    return got


@pytest.mark.parametrize(
    "values",
    [
        [0.0, -0.01, -0.03, -0.02, 0.0, 0.0, -0.005, 0.0],  # two periods, both recovered
        [-0.02, -0.01, 0.0, -0.04, -0.01, 0.0],  # starts in a drawdown, then another
        [0.0, -0.01, -0.02, -0.015],  # ends in a drawdown
        [-0.01, -0.02, 0.0, 0.0],  # starts in a drawdown, no other: quantstats reports none
        [0.0, 0.0, 0.0],  # never in a drawdown
        [-0.01, -0.02, -0.03],  # in a drawdown throughout
        [0.0],
        [-0.01, -0.01, -0.01, 0.0, -0.01],  # ties for the valley: the first day
    ],
)
def test_drawdown_details_equals_quantstats_on_edge_cases(qs, values: list[float]) -> None:
    _same_details(qs, _drawdown(values))


def test_drawdown_details_of_a_long_period_drops_the_worst_percent_as_quantstats_does(qs) -> None:
    rng = np.random.default_rng(7)
    values = [0.0, *(-np.abs(rng.normal(0.05, 0.02, 400))), 0.0]
    got = _same_details(qs, _drawdown(values))
    assert len(got) == 1
    assert got.loc[0, "99% max drawdown"] > got.loc[0, "max drawdown"]  # the worst days are dropped


def test_drawdown_details_with_a_time_zone_and_on_a_frame(qs) -> None:
    rng = np.random.default_rng(3)
    values = np.minimum(0.0, np.cumsum(rng.normal(0, 0.01, 300)))
    _same_details(qs, _drawdown(list(values), tz="America/New_York"))
    frame = pd.DataFrame({"a": values, "b": np.minimum(0.0, values + 0.02)}, index=pd.bdate_range("2019-01-01", periods=300))
    got = _same_details(qs, frame)
    assert isinstance(got.columns, pd.MultiIndex)


def test_drawdown_details_falls_back_to_quantstats_where_it_does_not_apply(qs) -> None:
    _same_details(qs, _drawdown([0.0, -0.01, np.nan, -0.02, 0.0, -0.01]))  # NaN
    shuffled = _drawdown([0.0, -0.01, -0.02, 0.0, -0.03, 0.0]).iloc[[0, 2, 1, 3, 5, 4]]
    assert _same_details(qs, shuffled) is None  # index not sorted: quantstats itself fails, and so do we


@given(
    st.lists(
        st.one_of(st.just(0.0), st.floats(min_value=-0.9, max_value=-1e-6)), min_size=1, max_size=120
    )
)
def test_drawdown_details_equals_quantstats_on_random_drawdowns(values: list[float]) -> None:
    with quiet_quantstats() as module:
        _same_details(module, _drawdown(values))


def test_drawdown_details_equals_quantstats_on_real_history(qs, shared_data: Path) -> None:
    prices = pd.concat(
        {t: pd.read_csv(shared_data / "prices" / f"{t}.csv", index_col=0, parse_dates=True).iloc[:, 0] for t in ("SPY", "TLT")},
        axis=1,
    ).dropna()
    returns = prices.pct_change().fillna(0.0)
    drawdowns = qs.stats.to_drawdown_series(returns)
    got = _same_details(qs, drawdowns["SPY"])
    assert len(got) > 100  # hundreds of periods: the case the stand-in is for
    _same_details(qs, drawdowns)


@pytest.mark.parametrize("compounded", [True, False])
def test_group_returns_equals_quantstats(qs, compounded: bool) -> None:
    rng = np.random.default_rng(11)
    index = pd.bdate_range("2016-01-01", "2021-06-30")
    series = pd.Series(rng.normal(0.0004, 0.012, len(index)), index=index, name="Strategy")
    frame = pd.DataFrame({"Strategy": series, "SPY": rng.normal(0.0003, 0.01, len(index))}, index=index)
    original = qs.utils.group_returns
    fast = group_returns_fast(original)
    for data in (series, frame):
        idx = data.index
        for keys in (idx.year, [idx.year, idx.month], idx.strftime("%Y-%m-01"), idx.isocalendar().week):
            expected, got = original(data, keys, compounded), fast(data, keys, compounded)
            if isinstance(expected, pd.DataFrame):
                pd.testing.assert_frame_equal(got, expected, check_exact=True)
            else:
                pd.testing.assert_series_equal(got, expected, check_exact=True)


def test_prepare_benchmark_equals_quantstats(qs) -> None:
    rng = np.random.default_rng(5)
    dates = pd.bdate_range("2018-01-01", "2020-12-31")
    same = pd.Series(rng.normal(0, 0.01, len(dates)), index=dates, name="SPY")
    sparse = same.iloc[::3]  # other dates: quantstats reindexes it onto the strategy's
    zoned = same.tz_localize("America/New_York")  # against naive dates quantstats raises, and so do we
    original = qs.utils._prepare_benchmark
    fast = prepare_benchmark_fast(original)
    for benchmark in (same, sparse, zoned, same.to_frame()):
        for args in ((dates,), (dates, 0.01), ("max",), (dates, 0.0, False)):
            try:
                expected = original(benchmark, *args)
            except Exception as exc:  # noqa: BLE001 - the stand-in must raise the same
                with pytest.raises(type(exc)):
                    fast(benchmark, *args)
                continue
            pd.testing.assert_series_equal(fast(benchmark, *args), expected, check_exact=True)
    assert fast(None, dates) is None


@pytest.mark.parametrize("freq", ["W-MON", "ME", "QE", "YE", "M", "A"])
def test_safe_resample_equals_quantstats(qs, freq: str, shared_data: Path) -> None:
    """Compounded (``comp``) on the real SPY/TLT history, a Series and a frame, a time zone, a gap
    (an empty week), a NaN; every other aggregation is quantstats' own call."""
    series = {
        t: pd.read_csv(shared_data / "prices" / f"{t}.csv", index_col=0, parse_dates=True) for t in ("SPY", "TLT")
    }
    prices = pd.concat({t: frame.iloc[:, 0] for t, frame in series.items()}, axis=1).dropna()
    frame = prices.pct_change().fillna(0.0).rename(columns={"SPY": "Strategy"})
    gapped = frame["Strategy"].drop(frame.index[(frame.index >= "2020-03-09") & (frame.index < "2020-03-17")])
    holed = frame["TLT"].copy()
    holed.iloc[100] = np.nan
    original = qs._compat.safe_resample
    fast = safe_resample_fast(original)
    cases = (frame["Strategy"], frame, frame.tz_localize("America/New_York"), gapped, holed)
    for data in cases:
        for func in (qs.stats.comp, "sum", np.sum, "last"):
            expected, got = original(data, freq, func), fast(data, freq, func)
            if isinstance(expected, pd.DataFrame):
                pd.testing.assert_frame_equal(got, expected, check_exact=True)
            else:
                pd.testing.assert_series_equal(got, expected, check_exact=True)
    assert (original(gapped, "W-MON", qs.stats.comp) == 0.0).any()  # the empty week is in the cases


def test_stand_ins_are_in_place_inside_the_block_only(qs) -> None:
    def current():
        return (
            qs.stats.drawdown_details,
            qs.utils.group_returns,
            qs.utils._prepare_benchmark,
            qs.stats.safe_resample,
            qs._plotting.core.safe_resample,
        )

    before = current()
    with stand_ins(qs):
        assert all(now is not then for now, then in zip(current(), before, strict=True))
    assert current() == before
    with pytest.raises(RuntimeError), stand_ins(qs):
        raise RuntimeError("restored on error too")
    assert current() == before


def test_a_quantstats_without_a_helper_keeps_its_own(qs, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(qs.utils, "_prepare_benchmark")
    kept = qs.stats.drawdown_details
    with stand_ins(qs):
        assert not hasattr(qs.utils, "_prepare_benchmark")
        assert qs.stats.drawdown_details is not kept  # the others are still swapped in
    assert qs.stats.drawdown_details is kept

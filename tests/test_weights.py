"""Target weights: a hand-computed example (overlap, late listing), the late-listing policy, invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtests.errors import DataUnavailableError, UserInputError
from backtests.strategy import StrategySpec
from backtests.strategy.validate import resolve
from backtests.portfolio.weights import sleeves, target_weights

NAN = np.nan


def make_spec(
    universe: dict, hedge: dict, fund_from: list[str] | None = None, hedge_fraction: float = 0.5
) -> StrategySpec:
    response = {"hedge_fraction": hedge_fraction}
    if fund_from is not None:
        response["fund_from"] = fund_from
    data = resolve({"universe": universe, "hedge": hedge, "response": response}, "test", "test")
    return StrategySpec("test", data)


def frame(rows: dict[str, list[float]], periods: int) -> pd.DataFrame:
    index = pd.DatetimeIndex(pd.bdate_range("2020-01-06", periods=periods), name="date")
    return pd.DataFrame(rows, index=index, dtype=float)


def levels(closes: pd.DataFrame, values: list[float]) -> pd.Series:
    return pd.Series(values, index=closes.index)


def test_hand_example_with_overlap_and_late_listing() -> None:
    # GLD is in both sleeves; QQQ (universe) and TLT (hedge) list on the second day.
    spec = make_spec({"SPY": 0.5, "QQQ": 0.2, "GLD": 0.1, "IEF": 0.2}, {"GLD": 0.5, "TLT": 0.5}, ["SPY", "QQQ"])
    closes = frame({"SPY": [1, 1, 1], "QQQ": [NAN, 1, 1], "GLD": [1, 1, 1], "IEF": [1, 1, 1], "TLT": [NAN, 1, 1]}, 3)
    targets = target_weights(spec, levels(closes, [1.0, 0.0, 0.5]), closes)
    expected = pd.DataFrame(
        {
            # day 0: universe without QQQ = SPY .625, GLD .125, IEF .25; basket = GLD 1; exposure .5 of .625
            # day 1: exposure 0 -> the universe weights
            # day 2: exposure .25 of SPY+QQQ = .7 -> .175 into GLD .5 / TLT .5
            "GLD": [0.125 + 0.3125, 0.1, 0.1 + 0.0875],
            "IEF": [0.25, 0.2, 0.2],
            "QQQ": [0.0, 0.2, 0.15],
            "SPY": [0.3125, 0.5, 0.375],
            "TLT": [0.0, 0.0, 0.0875],
        },
        index=closes.index,
    )
    pd.testing.assert_frame_equal(targets, expected, check_exact=False, rtol=0, atol=1e-15, check_names=False)
    assert list(targets.columns) == spec.traded_tickers()


def test_unlisted_hedge_basket_takes_the_universe_weights() -> None:
    spec = make_spec({"SPY": 0.6, "AGG": 0.4}, {"MP": 1.0}, ["SPY"])
    closes = frame({"SPY": [1, 1], "AGG": [1, 1], "MP": [NAN, 1]}, 2)
    targets = target_weights(spec, levels(closes, [1.0, 1.0]), closes)
    # day 0: .3 of the SPY sleeve moves pro rata into SPY .6 / AGG .4; day 1: into MP.
    np.testing.assert_allclose(
        targets[["SPY", "AGG", "MP"]].to_numpy(), [[0.48, 0.52, 0.0], [0.3, 0.4, 0.3]], atol=1e-15
    )


def test_unlisted_universe_takes_the_hedge_basket() -> None:
    spec = make_spec({"KWEB": 1.0}, {"GLD": 1.0})
    closes = frame({"KWEB": [NAN, 1], "GLD": [1, 1]}, 2)
    targets = target_weights(spec, levels(closes, [0.0, 0.0]), closes)
    assert targets[["KWEB", "GLD"]].to_numpy().tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_no_listed_ticker_at_all_is_a_user_error() -> None:
    spec = make_spec({"KWEB": 1.0}, {"MP": 1.0})
    closes = frame({"KWEB": [NAN, 1], "MP": [NAN, 1]}, 2)
    with pytest.raises(UserInputError) as info:
        sleeves(spec, closes)
    assert str(info.value) == (
        "no ticker of test has a price on 2020-01-06; start the run on or after the first listing of a universe ticker"
    )


def test_missing_price_column() -> None:
    spec = make_spec({"SPY": 1.0}, {"GLD": 1.0})
    with pytest.raises(DataUnavailableError, match="^no prices for GLD; load every ticker of the strategy$"):
        sleeves(spec, frame({"SPY": [1.0]}, 1))


def test_no_hedge_basket_means_no_shift() -> None:
    spec = make_spec({"SPY": 0.6, "AGG": 0.4}, {})
    closes = frame({"SPY": [1, 1], "AGG": [1, 1]}, 2)
    base, shift = sleeves(spec, closes)
    assert (shift == 0).all().all()
    assert (
        target_weights(spec, levels(closes, [1.0, 1.0]), closes).loc[:, ["SPY", "AGG"]].to_numpy().tolist()
        == [[0.6, 0.4]] * 2
    )


def test_hedge_level_must_cover_the_dates() -> None:
    spec = make_spec({"SPY": 1.0}, {"GLD": 1.0})
    closes = frame({"SPY": [1, 1], "GLD": [1, 1]}, 2)
    with pytest.raises(ValueError, match="hedge_level must cover"):
        target_weights(spec, levels(closes, [0.0, 0.0]).iloc[:1], closes)


# ---- invariants on random sleeves, listings and levels ----

TICKERS = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]


@st.composite
def cases(draw):
    def weights(names):
        raw = draw(st.lists(st.integers(1, 9), min_size=len(names), max_size=len(names)))
        return {n: r / sum(raw) for n, r in zip(names, raw, strict=True)}

    universe = weights(draw(st.lists(st.sampled_from(TICKERS[:4]), min_size=1, max_size=4, unique=True)))
    hedge = weights(draw(st.lists(st.sampled_from(TICKERS[2:]), min_size=1, max_size=3, unique=True)))
    fund_from = draw(st.lists(st.sampled_from(sorted(universe)), max_size=len(universe), unique=True))
    days = draw(st.integers(1, 8))
    tickers = sorted(set(universe) | set(hedge))
    first = {t: draw(st.integers(0, days)) for t in tickers}
    first[sorted(universe)[0]] = 0  # the calendar comes from listed tickers: one is always there
    closes = frame({t: [NAN] * first[t] + [1.0] * (days - first[t]) for t in tickers}, days)
    level = draw(st.lists(st.floats(0, 1), min_size=days, max_size=days))
    return make_spec(universe, hedge, fund_from or None, draw(st.floats(0, 1))), closes, level


@settings(max_examples=75, deadline=None)
@given(cases())
def test_targets_sum_to_one_are_non_negative_and_skip_unlisted(case) -> None:
    spec, closes, level = case
    targets = target_weights(spec, levels(closes, level), closes)
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert (targets >= 0).all().all()
    assert (targets.where(closes[targets.columns].isna(), 0.0) == 0).all().all()


@settings(max_examples=50, deadline=None)
@given(cases())
def test_targets_are_linear_in_the_exposure(case) -> None:
    spec, closes, level = case
    base, shift = sleeves(spec, closes)
    np.testing.assert_allclose(shift.sum(axis=1), 0.0, atol=1e-12)
    exposure = spec.response["hedge_fraction"] * np.asarray(level)
    expected = base.to_numpy() + exposure[:, None] * shift.to_numpy()
    np.testing.assert_allclose(target_weights(spec, levels(closes, level), closes).to_numpy(), expected, atol=1e-15)


def test_real_ragged_listings_follow_the_policy(shared_data) -> None:
    from backtests.strategy import load_spec

    spec = load_spec("rare-earth-diversify")
    series = {
        t: pd.read_csv(shared_data / "prices" / f"{t}.csv", index_col=0, parse_dates=True)["Close"]
        for t in spec.traded_tickers()
    }
    closes = pd.concat(series, axis=1, sort=True).loc["2012-01-01":"2021-12-31"].ffill()
    targets = target_weights(spec, levels(closes, [1.0] * len(closes)), closes)
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, atol=1e-12)
    before_mp, before_kweb = targets.loc[:"2020-06-19"], targets.loc[:"2013-07-31"]
    assert (before_mp["MP"] == 0).all() and (targets.loc["2020-06-22":, "MP"] > 0).all()
    assert (before_kweb["KWEB"] == 0).all()
    # Without MP the hedge basket is REMX .5 / GLD .5, so both receive the same weight.
    np.testing.assert_allclose(before_mp["REMX"], before_mp["GLD"], atol=1e-15)

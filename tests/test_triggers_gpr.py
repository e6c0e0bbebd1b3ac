"""The gpr trigger: trailing measures, consecutive days, stamping; defaults on real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtests.errors import UserInputError
from backtests.triggers import evaluate
from backtests.triggers.gpr import gpr_measure
from test_triggers_support import context, weekdays


def _gpr(values: list[float], start: str = "2024-01-01") -> pd.DataFrame:
    index = pd.date_range(start, periods=len(values), freq="D", name="date")
    frame = pd.DataFrame({"gpr": values}, index=index)
    return frame.assign(gpr_acts=frame["gpr"], gpr_threats=frame["gpr"])


def test_zscore_and_percentile_match_a_direct_window_computation():
    values = pd.Series(
        np.random.default_rng(7).normal(100, 20, 60), index=pd.date_range("2020-01-01", periods=60)
    )
    zscore = gpr_measure(values, "zscore", lookback_days=20, smooth_days=1)
    percentile = gpr_measure(values, "percentile", lookback_days=20, smooth_days=1)
    for i in (9, 19, 42, 59):
        window = values.to_numpy()[max(0, i - 19) : i + 1]
        assert zscore.iloc[i] == pytest.approx((window[-1] - window.mean()) / window.std(ddof=1))
        assert percentile.iloc[i] == pytest.approx((window <= window[-1]).mean())
    assert zscore.iloc[:9].isna().all()  # fewer than half the lookback


def test_smoothing_is_a_trailing_mean():
    values = pd.Series([1.0, 2.0, 3.0, 10.0], index=pd.date_range("2020-01-01", periods=4))
    assert gpr_measure(values, "level", 252, 3).tolist()[2:] == [2.0, 5.0]


def test_level_needs_consecutive_days_above_threshold():
    # Wed 3 > 150 alone; Thu 11, Fri 12 (2 in a row) -> on from Fri (lag 0).
    values = [100, 100, 200, 100, 100, 100, 100, 100, 100, 100, 200, 200, 100, 100]
    ctx = context(weekdays("2024-01-01", 10), gpr=_gpr(values))
    table = {
        "type": "gpr",
        "measure": "level",
        "threshold": 150,
        "smooth_days": 1,
        "consecutive_days": 2,
        "lag": 0,
    }
    out = evaluate({"g": table}, ctx)["g"]
    assert out.signal[out.signal > 0].index.tolist() == [pd.Timestamp("2024-01-12")]
    assert out.firings["reason"].tolist() == ["GPR level 200 > 150 for 2 days"]


def test_weekend_condition_is_stamped_on_monday_and_lag_one_acts_on_tuesday():
    values = [100] * 5 + [200, 200] + [100] * 7  # Sat 6 and Sun 7 high
    ctx = context(weekdays("2024-01-01", 10), gpr=_gpr(values))
    table = {
        "type": "gpr",
        "measure": "level",
        "threshold": 150,
        "smooth_days": 1,
        "consecutive_days": 2,
    }
    signal = evaluate({"g": table}, ctx)["g"].signal
    assert signal[signal > 0].index.tolist() == [pd.Timestamp("2024-01-09")]


def test_hold_days_and_no_signal_after_the_data_ends():
    values = [100, 200, 100, 100, 100, 300]  # Jan 1-6; data ends on Saturday
    ctx = context(weekdays("2024-01-01", 8), gpr=_gpr(values))
    table = {
        "type": "gpr",
        "measure": "level",
        "threshold": 150,
        "smooth_days": 1,
        "consecutive_days": 1,
        "hold_days": 2,
        "lag": 0,
    }
    signal = evaluate({"g": table}, ctx)["g"].signal
    # Tue 2 on, held Wed 3; Sat 6 stamped on Mon 8, held Tue 9; after that nothing is stamped.
    assert signal.astype(int).tolist() == [0, 1, 1, 0, 0, 1, 1, 0]


def test_missing_gpr_is_a_user_error():
    with pytest.raises(UserInputError) as err:
        evaluate({"geo": {"type": "gpr"}}, context(weekdays("2024-01-01", 5)))
    assert str(err.value) == (
        "triggers.geo: the GPR index (gpr) is not loaded; "
        "import it with `backtest data import-gpr` "
        "or `backtest data fetch-gpr`, or remove this trigger"
    )


@pytest.mark.shared
def test_documented_defaults_fire_on_the_invasion_of_ukraine_and_stay_quiet_in_2017(shared_data):
    raw = pd.read_csv(shared_data / "gpr" / "gpr_daily.csv", parse_dates=["date"], index_col="date")
    gpr = raw.rename(columns={"gpr_index": "gpr"})[["gpr", "gpr_acts", "gpr_threats"]]
    calendar = pd.DatetimeIndex(
        pd.read_csv(shared_data / "prices" / "SPY.csv", parse_dates=["Date"])["Date"], name="date"
    )
    calendar = calendar[(calendar >= "2016-01-01") & (calendar <= "2023-12-31")]
    out = evaluate({"geo": {"type": "gpr"}}, context(calendar, gpr=gpr))["geo"]
    near_invasion = out.signal["2022-02-17":"2022-03-03"]
    assert near_invasion.max() == 1.0
    assert out.signal["2022-02-25":"2022-03-03"].all()
    assert out.signal["2017"].mean() < 0.10


def test_history_before_the_calendar_is_not_piled_onto_its_first_day():
    """A spike long before the calendar starts must not fire the trigger on day one."""
    values = [100.0] * 731
    values[59:69] = [900.0] * 10  # March 2024, well before the calendar below
    ctx = context(weekdays("2025-06-02", 40), gpr=_gpr(values))
    params = {"type": "gpr", "measure": "level", "threshold": 500, "smooth_days": 1, "lag": 0}
    out = evaluate({"g": params}, ctx)["g"]
    assert not (out.signal > 0).any()
    assert out.firings.empty

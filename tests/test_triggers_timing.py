"""The no-look-ahead oracle: stamping on the trading calendar, the event timing rule (public_at,
date-only) and the lag, through the triggers and through whole runs."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtests.triggers import evaluate
from backtests.triggers.timing import first_tradable_positions, held, stamp_positions, turn_on_positions
from test_triggers_support import context, event, weekdays

CAL = weekdays("2024-01-01", 15)  # Mon 2024-01-01 .. Fri 2024-01-19
CRASH = pd.Timestamp("2024-01-10")  # a Wednesday


def _crash_context():
    closes = pd.DataFrame({"SPY": np.where(CAL < CRASH, 100.0, 80.0)}, index=CAL)
    return context(CAL, events=[event("2024-01-10", title="Export controls")], closes=closes)


def test_event_on_crash_day_is_effective_the_next_trading_day():
    out = evaluate({"e": {"type": "event"}}, _crash_context())["e"]
    assert out.signal[CRASH] == 0.0
    assert out.signal[pd.Timestamp("2024-01-11")] == 1.0
    assert out.signal.sum() == 1.0
    row = out.firings.iloc[0]
    assert (row["date"], row["raw_date"]) == (pd.Timestamp("2024-01-11"), CRASH)


def test_raw_signal_before_the_event_is_zero_and_lag_zero_is_same_day():
    out = evaluate({"e": {"type": "event", "lag": 0}}, _crash_context())["e"]
    assert out.signal[pd.Timestamp("2024-01-09")] == 0.0
    assert out.signal[CRASH] == 1.0


def test_drawdown_on_crash_day_is_effective_the_next_trading_day():
    out = evaluate({"d": {"type": "drawdown", "threshold": 0.1}}, _crash_context())["d"]
    assert out.signal[CRASH] == 0.0
    assert out.signal[pd.Timestamp("2024-01-11")] == 1.0


def test_saturday_event_is_stamped_on_monday():
    ctx = context(CAL, events=[event("2024-01-13")])
    signal = evaluate({"e": {"type": "event", "lag": 0}}, ctx)["e"].signal
    assert signal[signal > 0].index.tolist() == [pd.Timestamp("2024-01-15")]


def test_lag_three_shifts_by_three_trading_days_across_a_weekend():
    ctx = context(CAL, events=[event("2024-01-11")])  # Thursday
    signal = evaluate({"e": {"type": "event", "lag": 3}}, ctx)["e"].signal
    assert signal[signal > 0].index.tolist() == [pd.Timestamp("2024-01-16")]  # Fri, Mon, Tue


def test_stamp_positions_past_the_end_point_beyond_the_calendar():
    dates = pd.to_datetime(["2023-12-31", "2024-01-01", "2024-01-06", "2024-01-20"])
    assert stamp_positions(dates, CAL).tolist() == [0, 0, 5, 15]


def test_held_and_turn_on_positions():
    on = np.array([0, 1, 0, 0, 0, 1, 1, 0], dtype=bool)
    assert held(on, 3).astype(int).tolist() == [0, 1, 1, 1, 0, 1, 1, 1]
    assert held(on, 1).tolist() == on.tolist()
    assert turn_on_positions(np.array([1, 1, 0, 1], dtype=bool)).tolist() == [0, 3]


@given(st.lists(st.booleans(), max_size=40), st.integers(1, 6))
def test_held_matches_a_direct_window_scan(on, hold_days):
    expected = [any(on[max(0, t - hold_days + 1) : t + 1]) for t in range(len(on))]
    assert held(np.array(on, dtype=bool), hold_days).tolist() == expected


# --- public_at: the first close at least 30 minutes after the news ----------------------------

NEW_YORK = ZoneInfo("America/New_York")
WED = pd.Timestamp("2024-01-10")  # CAL[7]; New York is on UTC-05:00 in January
THU = pd.Timestamp("2024-01-11")


def _timed(public_at: str, date: str | None = None) -> dict:
    stamp = pd.Timestamp(public_at)
    day = date or f"{stamp.tz_convert('America/New_York'):%Y-%m-%d}"
    return {**event(day, title="Export controls"), "public_at": stamp}


def _effective_days(events: list[dict], **params) -> list[pd.Timestamp]:
    out = evaluate({"e": {"type": "event", **params}}, context(CAL, events=events))["e"]
    return out.signal[out.signal > 0].index.tolist()


@pytest.mark.parametrize(
    ("public_at", "effective"),
    [
        pytest.param("2024-01-10T15:00-05:00", WED, id="15:00-trades-at-that-close"),
        pytest.param("2024-01-10T15:30-05:00", WED, id="15:30-exactly-30-minutes"),
        pytest.param("2024-01-10T15:31-05:00", THU, id="15:31-next-close"),
        pytest.param("2024-01-10T16:05-05:00", THU, id="16:05-after-the-close"),
        pytest.param("2024-01-10T20:00Z", WED, id="utc-15:00-et"),
        pytest.param("2024-01-10T21:05Z", THU, id="utc-16:05-et"),
        pytest.param("2024-01-10T04:00+08:00", pd.Timestamp("2024-01-09"), id="beijing-morning-is-the-day-before"),
        pytest.param("2024-01-12T17:00-05:00", pd.Timestamp("2024-01-15"), id="friday-evening-to-monday"),
        pytest.param("2024-01-13T10:00-05:00", pd.Timestamp("2024-01-15"), id="saturday-to-monday"),
    ],
)
def test_a_timed_event_is_effective_at_the_first_close_30_minutes_after_it(public_at, effective):
    assert _effective_days([_timed(public_at)]) == [effective]


def test_a_date_only_event_is_effective_at_the_close_of_the_next_trading_day():
    assert _effective_days([event("2024-01-10")]) == [THU]


@pytest.mark.parametrize(
    ("lag", "before_close", "after_close", "date_only"),
    [
        (0, WED, THU, WED),  # lag 0: a timed event still waits for its first close; date-only = news day
        (1, WED, THU, THU),
        (2, THU, pd.Timestamp("2024-01-12"), pd.Timestamp("2024-01-12")),
        (3, pd.Timestamp("2024-01-12"), pd.Timestamp("2024-01-15"), pd.Timestamp("2024-01-15")),
    ],
)
def test_lag_counts_trading_days_after_the_first_tradable_close(lag, before_close, after_close, date_only):
    assert _effective_days([_timed("2024-01-10T15:00-05:00")], lag=lag) == [before_close]
    assert _effective_days([_timed("2024-01-10T16:05-05:00")], lag=lag) == [after_close]
    assert _effective_days([event("2024-01-10")], lag=lag) == [date_only]


def test_timed_firing_records_the_news_day_as_raw_date_and_is_never_before_the_news():
    out = evaluate({"e": {"type": "event"}}, context(CAL, events=[_timed("2024-01-10T16:05-05:00")]))["e"]
    row = out.firings.iloc[0]
    assert (row["raw_date"], row["date"]) == (WED, THU)


def test_a_timed_and_a_date_only_event_on_the_same_effective_day_fire_once():
    events = [_timed("2024-01-11T09:45-05:00"), event("2024-01-10", title="Other")]
    out = evaluate({"e": {"type": "event"}}, context(CAL, events=events))["e"]
    assert out.signal[out.signal > 0].index.tolist() == [THU]
    assert out.firings[["raw_date", "reason"]].values.tolist() == [[WED, "2 events, max severity 3"]]


def _brute_force_first_close(public_at: pd.Timestamp, calendar: pd.DatetimeIndex) -> int:
    """Second method: walk the calendar, building each 16:00 New York close with zoneinfo."""
    for position, day in enumerate(calendar):
        close = dt.datetime(day.year, day.month, day.day, 16, 0, tzinfo=NEW_YORK)
        if close - public_at.to_pydatetime() >= dt.timedelta(minutes=30):
            return position
    return len(calendar)


YEAR = pd.bdate_range("2024-01-01", "2024-12-31", name="date")  # crosses both DST changes


@given(
    st.datetimes(min_value=dt.datetime(2023, 12, 25), max_value=dt.datetime(2025, 1, 3)),
    st.sampled_from([-10, -5, -4, 0, 1, 8, 9]),
)
def test_first_tradable_close_matches_a_brute_force_walk(local, offset_hours):
    public_at = pd.Timestamp(local.replace(second=0, microsecond=0), tz=dt.timezone(dt.timedelta(hours=offset_hours)))
    got = first_tradable_positions(
        pd.Series([pd.Timestamp(public_at.tz_convert("America/New_York").date())]),
        pd.Series([public_at]),
        YEAR,
    )
    assert got.tolist() == [_brute_force_first_close(public_at, YEAR)]


@settings(max_examples=40)
@given(
    st.datetimes(min_value=dt.datetime(2024, 1, 2), max_value=dt.datetime(2024, 12, 20)),
    st.sampled_from([-5, -4, 0, 8]),
    st.integers(0, 3),
)
def test_a_timed_event_never_trades_at_a_close_less_than_30_minutes_after_it(local, offset_hours, lag):
    public_at = pd.Timestamp(local.replace(second=0, microsecond=0), tz=dt.timezone(dt.timedelta(hours=offset_hours)))
    row = {**event(f"{public_at.tz_convert('America/New_York'):%Y-%m-%d}"), "public_at": public_at}
    out = evaluate({"e": {"type": "event", "lag": lag}}, context(YEAR, events=[row]))["e"]
    on = out.signal[out.signal > 0].index
    assert len(on) == 1
    close = dt.datetime(on[0].year, on[0].month, on[0].day, 16, 0, tzinfo=NEW_YORK)
    assert close - public_at.to_pydatetime() >= dt.timedelta(minutes=30)
    # ... and it waits exactly max(lag - 1, 0) closes after the first one that qualifies.
    assert YEAR.get_loc(on[0]) == _brute_force_first_close(public_at, YEAR) + max(lag - 1, 0)


# --- whole runs: the same rule through prices -> triggers -> weights -> execution -------------

# After every curated event, and free of US market holidays (July 4 to Labor Day 2031).
RUN_DAYS = pd.bdate_range("2031-07-07", periods=30, name="date")
NEWS = 15  # position of the news day D (a Monday)
RUN_SPEC = """\
name = "timing-oracle"
benchmark = "SPY"
cash = 100000.0

[universe]
SPY = 1.0

[hedge]
GLD = 1.0

[triggers.shock]
type = "event"
keywords = ["zorblax"]

[response]
trigger = "shock"
hedge_fraction = 1.0
hold_days = 200

[rebalance]
schedule = "none"
drift_threshold = 0.0

[costs]
commission_bps = {commission}
slippage_bps = {slippage}
"""


def _spy(i: int) -> float:
    return 0.0 if i == 0 else (-0.10 if i == NEWS else (0.011 if i % 2 else -0.006))


def _gld(i: int) -> float:
    return 0.0 if i == 0 else (0.004 if i % 3 else -0.007)


def _run_market(tmp_path, public_at: str, commission: float = 0.0, slippage: float = 0.0):
    """Write two price files, a spec and one event on D, run it; returns (result, spy, gld returns)."""
    import backtests

    prices = tmp_path / "prices"
    prices.mkdir()
    for ticker, daily in (("SPY", _spy), ("GLD", _gld)):
        level, lines = 100.0, ["Date,Close"]
        for i, day in enumerate(RUN_DAYS):
            level *= 1.0 + daily(i)
            lines.append(f"{day:%Y-%m-%d},{level!r}")
        (prices / f"{ticker}.csv").write_text("\n".join(lines) + "\n")
    spec = tmp_path / "oracle.toml"
    spec.write_text(RUN_SPEC.format(commission=commission, slippage=slippage))
    events = tmp_path / "events.csv"
    events.write_text(
        "date,title,category,direction,severity,public_at\n"
        f"{RUN_DAYS[NEWS]:%Y-%m-%d},Zorblax embargo,tariff,escalation,5,{public_at}\n"
    )
    result = backtests.run(str(spec), prices=str(prices), events=[str(events)])
    closes = {t: pd.read_csv(prices / f"{t}.csv")["Close"].to_numpy() for t in ("SPY", "GLD")}
    simple = {t: np.concatenate([[0.0], c[1:] / c[:-1] - 1.0]) for t, c in closes.items()}
    return result, simple["SPY"], simple["GLD"]


@pytest.mark.parametrize(
    ("public_at", "switch"),
    [
        pytest.param("2031-07-28T15:00-04:00", NEWS, id="15:00-ET-trades-at-the-close-of-D"),
        pytest.param("2031-07-28T16:05-04:00", NEWS + 1, id="16:05-ET-trades-at-the-close-of-D+1"),
        pytest.param("", NEWS + 1, id="date-only-trades-at-the-close-of-D+1"),
    ],
)
def test_whole_run_switches_at_the_first_tradable_close(tmp_path, public_at, switch):
    assert RUN_DAYS[NEWS] == pd.Timestamp("2031-07-28") and RUN_DAYS[NEWS].day_of_week == 0
    result, spy, gld = _run_market(tmp_path, public_at)
    assert list(result.returns.index) == list(RUN_DAYS)
    got = result.returns.to_numpy()
    # Without costs, the return of day t is earned on the holdings traded at the close of t - 1:
    # SPY up to and including the switch day, GLD afterwards.
    expected = np.concatenate([spy[: switch + 1], gld[switch + 1 :]])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert got[NEWS] == pytest.approx(-0.10, abs=1e-12)  # D's own crash is never avoided
    assert sorted(set(pd.to_datetime(result.trades["date"]))) == [RUN_DAYS[0], RUN_DAYS[switch]]
    assert list(result.firings["date"]) == [RUN_DAYS[switch]]


def test_whole_run_with_costs_the_switch_day_return_carries_the_trade_costs(tmp_path):
    commission, slippage = 10.0, 5.0
    result, spy, _ = _run_market(tmp_path, "", commission=commission, slippage=slippage)
    c, s = commission / 1e4, slippage / 1e4
    # Close of D+1: sell all SPY at p(1 - s) less commission, buy GLD at g(1 + s) plus commission.
    # Equity just after the trade = SPY value x (1 - s)(1 - c) / ((1 + s)(1 + c)).
    expected = (1.0 + spy[NEWS + 1]) * (1 - s) * (1 - c) / ((1 + s) * (1 + c)) - 1.0
    assert result.returns.iloc[NEWS + 1] == pytest.approx(expected, abs=1e-9)
    assert result.returns.iloc[NEWS + 1] != pytest.approx(spy[NEWS + 1], abs=1e-6)
    assert result.returns.iloc[NEWS] == pytest.approx(spy[NEWS], abs=1e-12)  # D itself: untouched

"""Tests of the synthetic demo market (``backtests.data.demo``) and its calibration tool."""

from __future__ import annotations

import importlib.util
import math
import warnings
from pathlib import Path

import exchange_calendars
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtests.data.demo import ORIGIN, demo_prices, demo_tickers, event_shocks, load_calibration
from backtests.data.frames import SYNTHETIC_LABEL
from backtests.errors import UserInputError

ROOT = Path(__file__).resolve().parents[1]
HAVENS = ("GLD", "IAU", "TLT", "IEF", "UUP", "FXY", "FXF")
CATEGORIES = ("tariff", "export_control", "sanctions", "trade_talks", "military", "policy")
# conftest's autouse fixture only sets env vars, which these examples do not read.
FIXTURE_OK = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _load_tool():
    path = ROOT / "tools" / "calibrate_demo.py"
    spec = importlib.util.spec_from_file_location("calibrate_demo", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _events(*rows: tuple[str, str, str, int]) -> pd.DataFrame:
    """An events table with the calendar's columns that the demo market reads, plus a title."""
    return pd.DataFrame(
        {
            "date": [pd.Timestamp(r[0]) for r in rows],
            "category": [r[1] for r in rows],
            "direction": [r[2] for r in rows],
            "severity": [r[3] for r in rows],
            "title": [f"test event {i}" for i in range(len(rows))],
        }
    )


def _xnys_sessions(first, last) -> pd.DatetimeIndex:
    """NYSE sessions straight from exchange_calendars (not through backtests.data.calendars)."""
    with warnings.catch_warnings():  # exchange_calendars trips pandas 3 deprecation warnings
        warnings.simplefilter("ignore", DeprecationWarning)
        end = pd.Timestamp.today().normalize() + pd.Timedelta(days=60)
        calendar = exchange_calendars.get_calendar("XNYS", start="2009-01-02", end=end)
    return pd.DatetimeIndex(calendar.sessions_in_range(first, last), name="date")


@pytest.fixture(scope="module")
def full_market() -> pd.DataFrame:
    """All tickers, 2010-present, default seed, no events."""
    return demo_prices(demo_tickers()).closes


# --- determinism and independence of the requested range -------------------------------------


def test_same_seed_gives_identical_frames(full_market: pd.DataFrame) -> None:
    again = demo_prices(demo_tickers(), seed=7)
    pd.testing.assert_frame_equal(again.closes, full_market, check_exact=True)


def test_different_seed_gives_a_different_path(full_market: pd.DataFrame) -> None:
    other = demo_prices(demo_tickers(), seed=8).closes
    assert other.shape == full_market.shape
    assert not np.allclose(other["SPY"].to_numpy()[1:], full_market["SPY"].to_numpy()[1:])


@FIXTURE_OK
@given(
    first=st.integers(min_value=0, max_value=4000),
    length=st.integers(min_value=1, max_value=600),
    picks=st.lists(st.sampled_from(demo_tickers()), min_size=1, max_size=4, unique=True),
)
def test_values_do_not_depend_on_requested_range_or_tickers(
    full_market: pd.DataFrame, first: int, length: int, picks: list[str]
) -> None:
    """A window of a few tickers equals the same cells of the full 2010-present market."""
    dates = full_market.index
    start, end = dates[first], dates[min(first + length, len(dates) - 1)]
    window = demo_prices(picks, start, end).closes
    pd.testing.assert_frame_equal(window, full_market.loc[start:end, picks], check_exact=True)


# --- shape of the output (PriceData contract) -------------------------------------------------


def test_output_follows_the_price_data_contract(full_market: pd.DataFrame) -> None:
    data = demo_prices(["SPY", "MP"], pd.Timestamp("2019-01-01"), pd.Timestamp("2021-01-01"))
    assert data.source == "demo" and data.synthetic and data.label == SYNTHETIC_LABEL
    assert data.notes[0].startswith(SYNTHETIC_LABEL)
    assert "MP: demo history starts 2020-06-22 (fund inception)" in data.notes
    closes = data.closes
    assert closes.index.name == "date" and closes.index.dtype == "datetime64[ns]"
    assert closes.index.is_monotonic_increasing and closes.index.is_unique
    assert list(closes.columns) == ["SPY", "MP"] and (closes.dtypes == "float64").all()
    assert closes.index[0] == pd.Timestamp("2019-01-02")  # New Year's Days are NYSE holidays
    assert closes.index[-1] == pd.Timestamp("2020-12-31")
    assert closes.index.isin(_xnys_sessions("2019-01-01", "2021-01-01")).all()
    assert full_market.index[0] == ORIGIN == pd.Timestamp("2010-01-04")
    today = pd.Timestamp.today().normalize()
    assert full_market.index.equals(pd.DatetimeIndex(_xnys_sessions(ORIGIN, today), name="date"))


def test_demo_prices_follow_the_chosen_exchange_calendar() -> None:
    """Before: business days, so the demo market 'traded' on US holidays such as 4 July."""
    us = demo_prices(["SPY"], "2024-07-01", "2024-07-09").closes
    assert us.index.strftime("%m-%d").tolist() == ["07-01", "07-02", "07-03", "07-05", "07-08", "07-09"]
    hk = demo_prices(["SPY"], "2024-07-01", "2024-07-09", calendar="XHKG").closes
    assert hk.index.strftime("%m-%d").tolist() == ["07-02", "07-03", "07-04", "07-05", "07-08", "07-09"]
    again = demo_prices(["spy"], "2024-07-03", "2024-07-08", calendar="XHKG").closes
    pd.testing.assert_frame_equal(again, hk.loc["2024-07-03":"2024-07-08"], check_exact=True)


def test_ragged_starts_nan_before_first_date_positive_after(full_market: pd.DataFrame) -> None:
    mp = full_market["MP"]
    assert mp.loc[:"2020-06-19"].isna().all()
    assert mp.loc["2020-06-22"] == 100.0
    table = load_calibration().table
    for ticker in full_market.columns:
        first = max(table.loc[ticker, "first_date"], ORIGIN)
        live = full_market[ticker].loc[first:]
        assert full_market[ticker].loc[: first - pd.Timedelta(days=1)].isna().all(), ticker
        assert live.iloc[0] == 100.0, ticker
        assert np.isfinite(live).all() and (live > 0).all(), ticker
    assert full_market["GRID"].iloc[0] == 100.0  # real start 2009-11-17, clipped to the origin


# --- statistics against the calibration table -------------------------------------------------


@pytest.mark.parametrize("seed", [7, 11, 2024])
def test_statistics_match_the_calibration_within_stated_tolerances(seed: int) -> None:
    """Over 2010-present with events=None, for every ticker:

    - annualised vol within +-15% (relative) of the table's ``vol``;
    - mean annual log return within 3 x vol / sqrt(years of history) of ``drift``
      (3 standard errors of a sample mean of i.i.d. returns);
    - excess kurtosis > 0 for every ticker with dof <= 8 (Student-t: 6 / (dof - 4));
    and correlations of SPY-QQQ, SPY-TLT, SPY-GLD, FXI-MCHI within +-0.1 of the table.
    """
    calibration = load_calibration()
    table = calibration.table
    returns = np.log(demo_prices(demo_tickers(), seed=seed).closes).diff()
    for ticker in table.index:
        r = returns[ticker].dropna()
        years = len(r) / 252
        vol, drift = table.loc[ticker, "vol"], table.loc[ticker, "drift"]
        assert abs(r.std() * math.sqrt(252) / vol - 1) <= 0.15, ticker
        assert abs(r.mean() * 252 - drift) <= 3 * vol / math.sqrt(years), ticker
        if table.loc[ticker, "dof"] <= 8:
            assert r.kurt() > 0, ticker
    for a, b in (("SPY", "QQQ"), ("SPY", "TLT"), ("SPY", "GLD"), ("FXI", "MCHI")):
        assert abs(returns[a].corr(returns[b]) - calibration.corr.loc[a, b]) <= 0.1, (a, b)


def test_calibration_tables_are_consistent() -> None:
    calibration = load_calibration()
    corr = calibration.corr.to_numpy()
    tickers = list(calibration.table.index)
    assert list(calibration.corr.index) == tickers == list(calibration.corr.columns)
    assert np.array_equal(corr, corr.T) and (np.diag(corr) == 1.0).all()
    assert np.linalg.eigvalsh(corr).min() > 0
    assert calibration.table["dof"].between(3, 30).all()
    assert (calibration.table["vol"] > 0).all()


# --- event shocks -----------------------------------------------------------------------------


def test_escalation_moves_spy_down_and_gld_up_on_the_next_session() -> None:
    """Friday 2019-05-10 tariff escalation, severity 5: day 1 is Monday 2019-05-13.

    By hand from the documented tables: day-1 gap SPY -0.04, GLD +0.015, FXI -0.06 (China,
    tariff); by day 10 (2019-05-24) 1.25 x that; from day 60 on, no gap. Counting NYSE
    sessions (closed 2019-05-27 and 2019-07-04): day 60 is 2019-08-06.
    """
    tickers = ["SPY", "GLD", "FXI"]
    plain = demo_prices(tickers).closes
    events = _events(("2019-05-10", "tariff", "escalation", 5))
    shocked = demo_prices(tickers, events=events).closes
    gap = np.log(shocked / plain)
    day_one = np.array([-0.04, 0.015, -0.06])
    assert (gap.loc[:"2019-05-10"].abs() < 1e-12).all().all()
    np.testing.assert_allclose(gap.loc["2019-05-13"], day_one, atol=1e-12)
    np.testing.assert_allclose(gap.loc["2019-05-24"], 1.25 * day_one, atol=1e-12)
    assert (gap.loc["2019-08-06":].abs() < 1e-12).all().all()
    assert (gap.loc["2019-05-13":"2019-08-05", "SPY"] < 0).all()
    window = demo_prices(tickers, "2019-05-01", "2019-06-28", events=events).closes
    pd.testing.assert_frame_equal(window, shocked.loc["2019-05-01":"2019-06-28"], check_exact=True)


def test_deescalation_gives_a_smaller_relief_rally_that_fades() -> None:
    """Saturday 2019-06-29 trade truce, severity 3: day 1 is Monday 2019-07-01.

    By hand: SPY +0.4 x 0.04 x 3/5 = +0.0096; GLD -0.4 x 0.015 x 3/5 = -0.0036; the shocks
    sum to zero over the 60-day profile (the level returns to the path without the event).
    """
    calendar = _xnys_sessions("2019-06-24", "2019-10-31")
    events = _events(("2019-06-29", "trade_talks", "de-escalation", 3))
    shocks = event_shocks(events, calendar, ["SPY", "GLD"])
    assert shocks.loc["2019-07-01", "SPY"] == pytest.approx(0.0096)
    assert shocks.loc["2019-07-01", "GLD"] == pytest.approx(-0.0036)
    assert (shocks.loc[:"2019-06-28"] == 0).all().all()
    np.testing.assert_allclose(shocks.sum(), [0.0, 0.0], atol=1e-15)


def test_export_controls_lift_rare_earths_and_hit_china_and_chips_harder() -> None:
    calendar = _xnys_sessions("2023-07-03", "2023-07-07")
    tickers = ["REMX", "MP", "FXI", "SMH", "SPY"]
    export = event_shocks(
        _events(("2023-07-03", "export_control", "escalation", 5)), calendar, tickers
    )
    sanctions = event_shocks(
        _events(("2023-07-03", "sanctions", "escalation", 5)), calendar, tickers
    )
    day = pd.Timestamp("2023-07-05")  # the first session after 3 July (4 July is a holiday)
    assert export.loc[day, "REMX"] > 0 and export.loc[day, "MP"] > 0
    assert sanctions.loc[day, "REMX"] < 0
    assert export.loc[day, "FXI"] < sanctions.loc[day, "FXI"] < export.loc[day, "SPY"] < 0
    assert export.loc[day, "SMH"] < sanctions.loc[day, "SMH"]


def test_shocks_of_several_events_add_up_across_the_calendar_edges() -> None:
    """Policy escalations, severity 5 (SPY headline -0.04, then -0.04 x 0.25/9 = -c a day)."""
    calendar = _xnys_sessions("2020-01-06", "2020-01-10")
    events = _events(
        ("2020-01-06", "policy", "escalation", 5),  # two events, day 1 = 2020-01-07
        ("2020-01-06", "policy", "escalation", 5),
        ("2020-01-02", "policy", "escalation", 5),  # day 1 = 2020-01-03, its day 2 = 2020-01-06
        ("2020-01-10", "policy", "escalation", 5),  # day 1 = 2020-01-13, after the calendar
        ("2019-09-30", "policy", "escalation", 5),  # its 60 days end before the calendar
        ("2020-01-08", "policy", "escalation-ish", 5),  # not a direction: no shock
    )
    c = 0.04 * 0.25 / 9
    shocks = event_shocks(events, calendar, ["SPY"])
    assert shocks["SPY"].tolist() == pytest.approx([-c, -0.08 - c, -3 * c, -3 * c, -3 * c])


def test_shock_invariants_for_every_category_and_severity() -> None:
    """For each category and severity 1..5 (all 30 cases): an escalation lowers SPY, lifts every
    haven, hits China at least as hard as SPY; shocks are linear in severity; a de-escalation is
    -0.4 x the escalation. Every demo ticker has a shock group (no KeyError)."""
    calendar = _xnys_sessions("2024-03-04", "2024-03-05")
    tickers = list(demo_tickers())

    def shock(category: str, direction: str, severity: int) -> pd.Series:
        events = _events(("2024-03-04", category, direction, severity))
        return event_shocks(events, calendar, tickers).iloc[1]

    for category in CATEGORIES:
        full = shock(category, "escalation", 5)
        for severity in range(1, 6):
            up = shock(category, "escalation", severity)
            down = shock(category, "de-escalation", severity)
            assert up["SPY"] < 0 and (up[list(HAVENS)] > 0).all(), (category, severity)
            assert (up[["FXI", "MCHI", "KWEB"]] <= up["SPY"]).all(), (category, severity)
            np.testing.assert_allclose(up, full * severity / 5, atol=1e-15)
            np.testing.assert_allclose(down, -0.4 * up, atol=1e-15)


def test_events_none_equals_empty_events() -> None:
    empty = _events(("2019-05-10", "tariff", "escalation", 5)).iloc[:0]
    with_empty = demo_prices(["SPY", "TLT"], events=empty).closes
    pd.testing.assert_frame_equal(with_empty, demo_prices(["SPY", "TLT"]).closes, check_exact=True)


# --- errors and range clipping ------------------------------------------------------------------


def test_unknown_ticker_names_it_and_lists_the_available_ones() -> None:
    with pytest.raises(UserInputError) as info:
        demo_prices(["SPY", "XYZ"])
    assert str(info.value) == (
        "the demo market has no ticker XYZ; it covers "
        + ", ".join(demo_tickers())
        + " (or use real prices with --prices DIR)"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tickers": []}, "no tickers requested from the demo market; name at least one, e.g. SPY"),
        (
            {"tickers": ["SPY"], "end": pd.Timestamp("2009-06-30")},
            "--end 2009-06-30 is before the demo market starts (2010-01-04); give a later end",
        ),
        (
            {"tickers": ["SPY"], "start": "2015-01-01", "end": "2014-01-01"},
            "--start 2015-01-01 is not before --end 2014-01-01; give a start earlier than the end",
        ),
        (
            {"tickers": ["SPY"], "start": "2015-01-03", "end": "2015-01-04"},
            "no XNYS session between 2015-01-03 and 2015-01-04 in the demo market;"
            " widen --start/--end",
        ),
        (
            {"tickers": ["SPY"], "events": pd.DataFrame({"date": [], "category": []})},
            "events table lacks column(s) direction, severity;"
            " the demo market needs date, category, direction, severity",
        ),
    ],
)
def test_user_errors_have_one_line_messages(kwargs: dict, message: str) -> None:
    with pytest.raises(UserInputError) as info:
        demo_prices(**kwargs)
    assert str(info.value) == message


def test_range_outside_the_demo_market_is_clipped_with_notes(full_market: pd.DataFrame) -> None:
    far_end = pd.Timestamp.today().normalize() + pd.Timedelta(days=400)
    data = demo_prices(["SPY"], pd.Timestamp("2005-01-01"), far_end)
    pd.testing.assert_frame_equal(data.closes, full_market[["SPY"]], check_exact=True)
    assert "demo market starts 2010-01-04; requested start 2005-01-01 moved to it" in data.notes
    assert any(note.startswith("demo market ends today") for note in data.notes)
    late = demo_prices(["MP"], end=pd.Timestamp("2015-01-02"))
    assert late.closes["MP"].isna().all()
    assert "MP: demo history starts after 2015-01-02 (fund inception)" in late.notes


# --- calibration tool -------------------------------------------------------------------------


def test_dof_from_kurtosis_by_hand() -> None:
    tool = _load_tool()
    assert tool.dof_from_kurtosis(6.0) == 5.0  # 4 + 6/6
    assert tool.dof_from_kurtosis(0.5) == 16.0  # 4 + 6/0.5
    assert tool.dof_from_kurtosis(0.1) == 30.0  # 64, clipped
    assert tool.dof_from_kurtosis(-1.0) == 30.0  # thinner than normal: the upper bound
    assert tool.dof_from_kurtosis(float("nan")) == 30.0


def test_nearest_correlation_repairs_only_what_is_broken() -> None:
    tool = _load_tool()
    good = np.array([[1.0, 0.5], [0.5, 1.0]])
    np.testing.assert_allclose(tool.nearest_correlation(good), good, atol=1e-12)
    broken = np.array([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]])  # indefinite
    repaired = tool.nearest_correlation(broken)
    assert np.linalg.eigvalsh(repaired).min() > 0 and (np.diag(repaired) == 1.0).all()


def test_calibrate_on_a_hand_made_series() -> None:
    """Log returns alternate +0.03, -0.01: mean 0.01, sample sd 0.02 x sqrt(100/99), kurtosis -2."""
    tool = _load_tool()
    dates = pd.bdate_range("2012-01-02", periods=101, name="Date")
    steps = np.where(np.arange(100) % 2 == 0, 0.03, -0.01)
    close = pd.Series(50 * np.exp(np.concatenate([[0.0], np.cumsum(steps)])), index=dates)
    other = pd.Series(np.exp(np.concatenate([[0.0], np.cumsum(-steps)])), index=dates)
    table, corr = tool.calibrate({"AAA": close, "BBB": other})
    row = table.set_index("ticker").loc["AAA"]
    assert row["first_date"] == "2012-01-02"
    assert row["drift"] == pytest.approx(0.01 * 252)
    assert row["vol"] == pytest.approx(0.02 * math.sqrt(100 / 99) * math.sqrt(252))
    assert row["dof"] == 30.0
    # perfectly opposite returns: -1, pulled in slightly by the eigenvalue floor
    assert corr.loc["AAA", "BBB"] == pytest.approx(-1.0, abs=0.02)


@pytest.mark.shared
def test_committed_tables_are_what_the_tool_computes(shared_data: Path, tmp_path: Path) -> None:
    """Re-running tools/calibrate_demo.py on ../shared/data reproduces the shipped CSVs byte for
    byte, and the demo market covers exactly the tickers of the real reference prices."""
    tool = _load_tool()
    assert tool.main(["--shared", str(shared_data), "--out-dir", str(tmp_path)]) == 0
    for name in ("demo_calibration.csv", "demo_correlations.csv"):
        shipped = ROOT / "backtests" / "data" / name
        assert (tmp_path / name).read_bytes() == shipped.read_bytes(), name
    real = sorted(path.stem for path in (shared_data / "prices").glob("*.csv"))
    assert list(demo_tickers()) == real

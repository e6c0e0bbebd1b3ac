"""``backtests.events.check`` and ``backtest events check``: chains, tickers, reactions, Spearman.

Reactions and correlations are checked against figures worked out by hand in
the comments (and Spearman also against scipy), never against the code's output.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from backtests.cli import cli
from backtests.events import calendar
from backtests.events.calendar import events_frame, load_events
from backtests.events.check import (
    average_ranks,
    chain_problems,
    check_events,
    looks_like_ticker,
    reactions,
    says_takes_effect,
    severity_correlations,
    spearman,
)

FIXTURES = Path(__file__).parent / "fixtures" / "events"
CHAIN_ERRORS = FIXTURES / "chain_errors.csv"
CLEAN = FIXTURES / "check_clean.csv"


@pytest.fixture(autouse=True)
def fixture_curated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calendar, "curated_events_dir", lambda: FIXTURES / "curated")


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


# --- chains and the title heuristic ----------------------------------------------------------


def test_chain_errors_name_the_step_dated_before_its_news_and_allow_later_news():
    found = [str(f) for f in chain_problems(load_events([CHAIN_ERRORS], include_curated=False))]
    # Row 7 (the ban widened after it took effect) is new information in the same chain: allowed.
    assert found == [
        "chain_errors.csv:3:stage: effective row dated 2019-05-03 comes before the announced row chain_errors.csv:2 "
        "dated 2019-05-05 of chain hike; a step cannot be signed or take effect before its news: fix the date or "
        "the stage",
        "chain_errors.csv:8:stage: the title says the measure takes effect but the stage is announced; set stage "
        "to effective (or reword the title if the row brings new information)",
    ]


def test_a_well_ordered_chain_has_no_errors():
    assert chain_problems(load_events([CLEAN], include_curated=False)) == []


@pytest.mark.parametrize(
    ("title", "flagged"),
    [
        ("US List 1 tariffs take effect", True),
        ("Tariff TAKES EFFECT on Monday", True),
        ("Controls took effect", True),
        ("Ban goes into effect", True),
        ("Phase One enters into force", True),
        ("Rules came into force", True),
        ("Duties kick in", True),
        ("New duties take effect immediately", False),  # announced and in force at once
        ("China announces export licensing (effective 1 Aug)", False),  # an announcement with a date
        ("Trump threatens tariffs", False),
        ("Side effects of sanctions", False),
    ],
)
def test_the_takes_effect_heuristic(title, flagged):
    assert says_takes_effect(title) is flagged


@pytest.mark.parametrize(
    ("asset", "ticker"),
    [("FXI", True), ("SOXX", True), ("BRK.B", True), ("rare_earths", False), ("steel", False), ("Fxi", False),
     ("TOOLONGX", False), ("3M", False)],
)
def test_tickers_are_upper_case_symbols_and_sector_tags_are_not(asset, ticker):
    assert looks_like_ticker(asset) is ticker


def test_tickers_listed_after_the_event_are_warnings_and_unknown_ones_are_listed_once():
    events = load_events([CLEAN, CHAIN_ERRORS], include_curated=False)
    report = check_events(events)  # first dates: the demo market's real inception dates
    assert [str(w) for w in report.warnings] == [
        "check_clean.csv:2:assets: REMX did not exist yet on 2010-03-01 (first price 2010-10-28)"
    ]
    assert report.unknown_tickers == ("KARS",)
    given_dates = check_events(events, first_dates={"FXI": pd.Timestamp("2019-05-06")})
    assert [str(w) for w in given_dates.warnings] == [  # in the frame's order: by date, then file
        "chain_errors.csv:3:assets: FXI did not exist yet on 2019-05-03 (first price 2019-05-06)",
        "check_clean.csv:3:assets: FXI did not exist yet on 2019-05-05 (first price 2019-05-06)",
        "chain_errors.csv:2:assets: FXI did not exist yet on 2019-05-05 (first price 2019-05-06)",
    ]


# --- reactions -------------------------------------------------------------------------------

DAYS = pd.bdate_range("2024-01-01", periods=80, name="date")
D = 70  # the news day's position


def _closes(returns: dict[int, float], base: float = 0.01) -> pd.Series:
    """Closes whose daily return is +base on odd positions, -base on even ones, except ``returns``."""
    daily = [0.0] + [returns.get(i, base if i % 2 else -base) for i in range(1, len(DAYS))]
    return pd.Series(100.0 * np.cumprod([1.0 + r for r in daily]), index=DAYS)


def _event(day: int, assets: tuple[str, ...] = (), public_at: str | None = None, **fields) -> dict:
    return {
        "date": DAYS[day], "title": "x", "category": "tariff", "direction": "escalation", "severity": 3,
        "countries": (), "assets": assets, "source": "", "notes": "", "origin": f"t.csv:{day}",
        "public_at": None if public_at is None else pd.Timestamp(public_at), **fields,
    }


def test_reactions_are_first_session_returns_in_units_of_trailing_volatility():
    closes = {
        "SPY": _closes({D + 1: -0.03}),
        "FXI": _closes({D + 1: -0.05}, base=0.02),
        "GLD": _closes({D + 1: 0.01}, base=0.0),
    }
    events = events_frame([
        _event(D),                                            # date-only: session D+1, SPY
        _event(D, ("FXI", "rare_earths")),                     # FXI only (the tag is not a ticker)
        _event(D, ("FXI", "GLD")),                            # equal-weight basket
        _event(D, ("XLE",)),                                  # XLE has no prices: SPY
        _event(D, public_at=f"{DAYS[D]:%Y-%m-%d}T15:00-04:00"),  # 15:00 EDT, before the close: session D
        _event(30),                                           # only 31 returns before: no reaction
    ])
    table = reactions(events, closes)
    # Window: the 60 returns before the session alternate +-b (30 each): mean 0, sample std b*sqrt(60/59).
    unit = math.sqrt(60 / 59)
    assert table["session"].tolist()[:5] == [DAYS[D + 1]] * 4 + [DAYS[D]]
    assert table["basis"].tolist() == ["SPY", "FXI", "FXI;GLD", "SPY", "SPY", ""]
    expected = [
        -0.03 / (0.01 * unit),
        -0.05 / (0.02 * unit),
        (-0.05 + 0.01) / 2 / (0.01 * unit),  # basket: FXI +-0.02 and GLD 0 -> +-0.01
        -0.03 / (0.01 * unit),
        -0.01 / (0.01 * unit),  # position 70 is even: the session's return is -0.01
    ]
    np.testing.assert_allclose(table["reaction"].to_numpy()[:5], expected, rtol=1e-9)
    assert math.isnan(table["reaction"].iloc[5]) and table["session"].iloc[5] == DAYS[31]


def test_a_ticker_not_priced_over_the_whole_window_falls_back_to_spy():
    late = _closes({D + 1: -0.05}).where(DAYS >= DAYS[40])  # listed on day 40: window starts at 11
    table = reactions(events_frame([_event(D, ("FXI",))]), {"SPY": _closes({D + 1: -0.03}), "FXI": late})
    assert table["basis"].tolist() == ["SPY"]


# --- Spearman --------------------------------------------------------------------------------


def test_spearman_matches_a_hand_computation_with_ties():
    # x ranks 1, 2.5, 2.5, 4, 5 and y ranks 2, 1, 3, 4, 5 (means 3):
    # dx = -2, -.5, -.5, 1, 2; dy = -1, -2, 0, 1, 2; sum dx dy = 8, sum dx^2 = 9.5, sum dy^2 = 10.
    x, y = [1, 2, 2, 3, 5], [0.5, 0.2, 0.9, 1.5, 3.0]
    assert average_ranks(x).tolist() == [1, 2.5, 2.5, 4, 5]
    assert spearman(x, y) == pytest.approx(8 / math.sqrt(95), abs=1e-12)
    assert spearman([1, 2], [3, 4]) is None  # too few pairs
    assert spearman([3, 3, 3], [1, 2, 3]) is None  # constant side


@given(
    st.lists(st.tuples(st.integers(1, 5), st.floats(0, 10, allow_nan=False)), min_size=3, max_size=40)
)
def test_spearman_agrees_with_scipy(pairs):
    x, y = [p[0] for p in pairs], [p[1] for p in pairs]
    expected = stats.spearmanr(x, y).statistic if len(set(x)) > 1 and len(set(y)) > 1 else None
    got = spearman(x, y)
    assert (got is None) == (expected is None)
    if got is not None:
        assert got == pytest.approx(float(expected), abs=1e-9)


def test_correlations_by_category_then_overall_use_the_size_of_the_reaction():
    table = pd.DataFrame(
        {
            "category": ["tariff"] * 3 + ["military"] * 2 + ["tariff"],
            "severity": [1, 3, 5, 2, 4, 2],
            "reaction": [0.1, -2.0, 3.0, 1.0, -0.5, math.nan],  # the NaN row is left out
        }
    )
    out = severity_correlations(table)
    assert out["category"].tolist() == ["military", "tariff", "all"]
    assert out["n"].tolist() == [2, 3, 5]
    assert out["spearman"].iloc[0] is None or math.isnan(out["spearman"].iloc[0])
    assert out["spearman"].iloc[1] == pytest.approx(1.0)  # |r| 0.1 < 2 < 3 with severity 1 < 3 < 5
    # all: severity 1,3,5,2,4 -> ranks 1,3,5,2,4; |r| .1,2,3,1,.5 -> ranks 1,4,5,3,2;
    # d = 0,-1,0,-1,2 -> rho = 1 - 6 * 6 / (5 * 24) = 0.7
    assert out["spearman"].iloc[2] == pytest.approx(0.7, abs=1e-12)


# --- the command -----------------------------------------------------------------------------


def test_check_exits_2_on_errors_and_prints_them_one_per_line():
    result = run("events", "check", "--no-curated", "--events", str(CHAIN_ERRORS))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert [line.split(":stage:")[0] for line in lines[:2]] == ["error: chain_errors.csv:3", "error: chain_errors.csv:8"]
    assert lines[-2:] == ["not checked (no known first price): KARS", "2 errors, 0 warnings"]


def test_check_warnings_do_not_fail():
    result = run("events", "check", "--no-curated", "--events", str(CLEAN))
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "warning: check_clean.csv:2:assets: REMX did not exist yet on 2010-03-01 (first price 2010-10-28)",
        "0 errors, 1 warnings",
    ]


def test_check_with_prices_reports_reactions_as_json(tmp_path: Path):
    prices = tmp_path / "prices"
    prices.mkdir()
    for ticker, series in (("SPY", _closes({D + 1: -0.03})), ("FXI", _closes({D + 1: -0.05}, base=0.02))):
        lines = ["Date,Close"] + [f"{d:%Y-%m-%d},{v!r}" for d, v in series.items()]
        (prices / f"{ticker}.csv").write_text("\n".join(lines) + "\n")
    events = tmp_path / "mine.csv"
    events.write_text(
        "date,title,category,direction,severity,assets\n"
        f"{DAYS[D]:%Y-%m-%d},Tariffs,tariff,escalation,4,FXI\n"
        f"{DAYS[D - 1]:%Y-%m-%d},Sanctions,sanctions,escalation,2,\n"
    )
    result = run("events", "check", "--no-curated", "--events", str(events), "--prices", str(prices), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) == {"errors", "warnings", "unknown_tickers", "reactions", "correlations"}
    first = report["reactions"][1]
    assert (first["date"], first["session"], first["basis"]) == (
        f"{DAYS[D]:%Y-%m-%d}", f"{DAYS[D + 1]:%Y-%m-%d}", "FXI"
    )
    assert first["reaction"] == pytest.approx(-0.05 / (0.02 * math.sqrt(60 / 59)), abs=1e-6)
    assert [c["category"] for c in report["correlations"]] == ["sanctions", "tariff", "all"]
    assert all(c["spearman"] is None for c in report["correlations"])  # fewer than 3 events each


def test_check_help_says_it_never_feeds_a_trigger():
    result = run("events", "check", "--help")
    assert result.exit_code == 0
    words = " ".join(result.stdout.split())
    assert "This is a check on the severity rubric (data/events/README.md), never an input to a trigger" in words
    assert "Example:\n" in result.stdout

"""End-to-end oracles for ``inputs.load_inputs`` + ``pipeline.run_strategy`` on a tiny synthetic market.

Two tickers (SPY, GLD), 60 business days in 2031 (after every curated event),
written as ``TICKER.csv`` files and read through ``prices_dir``. One user event
(keyword ``zorblax``, which no curated title contains) is dated on the crash day
``D`` (SPY -20%). Every expected figure is computed here from the CSV text, with
plain Python/numpy, not from the code under test.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtests import pipeline
from backtests.inputs import load_inputs
from backtests.strategy import load_spec

N_DAYS = 60
CRASH = 30  # position of D in the calendar
CASH = 100_000.0
DAYS = pd.bdate_range("2031-01-06", periods=N_DAYS)  # starts on a Monday


def _spy_returns() -> list[float]:
    out = [0.0]
    for i in range(1, N_DAYS):
        out.append(-0.20 if i == CRASH else (0.011 if i % 2 else -0.006))
    return out


def _gld_returns() -> list[float]:
    return [0.0] + [(0.004 if i % 3 else -0.007) for i in range(1, N_DAYS)]


def _write_prices(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for ticker, start, rets in (("SPY", 100.0, _spy_returns()), ("GLD", 50.0, _gld_returns())):
        price, rows = start, []
        for day, r in zip(DAYS, rets):
            price *= 1.0 + r
            rows.append(f"{day:%Y-%m-%d},{price!r}")
        (folder / f"{ticker}.csv").write_text("Date,Close\n" + "\n".join(rows) + "\n")
    return folder


def _read_closes(folder: Path, ticker: str) -> list[float]:
    """The closes as written in the CSV (second method: the csv module, not the loader)."""
    with open(folder / f"{ticker}.csv", newline="") as fh:
        return [float(row["Close"]) for row in csv.DictReader(fh)]


def _simple_returns(closes: list[float]) -> list[float]:
    return [0.0] + [closes[i] / closes[i - 1] - 1.0 for i in range(1, len(closes))]


SPEC = """\
name = "oracle"
benchmark = "SPY"
cash = 100000.0
calendar = "24/5"  # every weekday a session: the oracle's calendar is plain business days

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
commission_bps = 0.0
slippage_bps = 0.0
"""


@pytest.fixture
def market(tmp_path: Path) -> dict[str, Path]:
    prices = _write_prices(tmp_path / "prices")
    spec = tmp_path / "oracle.toml"
    spec.write_text(SPEC)
    return {"prices": prices, "spec": spec, "root": tmp_path}


def _events_file(root: Path, date: str) -> Path:
    path = root / "events.csv"
    path.write_text(
        "date,title,category,direction,severity\n"
        f"{date},Zorblax embargo announced,tariff,escalation,5\n"
    )
    return path


def _run(market: dict[str, Path], event_date: str, overrides: tuple[str, ...] = ()):
    spec = load_spec(str(market["spec"]), overrides)
    events = _events_file(market["root"], event_date)
    inputs = load_inputs(spec, prices=str(market["prices"]), events=[str(events)])
    return pipeline.run_strategy(inputs)


D = DAYS[CRASH]
SATURDAY_BEFORE_D = D - pd.Timedelta(days=(D.day_of_week + 2) % 7)  # a Saturday: public before Monday's open


def test_calendar_setup_is_what_the_oracle_assumes():
    assert D.day_of_week == 0, "D must be a Monday so the Saturday case is stamped on D itself"
    assert SATURDAY_BEFORE_D.day_of_week == 5 and SATURDAY_BEFORE_D + pd.Timedelta(days=2) == D


@pytest.mark.parametrize(
    ("event_date", "overrides", "switch"),
    [
        pytest.param(f"{D:%Y-%m-%d}", (), CRASH + 1, id="lag1-trade-at-close-of-D+1"),
        # Public by the end of Saturday: the first close after it is Monday's (D), so it trades there.
        pytest.param(f"{SATURDAY_BEFORE_D:%Y-%m-%d}", (), CRASH, id="saturday-trades-at-monday-close"),
        pytest.param(f"{D:%Y-%m-%d}", ("triggers.shock.lag=0",), CRASH, id="lag0-trade-at-close-of-D"),
        pytest.param(f"{D:%Y-%m-%d}", ("triggers.shock.lag=2",), CRASH + 2, id="lag2"),
    ],
)
def test_no_look_ahead_through_the_whole_pipeline(market, event_date, overrides, switch):
    result = _run(market, event_date, overrides)
    spy = _simple_returns(_read_closes(market["prices"], "SPY"))
    gld = _simple_returns(_read_closes(market["prices"], "GLD"))
    assert spy[CRASH] == pytest.approx(-0.20, abs=1e-12)  # the setup: D is the crash day

    got = result.returns
    assert list(got.index) == list(DAYS)
    # Up to and including the switch day the portfolio is 100% SPY, untouched.
    expected = spy[: switch + 1] + gld[switch + 1 :]
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=0, atol=1e-12)
    if switch > CRASH:
        assert got.loc[D] == pytest.approx(-0.20, abs=1e-12)  # the crash is taken in full
        assert got.iloc[CRASH + 1] == pytest.approx(spy[CRASH + 1], abs=1e-12)

    weights = result.weights
    assert weights.loc[DAYS[switch - 1], "SPY"] == pytest.approx(1.0, abs=1e-9)
    assert weights.loc[DAYS[switch - 1], "GLD"] == pytest.approx(0.0, abs=1e-9)
    assert weights.loc[DAYS[switch], "GLD"] == pytest.approx(1.0, abs=1e-9)
    assert weights.loc[DAYS[switch], "SPY"] == pytest.approx(0.0, abs=1e-9)
    if switch > CRASH:
        assert weights.loc[D].to_dict() == pytest.approx({"SPY": 1.0, "GLD": 0.0}, abs=1e-9)

    # Trades: the initial purchase, then one switch at the close of `switch`.
    trade_days = sorted(set(pd.to_datetime(result.trades["date"])))
    assert trade_days == [DAYS[0], DAYS[switch]]
    # Exactly one firing, effective on the switch day, raw on the stamped day D.
    assert list(result.firings["date"]) == [DAYS[switch]]
    assert list(result.firings["raw_date"]) == [D]
    # The benchmark is SPY itself.
    np.testing.assert_allclose(result.benchmark_returns.to_numpy(), spy, rtol=0, atol=1e-12)


def test_equity_compounds_the_oracle_returns(market):
    result = _run(market, f"{D:%Y-%m-%d}")
    spy = _read_closes(market["prices"], "SPY")
    gld = _read_closes(market["prices"], "GLD")
    switch = CRASH + 1
    # Without costs: all of the cash in SPY at the first close, all of it in GLD at the switch close.
    shares_spy = CASH / spy[0]
    shares_gld = shares_spy * spy[switch] / gld[switch]
    assert result.metrics["strategy"]["final_value"] == pytest.approx(shares_gld * gld[-1], rel=1e-9)
    assert result.equity.iloc[CRASH] == pytest.approx(shares_spy * spy[CRASH], rel=1e-9)


def _independent_execution(spy: list[float], gld: list[float], switch: int, commission: float, slip: float):
    """The documented execution model for this one-switch case, written out in plain numpy.

    Day 0: buy SPY with all the cash at p(1+slip), commission on the fill value; the
    buy is trimmed to fit the cash. Close of ``switch``: sell every SPY share at
    p(1-slip) minus commission, then buy GLD with the proceeds (trimmed likewise).
    Equity = cash + sum(q p). (The executor also keeps a 1e-12 * V cash cushion:
    far below the 1e-9 tolerance.)
    """
    spy, gld = np.asarray(spy), np.asarray(gld)
    q_spy = CASH / (spy[0] * (1 + slip) * (1 + commission))
    cash = CASH - q_spy * spy[0] * (1 + slip) * (1 + commission)  # ~0
    equity = np.empty(len(spy))
    equity[: switch] = cash + q_spy * spy[:switch]
    cash += q_spy * spy[switch] * (1 - slip) * (1 - commission)
    q_gld = cash / (gld[switch] * (1 + slip) * (1 + commission))
    cash -= q_gld * gld[switch] * (1 + slip) * (1 + commission)
    equity[switch:] = cash + q_gld * gld[switch:]
    returns = np.concatenate([[equity[0] / CASH - 1.0], equity[1:] / equity[:-1] - 1.0])
    return equity, returns


@pytest.mark.parametrize(("commission_bps", "slippage_bps"), [(10.0, 5.0), (25.0, 0.0), (0.0, 30.0)])
def test_costs_match_an_independent_computation(market, commission_bps, slippage_bps):
    overrides = (f"costs.commission_bps={commission_bps}", f"costs.slippage_bps={slippage_bps}")
    result = _run(market, f"{D:%Y-%m-%d}", overrides)
    spy = _read_closes(market["prices"], "SPY")
    gld = _read_closes(market["prices"], "GLD")
    equity, returns = _independent_execution(spy, gld, CRASH + 1, commission_bps / 1e4, slippage_bps / 1e4)

    final = result.metrics["strategy"]["final_value"]
    assert abs(final / equity[-1] - 1.0) < 1e-9
    np.testing.assert_allclose(result.equity.to_numpy(), equity, rtol=1e-9, atol=0)
    np.testing.assert_allclose(result.returns.to_numpy(), returns, rtol=0, atol=1e-9)
    # The first day loses exactly the entry costs: r_0 = E_0 / cash - 1.
    assert result.returns.iloc[0] == pytest.approx(
        spy[0] / (spy[0] * (1 + slippage_bps / 1e4) * (1 + commission_bps / 1e4)) - 1.0, abs=1e-12
    )
    # Costs only ever lower the final value against the cost-free run.
    free = _independent_execution(spy, gld, CRASH + 1, 0.0, 0.0)[0][-1]
    assert final < free


def test_commissions_in_the_trade_log_are_rate_times_fill_value(market):
    result = _run(market, f"{D:%Y-%m-%d}", ("costs.commission_bps=10", "costs.slippage_bps=5"))
    trades = result.trades
    assert len(trades) == 3  # buy SPY; sell SPY and buy GLD at the switch
    spy = _read_closes(market["prices"], "SPY")
    sells = trades[trades["size"] < 0]
    assert len(sells) == 1 and sells.iloc[0]["ticker"] == "SPY"
    assert sells.iloc[0]["price"] == pytest.approx(spy[CRASH + 1] * (1 - 5e-4), rel=1e-12)
    expected_commission = 1e-3 * trades["size"].abs() * trades["price"]
    np.testing.assert_allclose(trades["commission"].to_numpy(), expected_commission.to_numpy(), rtol=1e-9)


def test_same_inputs_give_the_same_result(market):
    first = _run(market, f"{D:%Y-%m-%d}", ("costs.commission_bps=10",))
    second = _run(market, f"{D:%Y-%m-%d}", ("costs.commission_bps=10",))
    pd.testing.assert_series_equal(first.returns, second.returns, check_exact=True)
    assert first.metrics == second.metrics
    assert first.spec_toml == second.spec_toml

"""On real prices, 2015-2025: each mission strategy's base equals a separate run with the response off.

The base inside a run executes on the fast executor; the hand-made counterfactual
(``response.hedge_fraction = 0``, what a user would do with ``--set``) runs on
backtrader, the reference. Final values agree within 1e-9 relative, and the
hand-made run itself is never hedged.
"""

from __future__ import annotations

import pandas as pd
import pytest

from backtests import Strategy, run

MISSION = ("tariff-shock-hedge", "rare-earth-diversify", "green-infra-tilt", "gpr-regime-hedge")


@pytest.fixture(scope="module")
def gpr(shared_data) -> pd.DataFrame:
    frame = pd.read_csv(shared_data / "gpr" / "gpr_daily.csv", parse_dates=["date"], index_col="date")
    return frame.rename(columns={"gpr_index": "gpr"})[["gpr", "gpr_acts", "gpr_threats"]]


@pytest.mark.parametrize("name", MISSION)
def test_base_equals_the_hand_run_counterfactual(shared_data, gpr, name):
    period = {"prices": shared_data / "prices", "gpr": gpr, "start": "2015-01-01", "end": "2025-12-31"}
    strategy = Strategy.load(name)
    result = run(strategy, **period)
    by_hand = run(strategy.with_overrides({"response.hedge_fraction": 0.0}), **period)
    base, hand = result.metrics["base"], by_hand.metrics["strategy"]
    assert base["final_value"] == pytest.approx(hand["final_value"], rel=1e-9)
    assert base["cagr"] == pytest.approx(hand["cagr"], rel=1e-9, abs=1e-12)
    assert hand["time_hedged"] == 0.0 and by_hand.episodes.empty
    assert result.manifest["executors"] == {"strategy": "backtrader", "base": "fast"}
    # the hedge line's net figure is the strategy against this very base
    ratio = result.metrics["strategy"]["final_value"] / base["final_value"] - 1
    assert result.metrics["hedge"]["relative_return"] == pytest.approx(ratio, rel=1e-9)

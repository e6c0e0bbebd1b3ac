"""Parity: backtrader reference == fast executor, bit for bit; both == an independent plain-pandas computation.

Randomised (hypothesis) over targets, costs, schedules and drift on synthetic and real
tickers; plus the costs-never-help property and the 10-ticker, 11-year real-data run.
"""

from __future__ import annotations

from pathlib import Path

import numba
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtests.errors import BacktestError
from backtests.execution import fast_exec
from backtests.execution.backtrader_exec import run_backtrader
from backtests.execution.fast_exec import run_fast, simulate, simulate_responses
from backtests.execution.result import ExecutionResult
from backtests.execution.rules import SCHEDULES, CostModel, RebalanceRule
from backtests.metrics import summary_metrics
from backtests.portfolio.response import hedge_levels

REAL = ("SPY", "QQQ", "EEM", "FXI", "GLD", "TLT", "IEF", "UUP", "ICLN", "REMX")


def synthetic_closes(seed: int, n_days: int, n_assets: int, late: int) -> pd.DataFrame:
    """Random-walk closes; the last ticker lists ``late`` days in (NaN before)."""
    rng = np.random.default_rng(seed)
    prices = 50 * np.cumprod(1 + rng.normal(0.0003, 0.02, (n_days, n_assets)), axis=0)
    prices[:late, -1] = np.nan
    dates = pd.bdate_range("2021-12-27", periods=n_days, name="date")
    return pd.DataFrame(prices, index=dates, columns=[f"T{i}" for i in range(n_assets)])


def random_targets(closes: pd.DataFrame, seed: int, n_changes: int) -> pd.DataFrame:
    """Piecewise-constant random weight rows (some leave cash), 0 before a ticker lists."""
    rng = np.random.default_rng(seed + 1)
    n_days, n = closes.shape
    cuts = np.sort(rng.integers(1, n_days, n_changes))
    rows = rng.random((n_changes + 1, n)) * (rng.random((n_changes + 1, n)) > 0.3)
    rows /= np.maximum(rows.sum(axis=1, keepdims=True), 1e-9) / rng.choice(
        [1.0, 1.0, 0.8], (n_changes + 1, 1)
    )
    weights = rows[np.searchsorted(cuts, np.arange(n_days), side="right")]
    weights[closes.isna().to_numpy()] = 0.0
    return pd.DataFrame(weights, index=closes.index, columns=closes.columns)


def assert_same_path(a: ExecutionResult, b: ExecutionResult) -> None:
    """The same bits: equity, returns, weights, every fill and the turnover."""
    pd.testing.assert_series_equal(a.equity, b.equity, check_exact=True)
    pd.testing.assert_series_equal(a.returns, b.returns, check_exact=True)
    pd.testing.assert_frame_equal(a.weights, b.weights, check_exact=True)
    pd.testing.assert_frame_equal(a.trades, b.trades, check_exact=True)
    assert a.turnover == b.turnover and a.rejected_orders == b.rejected_orders == 0


def plain_pandas_equity(closes: pd.DataFrame, targets: pd.DataFrame, cash: float) -> pd.Series:
    """Zero costs, daily rebalance: the return of t is earned on the weights traded at t - 1."""
    asset_returns = closes.pct_change().fillna(0.0)
    portfolio = (targets.shift(1).fillna(0.0) * asset_returns).sum(axis=1)
    return cash * (1 + portfolio).cumprod()


costs_st = st.builds(
    CostModel, st.sampled_from([0.0, 1.0, 10.0, 50.0]), st.sampled_from([0.0, 2.0, 25.0])
)
rule_st = st.builds(
    RebalanceRule, st.sampled_from(SCHEDULES), st.sampled_from([0.0, 0.0, 0.02, 0.1])
)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    n_days=st.integers(15, 70),
    n_assets=st.integers(2, 4),
    late=st.integers(0, 10),
    n_changes=st.integers(0, 6),
    costs=costs_st,
    rule=rule_st,
)
def test_parity_synthetic(
    seed: int,
    n_days: int,
    n_assets: int,
    late: int,
    n_changes: int,
    costs: CostModel,
    rule: RebalanceRule,
) -> None:
    closes = synthetic_closes(seed, n_days, n_assets, late)
    targets = random_targets(closes, seed, n_changes)
    assert_same_path(
        run_backtrader(closes, targets, costs, rule, 10_000.0),
        run_fast(closes, targets, costs, rule, 10_000.0),
    )


@pytest.fixture(scope="module")
def real_closes(shared_data: Path) -> pd.DataFrame:
    """The 10 real tickers, 2015-01-01..2025-12-31, union calendar, forward-filled."""
    series = {
        t: pd.read_csv(shared_data / "prices" / f"{t}.csv", index_col="Date", parse_dates=True)[
            "Close"
        ]
        for t in REAL
    }
    closes = pd.DataFrame(series).sort_index().ffill().loc["2015-01-01":"2025-12-31"]
    closes.index.name = "date"
    return closes


@pytest.mark.shared
@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10**6), costs=costs_st, rule=rule_st)
def test_parity_real_windows(
    real_closes: pd.DataFrame, seed: int, costs: CostModel, rule: RebalanceRule
) -> None:
    rng = np.random.default_rng(seed)
    start = int(rng.integers(0, len(real_closes) - 120))
    closes = real_closes.iloc[start : start + 120, rng.choice(len(REAL), 3, replace=False)]
    targets = random_targets(closes, seed, 5)
    assert_same_path(
        run_backtrader(closes, targets, costs, rule, 1e6),
        run_fast(closes, targets, costs, rule, 1e6),
    )


def test_zero_cost_daily_matches_plain_pandas() -> None:
    closes = synthetic_closes(11, 60, 3, 0)
    targets = random_targets(closes, 11, 4)
    expected = plain_pandas_equity(closes, targets, 10_000.0)
    rule = RebalanceRule("daily", 0.0)
    for result in (
        run_backtrader(closes, targets, CostModel(), rule, 10_000.0),
        run_fast(closes, targets, CostModel(), rule, 10_000.0),
    ):
        np.testing.assert_allclose(result.equity.to_numpy(), expected.to_numpy(), rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    low=costs_st,
    extra_comm=st.floats(0, 30),
    extra_slip=st.floats(0, 30),
    rule=rule_st,
)
def test_costs_never_raise_final_equity(
    seed: int, low: CostModel, extra_comm: float, extra_slip: float, rule: RebalanceRule
) -> None:
    closes = synthetic_closes(seed, 50, 3, 5)
    targets = random_targets(closes, seed, 4)
    high = CostModel(low.commission_bps + extra_comm, low.slippage_bps + extra_slip)
    cheap = run_fast(closes, targets, low, rule, 1000.0).equity.iloc[-1]
    dear = run_fast(closes, targets, high, rule, 1000.0).equity.iloc[-1]
    assert dear <= cheap * (1 + 1e-12)


def test_simulate_matches_run_fast_per_configuration() -> None:
    closes = synthetic_closes(5, 80, 4, 12)
    n_days = len(closes)
    base = np.tile([0.6, 0.4, 0.0, 0.0], (n_days, 1))
    hedge = np.tile([0.0, 0.0, 0.5, 0.5], (n_days, 1))
    hedge[:12] = [0.0, 0.0, 1.0, 0.0]  # the last ticker is not listed yet
    shift = hedge - base
    exposure = np.zeros((5, n_days))
    exposure[1, 20:40], exposure[2, 5:70], exposure[3, :] = 1.0, 0.5, 0.25
    exposure[4, 30:] = np.linspace(0, 1, n_days - 30)
    costs, rule = CostModel(7.0, 3.0), RebalanceRule("weekly", 0.03)
    fast = simulate(
        closes.to_numpy(),
        base,
        shift,
        exposure,
        costs,
        rule,
        5000.0,
        dates=closes.index,
        keep_equity=True,
    )
    for c in range(len(exposure)):
        targets = pd.DataFrame(
            base + exposure[c][:, None] * shift, index=closes.index, columns=closes.columns
        )
        single = run_fast(closes, targets, costs, rule, 5000.0)
        np.testing.assert_array_equal(fast.equity[c], single.equity.to_numpy())
        assert fast.final_equity[c] == pytest.approx(single.equity.iloc[-1], rel=1e-12)
        assert fast.turnover[c] == pytest.approx(single.turnover, rel=1e-9)
        for key, value in summary_metrics(single.returns).items():
            assert fast.metrics[key][c] == pytest.approx(value, rel=1e-9, abs=1e-12), key
    assert fast.final_equity[0] != fast.final_equity[1]


def test_simulate_chunks_do_not_change_results(monkeypatch: pytest.MonkeyPatch) -> None:
    closes = synthetic_closes(8, 40, 2, 0)
    base, shift = np.tile([1.0, 0.0], (40, 1)), np.tile([-1.0, 1.0], (40, 1))
    exposure = np.random.default_rng(0).choice([0.0, 0.5, 1.0], (7, 40))
    args = (
        closes.to_numpy(),
        base,
        shift,
        exposure,
        CostModel(5, 5),
        RebalanceRule("none", 0.05),
        100.0,
    )
    whole = simulate(*args)
    monkeypatch.setattr("backtests.execution.fast_exec.CHUNK", 3)
    chunked = simulate(*args)
    np.testing.assert_array_equal(whole.final_equity, chunked.final_equity)
    assert whole.equity is None


@pytest.mark.shared
def test_real_data_ten_tickers_eleven_years(real_closes: pd.DataFrame) -> None:
    assert real_closes.shape[1] == 10 and len(real_closes) > 2700
    targets = random_targets(real_closes, 2024, 25)
    costs, rule = CostModel(5.0, 2.0), RebalanceRule("monthly", 0.05)
    reference = run_backtrader(real_closes, targets, costs, rule, 100_000.0)
    fast = run_fast(real_closes, targets, costs, rule, 100_000.0)
    assert_same_path(reference, fast)
    assert reference.rejected_orders == 0 and len(reference.trades) > 100


def test_no_trades_when_all_cash() -> None:
    closes = synthetic_closes(1, 10, 2, 0)
    targets = closes * 0.0
    for run in (run_backtrader, run_fast):
        result = run(closes, targets, CostModel(10, 10), RebalanceRule("daily", 0.1), 100.0)
        assert result.trades.empty and result.trades["size"].dtype == float
        assert (result.equity == 100.0).all() and result.turnover == 0.0


def test_inputs_are_checked() -> None:
    closes = synthetic_closes(2, 10, 2, 0)
    targets = closes * 0.0 + 0.5
    with pytest.raises(BacktestError, match="target weight of T1 on 2021-12-27 is missing"):
        run_fast(closes, targets[["T0"]], CostModel(), RebalanceRule(), 100.0)
    with pytest.raises(BacktestError, match="row sums above 1"):
        run_backtrader(closes, targets * 2, CostModel(), RebalanceRule(), 100.0)
    with pytest.raises(ValueError, match="shapes disagree"):
        zeros = np.zeros((10, 2))
        simulate(
            closes.to_numpy(), zeros, zeros, np.zeros((3, 9)), CostModel(), RebalanceRule(), 1.0
        )


def two_step_returns(
    closes,
    base,
    shift,
    signal,
    release,
    in_period,
    fraction,
    hold,
    up,
    down,
    exits,
    costs,
    rule,
    cash,
):
    """The unfused path: ``hedge_levels``, the exposure matrix, ``simulate`` keeping equity, returns."""
    levels = hedge_levels(signal, release, hold, up, down, exits)
    exposure = fraction[:, None] * levels[:, in_period]
    equity = simulate(
        closes.to_numpy(),
        base,
        shift,
        exposure,
        costs,
        rule,
        cash,
        dates=closes.index,
        keep_equity=True,
    ).equity
    previous = np.concatenate([np.full((len(equity), 1), cash), equity[:, :-1]], axis=1)
    return equity / previous - 1.0


def random_responses(seed: int, n_configs: int, n_days: int, warmup: int):
    """A sparse random signal over warm-up + run days, releases, and random response parameters."""
    rng = np.random.default_rng(seed)
    total = warmup + n_days
    signal = np.where(rng.random(total) < 0.08, rng.choice([0.25, 0.5, 1.0], total), 0.0)
    release = rng.random(total) < 0.04
    in_period = np.zeros(total, dtype=bool)
    in_period[warmup:] = True
    params = (
        rng.choice([0.1, 0.3, 0.5, 1.0], n_configs),
        rng.integers(1, 12, n_configs),
        rng.choice([0.25, 0.5, 1.0], n_configs),
        rng.choice([0.1, 0.25, 1.0], n_configs),
        rng.random(n_configs) > 0.3,
    )
    return signal, release, in_period, params


def sleeves_with_late_listing(closes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Base: first two tickers; shift into the others; the late ticker (last) joins once listed."""
    n_days, n = closes.shape
    base = np.zeros((n_days, n))
    base[:, :2] = [0.6, 0.4]
    hedge = np.zeros((n_days, n))
    hedge[:, 2:] = 1.0 / (n - 2)
    listed = closes.notna().to_numpy()
    hedge[~listed] = 0.0
    hedge /= hedge.sum(axis=1, keepdims=True)
    return base, hedge - base


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    n_days=st.integers(20, 90),
    warmup=st.integers(0, 30),
    late=st.integers(0, 10),
    costs=costs_st,
    rule=rule_st,
)
def test_fused_responses_equal_the_two_step_path(
    seed: int, n_days: int, warmup: int, late: int, costs: CostModel, rule: RebalanceRule
) -> None:
    """``simulate_responses`` == ``hedge_levels`` + exposure matrix + ``simulate`` (1e-12 relative)."""
    closes = synthetic_closes(seed, n_days, 4, late)
    base, shift = sleeves_with_late_listing(closes)
    signal, release, in_period, params = random_responses(seed, 23, n_days, warmup)
    args = (closes, base, shift, signal, release, in_period, *params, costs, rule, 10_000.0)
    expected = two_step_returns(*args)
    fused = simulate_responses(
        closes.to_numpy(),
        base,
        shift,
        signal,
        release,
        in_period,
        *params,
        costs,
        rule,
        10_000.0,
        closes.index,
    )
    assert fused.shape == expected.shape and fused.flags.c_contiguous and fused.dtype == np.float64
    np.testing.assert_allclose(fused, expected, rtol=1e-12, atol=1e-15)


def test_fused_results_do_not_depend_on_blocks_threads_or_company(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each configuration's returns are bit-identical alone, in any block size, on 1 or 2 threads."""
    closes = synthetic_closes(3, 70, 4, 6)
    base, shift = sleeves_with_late_listing(closes)
    signal, release, in_period, params = random_responses(3, 40, 70, 15)
    costs, rule = CostModel(5.0, 2.0), RebalanceRule("weekly", 0.03)

    def run(*arrays):
        return simulate_responses(
            closes.to_numpy(),
            base,
            shift,
            signal,
            release,
            in_period,
            *arrays,
            costs,
            rule,
            1e5,
            closes.index,
        )

    whole = run(*params)
    for block in (1, 3, 128):
        monkeypatch.setattr(fast_exec, "BLOCK", block)
        np.testing.assert_array_equal(run(*params), whole)
    try:
        for threads in (1, 2):
            assert fast_exec.set_threads(threads) == min(threads, numba.config.NUMBA_NUM_THREADS)
            np.testing.assert_array_equal(run(*params), whole)
    finally:
        fast_exec.set_threads(numba.config.NUMBA_NUM_THREADS)
    for c in (0, 17, 39):
        np.testing.assert_array_equal(run(*(a[c : c + 1] for a in params))[0], whole[c])
    reverse = run(*(a[::-1] for a in params))
    np.testing.assert_array_equal(reverse[::-1], whole)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 10_000), n_sets=st.integers(1, 4), block=st.sampled_from([2, 5, 128]))
def test_fused_grid_sharing_level_parameters_equals_the_two_step_path(
    monkeypatch: pytest.MonkeyPatch, seed: int, n_sets: int, block: int
) -> None:
    """A sweep-like grid (fractions x a few level parameter sets, shuffled), whose configurations
    share level paths inside a block: == the unfused path (1e-12), and each alone bit for bit."""
    closes = synthetic_closes(seed, 60, 4, 5)
    base, shift = sleeves_with_late_listing(closes)
    signal, release, in_period, sets = random_responses(seed, n_sets, 60, 10)
    fractions = np.array([0.0, 0.2, 0.35, 0.6, 1.0])
    pick = np.random.default_rng(seed).permutation(len(fractions) * n_sets)
    params = (np.repeat(fractions, n_sets)[pick], *(np.tile(a, len(fractions))[pick] for a in sets[1:]))
    costs, rule = CostModel(5.0, 2.0), RebalanceRule("weekly", 0.02)
    monkeypatch.setattr(fast_exec, "BLOCK", block)
    args = (closes, base, shift, signal, release, in_period)
    fused = simulate_responses(closes.to_numpy(), *args[1:], *params, costs, rule, 1e5, closes.index)
    np.testing.assert_allclose(fused, two_step_returns(*args, *params, costs, rule, 1e5), rtol=1e-12, atol=1e-15)
    for c in range(0, len(pick), 3):
        alone = simulate_responses(
            closes.to_numpy(), *args[1:], *(a[c : c + 1] for a in params), costs, rule, 1e5, closes.index
        )
        np.testing.assert_array_equal(alone[0], fused[c])


def test_fused_out_buffer_is_filled_and_returned() -> None:
    """``out=`` receives the same returns as a fresh result; a buffer of the wrong shape is refused."""
    closes = synthetic_closes(5, 30, 4, 3)
    base, shift = sleeves_with_late_listing(closes)
    signal, release, in_period, params = random_responses(5, 6, 30, 4)
    args = (closes.to_numpy(), base, shift, signal, release, in_period, *params)
    tail = (CostModel(5.0, 2.0), RebalanceRule("weekly", 0.03), 1e5, closes.index)
    buffer = np.full((6, 30), np.nan)
    result = simulate_responses(*args, *tail, out=buffer)
    assert result is buffer
    np.testing.assert_array_equal(buffer, simulate_responses(*args, *tail))
    with pytest.raises(ValueError, match="out must be"):
        simulate_responses(*args, *tail, out=np.empty((6, 29)))


@pytest.mark.shared
def test_fused_responses_match_backtrader_on_real_data(real_closes: pd.DataFrame) -> None:
    """Two response configurations on the 10 real tickers, costs on: fused kernel == backtrader, bit for bit."""
    closes = real_closes.iloc[:400]
    base, shift = sleeves_with_late_listing(closes)
    signal, release, in_period, params = random_responses(12, 2, len(closes), 50)
    costs, rule = CostModel(5.0, 2.0), RebalanceRule("monthly", 0.05)
    fused = simulate_responses(
        closes.to_numpy(),
        base,
        shift,
        signal,
        release,
        in_period,
        *params,
        costs,
        rule,
        1e5,
        closes.index,
    )
    levels = hedge_levels(signal, release, *params[1:])[:, in_period]
    for c in range(2):
        targets = pd.DataFrame(
            base + (params[0][c] * levels[c])[:, None] * shift,
            index=closes.index,
            columns=closes.columns,
        )
        reference = run_backtrader(closes, targets, costs, rule, 1e5)
        np.testing.assert_array_equal(fused[c], reference.returns.to_numpy())
        assert len(reference.trades) > 10


def test_simulate_responses_checks_its_inputs() -> None:
    closes = synthetic_closes(2, 10, 3, 0)
    base, shift = sleeves_with_late_listing(closes)
    signal, release, in_period, params = random_responses(2, 3, 10, 4)
    args = (CostModel(), RebalanceRule(), 1.0)
    with pytest.raises(ValueError, match="in_period must be"):
        simulate_responses(
            closes.to_numpy(), base, shift, signal, release, in_period[1:], *params, *args
        )
    with pytest.raises(ValueError, match="in_period must be"):
        simulate_responses(
            closes.to_numpy(), base, shift, signal, release, ~in_period, *params, *args
        )
    with pytest.raises(ValueError, match="signal must lie"):
        simulate_responses(
            closes.to_numpy(), base, shift, signal * 2 + 0.6, release, in_period, *params, *args
        )
    with pytest.raises(ValueError, match="response arrays"):
        simulate_responses(
            closes.to_numpy(),
            base,
            shift,
            signal,
            release,
            in_period,
            params[0][:2],
            *params[1:],
            *args,
        )
    with pytest.raises(ValueError, match="shapes disagree"):
        simulate_responses(
            closes.to_numpy(), base[1:], shift, signal, release, in_period, *params, *args
        )


@pytest.mark.parametrize("seed", range(8))
def test_a_collapsed_position_sold_and_rebought_fits_the_cash(seed: int) -> None:
    """A holding bought at 100 falls to about a millionth of that, then is sold for another ticker.
    backtrader books the sale through the average entry price (closed x 100 + closed x (fill - 100)),
    which loses digits against the proceeds; the buys are sized on that booked cash, so backtrader
    accepts every order (sized on ``sold x (1 - c)`` it refused most of these) and both executors agree."""
    rng = np.random.default_rng(seed)
    n = 30
    dates = pd.bdate_range("2024-01-01", periods=n, name="date")
    closes = pd.DataFrame(
        {
            "A": 100 * np.cumprod(np.r_[1.0, rng.uniform(0.5, 0.8, n - 1)]),
            "B": 50 * np.cumprod(np.r_[1.0, 1 + rng.normal(0, 0.01, n - 1)]),
        },
        index=dates,
    )
    assert closes["A"].iloc[-1] / closes["A"].iloc[0] < 1e-3
    weights = np.tile([1.0, 0.0], (n, 1))
    weights[-3:] = [0.0, 1.0]
    targets = pd.DataFrame(weights, index=dates, columns=closes.columns)
    costs, rule = CostModel(10.0, 5.0), RebalanceRule("none", 0.0)
    reference = run_backtrader(closes, targets, costs, rule, 1e6)
    assert_same_path(reference, run_fast(closes, targets, costs, rule, 1e6))
    assert list(reference.trades["ticker"].iloc[-2:]) == ["A", "B"]

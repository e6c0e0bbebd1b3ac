"""DSR and PBO against worked examples computed independently of the implementation."""

from __future__ import annotations

import itertools
import math
from statistics import NormalDist

import numpy as np
import pytest

from backtests.sweeps.stats import (
    BlockStats,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    pbo_from_block_stats,
    probability_of_backtest_overfitting,
)


def test_dsr_matches_the_papers_numerical_example():
    """Bailey & López de Prado (2014), section 4: SR 2.5 annualised, T=1250 days,
    N=100 trials, V[SR]=0.5 annualised, skew -3, kurtosis 10 -> SR0 ~ 0.1132 per day, DSR ~ 0.9004."""
    periods = 250
    sr = 2.5 / math.sqrt(periods)
    variance = 0.5 / periods
    assert expected_max_sharpe(variance, 100) == pytest.approx(0.1132, abs=5e-4)
    dsr = deflated_sharpe_ratio(sr, n_obs=1250, n_trials=100, sharpe_variance=variance, skewness=-3, kurtosis=10)
    assert dsr == pytest.approx(0.9004, abs=1e-3)


def test_dsr_by_hand_with_standard_library_normal():
    """Recompute the formula with statistics.NormalDist (a second, independent normal)."""
    nd = NormalDist()
    sr, n_obs, n_trials, var, skew, kurt = 0.08, 2000, 50, 0.0004, 0.2, 5.0
    g = 0.5772156649015329
    sr0 = math.sqrt(var) * ((1 - g) * nd.inv_cdf(1 - 1 / n_trials) + g * nd.inv_cdf(1 - 1 / (n_trials * math.e)))
    expected = nd.cdf((sr - sr0) * math.sqrt(n_obs - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2))
    got = deflated_sharpe_ratio(sr, n_obs=n_obs, n_trials=n_trials, sharpe_variance=var, skewness=skew, kurtosis=kurt)
    assert got == pytest.approx(expected, rel=1e-9)


def _tied_reference(a: float, b: float) -> bool:
    """The documented tie rule: |a - b| <= 1e-9 * max(|a|, |b|, 1e-3)."""
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1e-3)


def _pbo_reference(returns: np.ndarray, n_blocks: int) -> float:
    """Plain-Python CSCV straight from the paper's steps (loops, no numpy ranking), with the
    documented tie rule: in sample the lowest index tied with the best; out of sample tied
    configurations share the average rank."""
    t, n = returns.shape
    size = t // n_blocks
    rows = [[list(returns[b * size + i]) for i in range(size)] for b in range(n_blocks)]

    def sharpe(cols_rows: list[list[float]]) -> list[float]:
        out = []
        for j in range(n):
            xs = [r[j] for r in cols_rows]
            m = sum(xs) / len(xs)
            sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))
            out.append(m / sd if sd > 0 else 0.0)
        return out

    below = total = 0
    for train in itertools.combinations(range(n_blocks), n_blocks // 2):
        tr = [r for b in train for r in rows[b]]
        te = [r for b in range(n_blocks) if b not in train for r in rows[b]]
        s_tr, s_te = sharpe(tr), sharpe(te)
        top = max(s_tr)
        best = min(j for j in range(n) if _tied_reference(s_tr[j], top))
        chosen = s_te[best]
        level = sum(1 for j in range(n) if _tied_reference(s_te[j], chosen))
        under = sum(1 for j in range(n) if s_te[j] < chosen and not _tied_reference(s_te[j], chosen))
        rank = 1 + under + 0.5 * (level - 1)
        omega = rank / (n + 1)
        below += math.log(omega / (1 - omega)) <= 0
        total += 1
    return below / total


def test_pbo_two_configurations_by_hand():
    """Two configurations over 4 blocks, worked out by hand.

    A is excellent in blocks 0-1 and poor in 2-3; B is mediocre everywhere
    (Sharpe ~0.33 per period; A's is ~2.2 on good blocks, negative when mixed).
    - train {0,1}: A best; test {2,3}: A below B -> rank 1 of 2 -> omega 1/3 -> logit < 0.
    - train {2,3}: B best; test {0,1}: B below A -> logit < 0.
    - the 4 mixed splits: B best in sample (A's mean is negative) and B also
      beats A out of sample -> rank 2 -> omega 2/3 -> logit > 0.
    So PBO = 2/6.
    """
    good, bad, mediocre = [0.02, 0.01, 0.03], [-0.03, -0.04, -0.035], [0.005, -0.003, 0.002]
    m = np.array([good + good + bad + bad, mediocre * 4]).T
    result = probability_of_backtest_overfitting(m, n_blocks=4)
    assert result.n_splits == 6
    assert result.pbo == pytest.approx(2 / 6)
    assert result.pbo == pytest.approx(_pbo_reference(m, 4))


def test_pbo_matches_reference_on_random_matrix():
    rng = np.random.default_rng(3)
    m = rng.normal(0.0005, 0.01, size=(240, 7))
    assert probability_of_backtest_overfitting(m, n_blocks=6).pbo == pytest.approx(_pbo_reference(m, 6))


def test_pbo_is_low_when_one_configuration_truly_dominates():
    rng = np.random.default_rng(5)
    m = rng.normal(0.0, 0.01, size=(800, 10))
    m[:, 3] += 0.004  # a real edge that persists in every block
    assert probability_of_backtest_overfitting(m, n_blocks=8).pbo < 0.05


def test_noise_sweep_has_high_pbo_and_low_dsr():
    """Selecting the best of 200 pure-noise configurations: PBO near 0.5, DSR not significant (< 0.9)."""
    rng = np.random.default_rng(11)
    m = rng.normal(0.0, 0.01, size=(1000, 200))
    pbo = probability_of_backtest_overfitting(m, n_blocks=10).pbo
    sharpes = m.mean(axis=0) / m.std(axis=0, ddof=1)
    dsr = deflated_sharpe_ratio(
        float(sharpes.max()), n_obs=1000, n_trials=200, sharpe_variance=float(sharpes.var(ddof=1))
    )
    assert pbo > 0.3
    assert dsr < 0.9


@pytest.mark.parametrize(
    "matrix",
    [
        np.random.default_rng(1).normal(0, 0.01, size=(200, 1)),  # one configuration
        np.tile(np.random.default_rng(2).normal(0, 0.01, size=(200, 1)), (1, 5)),  # five identical ones
        np.random.default_rng(3).normal(0, 0.01, size=(15, 4)),  # blocks of one observation
    ],
)
def test_pbo_is_undefined_when_nothing_is_selected(matrix):
    result = probability_of_backtest_overfitting(matrix, n_blocks=10)
    assert np.isnan(result.pbo) and result.n_splits == 0


def _with_copies(seed: int) -> np.ndarray:
    """Four distinct noisy series, each repeated three times: every selection and rank is a tie."""
    distinct = np.random.default_rng(seed).normal(0.0003, 0.01, size=(600, 4))
    return np.repeat(distinct, 3, axis=1)


def test_pbo_ties_follow_the_rule_and_match_the_reference():
    m = _with_copies(21)
    assert probability_of_backtest_overfitting(m, n_blocks=6).pbo == pytest.approx(_pbo_reference(m, 6))


def test_pbo_does_not_move_under_1e_13_relative_noise():
    """A strong configuration X twice (columns 0 and 1) and a weak Y: X is best in every split.

    By the rule, column 0 is selected and shares ranks 2 and 3 with its copy out of sample:
    rank 2.5 of 3, omega = 2.5 / 4, logit = log(5/3) > 0 in all 252 splits, so PBO = 0.
    Noise of 1e-13 (relative) splits the copies' Sharpe ratios; with ``argmax``/``==`` the
    copy ranked 2 would give omega = 1/2, a logit of 0 and PBO > 0 in about half the splits.
    """
    rng = np.random.default_rng(2)
    strong, weak = rng.normal(0.004, 0.01, size=(600, 1)), rng.normal(0.0, 0.01, size=(600, 1))
    m = np.concatenate([strong, strong, weak], axis=1)
    for seed in range(6):
        noisy = m * (1.0 + np.random.default_rng(100 + seed).normal(0.0, 1e-13, size=m.shape))
        sharpes = per_period_sharpe(noisy)
        assert sharpes[0] != sharpes[1]  # the noise does split the copies
        result = probability_of_backtest_overfitting(noisy, n_blocks=10)
        assert result.pbo == 0.0 and result.n_splits == 252
        np.testing.assert_array_equal(result.logits, np.full(252, math.log(5 / 3)))
        stats = BlockStats.from_returns(m, 10)
        shaken = BlockStats(
            stats.count,
            stats.total * (1.0 + rng.normal(0.0, 1e-13, stats.total.shape)),
            stats.squares * (1.0 + rng.normal(0.0, 1e-13, stats.squares.shape)),
        )
        np.testing.assert_array_equal(pbo_from_block_stats(shaken).logits, result.logits)


def test_cscv_does_not_depend_on_the_thread_count():
    """Splits run in parallel; each split's result is its own, so 1 and 2 threads give the same logits,
    and the PBO of the pure-Python reference of the documented rule."""
    import numba

    m = np.concatenate([_with_copies(8), np.random.default_rng(9).normal(0.0002, 0.01, size=(600, 24))], axis=1)
    stats = BlockStats.from_returns(m, 10)
    before = numba.get_num_threads()
    results = []
    try:
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            results.append(pbo_from_block_stats(stats))
    finally:
        numba.set_num_threads(before)
    assert results[0].n_splits == results[1].n_splits == 252
    np.testing.assert_array_equal(results[0].logits, results[1].logits)
    assert results[0].pbo == _pbo_reference(m, 10)


def per_period_sharpe(returns: np.ndarray) -> np.ndarray:
    """Per-period Sharpe ratio of each column of a ``T x N`` return matrix (ddof=1, rf 0)."""
    mean = returns.mean(axis=0)
    std = returns.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(std > 0, mean / std, 0.0)


def test_sweep_moments_match_scipy() -> None:
    """The skewness and kurtosis the sweep feeds the DSR, against scipy's, an independent implementation;
    a flat path has none (NaN)."""
    from scipy import stats as sps

    from backtests.metrics import summary_metrics_matrix

    returns = np.random.default_rng(5).standard_t(4, size=(7, 400)) * 0.01
    moments = summary_metrics_matrix(returns)
    skew, kurtosis = moments["skew"], moments["kurtosis"]
    flat = summary_metrics_matrix(np.full((1, 50), 0.25))
    assert np.isnan(flat["skew"][0]) and np.isnan(flat["kurtosis"][0])
    np.testing.assert_allclose(skew, sps.skew(returns, axis=1), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(kurtosis, sps.kurtosis(returns, axis=1, fisher=False), rtol=1e-12)

"""Overfitting statistics for parameter sweeps: Deflated Sharpe Ratio and PBO.

- Deflated Sharpe Ratio (Bailey and López de Prado, 2014, "The Deflated Sharpe
  Ratio: Correcting for Selection Bias, Backtest Overfitting and
  Non-Normality", Journal of Portfolio Management 40(5)): the probability
  that the selected strategy's true Sharpe ratio is above the best Sharpe
  ratio one would expect from ``n_trials`` unskilled trials.
- Probability of Backtest Overfitting by combinatorially symmetric
  cross-validation (Bailey, Borwein, López de Prado and Zhu, 2017, "The
  Probability of Backtest Overfitting", Journal of Computational Finance
  20(4)): how often the in-sample winner ranks below the median out of sample.

  Ties are settled by a rule, never by float noise. Two per-period Sharpe ratios a, b
  are tied when ``|a - b| <= 1e-9 * max(|a|, |b|, 1e-3)`` (``TIE_RTOL``, ``TIE_FLOOR``).
  In sample, the selected configuration is the lowest index among those tied with the
  best; out of sample, configurations tied with the selected one share the average rank
  (rank = 1 + #strictly below + (#tied - 1) / 2, the selected one counted among the tied).
  So identical sweeps give identical PBO whatever the executor, ``--jobs``, threads or
  rounding (noise of 1e-13 relative on the returns changes nothing).
  CSCV runs one split at a time (compiled, splits in parallel): memory O(C) per thread,
  never O(splits x C).

Sharpe ratios here are per period (not annualised), as in the papers.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from backtests import portable_math
from backtests.jit import njit, numba

EULER_GAMMA = 0.5772156649015329
#: CSCV ties: two Sharpe ratios are equal when they differ by at most TIE_RTOL of the larger
#: magnitude (or of TIE_FLOOR, for ratios near 0).
TIE_RTOL = 1e-9
TIE_FLOOR = 1e-3


def expected_max_sharpe(sharpe_variance: float, n_trials: int) -> float:
    """SR0: the expected maximum per-period Sharpe ratio of ``n_trials`` skill-less trials.

    ``sqrt(V) * ((1 - g) * Z(1 - 1/N) + g * Z(1 - 1/(N e)))`` with g the
    Euler–Mascheroni constant and Z the standard normal quantile.
    """
    if n_trials < 2 or sharpe_variance <= 0:
        return 0.0
    z1 = NormalDist().inv_cdf(1.0 - 1.0 / n_trials)
    z2 = NormalDist().inv_cdf(1.0 - 1.0 / (n_trials * math.e))
    return math.sqrt(sharpe_variance) * ((1.0 - EULER_GAMMA) * z1 + EULER_GAMMA * z2)


def deflated_sharpe_ratio(
    sharpe: float,
    *,
    n_obs: int,
    n_trials: int,
    sharpe_variance: float,
    skewness: float = 0.0,
    kurtosis: float = 3.0,
) -> float:
    """Probability (0–1) that the true per-period Sharpe ratio exceeds SR0.

    ``sharpe``: the selected strategy's per-period Sharpe ratio; ``n_obs``: number
    of return observations; ``sharpe_variance``: variance of the per-period Sharpe
    ratios across the trials; ``kurtosis`` is Pearson's (3 for a normal).
    """
    sr0 = expected_max_sharpe(sharpe_variance, n_trials)
    denominator = 1.0 - skewness * sharpe + (kurtosis - 1.0) / 4.0 * (sharpe * sharpe)
    if n_obs < 2 or denominator <= 0:
        return float("nan")
    z = (sharpe - sr0) * math.sqrt(n_obs - 1) / math.sqrt(denominator)
    return 0.5 * math.erfc(-z / math.sqrt(2.0))  # the normal CDF, accurate in both tails


@dataclass(frozen=True)
class PBOResult:
    """Outcome of CSCV: ``pbo`` and the logits of every train/test split."""

    pbo: float
    logits: np.ndarray
    n_splits: int


@dataclass(frozen=True)
class BlockStats:
    """Per-block sums of returns and squared returns, ``S x N``: all CSCV needs.

    Keeping these instead of whole return series lets a sweep of any size
    compute PBO in constant memory per configuration.
    """

    count: np.ndarray  # (S,) observations per block
    total: np.ndarray  # (S, N) sum of returns
    squares: np.ndarray  # (S, N) sum of squared returns

    @classmethod
    def from_returns(cls, returns: np.ndarray, n_blocks: int) -> BlockStats:
        """Cut the ``T x N`` matrix into ``n_blocks`` contiguous blocks (trailing rows dropped)."""
        returns = np.asarray(returns, dtype=float)
        size = returns.shape[0] // n_blocks
        blocks = returns[: size * n_blocks].reshape(n_blocks, size, returns.shape[1])
        return cls(np.full(n_blocks, size), blocks.sum(axis=1), (blocks**2).sum(axis=1))


def probability_of_backtest_overfitting(returns: np.ndarray, n_blocks: int = 16) -> PBOResult:
    """PBO of selecting the best of ``N`` configurations by Sharpe ratio (CSCV).

    ``returns`` is ``T x N`` (rows: periods, columns: configurations). Rows are
    cut into ``n_blocks`` contiguous blocks (even, trailing rows dropped); each of
    the C(S, S/2) ways to choose half the blocks as the training set picks the
    best training configuration and records the logit of its relative rank in
    the remaining blocks. PBO is the share of splits whose logit is <= 0.
    """
    returns = np.asarray(returns, dtype=float)
    if n_blocks % 2 or n_blocks < 2:
        raise ValueError("n_blocks must be an even number >= 2")
    return pbo_from_block_stats(BlockStats.from_returns(returns, n_blocks))


def pbo_from_block_stats(stats: BlockStats) -> PBOResult:
    """CSCV from per-block sums, one split at a time (memory O(C) per thread, never splits x C).

    For each split, compiled and in parallel over splits: the in-sample Sharpe ratio of every
    configuration; the best of them; the lowest configuration index tied with the best (the
    selected one); then every configuration's out-of-sample Sharpe ratio and the selected
    one's rank among them (configurations strictly below it, and ties, which share the
    average rank). Ties are defined by ``tied``, so the result does not depend on float
    rounding, on the thread count or on the order the sums were accumulated in.

    PBO is undefined (NaN, no splits) with fewer than two configurations, blocks
    of fewer than two observations, configurations whose in-sample returns are
    identical (no selection happens, so there is nothing to overfit) or sums that
    are not finite.
    """
    n_blocks, n_configs = stats.total.shape
    finite = np.isfinite(stats.total).all() and np.isfinite(stats.squares).all()
    identical = np.allclose(stats.total, stats.total[:, :1]) and np.allclose(stats.squares, stats.squares[:, :1])
    if n_configs < 2 or stats.count.min() < 2 or identical or not finite:
        return PBOResult(float("nan"), np.array([]), 0)
    splits = list(itertools.combinations(range(n_blocks), n_blocks // 2))
    below, level = np.empty(len(splits)), np.empty(len(splits))
    _cscv_ranks(
        np.array(splits, dtype=np.int64),
        stats.count.astype(float),
        np.ascontiguousarray(stats.total, dtype=float),
        np.ascontiguousarray(stats.squares, dtype=float),
        below,
        level,
    )
    rank = below + 0.5 * (level - 1.0) + 1.0  # 1 = worst out of sample; ties share the average rank
    omega = rank / (n_configs + 1.0)
    logits = portable_math.log(omega / (1.0 - omega))
    return PBOResult(float(np.mean(logits <= 0.0)), logits, len(logits))


@njit(cache=True)
def tied(a: float, b: float) -> bool:
    """Equal for CSCV: ``|a - b| <= TIE_RTOL * max(|a|, |b|, TIE_FLOOR)``."""
    return abs(a - b) <= TIE_RTOL * max(abs(a), abs(b), TIE_FLOOR)


@njit(cache=True, error_model="numpy")  # no zero-division checks: the loops over it vectorise
def _sharpe_of(n: float, total: float, squares: float) -> float:
    """Per-period Sharpe (ddof=1) of ``n`` returns from their sum and sum of squares; 0 when flat."""
    mean = total / n
    var = (squares - n * mean * mean) / (n - 1)
    return mean / np.sqrt(var) if var > 0.0 else 0.0


@njit(parallel=True, cache=True, error_model="numpy")
def _cscv_ranks(
    train: np.ndarray, count: np.ndarray, total: np.ndarray, squares: np.ndarray, below: np.ndarray, level: np.ndarray
) -> None:
    """Per split ``s``: select in sample on the blocks ``train[s]``, then, out of sample (the other
    blocks: the whole-period sums minus the in-sample ones), count the configurations strictly below
    the selected one and those tied with it. Configurations are the inner, contiguous loops."""
    n_configs = total.shape[1]
    n_all = count.sum()
    total_all, squares_all = total.sum(axis=0), squares.sum(axis=0)
    for s in numba.prange(train.shape[0]):
        t, q = np.zeros(n_configs), np.zeros(n_configs)
        n = 0.0
        for b in train[s]:
            n += count[b]
            for c in range(n_configs):
                t[c] += total[b, c]
                q[c] += squares[b, c]
        sharpe = np.empty(n_configs)
        for c in range(n_configs):
            sharpe[c] = _sharpe_of(n, t[c], q[c])
        top = sharpe.max()
        selected = 0  # the lowest index tied with the best (bounded: no read past the end, NaN or not)
        for c in range(n_configs):
            if tied(sharpe[c], top):
                selected = c
                break
        m = n_all - n
        chosen = _sharpe_of(m, total_all[selected] - t[selected], squares_all[selected] - q[selected])
        for c in range(n_configs):
            sharpe[c] = _sharpe_of(m, total_all[c] - t[c], squares_all[c] - q[c])
        under, same = 0, 0
        for c in range(n_configs):
            if tied(sharpe[c], chosen):
                same += 1
            elif sharpe[c] < chosen:
                under += 1
        below[s] = under
        level[s] = same

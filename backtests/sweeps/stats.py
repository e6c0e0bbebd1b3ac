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
  So identical sweeps give identical PBO whatever the executor, ``--jobs``, chunking or
  rounding (noise of 1e-13 relative on the returns changes nothing).
  CSCV runs over configurations in chunks: memory O(splits x chunk), not O(splits x C).

Sharpe ratios here are per period (not annualised), as in the papers.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

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
    z1 = sps.norm.ppf(1.0 - 1.0 / n_trials)
    z2 = sps.norm.ppf(1.0 - 1.0 / (n_trials * math.e))
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
    denominator = 1.0 - skewness * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if n_obs < 2 or denominator <= 0:
        return float("nan")
    z = (sharpe - sr0) * math.sqrt(n_obs - 1) / math.sqrt(denominator)
    return float(sps.norm.cdf(z))


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


def pbo_from_block_stats(stats: BlockStats, *, chunk: int = 4096) -> PBOResult:
    """CSCV from per-block sums, over configurations in chunks of ``chunk`` (memory O(splits x chunk)).

    Three passes over the chunks, each computing the Sharpe ratios of every split for one
    chunk as matrix products over blocks: the best in-sample Sharpe per split; the lowest
    configuration index tied with it (the selected one); the selected configuration's
    out-of-sample rank (configurations strictly below it, and ties, which share the
    average rank). Ties are defined by ``tied``, so the result does not depend on float
    rounding, on the chunk size or on the order the sums were accumulated in.

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
    chunk = max(1, int(chunk))
    splits = np.array(list(itertools.combinations(range(n_blocks), n_blocks // 2)))
    train = np.zeros((len(splits), n_blocks))
    train[np.arange(len(splits))[:, None], splits] = 1.0
    test = 1.0 - train
    chunks = [slice(a, min(a + chunk, n_configs)) for a in range(0, n_configs, chunk)]

    best_value = np.full(len(splits), -np.inf)
    for cols in chunks:
        best_value = np.maximum(best_value, _sharpe_from_sums(train, stats, cols).max(axis=1))
    best = np.full(len(splits), -1)
    for cols in chunks:
        open_splits = best < 0
        if not open_splits.any():
            break
        top = tied(_sharpe_from_sums(train, stats, cols), best_value[:, None]) & open_splits[:, None]
        found = top.any(axis=1)
        best[found] = cols.start + top[found].argmax(axis=1)  # first True: the lowest index
    chosen = _sharpe_from_sums(test, stats, best)[np.arange(len(splits)), np.arange(len(splits))]

    below = np.zeros(len(splits))
    level = np.zeros(len(splits))
    for cols in chunks:
        oos = _sharpe_from_sums(test, stats, cols)
        same = tied(oos, chosen[:, None])
        below += ((oos < chosen[:, None]) & ~same).sum(axis=1)
        level += same.sum(axis=1)
    rank = below + 0.5 * (level - 1.0) + 1.0  # 1 = worst out of sample; ties share the average rank
    omega = rank / (n_configs + 1.0)
    logits = np.log(omega / (1.0 - omega))
    return PBOResult(float(np.mean(logits <= 0.0)), logits, len(logits))


def tied(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Equal for CSCV: ``|a - b| <= TIE_RTOL * max(|a|, |b|, TIE_FLOOR)`` (elementwise, broadcast)."""
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), TIE_FLOOR)
    return np.abs(a - b) <= TIE_RTOL * scale


def _sharpe_from_sums(mask: np.ndarray, stats: BlockStats, cols: slice | np.ndarray) -> np.ndarray:
    """Per-period Sharpe (ddof=1) of configurations ``cols`` over the blocks selected by each mask row."""
    n = mask @ stats.count
    total = mask @ stats.total[:, cols]
    squares = mask @ stats.squares[:, cols]
    mean = total / n[:, None]
    var = (squares - n[:, None] * mean**2) / (n[:, None] - 1)
    std = np.sqrt(np.clip(var, 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(std > 0, mean / std, 0.0)

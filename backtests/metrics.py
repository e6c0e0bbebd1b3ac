"""Metrics of daily simple returns: one set of formulas, for one series or a C x T matrix.

Definitions (``r``: daily simple returns, ``T`` of them, rf = 0, ``P = periods`` = 252):

- ``total_return`` = prod(1 + r) - 1.
- ``cagr`` = (1 + total_return) ** (1 / years) - 1, years = calendar days between the
  first and last date / 365.25 (the matrix version takes ``years``; default T / P).
- ``volatility`` = std(r, ddof=1) * sqrt(P).
- ``sharpe`` = mean(r) / std(r, ddof=1) * sqrt(P).
- ``sortino`` = mean(r) / sqrt(sum(r[r < 0] ** 2) / T) * sqrt(P)  (as quantstats 0.0.86).
- ``max_drawdown`` = min over t of E_t / max(1, E_0..E_t) - 1 with E = cumprod(1 + r), so a
  first-day loss counts (as quantstats' phantom baseline); <= 0.
- ``calmar`` = cagr / |max_drawdown|.
- ``best_day`` / ``worst_day`` = max(r) / min(r).
- ``skew`` = m3 / (m2 * sqrt(m2)) and ``kurtosis`` = m4 / m2 ** 2 (Pearson's, 3 for a normal), with
  mk = mean((r - mean(r)) ** k): the biased estimators (scipy's defaults); NaN when m2 = 0.
  Not in ``METRIC_KEYS``: the sweep uses them for the Deflated Sharpe Ratio.

A ratio whose denominator is 0 is NaN. The power in ``cagr`` is ``portable_math.power``: the
same bits on every CPU. ``row_stats`` (numba) reduces one path to the
sufficient statistics; ``metrics_from_stats`` applies the formulas, so the fast executor
can reduce each configuration's path in its compiled loop and share the formulas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from backtests import portable_math
from backtests.conventions import TRADING_DAYS_PER_YEAR
from backtests.jit import njit, numba

if TYPE_CHECKING:  # pandas loads where a function needs it: a sweep worker never does
    import pandas as pd

METRIC_KEYS = (
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "best_day",
    "worst_day",
)
#: row_stats fields: total_return, mean, std, downside, max_drawdown, best_day, worst_day, skew, kurtosis
N_STATS = 9


@njit(cache=True, error_model="numpy")  # x / 0 gives inf or NaN, as in numpy, whatever the caller
def row_stats(r: np.ndarray, out: np.ndarray) -> None:
    """One pass (plus one for the variance) over a return path into ``out`` (``N_STATS`` fields)."""
    n = r.shape[0]
    growth, peak, max_dd, total, down = 1.0, 1.0, 0.0, 0.0, 0.0
    best, worst = -np.inf, np.inf
    for t in range(n):
        growth *= 1.0 + r[t]
        peak = max(peak, growth)
        max_dd = min(max_dd, growth / peak - 1.0)
        total += r[t]
        if r[t] < 0.0:
            down += r[t] * r[t]
        best = max(best, r[t])
        worst = min(worst, r[t])
    mean = total / n
    squares, cubes, fourths = 0.0, 0.0, 0.0
    for t in range(n):
        d = r[t] - mean
        squares += d * d
        cubes += d * d * d
        fourths += d * d * d * d
    m2 = squares / n
    out[0] = growth - 1.0
    out[1] = mean
    out[2] = np.sqrt(squares / (n - 1)) if n > 1 else np.nan
    out[3] = np.sqrt(down / n)
    out[4] = max_dd
    out[5] = best
    out[6] = worst
    out[7] = cubes / n / (m2 * np.sqrt(m2)) if m2 > 0.0 else np.nan  # not ** 1.5: libm's pow varies by CPU
    out[8] = fourths / n / (m2 * m2) if m2 > 0.0 else np.nan


@njit(parallel=True, cache=True)
def _matrix_stats(returns: np.ndarray) -> np.ndarray:
    stats = np.empty((returns.shape[0], N_STATS))
    for c in numba.prange(returns.shape[0]):
        row_stats(returns[c], stats[c])
    return stats


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def metrics_from_stats(stats: np.ndarray, *, periods: int, years: float) -> dict[str, np.ndarray]:
    """The metric formulas, applied to ``row_stats`` rows (C x ``N_STATS``)."""
    total, mean, std, downside, max_dd, best, worst, skew, kurtosis = stats.T
    with np.errstate(invalid="ignore", divide="ignore"):
        cagr = portable_math.power(1.0 + total, 1.0 / years) - 1.0 if years > 0 else np.full(len(stats), np.nan)
    root = np.sqrt(periods)
    return {
        "total_return": total,
        "cagr": cagr,
        "volatility": std * root,
        "sharpe": _ratio(mean, std) * root,
        "sortino": _ratio(mean, downside) * root,
        "max_drawdown": max_dd,
        "calmar": _ratio(cagr, -max_dd),
        "best_day": best,
        "worst_day": worst,
        "skew": skew,
        "kurtosis": kurtosis,
    }


def summary_metrics_matrix(
    returns: np.ndarray, *, periods: int = TRADING_DAYS_PER_YEAR, years: float | None = None
) -> dict[str, np.ndarray]:
    """Metrics of each row of ``returns`` (C x T daily simple returns) as arrays of length C.

    ``years`` is the span used by ``cagr``; default ``T / periods``.
    """
    r = np.atleast_2d(np.asarray(returns, dtype=float))  # a column slice stays a view: each row is read in place
    if r.shape[1] == 0:
        raise ValueError("summary metrics need at least one return")
    if len(r) == 1:  # one path: no parallel region (waking the thread pool costs more than the path)
        stats = np.empty((1, N_STATS))
        row_stats(r[0], stats[0])
    else:
        stats = _matrix_stats(r)
    return metrics_from_stats(stats, periods=periods, years=r.shape[1] / periods if years is None else years)


def calendar_years(index: pd.DatetimeIndex) -> float:
    """Calendar years between the first and last date (days / 365.25)."""
    return (index[-1] - index[0]).days / 365.25


def summary_metrics(returns: pd.Series, *, periods: int = TRADING_DAYS_PER_YEAR) -> dict[str, float]:
    """Metrics of one daily return series (``date`` index), keys ``METRIC_KEYS``."""
    import pandas as pd

    years = calendar_years(pd.DatetimeIndex(returns.index))
    matrix = summary_metrics_matrix(
        returns.to_numpy(dtype=float)[None, :], periods=periods, years=years
    )
    return {key: float(matrix[key][0]) for key in METRIC_KEYS}

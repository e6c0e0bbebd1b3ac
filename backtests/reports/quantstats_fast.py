"""Exact stand-ins for the quantstats helpers that dominate its tearsheet's own arithmetic.

``tearsheet.tearsheet_html`` swaps them in for the duration of one render (``stand_ins``; the
swap itself, ``swapped``, is also what it uses for its other shortcuts):

- ``quantstats.stats.drawdown_details``: quantstats slices a pandas Series and takes a
  pandas quantile for every drawdown period (hundreds over a decade of daily returns);
  here each period is a numpy slice of the same values.
- ``quantstats.utils.group_returns`` with ``compounded=True``: quantstats calls
  ``groupby(...).apply(comp)``, a Python call per group; here it is
  ``(returns + 1).groupby(...).prod() - 1``, the same products in the same order.
- ``quantstats.utils._prepare_benchmark``: skips a comparison of two sets of Timestamps
  when the benchmark is already on the strategy's dates (``prepare_benchmark_fast``).
- ``safe_resample`` with quantstats' ``comp`` (compounded weekly, monthly, quarterly and
  yearly returns: the distribution chart, the monthly histogram), as ``quantstats.stats``
  and ``quantstats._plotting.core`` call it: quantstats calls ``resample(...).apply(comp)``,
  a Python call per period (about 570 weeks in 11 years); here it is
  ``(data + 1).resample(...).prod() - 1``, the same products in the same order.

Written against quantstats 0.0.86 (the version the tests compare with); a quantstats
without one of these helpers, or without what a stand-in needs, keeps its own.

Contract: each returns what quantstats' own function returns for the same input, to
the bit (same frame, same index, same dtypes), so the tearsheet's bytes do not change
(tested against quantstats' functions and on whole pages). Where an input is outside
what the stand-in handles (a drawdown with NaN, an unsorted or repeated index, periods
that do not pair up), quantstats' own function is called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import numpy as np
import pandas as pd

#: quantstats' column names of ``drawdown_details``.
_DETAIL_COLUMNS = ("start", "valley", "end", "days", "max drawdown", "99% max drawdown")
#: quantstats' "99% max drawdown" drops the period's worst 1% (``remove_outliers(-dd, 0.99)``).
_OUTLIER_QUANTILE = 0.99


def _periods(in_drawdown: np.ndarray) -> tuple[list[int], list[int]]:
    """(start, end) positions of the drawdown periods, found as quantstats finds them: a
    start where a day in drawdown follows a day without one (never the first day), an end
    the day before a day without drawdown that follows one in drawdown; then a first start
    on day 0 when the first end comes before the first start, and a last end on the last
    day when the series ends in a drawdown."""
    before = np.r_[False, ~in_drawdown[:-1]]
    starts = np.flatnonzero(in_drawdown & before).tolist()
    recovered = np.r_[False, ~in_drawdown[1:] & in_drawdown[:-1]]
    ends = np.flatnonzero(recovered[1:]).tolist()
    if not starts:
        return starts, ends
    if ends and starts[0] > ends[0]:
        starts.insert(0, 0)
    if not ends or starts[-1] > ends[-1]:
        ends.append(len(in_drawdown) - 1)
    return starts, ends


def _series_details(drawdown: pd.Series, original: Callable[[Any], pd.DataFrame]) -> pd.DataFrame:
    """``drawdown_details`` of one Series (see the module docstring)."""
    values = drawdown.to_numpy(dtype=float)
    index = drawdown.index
    usable = (
        isinstance(index, pd.DatetimeIndex)
        and index.is_monotonic_increasing
        and index.is_unique
        and not np.isnan(values).any()
    )
    if not usable:
        return original(drawdown)
    starts, ends = _periods(values != 0)
    if not starts:
        return pd.DataFrame(index=[], columns=_DETAIL_COLUMNS)
    if len(ends) != len(starts):
        return original(drawdown)
    data = []
    for start, end in zip(starts, ends, strict=True):
        period = values[start : end + 1]
        losses = -period
        kept = losses[losses < np.quantile(losses, _OUTLIER_QUANTILE)]
        data.append(
            (
                index[start],
                index[start + int(np.argmin(period))],
                index[end],
                (index[end] - index[start]).days + 1,
                period.min() * 100,
                (-kept).min() * 100 if kept.size else np.nan,
            )
        )
    # The frame as quantstats builds it.
    df = pd.DataFrame(data=data, columns=_DETAIL_COLUMNS)
    df["days"] = df["days"].astype(int)
    df["max drawdown"] = df["max drawdown"].astype(float)
    df["99% max drawdown"] = df["99% max drawdown"].astype(float)
    for column in ("start", "end", "valley"):
        df[column] = df[column].dt.strftime("%Y-%m-%d")
    return df


def drawdown_details_fast(original: Callable[[Any], pd.DataFrame]) -> Callable[[Any], pd.DataFrame]:
    """quantstats' ``drawdown_details`` (``original``) with each Series done by ``_series_details``."""
    from quantstats._compat import safe_concat

    def drawdown_details(drawdown: pd.Series | pd.DataFrame) -> pd.DataFrame:
        if isinstance(drawdown, pd.DataFrame):
            return safe_concat(
                {col: _series_details(drawdown[col], original) for col in drawdown.columns}, axis=1
            )
        return _series_details(drawdown, original)

    return drawdown_details


def group_returns_fast(original: Callable[..., Any]) -> Callable[..., Any]:
    """quantstats' ``group_returns`` (``original``) with the compounded case as one grouped product."""

    def group_returns(returns: pd.Series | pd.DataFrame, groupby: Any, compounded: bool = False) -> Any:
        if compounded:
            return returns.add(1).groupby(groupby).prod() - 1
        return original(returns, groupby, compounded)

    return group_returns


def prepare_benchmark_fast(original: Callable[..., Any]) -> Callable[..., Any]:
    """quantstats' ``_prepare_benchmark`` (``original``) without its set comparison when the
    benchmark's index already equals the strategy's dates.

    quantstats reindexes the benchmark when ``set(period) != set(benchmark.index)``, building
    two sets of Timestamps on every call (about fifteen per tearsheet). Equal indexes have
    equal sets, so the reindex is skipped either way; ``period`` is used nowhere else, so
    the original is called without it.
    """

    def _prepare_benchmark(benchmark: Any = None, period: Any = "max", *args: Any, **kwargs: Any) -> Any:
        if isinstance(benchmark, pd.Series) and isinstance(period, pd.DatetimeIndex) and benchmark.index.equals(period):
            period = "max"
        return original(benchmark, period, *args, **kwargs)

    return _prepare_benchmark


def safe_resample_fast(original: Callable[..., Any]) -> Callable[..., Any]:
    """quantstats' ``safe_resample`` (``original``) with the compounded case as one resampled product."""
    from quantstats._compat import get_frequency_alias, normalize_timezone
    from quantstats.stats import comp

    def safe_resample(data: Any, freq: str, func_name: Any = None, **kwargs: Any) -> Any:
        if func_name is comp and not kwargs:
            return normalize_timezone(data.add(1).resample(get_frequency_alias(freq)).prod() - 1)
        return original(data, freq, func_name, **kwargs)

    return safe_resample


@contextmanager
def swapped(module: Any, name: str, replacement: Any) -> Iterator[None]:
    """``module.name`` is ``replacement`` inside the block, the original again after it (errors too)."""
    original = getattr(module, name)
    setattr(module, name, replacement)
    try:
        yield
    finally:
        setattr(module, name, original)


@contextmanager
def stand_ins(qs: Any) -> Iterator[None]:
    """Inside the block quantstats (the module ``qs``) uses the stand-ins; restored on exit."""
    swaps = (
        (qs.stats, "drawdown_details", drawdown_details_fast),
        (qs.utils, "group_returns", group_returns_fast),
        (qs.utils, "_prepare_benchmark", prepare_benchmark_fast),
        (qs.stats, "safe_resample", safe_resample_fast),
        (getattr(getattr(qs, "_plotting", None), "core", None), "safe_resample", safe_resample_fast),
    )
    with ExitStack() as stack:
        for module, name, make in swaps:
            original = getattr(module, name, None)  # None also when the module is missing
            try:
                replacement = make(original) if original is not None else None
            except ImportError:  # an older quantstats without what the stand-in needs
                replacement = None
            if replacement is not None:  # else quantstats' own function stays
                stack.enter_context(swapped(module, name, replacement))
        yield

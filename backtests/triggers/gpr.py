"""The ``gpr`` trigger: on when the Caldara-Iacoviello Geopolitical Risk index runs high.

Everything up to the on/off condition runs on the GPR's own daily (calendar-day)
observations, each using only observations up to its own date:

1. ``smooth_days``-day trailing mean of ``series`` (the daily index is noisy;
   its authors publish a 7-day average).
2. ``measure``: ``level`` (the smoothed value), ``zscore`` (against the trailing
   ``lookback_days`` observations, current one included) or ``percentile``
   (rank of the current value within that window, in (0, 1]). The window needs
   at least half of ``lookback_days`` observations.
3. Condition: measure ``> threshold`` on ``consecutive_days`` consecutive
   observations.

The observation for day ``d`` is stamped on the first trading day ``>= d``
(known at the end of that day). A trading day is on if the condition holds
for any observation stamped on it (a weekend spike counts on Monday); a
trading day with nothing stamped on it (past the end of the data) is off.
``hold_days`` keeps the raw signal on for that many trading days after the
condition was last true, then ``lag`` shifts it (see
``backtests.triggers.timing``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from backtests.conventions import TRADING_DAYS_PER_YEAR
from backtests.errors import UserInputError
from backtests.params import ParamSpec
from backtests.triggers.context import MarketContext, TriggerOutput
from backtests.triggers.timing import condition_output, held, hold_param, lag_param, stamp_positions

MEASURES: tuple[str, ...] = ("level", "zscore", "percentile")
DEFAULT_THRESHOLDS: dict[str, float] = {"level": 200.0, "zscore": 2.0, "percentile": 0.95}
_MEASURE_LABELS = {"level": "level", "zscore": "z-score", "percentile": "percentile"}
_SERIES_LABELS = {"gpr": "GPR", "gpr_acts": "GPR acts", "gpr_threats": "GPR threats"}

GPR_PARAMS: dict[str, ParamSpec] = {
    "series": ParamSpec(
        "str",
        "gpr",
        help="GPR series: gpr (overall), gpr_acts or gpr_threats",
        choices=("gpr", "gpr_acts", "gpr_threats"),
    ),
    "measure": ParamSpec(
        "str",
        "zscore",
        help="compare the level, the z-score or the percentile rank over lookback_days",
        choices=MEASURES,
    ),
    "lookback_days": ParamSpec(
        "int",
        TRADING_DAYS_PER_YEAR,
        help="daily GPR observations (calendar days) in the z-score / percentile window",
        min=20,
    ),
    "threshold": ParamSpec(
        "float",
        None,
        optional=True,
        help="on above this; default by measure: zscore 2.0, percentile 0.95, level 200 (points)",
    ),
    "consecutive_days": ParamSpec(
        "int", 3, help="daily observations in a row that must exceed the threshold", min=1
    ),
    "smooth_days": ParamSpec(
        "int", 7, help="trailing mean over this many daily observations before the measure", min=1
    ),
    "hold_days": hold_param(
        "trading days the signal stays on after the condition was last true (1 = while it holds)"
    ),
    "lag": lag_param(),
}


def resolve_gpr_params(params: dict[str, Any], key: str) -> dict[str, Any]:
    """Fill the measure's default threshold and check a percentile threshold lies in (0, 1)."""
    out = dict(params)
    if out["threshold"] is None:
        out["threshold"] = DEFAULT_THRESHOLDS[out["measure"]]
    if out["measure"] == "percentile" and not 0.0 < out["threshold"] < 1.0:
        raise UserInputError(
            f"{key}.threshold = {out['threshold']!r} is out of range for measure = percentile; "
            "use a value in (0, 1), e.g. 0.95"
        )
    return out


def gpr_measure(values: pd.Series, measure: str, lookback_days: int, smooth_days: int) -> pd.Series:
    """The trailing measure of a daily GPR series (each value uses observations up to its date)."""
    smooth = values.astype(float).rolling(smooth_days, min_periods=smooth_days).mean()
    if measure == "level":
        return smooth
    window = smooth.rolling(lookback_days, min_periods=max(2, lookback_days // 2))
    if measure == "zscore":
        return (smooth - window.mean()) / window.std()
    return window.rank(pct=True)


def _stamp_max(values: pd.Series, calendar: pd.DatetimeIndex) -> np.ndarray:
    """For each trading day, the largest value stamped on it (NaN if none).

    Observations dated before the calendar starts are dropped, not piled onto its
    first day (as events are): they belong to days the calendar does not have.
    """
    values = values[values.index >= calendar[0]]
    positions = stamp_positions(values.index, calendar)
    inside = positions < len(calendar)
    largest = pd.Series(values.to_numpy()[inside], index=positions[inside]).groupby(level=0).max()
    out = np.full(len(calendar), np.nan)
    out[largest.index.to_numpy()] = largest.to_numpy(dtype=float)
    return out


def gpr_trigger(name: str, params: dict[str, Any], ctx: MarketContext) -> TriggerOutput:
    """Evaluate a ``gpr`` trigger (``params`` validated and defaulted, see ``GPR_PARAMS``)."""
    if ctx.gpr is None or params["series"] not in ctx.gpr.columns:
        raise UserInputError(
            f"triggers.{name}: the GPR index ({params['series']}) is not loaded; "
            "import it with `backtest data import-gpr` or `backtest data fetch-gpr`, "
            "or remove this trigger"
        )
    series = ctx.gpr[params["series"]].dropna().sort_index()
    measure = gpr_measure(series, params["measure"], params["lookback_days"], params["smooth_days"])
    k, threshold = params["consecutive_days"], params["threshold"]
    above = (measure > threshold).astype(float)
    condition = above.rolling(k, min_periods=k).sum() >= k
    # Stamp as 1.0 / 0.0 so that trading days with nothing stamped stay NaN -> off.
    stamped = _stamp_max(condition.astype(float), ctx.calendar)
    stamped_measure = _stamp_max(measure, ctx.calendar)
    on = held(stamped == 1.0, params["hold_days"])

    def reason(pos: int) -> str:
        label = f"{_SERIES_LABELS[params['series']]} {_MEASURE_LABELS[params['measure']]}"
        return f"{label} {stamped_measure[pos]:.3g} > {threshold:g} for {k} days"

    return condition_output(name, ctx.calendar, on, params["lag"], reason)

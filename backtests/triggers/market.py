"""Market triggers on one ticker's adjusted closes: ``drawdown``, ``volatility`` and ``ma_cross``.

A close is known at the end of its day, so the raw value at ``t`` uses closes
up to and including ``t``; ``lag`` then shifts it (see
``backtests.triggers.timing``). Windows count trading days and need to be full
(except the drawdown's running high, which starts with the first close); days
where a value cannot be computed (before the ticker lists, too little history)
are off.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from backtests.conventions import TRADING_DAYS_PER_YEAR
from backtests.errors import UserInputError
from backtests.params import ParamSpec
from backtests.triggers.context import MarketContext, TriggerOutput
from backtests.triggers.timing import condition_output, held, hold_param, lag_param

VOL_DEFAULT_THRESHOLDS: dict[str, float] = {"level": 0.25, "ratio": 1.5}
_HOLD_HELP = (
    "trading days the signal stays on after the condition was last true (1 = while it holds)"
)


def _ticker_param() -> ParamSpec:
    return ParamSpec(
        "str", "SPY", help="ticker whose adjusted closes are watched (must be in the price data)"
    )


DRAWDOWN_PARAMS: dict[str, ParamSpec] = {
    "ticker": _ticker_param(),
    "threshold": ParamSpec(
        "float",
        0.10,
        help="on when the close is at least this fraction below its rolling high (0.10 = 10%)",
        min=0.0,
        max=1.0,
    ),
    "window_days": ParamSpec("int", TRADING_DAYS_PER_YEAR, help="trading days in the rolling high", min=1),
    "hold_days": hold_param(_HOLD_HELP),
    "lag": lag_param(),
}

VOLATILITY_PARAMS: dict[str, ParamSpec] = {
    "ticker": _ticker_param(),
    "window_days": ParamSpec(
        "int", 21, help="trading days of daily returns in the realised volatility", min=2
    ),
    "measure": ParamSpec(
        "str",
        "level",
        help="level = annualised realised vol; ratio = that vol / the vol over long_window_days",
        choices=("level", "ratio"),
    ),
    "long_window_days": ParamSpec(
        "int", TRADING_DAYS_PER_YEAR, help="trading days in the long window of measure = ratio", min=2
    ),
    "threshold": ParamSpec(
        "float",
        None,
        optional=True,
        min=0.0,
        help="on above this; default by measure: level 0.25 (25% a year), ratio 1.5",
    ),
    "hold_days": hold_param(_HOLD_HELP),
    "lag": lag_param(),
}

MA_CROSS_PARAMS: dict[str, ParamSpec] = {
    "ticker": _ticker_param(),
    "fast_days": ParamSpec("int", 50, help="trading days in the fast simple moving average", min=1),
    "slow_days": ParamSpec(
        "int", 200, help="trading days in the slow simple moving average (> fast_days)", min=2
    ),
    "signal_when": ParamSpec(
        "str",
        "below",
        help="below = on while fast MA < slow MA; above = on while fast MA > slow MA",
        choices=("below", "above"),
    ),
    "lag": lag_param(),
}


def resolve_volatility_params(params: dict[str, Any], key: str) -> dict[str, Any]:
    """Fill the measure's default threshold; for ``ratio`` the long window must be the longer."""
    out = dict(params)
    if out["threshold"] is None:
        out["threshold"] = VOL_DEFAULT_THRESHOLDS[out["measure"]]
    if out["measure"] == "ratio" and out["long_window_days"] <= out["window_days"]:
        raise UserInputError(
            f"{key}.long_window_days = {out['long_window_days']} must be greater than "
            f"window_days = {out['window_days']} for measure = ratio"
        )
    return out


def resolve_ma_cross_params(params: dict[str, Any], key: str) -> dict[str, Any]:
    """Check the fast average is shorter than the slow one."""
    if params["fast_days"] >= params["slow_days"]:
        raise UserInputError(
            f"{key}.fast_days = {params['fast_days']} must be less than "
            f"slow_days = {params['slow_days']}; "
            "swap or change them"
        )
    return dict(params)


def _closes(name: str, ticker: str, ctx: MarketContext) -> pd.Series:
    if ticker not in ctx.closes.columns:
        raise UserInputError(
            f"triggers.{name}.ticker = {ticker!r} is not in the price data; "
            "add it to the strategy's tickers or pick another"
        )
    return ctx.closes[ticker].reindex(ctx.calendar).astype(float)


def drawdown(closes: pd.Series, window_days: int) -> pd.Series:
    """Fraction below the highest close of the last ``window_days`` trading days (today too)."""
    peak = closes.rolling(window_days, min_periods=1).max()
    return 1.0 - closes / peak


def realised_volatility(closes: pd.Series, window_days: int) -> pd.Series:
    """Annualised sample standard deviation of the last ``window_days`` daily simple returns."""
    returns = closes.pct_change(fill_method=None)
    return returns.rolling(window_days, min_periods=window_days).std() * np.sqrt(
        TRADING_DAYS_PER_YEAR
    )


def drawdown_trigger(name: str, params: dict[str, Any], ctx: MarketContext) -> TriggerOutput:
    """Evaluate a ``drawdown`` trigger (see ``DRAWDOWN_PARAMS``)."""
    ticker, threshold = params["ticker"], params["threshold"]
    depth = drawdown(_closes(name, ticker, ctx), params["window_days"]).to_numpy()
    on = held(depth >= threshold, params["hold_days"])

    def reason(pos: int) -> str:
        high = f"{params['window_days']}-day high"
        return f"{ticker} {depth[pos]:.1%} below its {high} (threshold {threshold:.1%})"

    return condition_output(name, ctx.calendar, on, params["lag"], reason)


def volatility_trigger(name: str, params: dict[str, Any], ctx: MarketContext) -> TriggerOutput:
    """Evaluate a ``volatility`` trigger (see ``VOLATILITY_PARAMS``)."""
    ticker, threshold, window = params["ticker"], params["threshold"], params["window_days"]
    closes = _closes(name, ticker, ctx)
    vol = realised_volatility(closes, window)
    if params["measure"] == "ratio":
        value = (vol / realised_volatility(closes, params["long_window_days"])).to_numpy()
        label = f"{ticker} {window}-day vol / {params['long_window_days']}-day vol"
    else:
        value = vol.to_numpy()
        label = f"{ticker} {window}-day annualised vol"
    on = held(value > threshold, params["hold_days"])

    def reason(pos: int) -> str:
        return f"{label} {value[pos]:.2f} > {threshold:g}"

    return condition_output(name, ctx.calendar, on, params["lag"], reason)


def ma_cross_trigger(name: str, params: dict[str, Any], ctx: MarketContext) -> TriggerOutput:
    """Evaluate an ``ma_cross`` trigger (see ``MA_CROSS_PARAMS``)."""
    ticker, fast_days, slow_days = params["ticker"], params["fast_days"], params["slow_days"]
    closes = _closes(name, ticker, ctx)
    fast = closes.rolling(fast_days, min_periods=fast_days).mean().to_numpy()
    slow = closes.rolling(slow_days, min_periods=slow_days).mean().to_numpy()
    on = fast < slow if params["signal_when"] == "below" else fast > slow

    def reason(pos: int) -> str:
        relation = params["signal_when"]
        fast_ma, slow_ma = (
            f"{fast_days}-day MA {fast[pos]:.2f}",
            f"{slow_days}-day MA {slow[pos]:.2f}",
        )
        return f"{ticker} {fast_ma} {relation} {slow_ma}"

    return condition_output(name, ctx.calendar, on, params["lag"], reason)

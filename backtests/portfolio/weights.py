"""Target weights from the hedge level (pure): ``targets = base + exposure * shift``.

- ``base_t``: the ``[universe]`` weights; ``hedge_t``: the ``[hedge]`` basket weights.
- ``exposure_t = response.hedge_fraction * hedge_level_t`` in [0, 1].
- ``shift_t`` moves the ``fund_from`` sleeve pro rata into the hedge basket:
  ``-base_t[i]`` for ``i`` in ``fund_from``, plus ``(sum of base_t over fund_from)
  * hedge_t[j]`` for ``j`` in the basket (a ticker in both adds up).

Each row of ``base`` sums to 1 and each row of ``shift`` to 0, so targets sum to
1; they are >= 0 because ``exposure <= 1``. The fast executor uses ``sleeves``
to vectorise over configurations.

Late-listing policy: on a date where a ticker has no close yet (NaN), its
weight goes pro rata to the listed tickers of the same sleeve (universe, or
hedge basket). If no ticker of a sleeve is listed, that sleeve takes the other
sleeve's weights for the date: an unlisted hedge basket becomes the universe
weights, an unlisted universe becomes the hedge basket.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from backtests.errors import DataUnavailableError, UserInputError

if TYPE_CHECKING:  # pragma: no cover
    from backtests.strategy.model import StrategySpec


def sleeves(spec: StrategySpec, closes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(base, shift)``: ``date x ticker`` frames on ``closes.index``, columns ``spec.traded_tickers()``."""
    tickers = spec.traded_tickers()
    missing = [t for t in tickers if t not in closes.columns]
    if missing:
        raise DataUnavailableError(f"no prices for {', '.join(missing)}; load every ticker of the strategy")
    listed = closes[tickers].notna().to_numpy()
    base = _listed_weights(spec.universe, tickers, listed)
    basket = _listed_weights(spec.hedge, tickers, listed) if spec.hedge else base
    base, basket = np.where(np.isnan(base), basket, base), np.where(np.isnan(basket), base, basket)
    unpriced = np.flatnonzero(np.isnan(base).any(axis=1))
    if len(unpriced):
        raise UserInputError(
            f"no ticker of {spec.name} has a price on {closes.index[unpriced[0]]:%Y-%m-%d}; start the run on or "
            f"after the first listing of a universe ticker"
        )
    funds = np.isin(tickers, spec.response["fund_from"])
    shift = basket * base[:, funds].sum(axis=1, keepdims=True) - np.where(funds, base, 0.0)
    frame = partial(pd.DataFrame, index=closes.index.rename("date"), columns=tickers)
    return frame(base), frame(shift)


def target_weights(spec: StrategySpec, hedge_level: pd.Series, closes: pd.DataFrame) -> pd.DataFrame:
    """Target weights ``date x ticker`` on ``closes.index``: ``base + hedge_fraction * hedge_level * shift``."""
    level = hedge_level.reindex(closes.index)
    if level.isna().any():
        raise ValueError("hedge_level must cover every date of closes")
    base, shift = sleeves(spec, closes)
    exposure = spec.response["hedge_fraction"] * level.to_numpy(dtype=float)
    return base + shift * exposure[:, None]


def _listed_weights(weights: Mapping[str, float], tickers: list[str], listed: np.ndarray) -> np.ndarray:
    """``weights`` spread pro rata over the listed tickers each day: ``(dates, tickers)``, NaN rows where none is."""
    raw = listed * np.array([weights.get(t, 0.0) for t in tickers])
    total = raw.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, raw / total, np.nan)

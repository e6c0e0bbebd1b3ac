"""``PriceData``: the one shape in which prices travel from any source to the core."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pandas as pd

SYNTHETIC_LABEL = "synthetic demo data"


@dataclass(frozen=True)
class PriceData:
    """Adjusted daily closes for a set of tickers, with where they came from.

    ``closes`` is a ``date x ticker`` float64 frame on a tz-naive, sorted, unique
    ``DatetimeIndex`` named ``date``; NaN only before a ticker's first date.
    """

    closes: pd.DataFrame
    source: str
    synthetic: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        """How outputs should name the data: the source, and ``synthetic demo data`` when it is."""
        return SYNTHETIC_LABEL if self.synthetic else self.source

    def fingerprints(self) -> dict[str, str]:
        """SHA-256 per ticker over its (date, close) pairs as printed with 10 significant digits."""
        out: dict[str, str] = {}
        for ticker in self.closes.columns:
            series = self.closes[ticker].dropna()
            text = "\n".join(f"{d:%Y-%m-%d},{v:.10g}" for d, v in series.items())
            out[str(ticker)] = hashlib.sha256(text.encode()).hexdigest()
        return out

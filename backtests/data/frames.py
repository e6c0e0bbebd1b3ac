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
    ``spans`` holds ``(ticker, first, last)``: the first and last date of each
    ticker's own prices in the requested window, before alignment (so ``last``
    may be after the last row of ``closes`` when another ticker ends first; NaT
    when the ticker has no price in the window). Left empty, it is read off
    ``closes``.
    """

    closes: pd.DataFrame
    source: str
    synthetic: bool = False
    notes: tuple[str, ...] = field(default=())
    spans: tuple[tuple[str, pd.Timestamp, pd.Timestamp], ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.spans:
            spans = tuple(
                (str(t), self.closes[t].first_valid_index() or pd.NaT, self.closes[t].last_valid_index() or pd.NaT)
                for t in self.closes.columns
            )
            object.__setattr__(self, "spans", spans)

    def first_dates(self) -> pd.Series:
        """Each ticker's first date with a price of its own in the window (NaT: none), indexed by ticker."""
        return self._span_column(1, "first")

    def last_dates(self) -> pd.Series:
        """Each ticker's last date with a price of its own in the window (NaT: none), indexed by ticker."""
        return self._span_column(2, "last")

    def _span_column(self, position: int, name: str) -> pd.Series:
        index = pd.Index([span[0] for span in self.spans], name="ticker")
        values = pd.DatetimeIndex([span[position] for span in self.spans]).as_unit("ns")
        return pd.Series(values, index=index, name=name)

    @property
    def label(self) -> str:
        """How outputs should name the data: the source, and ``synthetic demo data`` when it is."""
        return SYNTHETIC_LABEL if self.synthetic else self.source

    def fingerprints(self) -> dict[str, str]:
        """SHA-256 per ticker over its (date, close) pairs as printed with 10 significant digits."""
        out: dict[str, str] = {}
        for ticker in self.closes.columns:
            series = self.closes[ticker].dropna()
            days = series.index.strftime("%Y-%m-%d").tolist()
            closes = map("{:.10g}".format, series.to_numpy(dtype=float).tolist())
            text = "\n".join(map(",".join, zip(days, closes)))
            out[str(ticker)] = hashlib.sha256(text.encode()).hexdigest()
        return out

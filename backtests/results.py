"""``RunResult``: everything one backtest produced, handed from the pipeline to the reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from backtests.data.frames import SYNTHETIC_LABEL


@dataclass(frozen=True)
class RunResult:
    """One run's outputs. All series share the run's trading calendar (``date`` index).

    - ``returns``: daily simple returns, the first being E_0 / cash - 1 (the first day's costs);
      ``benchmark_returns``: the benchmark's, first day 0.0.
    - ``equity``: portfolio value in currency, starting at ``spec['cash']``.
    - ``weights``: actual weights after each day's trading; ``targets``: target weights.
    - ``trades``: columns ``date, ticker, size, price, value, commission``.
    - ``hedge_level``: share of ``response.hedge_fraction`` in force, in [0, 1].
    - ``firings``: every trigger firing (see ``TriggerOutput.firings``), all triggers stacked.
    - ``signals``: ``date x trigger`` effective signals.
    - ``events``: the events in use (curated + user files), after loading.
    - ``metrics``: ``{"strategy": {...}, "benchmark": {...}}`` with snake_case keys.
    - ``manifest``: data source, fingerprints, package versions, command line.
    """

    strategy: str
    description: str
    spec_toml: str
    start: pd.Timestamp
    end: pd.Timestamp
    data_label: str
    synthetic: bool
    benchmark: str
    returns: pd.Series
    benchmark_returns: pd.Series
    equity: pd.Series
    weights: pd.DataFrame
    targets: pd.DataFrame
    trades: pd.DataFrame
    hedge_level: pd.Series
    signals: pd.DataFrame
    firings: pd.DataFrame
    events: pd.DataFrame
    metrics: dict[str, dict[str, Any]]
    manifest: dict[str, Any]
    hedge_tickers: tuple[str, ...] = ()

    @property
    def data_description(self) -> str:
        """The data label, saying ``synthetic demo data`` (once) when the prices are synthetic."""
        if self.synthetic and SYNTHETIC_LABEL not in self.data_label:
            return f"{self.data_label} ({SYNTHETIC_LABEL})"
        return self.data_label

"""``StrategySpec``: a validated, fully defaulted strategy spec and its typed accessors."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from backtests.dates import parse_date
from backtests.errors import UserInputError
from backtests.params import ParamSpec
from backtests.spec.render import render_toml
from backtests.spec.schema import spec_keys, suggest_key


@dataclass(frozen=True)
class StrategySpec:
    """A resolved strategy spec.

    ``data`` is the nested dict with every default filled (as written by
    ``to_toml``); treat it as read-only, the accessors return copies.
    ``source_path`` (where it was read from) takes no part in equality.
    """

    name: str
    data: dict[str, Any]
    source_path: Path | None = field(default=None, compare=False)

    @property
    def description(self) -> str:
        """The one-line description."""
        return self.data["description"]

    @property
    def benchmark(self) -> str:
        """The benchmark ticker."""
        return self.data["benchmark"]

    @property
    def cash(self) -> float:
        """Starting capital."""
        return self.data["cash"]

    @property
    def start(self) -> pd.Timestamp | None:
        """The default first date, or None for the earliest common data."""
        return parse_date(self.data["start"], what="start")

    @property
    def end(self) -> pd.Timestamp | None:
        """The default last date, or None for the latest common data."""
        return parse_date(self.data["end"], what="end")

    @property
    def universe(self) -> dict[str, float]:
        """The base portfolio: ticker -> weight (sums to 1)."""
        return dict(self.data["universe"])

    @property
    def hedge(self) -> dict[str, float]:
        """The hedge (or tilt) basket: ticker -> weight within it (sums to 1, or empty)."""
        return dict(self.data["hedge"])

    @property
    def triggers(self) -> dict[str, dict[str, Any]]:
        """Trigger name -> its validated parameters (``type`` included)."""
        return copy.deepcopy(self.data["triggers"])

    @property
    def response(self) -> dict[str, Any]:
        """The ``[response]`` section (``fund_from`` resolved to explicit tickers)."""
        return copy.deepcopy(self.data["response"])

    @property
    def rebalance(self) -> dict[str, Any]:
        """The ``[rebalance]`` section: ``schedule``, ``drift_threshold``."""
        return dict(self.data["rebalance"])

    @property
    def costs(self) -> dict[str, float]:
        """The ``[costs]`` section: ``commission_bps``, ``slippage_bps``."""
        return dict(self.data["costs"])

    def traded_tickers(self) -> list[str]:
        """Tickers the strategy may hold: universe and hedge, sorted."""
        return sorted(set(self.data["universe"]) | set(self.data["hedge"]))

    def tickers(self) -> list[str]:
        """Every ticker whose prices the run needs: traded, benchmark and market-trigger tickers, sorted."""
        watched = {p["ticker"] for p in self.data["triggers"].values() if isinstance(p.get("ticker"), str)}
        return sorted(set(self.traded_tickers()) | watched | {self.benchmark})

    def get(self, key: str) -> Any:
        """The value at a dotted key, e.g. ``response.hedge_fraction`` or ``universe.SPY``."""
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise UserInputError(f"{self.name}: unknown key {key}{suggest_key(key, self.keys())}")
            node = node[part]
        return copy.deepcopy(node)

    def keys(self) -> dict[str, ParamSpec]:
        """Every overridable dotted key and its schema (see ``backtests.spec.schema.spec_keys``)."""
        return spec_keys(self.data)

    def to_toml(self) -> str:
        """The resolved spec as TOML; loading it back gives an equal spec."""
        return render_toml(self.data)

"""``StrategySpec`` (public name ``Strategy``): a validated, fully defaulted strategy spec.

Build one with ``Strategy.load(name_or_path)`` or ``Strategy.from_dict(mapping)``;
derive variants with ``.with_overrides({"response.hedge_fraction": 0.3})``;
write it back with ``.to_toml()``. Every constructor validates: errors are
one-line ``UserInputError`` naming the source, the key and the allowed values.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from backtests.dates import parse_date
from backtests.errors import UserInputError
from backtests.params import ParamSpec
from backtests.strategy.render import render_toml
from backtests.strategy.schema import spec_keys, suggest_key


@dataclass(frozen=True)
class StrategySpec:
    """A resolved strategy spec.

    ``data`` is the nested dict with every default filled (as written by
    ``to_toml``); treat it as read-only, the accessors return copies.
    ``raw`` is the document as written, overrides applied, before defaults:
    ``with_overrides`` starts from it, so derived defaults (``response.fund_from``)
    follow an overridden universe exactly as ``--set`` does. ``source_path``
    (where it was read from) and ``raw`` take no part in equality.
    """

    name: str
    data: dict[str, Any]
    source_path: Path | None = field(default=None, compare=False)
    raw: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def load(cls, name_or_path: str | os.PathLike[str]) -> StrategySpec:
        """A shipped strategy by name (``tariff-shock-hedge``) or a ``.toml`` file."""
        from backtests.strategy.load import load_spec

        return load_spec(name_or_path)

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any], *, name: str = "custom") -> StrategySpec:
        """A strategy from a dict laid out like the TOML file (``{"universe": {"SPY": 1.0}, ...}``)."""
        from backtests.strategy.validate import resolve

        raw = copy.deepcopy(dict(mapping))
        data = resolve(raw, "strategy dict", name)
        return cls(name=data["name"], data=data, raw=raw)

    def with_overrides(self, overrides: Mapping[str, Any] | Sequence[str]) -> StrategySpec:
        """A copy with dotted keys set to typed values, e.g. ``{"universe.0700.HK": 0.2}`` (see ``overrides``)."""
        from backtests.strategy.overrides import OVERRIDES, apply_overrides
        from backtests.strategy.validate import resolve

        raw = apply_overrides(self.raw if self.raw is not None else self.data, overrides)
        where = f"{self.source_path or self.name} with {OVERRIDES}"
        data = resolve(raw, where, self.name)
        return StrategySpec(name=data["name"], data=data, source_path=self.source_path, raw=raw)

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
        """Every overridable dotted key and its schema (see ``backtests.strategy.schema.spec_keys``)."""
        return spec_keys(self.data)

    def to_toml(self) -> str:
        """The resolved spec as TOML; loading it back gives an equal spec."""
        return render_toml(self.data)

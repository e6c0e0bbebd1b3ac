"""Strategy specs: TOML files describing a portfolio, its hedge, its triggers and its response.

Modules: ``schema`` (a ``ParamSpec`` per key), ``load`` (find, parse, override,
validate), ``validate`` (checks and defaults), ``overrides`` (``--set``),
``render`` (back to TOML), ``model`` (``StrategySpec``). The hedge level
the response section drives lives in ``backtests.portfolio.response``.
"""

from backtests.strategy.load import StrategyInfo, find_spec, load_spec, shipped_strategies
from backtests.strategy.model import StrategySpec
from backtests.strategy.overrides import apply_overrides

__all__ = ["StrategyInfo", "StrategySpec", "apply_overrides", "find_spec", "load_spec", "shipped_strategies"]

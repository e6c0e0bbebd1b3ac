"""Strategy specs: TOML files describing a portfolio, its hedge, its triggers and its response.

Modules: ``schema`` (a ``ParamSpec`` per key), ``load`` (find, parse, override,
validate), ``validate`` (checks and defaults), ``overrides`` (``--set``),
``render`` (back to TOML), ``model`` (``StrategySpec``), ``response`` (the
hedge level, pure).
"""

from backtests.spec.load import StrategyInfo, find_spec, load_spec, shipped_strategies
from backtests.spec.model import StrategySpec
from backtests.spec.overrides import apply_overrides

__all__ = ["StrategyInfo", "StrategySpec", "apply_overrides", "find_spec", "load_spec", "shipped_strategies"]

"""Execution: turn daily target weights into a traded path.

- ``rules``: ``CostModel``, ``RebalanceRule`` and the one definition of when and how to trade.
- ``backtrader_exec.run_backtrader``: the reference executor (backtrader's broker).
- ``fast_exec.simulate`` / ``fast_exec.run_fast``: the same path, compiled with numba,
  for thousands of configurations at once.
- ``result.ExecutionResult``: what one executed configuration returns.

Import the executors from their modules (backtrader is only loaded when needed).
"""

from backtests.execution.result import ExecutionResult
from backtests.execution.rules import CostModel, RebalanceRule

__all__ = ["CostModel", "ExecutionResult", "RebalanceRule"]

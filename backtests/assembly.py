"""One assembly of a run: a strategy, its data and its events compiled into what both executors need.

``compile_run(inputs)`` evaluates the triggers once on the full calendar (all
the history loaded) and returns a ``CompiledRun``: the run calendar, the traded
closes, the two sleeves (``targets = base + exposure * shift``, see
``backtests.portfolio.weights``), the response's driving signal and release
flags, the costs, the rebalancing rule and the cash. ``backtests.run`` uses it
for one configuration and the sweep for every configuration of a group, so a
sweep's winner and ``run(best)`` come from the same code. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from backtests.execution.rules import CostModel, RebalanceRule
from backtests.portfolio.response import ResponseArrays
from backtests.triggers import FIRING_COLUMNS, MarketContext, TriggerOutput, evaluate

if TYPE_CHECKING:  # pragma: no cover
    from backtests.inputs import RunInputs
    from backtests.strategy.model import StrategySpec

#: The response keys a sweep may vary per configuration without re-evaluating triggers.
RESPONSE_KEYS = (
    "response.hedge_fraction",
    "response.hold_days",
    "response.step_in",
    "response.step_out",
    "response.on_deescalation",
)


@dataclass(frozen=True)
class CompiledRun:
    """Everything both executors need for one spec on one data set (see the module docstring).

    ``signal``/``release`` cover the full calendar (warm-up included); ``in_period``
    marks the run period on it. ``closes``, ``base`` and ``shift`` cover the run
    period, columns ``spec.traded_tickers()``.
    """

    spec: StrategySpec
    outputs: dict[str, TriggerOutput]
    signal: pd.Series
    release: pd.Series
    in_period: np.ndarray
    closes: pd.DataFrame
    base: pd.DataFrame
    shift: pd.DataFrame
    costs: CostModel
    rebalance: RebalanceRule
    cash: float

    @property
    def calendar(self) -> pd.DatetimeIndex:
        """The run period's trading days."""
        return pd.DatetimeIndex(self.closes.index)

    def levels(self, response: ResponseArrays) -> np.ndarray:
        """Hedge levels (C x T, run period) of each configuration."""
        from backtests.portfolio.response import hedge_levels

        levels = hedge_levels(
            self.signal.to_numpy(dtype=float),
            self.release.to_numpy(dtype=bool),
            response.hold_days,
            response.step_in,
            response.step_out,
            response.exit_on_release,
        )
        return levels[:, self.in_period]

    def targets(self, exposure: pd.Series) -> pd.DataFrame:
        """Target weights ``base + exposure * shift`` (rows sum to 1)."""
        return self.base + self.shift * exposure.to_numpy(dtype=float)[:, None]

    def firings(self) -> pd.DataFrame:
        """Every trigger's firings dated inside the run period, sorted by date then trigger."""
        frames = [out.firings for out in self.outputs.values() if len(out.firings)]
        if not frames:
            return pd.DataFrame(columns=list(FIRING_COLUMNS))
        stacked = pd.concat(frames, ignore_index=True)
        start, end = self.calendar[0], self.calendar[-1]
        inside = stacked[(stacked["date"] >= start) & (stacked["date"] <= end)]
        return inside.sort_values(["date", "trigger"], kind="stable").reset_index(drop=True)

    def driving_firings(self) -> pd.DataFrame:
        """The firings of the trigger that drives the response (all triggers when it is ``""``)."""
        firings = self.firings()
        driver = self.spec.response.get("trigger") or None
        return firings if driver is None else firings[firings["trigger"] == driver].reset_index(drop=True)

    def signals(self) -> pd.DataFrame:
        """``date x trigger`` effective signals on the run period."""
        full = self.signal.index
        frame = pd.DataFrame({name: out.signal for name, out in self.outputs.items()}, index=full)
        return frame.loc[self.in_period]


def evaluate_triggers(inputs: RunInputs, spec: StrategySpec | None = None) -> dict[str, TriggerOutput]:
    """Every trigger of the spec, on the full trading calendar (all the history loaded)."""
    closes = inputs.prices.closes
    ctx = MarketContext(calendar=closes.index, closes=closes, events=inputs.events, gpr=inputs.gpr)
    return evaluate((spec or inputs.spec).triggers, ctx)


def compile_run(inputs: RunInputs, spec: StrategySpec | None = None) -> CompiledRun:
    """Compile ``spec`` (default: the inputs' spec) on ``inputs``' data: triggers once, sleeves, costs, rules."""
    from backtests.portfolio.response import driving_signal
    from backtests.portfolio.weights import sleeves

    spec = spec or inputs.spec
    closes_full = inputs.prices.closes
    outputs = evaluate_triggers(inputs, spec)
    signal, release = driving_signal(spec, outputs, closes_full.index)
    in_period = np.asarray((closes_full.index >= inputs.start) & (closes_full.index <= inputs.end))
    closes = closes_full.loc[in_period]
    base, shift = sleeves(spec, closes)
    return CompiledRun(
        spec=spec,
        outputs=outputs,
        signal=signal,
        release=release,
        in_period=in_period,
        closes=closes[base.columns],
        base=base,
        shift=shift,
        costs=CostModel(spec.costs["commission_bps"], spec.costs["slippage_bps"]),
        rebalance=RebalanceRule(spec.rebalance["schedule"], spec.rebalance["drift_threshold"]),
        cash=float(spec.cash),
    )

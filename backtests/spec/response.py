"""The hedge level: how much of ``response.hedge_fraction`` is in force each day (pure, no look-ahead).

The driving signal ``s_t`` in [0, 1] is the effective signal of
``response.trigger`` (``""``: the maximum over all triggers, releasing when any
of them releases, like the ``any`` combinator). Per configuration, with state
``active``, ``desired``, ``remaining`` and level ``L`` (all start at 0/off),
each trading day ``t``:

1. If ``s_t > 0``: ``desired = max(s_t, desired)`` if already active, else
   ``s_t``; ``active = True``; ``remaining = hold_days``.
2. If ``release_t`` and ``exit_on_release`` (``on_deescalation = "exit"``):
   ``active = False`` (a release ends the hedge, even one signalled that day).
3. Target ``d_t = desired`` if active, else 0.
4. ``L_t = clip(d_t, L_{t-1} - step_out, L_{t-1} + step_in)`` (``L_{-1} = 0``):
   the level moves toward the target by at most one step a day, and lands on
   it exactly when it is within a step (plus 1e-12 for float rounding).
5. After the day, if active and ``s_t == 0``: ``remaining -= 1``; at 0 the
   hedge deactivates. So with the signal last on at ``t0`` the target stays
   on through ``t0 + hold_days``: ``hold_days`` trading days after it.

Step 5 happens after the day and every step reads only ``s`` and ``release``
up to ``t``, so ``L_t`` never depends on later data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from backtests.spec.model import StrategySpec
    from backtests.triggers.context import TriggerOutput

# Lets a step land exactly on the target despite float rounding (0.3 - 3 * 0.1 != 0).
_STEP_SLACK = 1e-12


def hedge_levels(
    signal: np.ndarray,
    release: np.ndarray,
    hold_days: np.ndarray,
    step_in: np.ndarray,
    step_out: np.ndarray,
    exit_on_release: np.ndarray,
) -> np.ndarray:
    """Hedge levels ``(C, T)`` for ``C`` configurations over one signal of ``T`` days.

    ``signal``: float ``(T,)`` in [0, 1]; ``release``: bool ``(T,)``; the others
    are ``(C,)`` arrays (``hold_days`` >= 1, steps in (0, 1]).
    """
    signal = np.asarray(signal, dtype=float)
    release = np.asarray(release, dtype=bool)
    hold = np.asarray(hold_days, dtype=np.int64)
    up, down = np.asarray(step_in, dtype=float), np.asarray(step_out, dtype=float)
    exits = np.asarray(exit_on_release, dtype=bool)
    if signal.shape != release.shape or signal.ndim != 1:
        raise ValueError("signal and release must be 1-d arrays of the same length")
    if np.isnan(signal).any() or signal.min(initial=0.0) < 0.0 or signal.max(initial=0.0) > 1.0:
        raise ValueError("signal must lie in [0, 1] with no NaN")
    configs = np.broadcast_shapes(hold.shape, up.shape, down.shape, exits.shape)
    active = np.zeros(configs, dtype=bool)
    desired = np.zeros(configs)
    remaining = np.zeros(configs, dtype=np.int64)
    level = np.zeros(configs)
    levels = np.empty(configs + signal.shape)
    for t, (s, released) in enumerate(zip(signal, release, strict=True)):
        if s > 0.0:
            desired = np.where(active, np.maximum(desired, s), s)
            active = np.ones(configs, dtype=bool)
            remaining = np.broadcast_to(hold, configs).copy()
        if released:
            active = active & ~exits
        target = np.where(active, desired, 0.0)
        level = _step_toward(level, target, up, down)
        levels[..., t] = level
        if s == 0.0:
            remaining = np.where(active, remaining - 1, remaining)
            active = active & (remaining > 0)
    return levels


def _step_toward(level: np.ndarray, target: np.ndarray, up: np.ndarray, down: np.ndarray) -> np.ndarray:
    """One day's move: onto ``target`` if within a step (plus slack), else exactly one step toward it."""
    low, high = level - down, level + up
    return np.where(target < low - _STEP_SLACK, low, np.where(target > high + _STEP_SLACK, high, target))


def hedge_level(signal: pd.Series, release: pd.Series, response: Mapping[str, Any]) -> pd.Series:
    """The hedge level of one ``[response]`` configuration, on ``signal``'s index."""
    release = release.reindex(signal.index, fill_value=False).astype(bool)
    levels = hedge_levels(
        signal.to_numpy(dtype=float),
        release.to_numpy(),
        np.array([response["hold_days"]]),
        np.array([response["step_in"]]),
        np.array([response["step_out"]]),
        np.array([response["on_deescalation"] == "exit"]),
    )
    return pd.Series(levels[0], index=signal.index, name="hedge_level")


def driving_signal(
    spec: StrategySpec, outputs: Mapping[str, TriggerOutput], calendar: pd.DatetimeIndex
) -> tuple[pd.Series, pd.Series]:
    """``(signal, release)`` on ``calendar``: of ``response.trigger``, or of all triggers combined when ``""``."""
    trigger = spec.response["trigger"]
    chosen = [outputs[trigger]] if trigger else list(outputs.values())
    if not chosen:
        return pd.Series(0.0, index=calendar), pd.Series(False, index=calendar)
    signal = pd.concat([o.signal.reindex(calendar, fill_value=0.0) for o in chosen], axis=1).max(axis=1)
    release = pd.concat([o.release.reindex(calendar, fill_value=False) for o in chosen], axis=1).any(axis=1)
    return signal.astype(float), release.astype(bool)


def strategy_hedge_level(
    spec: StrategySpec, outputs: Mapping[str, TriggerOutput], calendar: pd.DatetimeIndex
) -> pd.Series:
    """The spec's hedge level on ``calendar`` (0 throughout for a spec without triggers)."""
    signal, release = driving_signal(spec, outputs, calendar)
    return hedge_level(signal, release, spec.response).rename_axis("date")

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

``hedge_step`` (numba) is the one definition of a day's step, for a block of
configurations; ``hedge_levels`` runs it over the days, and the fast executor's
fused sweep kernel (``backtests.execution.fast_exec.simulate_responses``) runs
the very same function inside its compiled loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from backtests.jit import njit

if TYPE_CHECKING:  # pragma: no cover; pandas loads where a function needs it (a sweep worker never does)
    import pandas as pd

    from backtests.strategy.model import StrategySpec
    from backtests.triggers.context import TriggerOutput

# Lets a step land exactly on the target despite float rounding (0.3 - 3 * 0.1 != 0).
_STEP_SLACK = 1e-12


@njit(cache=True)
def hedge_step(
    s: float,
    released: bool,
    hold_days: np.ndarray,
    step_in: np.ndarray,
    step_out: np.ndarray,
    exit_on_release: np.ndarray,
    active: np.ndarray,
    desired: np.ndarray,
    remaining: np.ndarray,
    level: np.ndarray,
) -> None:
    """One trading day of the state machine (steps 1-5 above) for a block of configurations.

    The single definition of the machine: ``hedge_levels`` and the fast executor's fused
    sweep kernel both call it. ``s``/``released`` are the day's signal and release; the
    other arguments are ``(M,)`` arrays: ``hold_days``, ``remaining`` (int64),
    ``exit_on_release`` and ``active`` (int64 flags, 0 or 1: integer lanes keep the loops
    vectorised), ``step_in``, ``step_out``, ``desired``, ``level`` (float). The state
    (``active``, ``desired``, ``remaining``, ``level``) is updated in place.
    """
    n = level.shape[0]
    if s > 0.0:  # 1.
        for k in range(n):
            desired[k] = max(desired[k], s) if active[k] else s
            active[k] = 1
            remaining[k] = hold_days[k]
    if released:  # 2.
        for k in range(n):
            active[k] = 0 if exit_on_release[k] else active[k]
    for k in range(n):  # 3. and 4.
        target = desired[k] if active[k] else 0.0
        low, high = level[k] - step_out[k], level[k] + step_in[k]
        level[k] = low if target < low - _STEP_SLACK else (high if target > high + _STEP_SLACK else target)
    if s == 0.0:  # 5.
        for k in range(n):
            remaining[k] -= active[k]
            active[k] = 1 if active[k] and remaining[k] > 0 else 0


def resting_until(signal: np.ndarray) -> int:
    """Days before the first positive signal (``len(signal)`` if none).

    Every configuration starts at rest (inactive, level 0) and a day with ``s = 0``
    leaves a configuration at rest (a release has nothing to end), so over these days
    every level is 0 whatever the release and the parameters: callers may skip them.
    """
    on = np.flatnonzero(np.asarray(signal) > 0.0)
    return int(on[0]) if on.size else len(signal)


@njit(cache=True)
def _levels(signal, release, hold_days, step_in, step_out, exit_on_release, levels) -> None:
    """Fill ``levels`` (C x T) by running ``hedge_step`` over the days."""
    n_configs = levels.shape[0]
    active = np.zeros(n_configs, dtype=np.int64)
    desired = np.zeros(n_configs)
    remaining = np.zeros(n_configs, dtype=np.int64)
    level = np.zeros(n_configs)
    for t in range(signal.shape[0]):
        hedge_step(
            signal[t], release[t], hold_days, step_in, step_out, exit_on_release, active, desired, remaining, level
        )
        levels[:, t] = level


def check_signal(signal: np.ndarray, release: np.ndarray) -> None:
    """Raise ``ValueError`` unless ``signal`` (float) and ``release`` (bool) are 1-d, equally long, signal in [0, 1]."""
    if signal.shape != release.shape or signal.ndim != 1:
        raise ValueError("signal and release must be 1-d arrays of the same length")
    if np.isnan(signal).any() or signal.min(initial=0.0) < 0.0 or signal.max(initial=0.0) > 1.0:
        raise ValueError("signal must lie in [0, 1] with no NaN")


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
    are ``(C,)`` arrays (``hold_days`` >= 1, steps in (0, 1]), broadcast together.
    """
    signal = np.ascontiguousarray(signal, dtype=float)
    release = np.ascontiguousarray(release, dtype=bool)
    check_signal(signal, release)
    params = np.broadcast_arrays(
        np.asarray(hold_days, dtype=np.int64),
        np.asarray(step_in, dtype=float),
        np.asarray(step_out, dtype=float),
        np.asarray(exit_on_release, dtype=bool).astype(np.int64),
    )
    shape = params[0].shape
    hold, up, down, exits = (np.ascontiguousarray(a.reshape(-1)) for a in params)
    levels = np.empty((hold.shape[0], signal.shape[0]))
    _levels(signal, release, hold, up, down, exits, levels)
    return levels.reshape(shape + signal.shape)


@dataclass(frozen=True)
class ResponseArrays:
    """Per-configuration response parameters, aligned arrays of length C."""

    hedge_fraction: np.ndarray
    hold_days: np.ndarray
    step_in: np.ndarray
    step_out: np.ndarray
    exit_on_release: np.ndarray

    @classmethod
    def of(cls, responses: list[Mapping[str, Any]]) -> ResponseArrays:
        """From ``[response]`` tables (validated values)."""
        return cls(
            np.asarray([r["hedge_fraction"] for r in responses], dtype=float),
            np.asarray([r["hold_days"] for r in responses], dtype=np.int64),
            np.asarray([r["step_in"] for r in responses], dtype=float),
            np.asarray([r["step_out"] for r in responses], dtype=float),
            np.asarray([r["on_deescalation"] == "exit" for r in responses], dtype=bool),
        )

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The five arrays in field order (the order the fast kernel takes them)."""
        return (self.hedge_fraction, self.hold_days, self.step_in, self.step_out, self.exit_on_release)

    def take(self, rows: slice) -> ResponseArrays:
        """A slice of the configurations."""
        return ResponseArrays(*(a[rows] for a in self.arrays()))


def hedge_level(signal: pd.Series, release: pd.Series, response: Mapping[str, Any]) -> pd.Series:
    """The hedge level of one ``[response]`` configuration, on ``signal``'s index."""
    import pandas as pd

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
    import pandas as pd

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

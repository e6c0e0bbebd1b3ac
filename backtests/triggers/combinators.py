"""Combinators ``any``, ``all`` and ``not``: triggers built from other triggers' effective signals.

- ``any``: the maximum of the input signals; ``all``: the minimum;
  ``not``: 1 while its one input is off (signal 0), else 0 (the input is read as on/off).
- ``release``: ``any``/``all`` release when any input releases; ``not`` never does.
- The inputs are already lagged, so a combinator's own ``lag`` defaults to 0.
- A firing is a day the combined signal turns on; it carries the events of the
  latest firing (up to that day) of each input that is on then.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from backtests.errors import UserInputError
from backtests.params import ParamSpec
from backtests.triggers.context import EVENT_FIELDS, EVENT_SEPARATOR, TriggerOutput
from backtests.triggers.timing import RawFiring, lag_param, lagged_output, turn_on_positions

COMBINATOR_PARAMS: dict[str, ParamSpec] = {
    "inputs": ParamSpec(
        "str_list",
        None,
        help='names of the triggers to combine, e.g. ["tariffs", "gpr"] (not: exactly one)',
    ),
    "lag": lag_param(0),
}


def resolve_combinator_params(kind: str, params: dict[str, Any], key: str) -> dict[str, Any]:
    """Check the number of inputs: exactly one for ``not``, at least one for ``any``/``all``."""
    count = len(params["inputs"])
    if kind == "not" and count != 1:
        raise UserInputError(
            f"{key}.inputs: 'not' takes exactly one input, got {count}; e.g. inputs = [\"tariffs\"]"
        )
    if count == 0:
        raise UserInputError(
            f'{key}.inputs: \'{kind}\' needs at least one input; e.g. inputs = ["tariffs", "gpr"]'
        )
    return dict(params)


def _combined(kind: str, signals: np.ndarray) -> np.ndarray:
    """Combine a ``days x inputs`` array of signals into one raw signal."""
    if kind == "any":
        return signals.max(axis=1)
    if kind == "all":
        return signals.min(axis=1)
    return (signals[:, 0] <= 0).astype(float)


def _events_behind(inputs: Sequence[TriggerOutput], pos: int, day: pd.Timestamp) -> dict[str, str]:
    """The ``event_*`` fields of the latest firing (to ``day``) of each input on at ``pos``."""
    parts: dict[str, list[str]] = {field: [] for field in EVENT_FIELDS}
    for output in inputs:
        if output.signal.iloc[pos] <= 0:
            continue
        past = output.firings[output.firings["date"] <= day]
        if past.empty:
            continue
        latest = past.iloc[-1]
        for field in EVENT_FIELDS:
            if latest[field]:
                parts[field].append(latest[field])
    return {field: EVENT_SEPARATOR.join(values) for field, values in parts.items()}


def _reason(kind: str, inputs: Sequence[TriggerOutput], pos: int) -> str:
    names = ", ".join(o.name for o in inputs)
    if kind == "not":
        return f"not({names}): {names} off"
    on = ", ".join(o.name for o in inputs if o.signal.iloc[pos] > 0)
    return f"{kind}({names}): on: {on}"


def combine(
    kind: str,
    name: str,
    params: dict[str, Any],
    calendar: pd.DatetimeIndex,
    inputs: Sequence[TriggerOutput],
) -> TriggerOutput:
    """Evaluate combinator ``kind`` (any, all or not) over ``inputs`` on ``calendar``."""
    raw = _combined(kind, np.column_stack([o.signal.to_numpy() for o in inputs]))
    if kind == "not":
        release = np.zeros(len(calendar), dtype=bool)
    else:
        release = np.column_stack([o.release.to_numpy() for o in inputs]).any(axis=1)
    firings = [
        RawFiring(
            int(pos),
            _reason(kind, inputs, int(pos)),
            _events_behind(inputs, int(pos), calendar[pos]),
        )
        for pos in turn_on_positions(raw > 0)
    ]
    return lagged_output(name, calendar, raw, release, firings, params["lag"])

"""Parameter grids for ``backtest sweep``: parse ``--grid`` options and enumerate configurations.

``KEY=V1,V2,...`` lists values; ``KEY=START:STOP:STEP`` is an arithmetic range
that includes STOP when STOP falls on the grid (``0.05:1.0:0.05`` is 20 values,
``1:50:1`` is 50). Values stay strings here; the spec layer type-checks them
exactly like ``--set`` values.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

import numpy as np

from backtests.errors import UserInputError

MAX_CONFIGURATIONS = 1_000_000


def parse_grid_option(option: str) -> tuple[str, list[str]]:
    """``"KEY=..."`` -> (key, values as strings). Raises UserInputError for malformed input."""
    key, sep, spec = option.partition("=")
    key, spec = key.strip(), spec.strip()
    if not sep or not key or not spec:
        raise UserInputError(f"--grid {option!r}: expected KEY=V1,V2,... or KEY=START:STOP:STEP")
    if ":" in spec:
        return key, _arange(key, spec)
    values = [v.strip() for v in spec.split(",") if v.strip()]
    if len(set(values)) != len(values):
        raise UserInputError(f"--grid {key}: values repeat; list each value once")
    return key, values


def _arange(key: str, spec: str) -> list[str]:
    parts = spec.split(":")
    if len(parts) != 3:
        raise UserInputError(f"--grid {key}={spec}: a range is START:STOP:STEP, e.g. 0.05:1.0:0.05")
    try:
        start, stop, step = (Decimal(p.strip()) for p in parts)
    except InvalidOperation:
        raise UserInputError(f"--grid {key}={spec}: START, STOP and STEP must be numbers") from None
    if step <= 0 or stop < start:
        raise UserInputError(f"--grid {key}={spec}: need STEP > 0 and STOP >= START")
    count = int((stop - start) / step) + 1
    if count > MAX_CONFIGURATIONS:
        raise UserInputError(f"--grid {key}={spec}: {count} values is too many; use a larger STEP")
    # Decimal arithmetic keeps 0.05 * 3 == 0.15 exactly, so STOP is included when on the grid.
    return [_format(start + step * i) for i in range(count)]


def _format(value: Decimal) -> str:
    return format(value.normalize(), "f")


def enumerate_grid(axes: Sequence[tuple[str, list[str]]]) -> list[dict[str, str]]:
    """Every combination of the axes, in a stable order (the first axis varies slowest)."""
    keys = [k for k, _ in axes]
    if len(set(keys)) != len(keys):
        raise UserInputError("--grid: the same key is given twice; merge its values into one --grid")
    total = int(np.prod([len(v) for _, v in axes])) if axes else 0
    if total > MAX_CONFIGURATIONS:
        raise UserInputError(f"--grid: {total} configurations is too many (max {MAX_CONFIGURATIONS}); use --random N")
    return [dict(zip(keys, combo)) for combo in itertools.product(*[v for _, v in axes])]


def sample_grid(configs: list[dict[str, str]], n: int, seed: int) -> list[dict[str, str]]:
    """``n`` configurations drawn without replacement with a seeded RNG, in grid order."""
    if n <= 0:
        raise UserInputError("--random N: N must be a positive whole number")
    if n >= len(configs):
        return configs
    picks = np.sort(np.random.default_rng(seed).choice(len(configs), size=n, replace=False))
    return [configs[i] for i in picks]

"""Parameter grids: parse ``KEY=...`` options, check keys and values once, enumerate or sample configurations.

``KEY=V1,V2,...`` lists values; ``KEY=START:STOP:STEP`` is an arithmetic range
that includes STOP when STOP falls on the grid (``0.05:1.0:0.05`` is 20 values,
``1:50:1`` is 50). ``Grid.build`` checks every key and value against the spec
exactly like an override (one coercion, here), refuses keys that cannot be
swept (``FIXED_KEYS``: they change the period, the data or the run's identity),
and keeps configurations as indices into the axes, so a million of them cost a
few megabytes. ``random=N`` samples N configurations without enumerating the
grid, so it works on grids far larger than ``MAX_CONFIGURATIONS``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from decimal import Decimal, InvalidOperation

import numpy as np

from backtests.errors import UserInputError

MAX_CONFIGURATIONS = 1_000_000


def parse_grid_option(option: str) -> tuple[str, list[str]]:
    """``"KEY=..."`` -> (key, values as strings). Raises UserInputError for malformed input."""
    key, sep, spec = option.partition("=")
    key, spec = key.strip(), spec.strip()
    if not sep or not key or not spec:
        raise UserInputError(f"`grid` {option!r}: expected KEY=V1,V2,... or KEY=START:STOP:STEP")
    if ":" in spec:
        return key, _arange(key, spec)
    values = [v.strip() for v in spec.split(",") if v.strip()]
    if len(set(values)) != len(values):
        raise UserInputError(f"`grid` {key}: values repeat; list each value once")
    return key, values


def _arange(key: str, spec: str) -> list[str]:
    parts = spec.split(":")
    if len(parts) != 3:
        raise UserInputError(f"`grid` {key}={spec}: a range is START:STOP:STEP, e.g. 0.05:1.0:0.05")
    try:
        start, stop, step = (Decimal(p.strip()) for p in parts)
    except InvalidOperation:
        start = stop = step = Decimal("NaN")
    if not (start.is_finite() and stop.is_finite() and step.is_finite()):
        raise UserInputError(f"`grid` {key}={spec}: START, STOP and STEP must be numbers")
    if step <= 0 or stop < start:
        raise UserInputError(f"`grid` {key}={spec}: need STEP > 0 and STOP >= START")
    try:
        steps = (stop - start) / step
    except ArithmeticError:  # beyond Decimal's exponent range (1e999999 / 1e-999999): far too many
        steps = Decimal(MAX_CONFIGURATIONS)
    if steps >= MAX_CONFIGURATIONS:
        raise UserInputError(
            f"`grid` {key}={spec}: more than {MAX_CONFIGURATIONS:,} values is too many; use a larger STEP"
        )
    count = int(steps) + 1
    # Decimal arithmetic keeps 0.05 * 3 == 0.15 exactly, so STOP is included when on the grid.
    return [_format(start + step * i) for i in range(count)]


def _format(value: Decimal) -> str:
    return format(value.normalize(), "f")


#: Keys a sweep cannot vary: every configuration is measured on the same period and data, under one name.
FIXED_KEYS = ("name", "description", "thesis", "start", "end", "benchmark", "events", "calendar")


@dataclass(frozen=True)
class Grid:
    """Swept ``keys``, their typed ``values`` and the chosen configurations as a C x K index array."""

    keys: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]
    picks: np.ndarray

    @classmethod
    def build(
        cls, spec, axes: Mapping[str, Sequence[Any]], *, random: int | None = None, seed: int | None = None
    ) -> Grid:
        """Check ``axes`` (key -> values, typed or strings) against ``spec``; all configurations or ``random``."""
        from backtests.strategy.overrides import split_key
        from backtests.strategy.schema import join_key

        if not axes:
            raise UserInputError("`grid`: give at least one key to sweep, e.g. response.hedge_fraction=0.1:1.0:0.1")
        keys, values = [], []
        for key, raw in axes.items():
            canonical = join_key(split_key(key))
            if canonical in FIXED_KEYS:
                raise UserInputError(
                    f"`grid` {canonical}: cannot be swept (every configuration uses the same period, data and name); "
                    "set one value for the whole sweep instead"
                )
            if canonical in keys:
                raise UserInputError("`grid`: the same key is given twice; merge its values into one")
            typed = [_checked(spec, canonical, v) for v in raw]
            if canonical.startswith("triggers."):  # a trigger is validated as a whole: check each value now
                for value in typed:
                    _check_trigger_value(spec, canonical, value)
            if not typed:
                raise UserInputError(f"`grid` {canonical}: no values; give at least one")
            if len({repr(v) for v in typed}) != len(typed):
                raise UserInputError(f"`grid` {canonical}: values repeat; list each value once")
            keys.append(canonical)
            values.append(tuple(typed))
        sizes = [len(v) for v in values]
        total = int(np.prod(sizes, dtype=object))
        if random is None:
            if total > MAX_CONFIGURATIONS:
                raise UserInputError(
                    f"`grid`: {total} configurations is too many (max {MAX_CONFIGURATIONS}); sample with `random` N"
                )
            flat = np.arange(total, dtype=np.int64)
        else:
            flat = _sample(total, random, seed)
        return cls(tuple(keys), tuple(values), _decode(flat, sizes))

    def __len__(self) -> int:
        return int(self.picks.shape[0])

    def configurations(self) -> Iterator[dict[str, Any]]:
        """Each configuration as key -> typed value, in grid order (the first key varies slowest)."""
        for row in self.picks:
            yield {k: self.values[j][i] for j, (k, i) in enumerate(zip(self.keys, row))}

    def edge_notes(self, winner: Mapping[str, Any]) -> list[str]:
        """A warning for each numeric axis (3+ values) on which the winner sits at an end of the range."""
        notes = []
        for key, values in zip(self.keys, self.values):
            numeric = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
            if len(numeric) < 3 or len(numeric) != len(values):
                continue
            value = winner[key]
            if value in (min(numeric), max(numeric)):
                notes.append(
                    f"the winner sits on the edge of the grid ({key} = {value}); widen the range to see past it"
                )
        return notes


def _checked(spec, key: str, value: Any) -> Any:
    """One grid value, checked and coerced exactly like an override of ``key``."""
    from backtests.strategy.schema import WEIGHT, WEIGHT_SECTIONS, coerce_value, suggest_key

    params = spec.keys()
    param = params.get(key) or (WEIGHT if key.split(".", 1)[0] in WEIGHT_SECTIONS else None)
    if param is None:
        raise UserInputError(f"`grid` {key}: unknown key{suggest_key(key, params)}")
    return coerce_value(param, value, key, where="`grid`")


def _check_trigger_value(spec, key: str, value: Any) -> None:
    """Raise as ``grid`` when the trigger table with ``key = value`` is invalid (before any data are loaded)."""
    try:
        spec.with_overrides({key: value})
    except UserInputError as exc:
        reason = str(exc).split(": ", 1)[-1]
        raise UserInputError(f"`grid` {key}={value!r}: {reason}") from None


def _sample(total: int, n: int, seed: int | None) -> np.ndarray:
    """``n`` distinct flat indices below ``total``, seeded, in grid order (all when ``n >= total``)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise UserInputError("`random` N: N must be a positive whole number")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise UserInputError(f"`seed` {seed!r}: use a whole number >= 0")
    if n > MAX_CONFIGURATIONS:
        raise UserInputError(f"`random` {n}: at most {MAX_CONFIGURATIONS} configurations per sweep")
    if n >= total:
        return np.arange(total, dtype=np.int64)
    if total >= 2**62:
        raise UserInputError(f"`grid`: {total} configurations cannot be sampled; sweep fewer keys or values")
    rng = np.random.default_rng(seed or 0)
    if total <= 4 * n:
        return np.sort(rng.choice(total, size=n, replace=False)).astype(np.int64)
    picked: set[int] = set()
    while len(picked) < n:  # rejection sampling: cheap when n is small next to the grid
        picked.update(int(x) for x in rng.integers(0, total, size=n - len(picked), dtype=np.int64))
    return np.sort(np.fromiter(picked, dtype=np.int64, count=n))


def _decode(flat: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """Flat indices -> per-axis indices (C x K), the first axis varying slowest."""
    out = np.empty((len(flat), len(sizes)), dtype=np.int64)
    rest = flat.copy()
    for j in range(len(sizes) - 1, -1, -1):
        out[:, j] = rest % sizes[j]
        rest //= sizes[j]
    return out

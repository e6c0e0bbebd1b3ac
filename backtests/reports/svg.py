"""Number formats shared by our hand-built SVG charts (the sweep's heat and line panels, the events
page's date-axis charts): coordinates with few decimals, and round tick values.

Light on purpose: no plotting library, no pandas.
"""

from __future__ import annotations

import math


def num(value: float, decimals: int = 2) -> str:
    """A coordinate with at most ``decimals`` decimals, no trailing zeros, never ``-0``."""
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def nice_ticks(lo: float, hi: float) -> list[float]:
    """Four to seven round values from ``lo`` to ``hi``."""
    if not hi > lo:
        return [lo]
    raw = (hi - lo) / 6
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step - 1e-9)
    return [round(k * step, 12) for k in range(first, math.floor(hi / step + 1e-9) + 1)]

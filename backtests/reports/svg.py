"""Pieces shared by our hand-built SVG charts (the sweep's heat and line panels, the events page's
date-axis charts): coordinates with few decimals, text elements, estimated text widths and round
tick values.

Light on purpose: no plotting library, no pandas (numpy only, for ``portable_math``'s powers of ten).
"""

from __future__ import annotations

import math

from backtests import portable_math
from backtests.reports.markup import esc


def num(value: float, decimals: int = 2) -> str:
    """A coordinate with at most ``decimals`` decimals, no trailing zeros, never ``-0``."""
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def nice_ticks(lo: float, hi: float) -> list[float]:
    """Four to seven round values from ``lo`` to ``hi``."""
    if not hi > lo:
        return [lo]
    raw = (hi - lo) / 6
    magnitude = float(portable_math.power_of_ten(portable_math.decade(raw)))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step - 1e-9)
    return [round(k * step, 12) for k in range(first, math.floor(hi / step + 1e-9) + 1)]


def text(
    x: float, y: float, content: object, *, size: float, anchor: str = "start", extra: str = "", decimals: int = 2
) -> str:
    """A ``<text>`` element: position and size with at most ``decimals`` decimals, ``extra``
    attributes appended, the content XML-escaped (quotes too)."""
    anchor_attr = f' text-anchor="{anchor}"' if anchor != "start" else ""
    return (
        f'<text x="{num(x, decimals)}" y="{num(y, decimals)}" font-size="{num(size, decimals)}"'
        f"{anchor_attr}{extra}>{esc(content)}</text>"
    )


def text_width(content: str, size: float) -> float:
    """Estimated width in px of ``content`` at font ``size`` (0.62 em a character)."""
    return len(content) * size * 0.62

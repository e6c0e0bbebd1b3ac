"""The events page's date-axis charts as hand-built SVG: the hedge chart and the weights chart.

Contract:

- Pure string building over pandas and numpy: no plotting library, so writing a run's
  events page never imports matplotlib (``backtest run --no-tearsheet`` loads none).
- Deterministic bytes: the same inputs give the same text (fixed number formats, no
  random ids). Every piece of text is escaped (``markup.esc``).
- Interactivity without script: each shaded hedge episode of the growth panel is a
  ``<g id="episode-span-I" class="episode-span">`` with a ``<title>`` (the browser shows it
  on hover) around an ``<a xlink:href>``; each strip marker likewise an ``event-marker-I``.
  In-page links (``#...``) stay in the tab; others open a new one.
- Dates are placed on calendar time (weekends are gaps, as on any date axis); labelled
  ticks fall on year, month or day starts inside the period. Lines longer than four
  points per pixel column keep, per column, the first, lowest, highest and last point:
  the drawn shape is unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from backtests.reports.markup import esc
from backtests.reports.svg import nice_ticks, num, text, text_width

STRATEGY_COLOR = "#1f5fbf"
BENCHMARK_COLOR = "#f2a33a"
BASE_SERIES_COLOR = "#4d4d4d"  # the counterfactual (unhedged / untilted) series
SHADE_COLOR = "#e07b24"  # hedge episodes
DIRECTION_STYLE = {"escalation": ("down", "#c62828"), "de-escalation": ("up", "#2e7d32")}  # shape, colour
OTHER_STYLE = ("circle", "#6d6d6d")
# Weights chart: distinct cool hues for the core sleeve, warm ones for the hedge sleeve.
CORE_COLORS = ("#1f5fbf", "#7fb0ec", "#00838f", "#6a3d9a", "#9aa1ad", "#2b4c7e", "#80cbc4", "#b39ddb")
HEDGE_COLORS = ("#f2a33a", "#c62828", "#c9a227", "#8d6e63", "#d81b60", "#f7c873", "#e57373", "#6d4c41")
#: ColorBrewer's 9-class ramps (matplotlib's "Blues" and "Oranges"), for sleeves longer than a palette.
BLUES = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")
ORANGES = ("#fff5eb", "#fee6ce", "#fdd0a2", "#fdae6b", "#fd8d3c", "#f16913", "#d94801", "#a63603", "#7f2704")
FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
WIDTH, LEFT, RIGHT = 1100, 70, 18  # the figure and its plot margins, px
GRID, SPINE, TEXT_GREY = "#e3e6eb", "#9aa1ad", "#333333"
MOST_DATE_TICKS = 12


@dataclass(frozen=True)
class Marker:
    """One clickable point on the event strip: the day, how many firings, hover text, link."""

    date: pd.Timestamp
    count: int
    tooltip: str
    href: str
    direction: str = ""


@dataclass(frozen=True)
class Span:
    """One shaded period (a hedge episode): first and last day, hover text, link."""

    start: pd.Timestamp
    end: pd.Timestamp
    tooltip: str
    href: str


def growth(returns: pd.Series) -> pd.Series:
    """Growth of 1 from daily simple returns."""
    return (1.0 + returns.fillna(0.0)).cumprod()


def thin(frame: pd.DataFrame, max_points: int = 600) -> pd.DataFrame:
    """Every k-th row (and the last) so at most ~``max_points`` remain: ~2 pixel columns each.

    An 11-year daily stacked area drawn in full is ~1 MB of SVG for no visible gain.
    """
    step = max(1, -(-len(frame) // max_points))
    if step == 1:
        return frame
    keep = np.unique(np.append(np.arange(0, len(frame), step), len(frame) - 1))
    return frame.iloc[keep]


def sleeve_colors(count: int, palette: Sequence[str], ramp: Sequence[str]) -> list[str]:
    """``count`` distinct colours: the palette, or evenly spaced along ``ramp`` (from 35% to 95% of
    it) when the palette is too short."""
    if count <= len(palette):
        return list(palette[:count])
    stops = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in ramp], dtype=float)
    positions = np.linspace(0.35, 0.95, count) * (len(ramp) - 1)
    low = np.minimum(positions.astype(int), len(ramp) - 2)
    mix = (positions - low)[:, None]
    rgb = np.rint(stops[low] * (1 - mix) + stops[low + 1] * mix).astype(int)
    return ["#" + "".join(f"{v:02x}" for v in row) for row in rgb]


def _n(value: float) -> str:
    """A coordinate: one decimal at most (a tenth of a pixel)."""
    return num(value, 1)


def _text(x: float, y: float, content: str, *, size: float = 11, anchor: str = "start", extra: str = "") -> str:
    return text(x, y, content, size=size, anchor=anchor, extra=extra, decimals=1)


def _date_label(x: float, y: float, label: str) -> str:
    """A date tick's label centred under it, or ending at it where centred it would leave the figure."""
    return _text(x, y, label, size=12, anchor="end" if x + text_width(label, 12) / 2 > WIDTH - 2 else "middle")


def _link(href: str, inner: str) -> str:
    target = "" if href.startswith("#") else ' target="_blank"'
    return f'<a xlink:href="{esc(href)}"{target}>{inner}</a>'


def _days(dates: pd.DatetimeIndex | Sequence[pd.Timestamp]) -> np.ndarray:
    return np.asarray(pd.DatetimeIndex(dates).tz_localize(None).to_numpy(), dtype="datetime64[D]").astype(np.int64)


@dataclass(frozen=True)
class _Axis:
    """The shared date axis: day numbers to x pixels."""

    first: int
    last: int
    left: float = LEFT
    width: float = WIDTH - LEFT - RIGHT

    def x(self, days: np.ndarray | int) -> np.ndarray:
        span = max(self.last - self.first, 1)
        return self.left + (np.asarray(days, dtype=float) - self.first) / span * self.width

    def ticks(self) -> list[tuple[float, str]]:
        """Labelled ticks: year starts, else month starts, else days, at most ``MOST_DATE_TICKS``."""
        first, last = np.datetime64(self.first, "D"), np.datetime64(self.last, "D")
        years = np.arange(first.astype("datetime64[Y]") + 1, last.astype("datetime64[Y]") + 1)
        if len(years) >= 3:
            step = next(s for s in (1, 2, 5, 10, 20, 50) if -(-len(years) // s) <= MOST_DATE_TICKS)
            picked = [y for y in years if int(str(y)) % step == 0]
            return [(float(self.x(y.astype("datetime64[D]").astype(np.int64))), str(y)) for y in picked]
        months = np.arange(first.astype("datetime64[M]") + 1, last.astype("datetime64[M]") + 1)
        if len(months) >= 2:
            step = next(s for s in (1, 2, 3, 6, 12) if -(-len(months) // s) <= MOST_DATE_TICKS)
            picked = [m for m in months if (m.astype(int) % 12) % step == 0]
            return [(float(self.x(m.astype("datetime64[D]").astype(np.int64))), _month(m)) for m in picked]
        span = self.last - self.first
        step = next(s for s in (1, 2, 5, 7, 14, 28) if span // s + 1 <= MOST_DATE_TICKS)
        return [
            (float(self.x(d)), f"{pd.Timestamp(np.datetime64(d, 'D')):%b %d}")
            for d in range(self.first, self.last + 1, step)
        ]


def _month(month: np.datetime64) -> str:
    return f"{pd.Timestamp(month.astype('datetime64[D]')):%b %Y}"


@dataclass(frozen=True)
class _Panel:
    """One plot box on the date axis, with its value range."""

    axis: _Axis
    top: float
    height: float
    lo: float
    hi: float

    @classmethod
    def fitted(cls, axis: _Axis, top: float, height: float, series: Sequence[np.ndarray]) -> _Panel:
        """A panel whose range holds every finite value of ``series`` with 5% margins."""
        values = np.concatenate([s[np.isfinite(s)] for s in series]) if series else np.zeros(0)
        lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
        flat = hi - lo <= 1e-9 * max(1.0, abs(hi))  # float noise (a hedge never on) draws as flat
        pad = max(abs(hi) * 0.05, 0.01) if flat else (hi - lo) * 0.05
        return cls(axis, top, height, lo - pad, hi + pad)

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def y(self, values: np.ndarray | float) -> np.ndarray:
        return self.bottom - (np.asarray(values, dtype=float) - self.lo) / (self.hi - self.lo) * self.height

    def frame(self, *, percent: bool, date_ticks: Sequence[tuple[float, str]]) -> str:
        """Grid lines, y tick labels and the left and bottom spines."""
        right = self.axis.left + self.axis.width
        values = nice_ticks(self.lo, self.hi)
        step = (values[1] - values[0] if len(values) > 1 else 1.0) * (100 if percent else 1)
        decimals = next((d for d in range(7) if abs(round(step, d) - step) <= 1e-9 * step), 6)
        parts = []
        for value in values:
            y = float(self.y(value))
            parts.append(f'<path d="M{_n(self.axis.left)} {_n(y)}H{_n(right)}" stroke="{GRID}" stroke-width="0.8"/>')
            label = f"{value * 100:.{decimals}f}%" if percent else f"{value:.{decimals}f}"
            parts.append(_text(self.axis.left - 6, y + 4, label.replace("-", "−"), anchor="end"))
        for x, _ in date_ticks:
            parts.append(f'<path d="M{_n(x)} {_n(self.top)}V{_n(self.bottom)}" stroke="{GRID}" stroke-width="0.8"/>')
        parts.append(
            f'<path d="M{_n(self.axis.left)} {_n(self.top)}V{_n(self.bottom)}H{_n(right)}" '
            f'fill="none" stroke="{SPINE}" stroke-width="0.8"/>'
        )
        return "".join(parts)

    def line(self, days: np.ndarray, values: np.ndarray, color: str, width: float) -> str:
        """A polyline (gaps at NaN), at most four points per pixel column."""
        x, y = self.axis.x(days), self.y(values)
        keep = _column_extremes(x, y)
        x, y, finite = x[keep], y[keep], np.isfinite(y[keep])
        pieces, pen_down = [], False
        for xi, yi, ok in zip(x, y, finite, strict=True):
            if ok:
                pieces.append(f"{'L' if pen_down else 'M'}{_n(xi)} {_n(yi)}")
            pen_down = bool(ok)
        return (
            f'<path d="{"".join(pieces)}" fill="none" stroke="{color}" stroke-width="{width}" '
            'stroke-linejoin="round" stroke-linecap="round"/>'
        )

    def shade(self, first: int, last: int) -> str:
        x0, x1 = float(self.axis.x(first)), float(self.axis.x(last))
        return (
            f'<rect x="{_n(x0)}" y="{_n(self.top)}" width="{_n(max(x1 - x0, 1.0))}" height="{_n(self.height)}" '
            f'fill="{SHADE_COLOR}" fill-opacity="0.13"/>'
        )


def _column_extremes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices to draw: all when there are at most four per pixel column, else each column's first,
    lowest, highest and last point (NaN points always kept: they break the line)."""
    columns = np.floor(x).astype(np.int64)
    if len(x) == 0 or len(x) <= 4 * (columns[-1] - columns[0] + 1):
        return np.arange(len(x))
    starts = np.flatnonzero(np.r_[True, columns[1:] != columns[:-1]])
    ends = np.r_[starts[1:], len(x)]
    keep = [np.flatnonzero(~np.isfinite(y))]
    for a, b in zip(starts, ends, strict=True):
        segment = np.where(np.isfinite(y[a:b]), y[a:b], np.nan)
        picks = [a, b - 1]
        if np.isfinite(segment).any():
            picks += [a + int(np.nanargmin(segment)), a + int(np.nanargmax(segment))]
        keep.append(np.array(picks))
    return np.unique(np.concatenate(keep))


def _svg(body: str, height: float, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{WIDTH}" height="{_n(height)}" viewBox="0 0 {WIDTH} {_n(height)}" '
        f'font-family="{FONT}" fill="{TEXT_GREY}" aria-label="{esc(label)}">{body}</svg>'
    )


def _legend_step(name: str) -> float:
    """The width one legend item takes: swatch, name (12 px text), gap."""
    return 28 + text_width(name, 12) + 18


def _legend(x: float, y: float, items: Sequence[tuple[str, str]], *, swatch: str = "line") -> str:
    """Items left to right from ``(x, y)``: a line (or square) in the colour, then the name."""
    parts = []
    for name, color in items:
        if swatch == "line":
            parts.append(f'<path d="M{_n(x)} {_n(y - 4)}h22" stroke="{color}" stroke-width="2"/>')
        else:
            parts.append(f'<rect x="{_n(x)}" y="{_n(y - 10)}" width="14" height="11" style="fill: {color}"/>')
        parts.append(_text(x + 28, y, name, size=12))
        x += _legend_step(name)
    return "".join(parts)


def _marker(shape: str, color: str, cx: float, cy: float) -> str:
    style = f'fill="{color}" stroke="#ffffff" stroke-width="0.8"'
    if shape == "circle":
        return f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="4.5" {style}/>'
    tip = 6.0 if shape == "down" else -6.0
    return f'<path d="M{_n(cx - 5.5)} {_n(cy - tip)}L{_n(cx + 5.5)} {_n(cy - tip)}L{_n(cx)} {_n(cy + tip)}Z" {style}/>'


def hedge_chart(
    curves: Mapping[str, pd.Series],
    relative: pd.Series,
    drawdowns: Mapping[str, pd.Series],
    *,
    spans: Sequence[Span],
    markers: Sequence[Marker],
    title: str,
    relative_title: str,
) -> str:
    """Growth (strategy, base, benchmark), relative wealth, drawdowns and the event strip.

    Four panels on one date axis. ``curves``/``drawdowns`` in the order strategy,
    base, benchmark (their colours); ``spans`` (hedge episodes) shade the three top
    panels, each span of the growth panel linked with its tooltip; ``markers`` sit on
    the strip at the bottom, one per day.
    """
    colors = (STRATEGY_COLOR, BASE_SERIES_COLOR, BENCHMARK_COLOR)
    index = next(iter(curves.values())).index
    days = _days(index)
    axis = _Axis(int(days[0]), int(days[-1]))
    date_ticks = axis.ticks()
    top = _Panel.fitted(axis, 58, 270, [s.to_numpy(dtype=float) for s in curves.values()])
    rel = _Panel.fitted(axis, top.bottom + 34, 110, [relative.to_numpy(dtype=float)])
    dd = _Panel.fitted(axis, rel.bottom + 34, 110, [s.to_numpy(dtype=float) for s in drawdowns.values()])
    strip = _Panel(axis, dd.bottom + 26, 34, 0.0, 1.0)
    span_days = list(zip(_days([s.start for s in spans]).tolist(), _days([s.end for s in spans]).tolist(), strict=True))
    parts = [
        _text(axis.left, 22, title, size=15, extra=' font-weight="bold"'),
        _legend(axis.left + 4, 46, [(name, colors[i]) for i, name in enumerate(curves)]),
        top.frame(percent=False, date_ticks=date_ticks),
        _text(18, top.top + top.height / 2, "growth of 1", size=12, anchor="middle",
              extra=f' transform="rotate(-90 18 {_n(top.top + top.height / 2)})"'),
    ]  # fmt: skip
    for i, (span, (a, b)) in enumerate(zip(spans, span_days, strict=True)):
        parts.append(
            f'<g id="episode-span-{i}" class="episode-span"><title>{esc(span.tooltip)}</title>'
            f"{_link(span.href, top.shade(a, b))}</g>"
        )
    parts += [top.line(_days(s.index), s.to_numpy(dtype=float), colors[i], 1.3) for i, s in enumerate(curves.values())]
    parts += [_text(axis.left, rel.top - 8, relative_title, size=12), rel.frame(percent=True, date_ticks=date_ticks)]
    parts += [rel.shade(a, b) for a, b in span_days]
    zero = float(rel.y(0.0))
    if rel.top <= zero <= rel.bottom:
        parts.append(
            f'<path d="M{_n(axis.left)} {_n(zero)}H{_n(axis.left + axis.width)}" stroke="#333333" stroke-width="0.8"/>'
        )
    parts.append(rel.line(_days(relative.index), relative.to_numpy(dtype=float), STRATEGY_COLOR, 1.1))
    parts += [
        _text(axis.left, dd.top - 8, f"Drawdown: {', '.join(drawdowns)} (colours as above)", size=12),
        dd.frame(percent=True, date_ticks=date_ticks),
    ]
    parts += [dd.shade(a, b) for a, b in span_days]
    parts += [dd.line(_days(s.index), s.to_numpy(dtype=float), colors[i], 1.0) for i, s in enumerate(drawdowns.values())]
    parts.append(strip_panel(strip, markers, date_ticks))
    height = strip.bottom + 26
    return _svg("".join(parts), height, title)


def strip_panel(strip: _Panel, markers: Sequence[Marker], date_ticks: Sequence[tuple[float, str]]) -> str:
    """The firings strip: one marker per day (its count above when more than one), the date labels below."""
    axis = strip.axis
    cy = strip.top + strip.height * 0.6
    parts = [
        f'<path d="M{_n(axis.left)} {_n(strip.bottom)}H{_n(axis.left + axis.width)}" stroke="{SPINE}" stroke-width="0.8"/>',
        _text(axis.left - 8, cy + 4, "firings", size=12, anchor="end"),
    ]
    for x, label in date_ticks:
        parts.append(f'<path d="M{_n(x)} {_n(strip.bottom)}v4" stroke="{SPINE}" stroke-width="0.8"/>')
        parts.append(_date_label(x, strip.bottom + 18, label))
    for i, (m, cx) in enumerate(zip(markers, axis.x(_days([m.date for m in markers])).tolist(), strict=True)):
        shape, color = DIRECTION_STYLE.get(m.direction, OTHER_STYLE)
        count = _text(cx, cy - 9, str(m.count), size=8, anchor="middle") if m.count > 1 else ""
        parts.append(
            f'<g id="event-marker-{i}" class="event-marker"><title>{esc(m.tooltip)}</title>'
            f"{_link(m.href, _marker(shape, color, cx, cy))}{count}</g>"
        )
    return "".join(parts)


def weights_chart(weights: pd.DataFrame, hedge_tickers: Sequence[str], *, sleeve: str = "hedge") -> str:
    """Stacked actual weights: core sleeve (cool colours) below, the ``sleeve`` (warm) on top.

    Every ticker gets its own colour; the hedge/tilt tickers are labelled ``(sleeve)``.
    """
    hedge = [t for t in weights.columns if t in set(hedge_tickers)]
    core = [t for t in weights.columns if t not in set(hedge_tickers)]
    ordered = thin(weights[core + hedge].clip(lower=0.0).fillna(0.0))
    colors = sleeve_colors(len(core), CORE_COLORS, BLUES) + sleeve_colors(len(hedge), HEDGE_COLORS, ORANGES)
    labels = [*core, *(f"{t} ({sleeve})" for t in hedge)]
    days = _days(ordered.index)
    axis = _Axis(int(days[0]), int(days[-1]))
    stacked = np.cumsum(ordered.to_numpy(dtype=float), axis=1)
    ceiling = max(1.0, float(stacked[:, -1].max()) if stacked.size else 1.0)
    panel = _Panel(axis, 40, 250, 0.0, ceiling)
    date_ticks = axis.ticks()
    x = axis.x(days)
    parts = [
        _text(axis.left, 22, "Portfolio weights (after trading)", size=15, extra=' font-weight="bold"'),
        panel.frame(percent=True, date_ticks=date_ticks),
    ]
    below = np.zeros(len(days))
    for j, color in enumerate(colors):
        upper = stacked[:, j]
        ring = [f"{_n(a)} {_n(b)}" for a, b in zip(x, panel.y(upper), strict=True)]
        ring += [f"{_n(a)} {_n(b)}" for a, b in zip(x[::-1], panel.y(below)[::-1], strict=True)]
        parts.append(f'<path d="M{"L".join(ring)}Z" style="fill: {color}"/>')
        below = upper
    for tick_x, label in date_ticks:
        parts.append(_date_label(tick_x, panel.bottom + 18, label))
    rows = [labels[k : k + 6] for k in range(0, len(labels), 6)]
    y = panel.bottom + 48
    for r, row in enumerate(rows):
        width = sum(_legend_step(name) for name in row)
        start = axis.left + (axis.width - width) / 2
        items = [(name, colors[r * 6 + k]) for k, name in enumerate(row)]
        parts.append(_legend(start, y, items, swatch="square"))
        y += 22
    return _svg("".join(parts), y, "Portfolio weights")

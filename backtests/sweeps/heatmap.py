"""The sweep's charts as hand-built SVG: the heat panel (two swept keys) and the line panel (one).

Contract:

- Pure string building over numpy arrays: no plotting library, so a sweep never imports
  matplotlib. The caller (``sweeps.report``) decides *what* is drawn (the surface, the labels,
  which cells are the winner and the spec); this module only decides *how*.
- Deterministic bytes: the same inputs give the same text (fixed number formats, no dates,
  no random ids). Every piece of text is XML-escaped; the output parses as XML.
- Marks keep stable ids, one per period ``prefix``: ``{prefix}-winner-cell`` (black frame, or a
  star on a line) and ``{prefix}-spec-cell`` (red dashed frame, or a red circle); a mark whose
  position is ``None`` is not drawn. The colour bar's gradient is ``{prefix}-colour-scale``.
- Heat colours: viridis (``VIRIDIS``, 17 stops, linear in between) from the surface's finite
  minimum to its maximum, in 256 levels; NaN cells are grey ``NAN_GREY``; a constant surface is
  mid-scale. Up to ``MAX_LABELLED_CELLS`` cells print their value when the text fits the cell
  (white on dark, black on light).
- Size: up to ``MAX_RECT_CELLS`` cells (and ``MAX_SIDE`` a side) are vector squares, one ``<path>``
  per colour; larger surfaces are one embedded PNG (one pixel per cell, drawn unsmoothed),
  averaged in blocks first when a side has more than ``MAX_SIDE`` cells, which the panel's
  subtitle then says.
- ``Figure``: panels side by side under a title, as a standalone SVG document; Jupyter shows
  it (``_repr_svg_``) and ``save`` writes it atomically.
"""

from __future__ import annotations

import base64
import math
import os
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backtests.atomic import atomic_write_text
from backtests.reports.markup import esc
from backtests.reports.svg import nice_ticks, num
from backtests.reports.svg import text as svg_text
from backtests.reports.svg import text_width as _width

#: viridis at 0, 1/16, ..., 1 (matplotlib's table); colours in between are interpolated linearly.
VIRIDIS = (
    "#440154", "#48186a", "#472d7b", "#424086", "#3b528b", "#33638d", "#2c728e", "#26828e",
    "#21918c", "#1fa088", "#28ae80", "#3fbc73", "#5ec962", "#84d44b", "#addc30", "#d8e219",
    "#fde725",
)  # fmt: skip
NAN_GREY = "#d9d9d9"
MAX_LABELLED_CELLS = 100  # heat panels up to this many cells print each value
MAX_RECT_CELLS = 4000  # more cells than this are drawn as one image
MAX_SIDE = 400  # more columns (rows) than this are averaged in blocks (about a pixel each)
WINNER_COLOUR, SPEC_COLOUR, LINE_COLOUR, STAR_COLOUR = "#000000", "#e8344e", "#1f5fbf", "#f2a33a"
WINNER_LABEL, SPEC_LABEL = "winner (best in sample)", "spec default"
PANEL_WIDTH, PANEL_HEIGHT = 620, 540
FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
TICK_FONT, TITLE_FONT = 11, 13
MOST_TICKS = 20
LONGEST_TICK = 16  # characters of a tick label before it is cut with an ellipsis
_STOPS = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in VIRIDIS], dtype=float)


def _n(value: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros."""
    return num(value, 2)


def _short(label: str) -> str:
    return label if len(label) <= LONGEST_TICK else label[: LONGEST_TICK - 1] + "…"


def ticks(n: int, most: int = MOST_TICKS) -> list[int]:
    """Positions of the labelled ticks among ``n``: every k-th from 0, at most ``most``."""
    return list(range(0, n, max(1, -(-n // most))))


def colours(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """RGB (uint8, shape ``values.shape + (3,)``) of ``values`` on viridis from ``lo`` to ``hi``;
    256 levels; NaN is ``NAN_GREY``; ``lo == hi`` is mid-scale."""
    values = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.full(values.shape, 0.5) if hi == lo else (values - lo) / (hi - lo)
    t = np.rint(np.clip(np.nan_to_num(t, nan=0.0), 0.0, 1.0) * 255) / 255  # 256 levels, as matplotlib
    pos = t * (len(VIRIDIS) - 1)
    i = np.minimum(pos.astype(int), len(VIRIDIS) - 2)
    f = (pos - i)[..., None]
    rgb = np.rint(_STOPS[i] * (1 - f) + _STOPS[i + 1] * f).astype(np.uint8)
    rgb[np.isnan(values)] = [int(NAN_GREY[k : k + 2], 16) for k in (1, 3, 5)]
    return rgb


def _cell_paths(rgb: np.ndarray) -> str:
    """One ``<path>`` per colour of the image ``rgb`` (rows top to bottom), each cell a 1 x 1
    square at (column, row), runs of one colour along a row merged."""
    fills: dict[str, list[str]] = {}
    for r, row in enumerate(rgb.tolist()):
        c = 0
        while c < len(row):
            end = c + 1
            while end < len(row) and row[end] == row[c]:
                end += 1
            fills.setdefault("#{:02x}{:02x}{:02x}".format(*row[c]), []).append(
                f"M{c} {r}h{end - c}v1h-{end - c}z"
            )
            c = end
    return "".join(f'<path fill="{fill}" d="{"".join(d)}"/>' for fill, d in fills.items())


def png(rgb: np.ndarray) -> bytes:
    """A PNG file of an RGB uint8 image (rows top to bottom), deterministic bytes."""
    height, width, _ = rgb.shape
    rows = np.concatenate([np.zeros((height, 1), np.uint8), rgb.reshape(height, width * 3)], axis=1)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
        + chunk(b"IEND", b"")
    )


def block_means(values: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """Mean of the finite values in each ``rows`` x ``columns`` block (the last ones may be
    smaller); NaN where a block has none."""
    finite = np.isfinite(values)
    edges_r, edges_c = np.arange(0, values.shape[0], rows), np.arange(0, values.shape[1], columns)

    def summed(a: np.ndarray) -> np.ndarray:
        return np.add.reduceat(np.add.reduceat(a, edges_r, axis=0), edges_c, axis=1)

    total, count = summed(np.where(finite, values, 0.0)), summed(finite.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


@dataclass(frozen=True)
class Panel:
    """One chart: its SVG elements (``body``) on a ``width`` x ``height`` px canvas."""

    body: str
    width: float = PANEL_WIDTH
    height: float = PANEL_HEIGHT

    def svg(self) -> str:
        """The panel as a standalone ``<svg>`` element."""
        return _document(self.body, self.width, self.height)


@dataclass(frozen=True)
class Figure:
    """An SVG picture: ``svg`` text; Jupyter shows it inline; ``save(path)`` writes it atomically."""

    svg: str

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the SVG to ``path`` atomically; returns the path."""
        return atomic_write_text(path, self.svg)


def figure(panels: Sequence[Panel], title: str = "") -> Figure:
    """``panels`` side by side under a bold ``title`` on a white background."""
    top = 34 if title else 0
    width = sum(p.width for p in panels)
    height = top + max((p.height for p in panels), default=0)
    parts = [f'<rect width="{_n(width)}" height="{_n(height)}" fill="#ffffff"/>']
    if title:  # 15 px, smaller if that would not fit the width
        parts.append(_text(12, 24, title, size=min(15, (width - 24) / _width(title, 1)), weight="bold"))
    left = 0.0
    for p in panels:
        parts.append(f'<g transform="translate({_n(left)},{top})">{p.body}</g>')
        left += p.width
    return Figure(_document("".join(parts), width, height))


def _document(body: str, width: float, height: float) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(width)}" height="{_n(height)}" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" font-family="{FONT}">{body}</svg>\n'
    )


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: float = TICK_FONT,
    anchor: str = "start",
    weight: str = "",
    fill: str = "",
    rotate: float = 0,
) -> str:
    extra = (f' font-weight="{weight}"' if weight else "") + (f' fill="{fill}"' if fill else "")
    extra += f' transform="rotate({_n(rotate)} {_n(x)} {_n(y)})"' if rotate else ""
    return svg_text(x, y, text, size=size, anchor=anchor, extra=extra)


def _heading(title: str, subtitle: str) -> tuple[str, float]:
    """The panel's title (and subtitle), and the y where the plot may start."""
    parts = [_text(10, 20, title, size=TITLE_FONT, weight="bold")]
    if subtitle:
        parts.append(_text(10, 36, subtitle, fill="#555d6b"))
    return "".join(parts), 48 if subtitle else 34


@dataclass(frozen=True)
class _Box:
    """The plot area in px."""

    left: float
    top: float
    width: float
    height: float

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def outline(self) -> str:
        """The plot's frame: an unfilled dark rectangle."""
        return f'<rect {_xywh(self.left, self.top, self.width, self.height)} fill="none" stroke="#333"/>'


def _xywh(x: float, y: float, width: float, height: float) -> str:
    return f'x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" height="{_n(height)}"'


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str = "#333") -> str:
    return f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{stroke}"/>'


def _x_labels_rotated(labels: Sequence[str], width: float) -> bool:
    """Whether the labelled x ticks need 45° labels: the widest does not fit between two ticks."""
    shown = ticks(len(labels))
    spacing = width / max(len(labels), 1) * (shown[1] - shown[0] if len(shown) > 1 else len(labels))
    return max((_width(_short(labels[i]), TICK_FONT) for i in shown), default=0) + 6 > spacing


def _label_depth(labels: Sequence[str], width: float) -> float:
    """Height under the plot taken by the x tick labels."""
    if not _x_labels_rotated(labels, width):
        return 16
    return max((_width(_short(labels[i]), TICK_FONT) for i in ticks(len(labels))), default=0) * 0.71 + 14


def _x_depth(labels: Sequence[str], width: float) -> float:
    """Height under a plot ``width`` px wide taken by the x tick labels, the axis name and the legend."""
    return _label_depth(labels, width) + 16 + 34


def _x_axis(box: _Box, labels: Sequence[str], name: str) -> tuple[str, float]:
    """Ticks and labels (45° when they would overlap) under ``box`` at equally spaced centres,
    the axis name; returns the elements and the baseline of the name."""
    step, rotated = box.width / max(len(labels), 1), _x_labels_rotated(labels, box.width)
    parts = []
    for i in ticks(len(labels)):
        cx = box.left + (i + 0.5) * step
        parts.append(_line(cx, box.bottom, cx, box.bottom + 4))
        if rotated:
            parts.append(_text(cx + 3, box.bottom + 14, _short(labels[i]), anchor="end", rotate=-45))
        else:
            parts.append(_text(cx, box.bottom + 15, _short(labels[i]), anchor="middle"))
    y = box.bottom + _label_depth(labels, box.width) + 16
    parts.append(_text(box.left + box.width / 2, y, name, size=12, anchor="middle"))
    return "".join(parts), y


def _legend(cx: float, y: float, items: Sequence[tuple[str, str]]) -> str:
    """A centred row of (symbol, label) pairs; each symbol is drawn in a 14 px square at its left."""
    widths = [22 + _width(label, TICK_FONT) for _, label in items]
    x = cx - (sum(widths) + 16 * (len(items) - 1)) / 2
    parts = []
    for (symbol, label), w in zip(items, widths):
        parts.append(f'<g transform="translate({_n(x)},{_n(y - 11)})">{symbol}</g>')
        parts.append(_text(x + 20, y, label))
        x += w + 16
    return "".join(parts)


def _frame(x: float, y: float, w: float, h: float, *, mark: str, cell_id: str = "") -> str:
    ident = f'id="{esc(cell_id)}" ' if cell_id else ""
    if mark == "winner":
        style = f'stroke="{WINNER_COLOUR}" stroke-width="2.6"'
    else:
        style = f'stroke="{SPEC_COLOUR}" stroke-width="2.2" stroke-dasharray="5 3"'
    return f'<rect {ident}{_xywh(x, y, w, h)} fill="none" {style}/>'


_SIN36, _COS36, _COS18, _SIN18 = 0.5877852522924731, 0.8090169943749475, 0.9510565162951535, 0.3090169943749474
#: (cos, sin) of 90 + 36 k degrees, k = 0..9: a five-pointed star's tips and notches, as literals
#: (the C library's sin and cos can differ in the last bit between CPUs)
_STAR_UNIT = (
    (0.0, 1.0), (-_SIN36, _COS36), (-_COS18, _SIN18), (-_COS18, -_SIN18), (-_SIN36, -_COS36),
    (0.0, -1.0), (_SIN36, -_COS36), (_COS18, -_SIN18), (_COS18, _SIN18), (_SIN36, _COS36),
)


def _star(cx: float, cy: float, radius: float, *, cell_id: str = "") -> str:
    points = []
    for k, (cos, sin) in enumerate(_STAR_UNIT):
        r = radius if k % 2 == 0 else radius * 0.4
        points.append(f"{_n(cx + r * cos)},{_n(cy - r * sin)}")
    ident = f'id="{esc(cell_id)}" ' if cell_id else ""
    return (
        f'<polygon {ident}points="{" ".join(points)}" fill="{STAR_COLOUR}" stroke="#000000" '
        'stroke-width="0.8"/>'
    )


def _ring(cx: float, cy: float, *, cell_id: str = "") -> str:
    ident = f'id="{esc(cell_id)}" ' if cell_id else ""
    return (
        f'<circle {ident}cx="{_n(cx)}" cy="{_n(cy)}" r="7" fill="none" stroke="{SPEC_COLOUR}" '
        'stroke-width="2.2"/>'
    )


def _tick_numbers(values: Sequence[float]) -> list[str]:
    """``values`` to 3 significant digits, or more until they read differently (up to 12)."""
    for digits in range(3, 13):
        labels = [f"{v:.{digits}g}" for v in values]
        if len(set(labels)) == len(set(values)):
            break
    return labels


def heat_panel(
    values: np.ndarray,
    columns: Sequence[str],
    rows: Sequence[str],
    *,
    prefix: str,
    title: str,
    x_name: str,
    y_name: str,
    value_name: str,
    winner: tuple[int, int] | None = None,
    spec: tuple[int, int] | None = None,
) -> Panel:
    """``values[row, column]`` as coloured cells, row 0 at the bottom; ``winner``/``spec`` are
    ``(column, row)`` positions to frame; a colour bar from the minimum to the maximum."""
    values = np.asarray(values, dtype=float)
    n_rows, n_cols = values.shape
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (math.nan, math.nan)
    by_rows, by_cols = -(-n_rows // MAX_SIDE), -(-n_cols // MAX_SIDE)
    subtitle = (
        f"{n_cols} x {n_rows} cells (columns x rows), drawn as means of {by_cols} x {by_rows} blocks"
        if by_rows > 1 or by_cols > 1
        else ""
    )
    heading, top = _heading(title, subtitle)
    if not finite.size:
        scale = {}
    elif hi == lo:
        scale = {0.5: _tick_numbers([lo])[0]}  # a constant surface is drawn mid-scale
    else:
        scale = dict(zip((0.0, 0.5, 1.0), _tick_numbers([lo, (lo + hi) / 2, hi])))
    left = 10 + 16 + 8 + max((_width(_short(s), TICK_FONT) for s in rows), default=0) + 8
    right = 16 + 14 + 6 + max((_width(s, TICK_FONT) for s in scale.values()), default=0) + 8 + 16 + 6
    width = PANEL_WIDTH - left - right
    box = _Box(left, top, width, PANEL_HEIGHT - top - _x_depth(columns, width))
    cw, ch = box.width / max(n_cols, 1), box.height / max(n_rows, 1)

    def corner(column: int, row: int) -> tuple[float, float]:
        return box.left + column * cw, box.top + (n_rows - 1 - row) * ch

    parts = [heading]
    if n_rows * n_cols <= MAX_RECT_CELLS and max(n_rows, n_cols) <= MAX_SIDE:
        parts.append(
            f'<g transform="translate({_n(box.left)},{_n(box.top)}) scale({cw:.6g},{ch:.6g})" '
            f'shape-rendering="crispEdges">{_cell_paths(colours(values[::-1], lo, hi))}</g>'
        )
    else:
        shown = block_means(values, by_rows, by_cols) if subtitle else values
        data = base64.b64encode(png(colours(shown[::-1], lo, hi))).decode("ascii")
        parts.append(
            f"<image {_xywh(box.left, box.top, box.width, box.height)} "
            'preserveAspectRatio="none" image-rendering="optimizeSpeed" style="image-rendering:pixelated" '
            f'href="data:image/png;base64,{data}"/>'
        )
    longest = max((len(f"{v:.2f}") for v in finite), default=1) if values.size <= MAX_LABELLED_CELLS else 0
    size = min(11.0, ch * 0.45, cw / (longest * 0.62 + 0.5)) if longest else 0
    if size >= 6:  # values printed only up to MAX_LABELLED_CELLS cells, and only when legible
        for (r, c), value in np.ndenumerate(values):
            if math.isfinite(value):
                dark = hi == lo or (value - lo) / (hi - lo) < 0.6  # viridis is dark below ~60%
                x, y = corner(c, r)
                parts.append(
                    _text(
                        x + cw / 2,
                        y + ch / 2 + size * 0.35,
                        f"{value:.2f}",
                        size=size,
                        anchor="middle",
                        fill="#ffffff" if dark else "#000000",
                    )
                )
    parts.append(box.outline())
    axis, y_after = _x_axis(box, columns, x_name)
    parts.append(axis)
    for i in ticks(n_rows):
        cy = box.top + (n_rows - 1 - i + 0.5) * ch
        parts.append(_line(box.left - 4, cy, box.left, cy))
        parts.append(_text(box.left - 7, cy + 4, _short(rows[i]), anchor="end"))
    parts.append(_text(22, box.top + box.height / 2, y_name, size=12, anchor="middle", rotate=-90))
    parts.append(_colour_bar(box, prefix, scale, value_name))
    for cell, inset, mark in ((winner, 0.04, "winner"), (spec, 0.12, "spec")):
        if cell is not None:  # a frame inside the cell keeps the value readable; at least 10 px
            x, y = corner(*cell)
            w, h = max(cw * (1 - 2 * inset), 10), max(ch * (1 - 2 * inset), 10)
            parts.append(
                _frame(x + (cw - w) / 2, y + (ch - h) / 2, w, h, mark=mark, cell_id=f"{prefix}-{mark}-cell")
            )
    parts.append(
        _legend(
            box.left + box.width / 2,
            y_after + 24,
            [
                (_frame(1, 1, 12, 12, mark="winner"), WINNER_LABEL),
                (_frame(1, 1, 12, 12, mark="spec"), SPEC_LABEL),
            ],
        )
    )
    return Panel("".join(parts))


def _colour_bar(box: _Box, prefix: str, scale: dict[float, str], name: str) -> str:
    """The viridis bar right of ``box``, bottom (minimum) to top (maximum), its ticks (``scale``:
    fraction of the height -> label) and name."""
    x = box.left + box.width + 16
    gradient = f"{prefix}-colour-scale"
    stops = "".join(
        f'<stop offset="{_n(i / (len(VIRIDIS) - 1))}" stop-color="{c}"/>' for i, c in enumerate(VIRIDIS)
    )
    parts = [
        f'<defs><linearGradient id="{esc(gradient)}" x1="0" y1="1" x2="0" y2="0">{stops}</linearGradient></defs>',
        f'<rect {_xywh(x, box.top, 14, box.height)} fill="url(#{esc(gradient)})" stroke="#333"/>',
    ]
    for fraction, label in scale.items():
        y = box.bottom - fraction * box.height
        parts.append(_line(x + 14, y, x + 18, y))
        parts.append(_text(x + 20, y + 4, label))
    label_x = x + 14 + 6 + max((_width(s, TICK_FONT) for s in scale.values()), default=0) + 14
    parts.append(_text(label_x, box.top + box.height / 2, name, size=12, anchor="middle", rotate=-90))
    return "".join(parts)


def line_panel(
    values: np.ndarray,
    labels: Sequence[str],
    *,
    prefix: str,
    title: str,
    x_name: str,
    y_name: str,
    winner: int | None = None,
    spec: int | None = None,
) -> Panel:
    """``values`` along ``labels`` as a line with points (a NaN breaks the line), the winner a
    star and the spec a red circle at their positions."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    pad = (hi - lo) * 0.08 if hi > lo else max(abs(lo) * 0.1, 0.1)
    lo, hi = lo - pad, hi + pad
    y_ticks = nice_ticks(lo, hi)
    tick_labels = [f"{v:.10g}" for v in y_ticks]
    heading, top = _heading(title, "")
    left = 10 + 16 + 8 + max(_width(s, TICK_FONT) for s in tick_labels) + 8
    width = PANEL_WIDTH - left - 20
    box = _Box(left, top, width, PANEL_HEIGHT - top - _x_depth(labels, width))
    step = box.width / max(len(values), 1)

    def at(i: int) -> tuple[float, float]:
        return box.left + (i + 0.5) * step, box.bottom - (values[i] - lo) / (hi - lo) * box.height

    parts = [heading]
    for value, label in zip(y_ticks, tick_labels):
        y = box.bottom - (value - lo) / (hi - lo) * box.height
        parts.append(_line(box.left, y, box.left + box.width, y, stroke="#e6e8ec"))
        parts.append(_text(box.left - 7, y + 4, label, anchor="end"))
    parts.append(box.outline())
    segment: list[str] = []
    for i in [*range(len(values)), len(values)]:
        if i < len(values) and math.isfinite(values[i]):
            segment.append("{},{}".format(*map(_n, at(i))))
            continue
        if segment:
            parts.append(
                f'<polyline points="{" ".join(segment)}" fill="none" stroke="{LINE_COLOUR}" stroke-width="1.6"/>'
            )
        segment = []
    radius = 2.5 if len(values) <= 200 else 0
    for i in range(len(values) if radius else 0):
        if math.isfinite(values[i]):
            x, y = at(i)
            parts.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{radius}" fill="{LINE_COLOUR}"/>')
    axis, y_after = _x_axis(box, labels, x_name)
    parts.append(axis)
    parts.append(_text(22, box.top + box.height / 2, y_name, size=12, anchor="middle", rotate=-90))
    if spec is not None and math.isfinite(values[spec]):
        parts.append(_ring(*at(spec), cell_id=f"{prefix}-spec-cell"))
    if winner is not None and math.isfinite(values[winner]):
        parts.append(_star(*at(winner), 9, cell_id=f"{prefix}-winner-cell"))
    parts.append(
        _legend(
            box.left + box.width / 2,
            y_after + 24,
            [(_star(7, 7, 8), WINNER_LABEL), (_ring(7, 7), SPEC_LABEL)],
        )
    )
    return Panel("".join(parts))

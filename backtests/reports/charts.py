"""Our own charts, drawn with matplotlib and inlined into pages as ``<svg>``.

Why matplotlib SVG (and not plotly): matplotlib is already a dependency (quantstats
uses it), an inline SVG keeps each page small (tens of kB instead of ~4.6 MB of
plotly JS per page) and works offline with no script at all. Interactivity is
what SVG gives for free: each event marker is its own ``<g>`` with a ``<title>``
(the browser shows it on hover) inside an ``<a>`` (click opens the source, or
jumps to the event's row on the page).

Figures are built with ``matplotlib.figure.Figure`` (no pyplot global state) under
a fixed style, so quantstats' global theme and its Arial font never leak in.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from backtests.reports.markup import esc

_STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "svg.fonttype": "none",  # text stays text: smaller, selectable, rendered by the browser
    "svg.hashsalt": "geohedge",  # stable ids: same input, same bytes
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e3e6eb",
    "grid.linewidth": 0.6,
    "axes.edgecolor": "#9aa1ad",
    "legend.frameon": False,
}
STRATEGY_COLOR = "#1f5fbf"
BENCHMARK_COLOR = "#f2a33a"
DIRECTION_STYLE = {  # marker, colour
    "escalation": ("v", "#c62828"),
    "de-escalation": ("^", "#2e7d32"),
}
OTHER_STYLE = ("o", "#6d6d6d")
BASE_COLORS = ("#1f5fbf", "#4f8ad9", "#7fb0ec", "#aecdf3", "#2b4c7e", "#5d7fb0")
HEDGE_COLORS = ("#f2a33a", "#e07b24", "#c9a227", "#8bbf5a", "#4a9b6e", "#b5651d")
PALETTE = ("#1f5fbf", "#f2a33a", "#2e7d32", "#c62828", "#6a3d9a", "#00838f", "#8d6e63", "#d81b60")


@dataclass(frozen=True)
class Marker:
    """One clickable point on a chart: where, what the hover says, where a click goes."""

    date: pd.Timestamp
    value: float
    tooltip: str
    href: str
    direction: str = ""


def _pct_axis(ax) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:.0f}%"))


def _render(fig: Figure, pad: float = 0.1) -> str:
    """The figure as an ``<svg>`` element (no XML prolog), deterministic; ``pad`` in inches."""
    buf = io.StringIO()
    fig.savefig(
        buf,
        format="svg",
        bbox_inches="tight",
        pad_inches=pad,
        metadata={"Date": None, "Creator": None},
    )
    svg = buf.getvalue()
    return svg[svg.index("<svg") :]


def _figure(height: float, width: float = 11) -> Figure:
    fig = Figure(figsize=(width, height), dpi=100)
    fig.set_facecolor("white")
    return fig


def growth(returns: pd.Series) -> pd.Series:
    """Growth of 1 from daily simple returns."""
    return (1.0 + returns.fillna(0.0)).cumprod()


def line_chart(
    curves: Mapping[str, pd.Series],
    *,
    title: str,
    ylabel: str,
    markers: Sequence[Marker] = (),
    percent: bool = False,
    log: bool = False,
    height: float = 4.2,
) -> str:
    """Lines (first two in strategy/benchmark colours) plus optional event markers with tooltips."""
    with mpl.rc_context(_STYLE):
        fig = _figure(height)
        ax = fig.add_subplot()
        for i, (name, series) in enumerate(curves.items()):
            color = (
                (STRATEGY_COLOR, BENCHMARK_COLOR)[i]
                if len(curves) <= 2
                else PALETTE[i % len(PALETTE)]
            )
            ax.plot(series.index, series.to_numpy(), label=name, color=color, linewidth=1.3)
        for i, m in enumerate(markers):
            shape, color = DIRECTION_STYLE.get(m.direction, OTHER_STYLE)
            (point,) = ax.plot(
                [m.date],
                [m.value],
                shape,
                color=color,
                markersize=8,
                markeredgecolor="white",
                markeredgewidth=0.8,
                zorder=5,
            )
            point.set_gid(f"event-marker-{i}")
            point.set_url(m.href)
        if log:
            ax.set_yscale("log")
        if percent:
            _pct_axis(ax)
        ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
        ax.set_ylabel(ylabel)
        ax.legend(loc="upper left", ncols=min(len(curves), 4))
        svg = _render(fig)
    return _add_tooltips(svg, [m.tooltip for m in markers])


def _add_tooltips(svg: str, tooltips: Sequence[str]) -> str:
    """Put a ``<title>`` (the hover text) and an ``event-marker`` class into each marker group."""

    def insert(match: re.Match[str]) -> str:
        i = int(match.group(1))
        return f'<g id="event-marker-{i}" class="event-marker"><title>{esc(tooltips[i])}</title>'

    svg = re.sub(r'<g id="event-marker-(\d+)">', insert, svg)
    return re.sub(
        r'(<a xlink:href="#[^"]*") target="_blank"', r"\1", svg
    )  # in-page links stay in the tab


def drawdown_chart(
    curves: Mapping[str, pd.Series], *, title: str = "Drawdown", height: float = 2.8
) -> str:
    """Drawdowns (from each growth curve's running peak), filled below zero."""
    with mpl.rc_context(_STYLE):
        fig = _figure(height)
        ax = fig.add_subplot()
        for i, (name, series) in enumerate(curves.items()):
            dd = series / series.cummax() - 1.0
            color = (
                (STRATEGY_COLOR, BENCHMARK_COLOR)[i]
                if len(curves) <= 2
                else PALETTE[i % len(PALETTE)]
            )
            ax.plot(dd.index, dd.to_numpy(), color=color, linewidth=1.0, label=name)
            ax.fill_between(dd.index, dd.to_numpy(), 0.0, color=color, alpha=0.12, linewidth=0)
        _pct_axis(ax)
        ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=min(len(curves), 4))
        return _render(fig)


def thin(frame: pd.DataFrame, max_points: int = 600) -> pd.DataFrame:
    """Every k-th row (and the last) so at most ~``max_points`` remain: ~2 pixel columns each.

    An 11-year daily stacked area drawn in full is ~1 MB of SVG for no visible gain.
    """
    step = max(1, -(-len(frame) // max_points))
    if step == 1:
        return frame
    keep = np.unique(np.append(np.arange(0, len(frame), step), len(frame) - 1))
    return frame.iloc[keep]


def weights_chart(
    weights: pd.DataFrame, hedge_tickers: Sequence[str], *, height: float = 3.6
) -> str:
    """Stacked actual weights: base sleeve (blues) below, hedge/tilt sleeve (warm) on top."""
    hedge = [t for t in weights.columns if t in set(hedge_tickers)]
    base = [t for t in weights.columns if t not in set(hedge_tickers)]
    ordered = thin(weights[base + hedge].clip(lower=0.0).fillna(0.0))
    colors = [BASE_COLORS[i % len(BASE_COLORS)] for i in range(len(base))]
    colors += [HEDGE_COLORS[i % len(HEDGE_COLORS)] for i in range(len(hedge))]
    labels = [f"{t} (base)" for t in base] + [f"{t} (hedge)" for t in hedge]
    with mpl.rc_context(_STYLE):
        fig = _figure(height)
        ax = fig.add_subplot()
        ax.stackplot(ordered.index, ordered.to_numpy().T, labels=labels, colors=colors, linewidth=0)
        ax.set_ylim(0, max(1.0, float(ordered.sum(axis=1).max())))
        ax.set_xlim(ordered.index[0], ordered.index[-1])
        _pct_axis(ax)
        ax.set_title(
            "Portfolio weights (after trading)", loc="left", fontsize=11, fontweight="bold"
        )
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=min(len(labels), 6))
        return _render(fig)


def yearly_returns(returns: pd.Series) -> pd.Series:
    """Compounded return of each calendar year, indexed by year (int)."""
    years = returns.index.year
    return (1.0 + returns.fillna(0.0)).groupby(years).prod() - 1.0


def eoy_chart(
    strategy: pd.Series,
    benchmark: pd.Series,
    names: tuple[str, str],
    *,
    size: tuple[float, float] = (11, 3.6),
) -> str:
    """Grouped bars of each year's compounded return, strategy beside benchmark, years labelled.

    Replaces quantstats' EOY bar chart, which under pandas 3 squeezes the bars to
    one side and piles the year labels on top of each other. Styled like its
    neighbours there; the generous bottom padding survives the tearsheet's
    negative ``svg`` margins, which would otherwise hide the year labels.
    """
    table = pd.DataFrame({names[0]: yearly_returns(strategy), names[1]: yearly_returns(benchmark)})
    x = np.arange(len(table))
    width = 0.38
    with mpl.rc_context({**_STYLE, "font.size": 11}):  # the size of quantstats' neighbours
        fig = _figure(size[1], size[0])
        ax = fig.add_subplot()
        ax.bar(
            x - width / 2, table[names[0]].to_numpy(), width, label=names[0], color=STRATEGY_COLOR
        )
        ax.bar(
            x + width / 2, table[names[1]].to_numpy(), width, label=names[1], color=BENCHMARK_COLOR
        )
        ax.axhline(0.0, color="#333333", linewidth=0.8)
        ax.axhline(
            float(table[names[0]].mean()),
            color="#c62828",
            linewidth=1.0,
            linestyle="--",
            label=f"{names[0]} mean",
        )
        ax.set_xticks(x, [str(y) for y in table.index], rotation=45 if len(table) > 14 else 0)
        ax.grid(axis="x", visible=False)
        _pct_axis(ax)
        fig.suptitle("EOY Returns vs Benchmark", fontweight="bold", fontsize=14)
        ax.legend(
            loc="upper center", bbox_to_anchor=(0.5, -0.12 if len(table) <= 14 else -0.2), ncols=3
        )
        return _render(fig, pad=0.45)

"""Our own charts, drawn with matplotlib and inlined into pages as ``<svg>``.

Why matplotlib SVG (and not plotly): matplotlib is already a dependency (quantstats
uses it), an inline SVG keeps each page small (tens of kB instead of ~4.6 MB of
plotly JS per page) and works offline with no script at all. Interactivity is
what SVG gives for free: each event marker (and each shaded hedge episode) is
its own ``<g>`` with a ``<title>`` (the browser shows it on hover) inside an
``<a>`` (click opens the source, or jumps to the row on the page).

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
    # matplotlib's defaults first: a style left behind by another library (quantstats'
    # seaborn theme) never changes our charts
    **{k: v for k, v in mpl.rcParamsDefault.items() if k != "backend"},
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
BASE_SERIES_COLOR = "#4d4d4d"  # the counterfactual (unhedged / untilted) series
SHADE_COLOR = "#e07b24"  # hedge episodes
DIRECTION_STYLE = {  # marker, colour
    "escalation": ("v", "#c62828"),
    "de-escalation": ("^", "#2e7d32"),
}
OTHER_STYLE = ("o", "#6d6d6d")
# Lines drop vertices within this many pixels of the simplified path (matplotlib's default
# is 1/9): invisible at the page's size, and it halves the hedge chart's SVG.
SIMPLIFY_THRESHOLD = 0.5
# Weights chart: distinct cool hues for the core sleeve, warm ones for the hedge sleeve.
CORE_COLORS = (
    "#1f5fbf",
    "#7fb0ec",
    "#00838f",
    "#6a3d9a",
    "#9aa1ad",
    "#2b4c7e",
    "#80cbc4",
    "#b39ddb",
)
HEDGE_COLORS = (
    "#f2a33a",
    "#c62828",
    "#c9a227",
    "#8d6e63",
    "#d81b60",
    "#f7c873",
    "#e57373",
    "#6d4c41",
)
PALETTE = ("#1f5fbf", "#f2a33a", "#2e7d32", "#c62828", "#6a3d9a", "#00838f", "#8d6e63", "#d81b60")


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


def _series_color(i: int, count: int) -> str:
    return (STRATEGY_COLOR, BENCHMARK_COLOR)[i] if count <= 2 else PALETTE[i % len(PALETTE)]


def line_chart(
    curves: Mapping[str, pd.Series],
    *,
    title: str,
    ylabel: str,
    percent: bool = False,
    log: bool = False,
    height: float = 4.2,
) -> str:
    """Lines, the first two in the strategy/benchmark colours."""
    with mpl.rc_context(_STYLE):
        fig = _figure(height)
        ax = fig.add_subplot()
        for i, (name, series) in enumerate(curves.items()):
            color = _series_color(i, len(curves))
            ax.plot(series.index, series.to_numpy(), label=name, color=color, linewidth=1.3)
        if log:
            ax.set_yscale("log")
        if percent:
            _pct_axis(ax)
        ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
        ax.set_ylabel(ylabel)
        ax.legend(loc="upper left", ncols=min(len(curves), 4))
        return _render(fig)


def _add_titles(svg: str, prefix: str, tooltips: Sequence[str]) -> str:
    """Give each ``<g id="PREFIX-i">`` the class ``PREFIX`` and a ``<title>`` (the hover text)."""

    def insert(match: re.Match[str]) -> str:
        i = int(match.group(1))
        return f'<g id="{prefix}-{i}" class="{prefix}"><title>{esc(tooltips[i])}</title>'

    return re.sub(rf'<g id="{prefix}-(\d+)">', insert, svg)


def _same_tab(svg: str) -> str:
    """In-page links (``#...``) stay in the tab; matplotlib opens every link in a new one."""
    return re.sub(r'(<a xlink:href="#[^"]*") target="_blank"', r"\1", svg)


def _shade(ax, spans: Sequence[Span], *, linked: bool) -> None:
    for i, span in enumerate(spans):
        patch = ax.axvspan(span.start, span.end, color=SHADE_COLOR, alpha=0.13, linewidth=0)
        if linked:
            patch.set_gid(f"episode-span-{i}")
            patch.set_url(span.href)


def _strip(ax, markers: Sequence[Marker]) -> None:
    """One marker per day on a thin axis, the day's firing count above it when more than one."""
    for i, m in enumerate(markers):
        shape, color = DIRECTION_STYLE.get(m.direction, OTHER_STYLE)
        (point,) = ax.plot(
            [m.date],
            [0.4],
            shape,
            color=color,
            markersize=8,
            markeredgecolor="white",
            markeredgewidth=0.6,
            zorder=5,
        )
        point.set_gid(f"event-marker-{i}")
        point.set_url(m.href)
        if m.count > 1:
            ax.annotate(
                str(m.count),
                (m.date, 0.4),
                xytext=(0, 6),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=6.5,
                color="#333333",
            )
    ax.set_ylim(0.0, 1.0)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.grid(axis="y", visible=False)
    ax.set_ylabel("firings", rotation=0, ha="right", va="center")


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
    with mpl.rc_context({**_STYLE, "path.simplify_threshold": SIMPLIFY_THRESHOLD}):
        fig = _figure(7.8)
        grid = fig.add_gridspec(4, 1, height_ratios=(3.4, 1.5, 1.5, 0.55), hspace=0.32)
        top = fig.add_subplot(grid[0])
        rel, dd, strip = (fig.add_subplot(grid[i], sharex=top) for i in (1, 2, 3))
        for i, (name, series) in enumerate(curves.items()):
            top.plot(series.index, series.to_numpy(), label=name, color=colors[i], linewidth=1.2)
        top.set_ylabel("growth of 1")
        top.legend(loc="upper left", ncols=len(curves))
        top.set_title(title, loc="left", fontsize=11, fontweight="bold")
        rel.plot(relative.index, relative.to_numpy(), color=STRATEGY_COLOR, linewidth=1.0)
        rel.axhline(0.0, color="#333333", linewidth=0.7)
        rel.set_title(relative_title, loc="left", fontsize=9)
        _pct_axis(rel)
        for i, series in enumerate(drawdowns.values()):
            dd.plot(series.index, series.to_numpy(), color=colors[i], linewidth=0.9)
        dd.set_title(f"Drawdown: {', '.join(drawdowns)} (colours as above)", loc="left", fontsize=9)
        _pct_axis(dd)
        for ax in (top, rel, dd):
            _shade(ax, spans, linked=ax is top)
            ax.tick_params(labelbottom=False)
        _strip(strip, markers)
        index = next(iter(curves.values())).index
        top.set_xlim(index[0], index[-1])
        svg = _render(fig)
    svg = _add_titles(svg, "event-marker", [m.tooltip for m in markers])
    return _same_tab(_add_titles(svg, "episode-span", [s.tooltip for s in spans]))


def drawdown_chart(
    curves: Mapping[str, pd.Series], *, title: str = "Drawdown", height: float = 2.8
) -> str:
    """Drawdowns (from each growth curve's running peak), filled below zero."""
    with mpl.rc_context(_STYLE):
        fig = _figure(height)
        ax = fig.add_subplot()
        for i, (name, series) in enumerate(curves.items()):
            dd = series / series.cummax() - 1.0
            color = _series_color(i, len(curves))
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


def sleeve_colors(count: int, palette: Sequence[str], cmap: str) -> list:
    """``count`` distinct colours: the palette, or evenly spaced from ``cmap`` when it is too short."""
    if count <= len(palette):
        return list(palette[:count])
    return [tuple(c) for c in mpl.colormaps[cmap](np.linspace(0.35, 0.95, count))]


def weights_chart(
    weights: pd.DataFrame,
    hedge_tickers: Sequence[str],
    *,
    sleeve: str = "hedge",
    height: float = 3.6,
) -> str:
    """Stacked actual weights: core sleeve (cool colours) below, the ``sleeve`` (warm) on top.

    Every ticker gets its own colour; the hedge/tilt tickers are labelled ``(sleeve)``.
    """
    hedge = [t for t in weights.columns if t in set(hedge_tickers)]
    core = [t for t in weights.columns if t not in set(hedge_tickers)]
    ordered = thin(weights[core + hedge].clip(lower=0.0).fillna(0.0))
    colors = sleeve_colors(len(core), CORE_COLORS, "Blues")
    colors += sleeve_colors(len(hedge), HEDGE_COLORS, "Oranges")
    labels = [*core, *(f"{t} ({sleeve})" for t in hedge)]
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

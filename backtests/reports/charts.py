"""The compare page's and the tearsheet's own charts, drawn with matplotlib and inlined as ``<svg>``.

Why matplotlib SVG (and not plotly): matplotlib is already a dependency (quantstats
uses it), and an inline SVG keeps each page small (tens of kB instead of ~4.6 MB of
plotly JS per page) and works offline with no script at all. (The events page's
charts are drawn by hand, in ``timecharts``, so a run without its tearsheet never loads
matplotlib; the colours are shared from there.)

Figures are built with ``matplotlib.figure.Figure`` (no pyplot global state) under
a fixed style, so quantstats' global theme and its Arial font never leak in.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from backtests.reports.timecharts import BENCHMARK_COLOR, STRATEGY_COLOR

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
PALETTE = ("#1f5fbf", "#f2a33a", "#2e7d32", "#c62828", "#6a3d9a", "#00838f", "#8d6e63", "#d81b60")


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

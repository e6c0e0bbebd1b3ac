"""Compare finished runs: each run's strategy, base and benchmark side by side, on one page.

The page links to each run's pages, tabulates the metrics of every run's
strategy, its base (the same portfolio with the hedge off: ``unhedged``, or
``untilted`` for tilts) and its benchmark (a benchmark shared by several runs —
same ticker, period, data and metrics — is shown once), and overlays growth of 1, the
hedge against its base (strategy growth / base growth) and drawdowns. Legends
use short names: the strategy (``#N`` added when two runs share it) and the
benchmark ticker. The page names its runs in a JSON data block
(``catalog.COMPARE_META``) so the index lists it; by default it is written to
``ROOT/compare/<8 hex of the runs>.html`` (same runs, same file).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from backtests.atomic import atomic_write_text
from backtests.reports import charts
from backtests.reports.catalog import COMPARE_DIR, COMPARE_META, RunInfo
from backtests.reports.markup import (
    Column,
    esc,
    html_formatter,
    nav_bar,
    num,
    page,
    pct,
    synthetic_banner,
    table,
)
from backtests.reports.timecharts import growth as growth_of

COMPARE_METRICS: tuple[tuple[str, str, bool], ...] = (  # key, label, is a ratio shown in percent
    ("cagr", "CAGR", True),
    ("volatility", "Volatility", True),
    ("sharpe", "Sharpe", False),
    ("sortino", "Sortino", False),
    ("max_drawdown", "Max drawdown", True),
    ("calmar", "Calmar", False),
    ("turnover", "Turnover", False),
    ("trigger_firings", "Trigger firings", False),
    ("time_hedged", "Time hedged", True),
    ("excess_cagr", "Excess CAGR vs base", True),
)
#: Metrics that are neither good nor bad: not coloured green/red.
NEUTRAL = frozenset({"volatility", "turnover", "trigger_firings", "time_hedged"})
RUN_PAGES = (("tearsheet.html", "tearsheet"), ("events.html", "events"))


def label(run: RunInfo) -> str:
    """How a run is named in the terminal and JSON: ``strategy @ run_id``."""
    return f"{run.strategy} @ {run.run_id}"


def short_names(runs: Sequence[RunInfo]) -> list[str]:
    """Legend names: the strategy, with ``#N`` (position, from 1) when two runs share it."""
    names = [r.strategy for r in runs]
    return [n if names.count(n) == 1 else f"{n} #{i}" for i, n in enumerate(names, start=1)]


def _benchmark_key(run: RunInfo) -> tuple[str, str, str, str]:
    """Runs with equal keys have the same benchmark series (same ticker, period, data, metrics)."""
    metrics = json.dumps(run.benchmark_metrics, sort_keys=True, default=str)
    return (run.benchmark, run.period, run.data_label, metrics)


def _chart(chart_id: str, svg: str) -> str:
    return f'<div class="chart" id="{chart_id}">{svg}</div>'


def _series_rows(runs: Sequence[RunInfo]) -> list[tuple[list[int], str, str, dict[str, object]]]:
    """(run positions, series kind, series name, metrics) per row: strategy, base, benchmark.

    A benchmark shared by several runs (same ticker, period, data and metrics) appears
    once, after the last run that uses it.
    """
    rows: list[tuple[list[int], str, str, dict[str, object]]] = []
    users: dict[tuple[str, str, str, str], list[int]] = {}
    for i, run in enumerate(runs):
        users.setdefault(_benchmark_key(run), []).append(i)
    for i, run in enumerate(runs):
        strategy = {**run.metrics, "time_hedged": run.time_hedged, "excess_cagr": run.excess_cagr}
        rows.append(([i], "strategy", "strategy", strategy))
        if run.base_metrics:
            rows.append(([i], "base", run.base_label, run.base_metrics))
        shared = users[_benchmark_key(run)]
        if shared[-1] == i:
            rows.append(
                (shared, "benchmark", f"{run.benchmark} (benchmark)", run.benchmark_metrics)
            )
    return rows


def metric_rows(runs: Sequence[RunInfo]) -> list[dict[str, object]]:
    """Rows for the terminal and ``--json``: ``run``, ``series``, the metrics.

    A benchmark row's ``run`` names the runs sharing it (``all runs`` when every run does).
    """
    return [
        {
            "run": "all runs"
            if len(positions) == len(runs) > 1
            else ", ".join(label(runs[i]) for i in positions),
            "series": name,
            **{k: metrics.get(k) for k, _, _ in COMPARE_METRICS},
        }
        for positions, _, name, metrics in _series_rows(runs)
    ]


def _returns(run: RunInfo) -> pd.DataFrame:
    return pd.read_csv(run.path / "returns.csv", parse_dates=["date"], index_col="date")


def _href(path: Path, folder: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), Path(folder).resolve())).as_posix()


def _runs_table(runs: Sequence[RunInfo], names: list[str], folder: Path) -> str:
    @html_formatter
    def pages(run: RunInfo) -> str:
        links = [
            f'<a href="{esc(_href(run.path / name, folder))}">{esc(text)}</a>'
            for name, text in RUN_PAGES
            if run.page(name)
        ]
        return " · ".join(links)

    rows = [
        {
            "name": name,
            "run": run.run_id,
            "pages": run,
            "period": run.period,
            "data": run.source,
            "benchmark": run.benchmark,
            "base": run.base_label,
            "description": run.description,
        }
        for run, name in zip(runs, names, strict=True)
    ]
    columns = [
        Column("name", "Name"),
        Column("run", "Run", nowrap=True),
        Column("pages", "Pages", pages, nowrap=True),
        Column("period", "Period", nowrap=True),
        Column("data", "Data"),
        Column("benchmark", "Benchmark"),
        Column("base", "Base"),
        Column("description", "Description"),
    ]
    return f'<div class="scroll">{table(rows, columns, table_id="compare-runs")}</div>'


def _metrics_table(runs: Sequence[RunInfo], names: list[str]) -> str:
    rows = [
        {
            "name": ", ".join(names[i] for i in positions) if kind != "benchmark" else name,
            "series": {"strategy": "strategy", "base": f"base ({name})"}.get(
                kind, "benchmark of " + ", ".join(names[i] for i in positions)
            ),
            **{k: metrics.get(k) for k, _, _ in COMPARE_METRICS},
        }
        for positions, kind, name, metrics in _series_rows(runs)
    ]
    columns = [
        Column("name", "Name"),
        Column("series", "Series"),
        *[
            Column(k, name, pct if is_pct else num, True, pivot=None if k in NEUTRAL else 0.0)
            for k, name, is_pct in COMPARE_METRICS
        ],
    ]
    wide = table(rows, columns, sortable=True, table_id="compare-metrics")
    return f'<div class="scroll">{wide}</div>'


def _curves(
    runs: Sequence[RunInfo], names: list[str]
) -> tuple[dict[str, pd.Series], dict[str, pd.Series]]:
    """Growth of each strategy and each distinct benchmark; each strategy over its base.

    A benchmark is named by its ticker, plus the first run using it when two differ.
    """
    growth: dict[str, pd.Series] = {}
    benchmarks: dict[tuple[str, str, str, str], tuple[str, pd.Series]] = {}
    versus_base: dict[str, pd.Series] = {}
    for run, name in zip(runs, names, strict=True):
        frame = _returns(run)
        growth[name] = growth_of(frame["strategy"])
        benchmarks.setdefault(_benchmark_key(run), (name, growth_of(frame["benchmark"])))
        if "base" in frame:
            versus_base[name] = growth[name] / growth_of(frame["base"])
    tickers = [key[0] for key in benchmarks]
    for key, (first, curve) in benchmarks.items():
        growth[key[0] if tickers.count(key[0]) == 1 else f"{key[0]} ({first})"] = curve
    return growth, versus_base


def compare_html(runs: Sequence[RunInfo], *, index_href: str, folder: Path) -> str:
    """The comparison page; ``folder`` is where it is written (links are relative to it)."""
    names = short_names(runs)
    growth, versus_base = _curves(runs, names)
    equity = charts.line_chart(growth, title="Growth of 1", ylabel="growth of 1")
    strategies = {name: growth[name] for name in names}
    drawdowns = charts.drawdown_chart(strategies, title="Drawdown of each strategy")
    if versus_base:
        hedge = charts.line_chart(
            versus_base,
            title="Each strategy against its base (growth ÷ base growth)",
            ylabel="relative growth",
        )
        hedge_block = _chart("compare-vs-base", hedge)
    else:
        hedge_block = (
            '<p class="note" id="compare-vs-base">The returns.csv of these runs has no '
            "<code>base</code> column, so the hedges cannot be drawn against their bases; "
            "the metrics table above compares them.</p>"
        )
    banner = synthetic_banner() if any(r.synthetic for r in runs) else ""
    meta = json.dumps([r.key for r in runs]).replace("<", "\\u003c")
    body = (
        f'<script type="application/json" id="{COMPARE_META}">{meta}</script>'
        f"<h1>Compare {len(runs)} runs</h1>"
        f"<h2>Runs</h2>{_runs_table(runs, names, folder)}"
        '<h2>Metrics</h2><p class="note">Base: the same portfolio with the hedge off (unhedged; '
        "untilted for tilts), on the same data and costs. Excess CAGR vs base: the strategy's "
        "CAGR minus its base's.</p>"
        f"{_metrics_table(runs, names)}"
        f"<h2>Growth of 1</h2>{_chart('compare-equity', equity)}"
        f"<h2>Hedge against base</h2>{hedge_block}"
        f"<h2>Drawdowns</h2>{_chart('compare-drawdown', drawdowns)}"
    )
    top = nav_bar([(index_href, "All runs")]) + banner
    return page("geohedge: compare runs", body, top=top, script=True)


def default_path(runs: Sequence[RunInfo], root: Path) -> Path:
    """``ROOT/compare/<8 hex>.html``, a digest of the runs (in order): same runs, same file."""
    digest = hashlib.sha256("\n".join(r.key for r in runs).encode("utf-8")).hexdigest()[:8]
    return Path(root) / COMPARE_DIR / f"{digest}.html"


def write_compare(runs: Sequence[RunInfo], out: Path, *, index: Path) -> Path:
    """Write the comparison page of ``runs`` to ``out`` atomically, linking back to ``index``."""
    folder = Path(out).resolve().parent
    html = compare_html(runs, index_href=_href(index, folder), folder=folder)
    return atomic_write_text(out, html)

"""Compare finished runs: metrics side by side; a page overlaying equity curves and drawdowns."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from backtests.atomic import atomic_write_text
from backtests.reports import charts
from backtests.reports.catalog import RunInfo
from backtests.reports.markup import Column, esc, nav_bar, num, page, pct, synthetic_banner, table

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
)


def label(run: RunInfo) -> str:
    """How a run is named in the comparison: ``strategy @ run_id``."""
    return f"{run.strategy} @ {run.run_id}"


def metric_rows(runs: Sequence[RunInfo]) -> list[dict[str, object]]:
    """One row per run: its label and the compared metrics (raw values)."""
    return [{"run": label(r), **{k: r.metrics.get(k) for k, _, _ in COMPARE_METRICS}} for r in runs]


def load_growth(run: RunInfo) -> pd.Series:
    """Growth of 1 of a run's strategy, from its ``returns.csv``."""
    frame = pd.read_csv(run.path / "returns.csv", parse_dates=["date"], index_col="date")
    return charts.growth(frame["strategy"])


def compare_html(runs: Sequence[RunInfo], *, index_href: str) -> str:
    """The comparison page: metrics table, overlaid growth curves, overlaid drawdowns."""
    curves = {label(r): load_growth(r) for r in runs}
    columns = [
        Column("run", "Run"),
        *[Column(k, name, pct if is_pct else num, True) for k, name, is_pct in COMPARE_METRICS],
    ]
    sources = "".join(
        f"<li>{esc(label(r))}: {esc(r.period)}, data {esc(r.source)}, benchmark "
        f"{esc(r.benchmark)}. {esc(r.description)}</li>"
        for r in runs
    )
    metrics = table(metric_rows(runs), columns, sortable=True, table_id="compare-metrics")
    equity = charts.line_chart(
        curves, title="Growth of 1 (strategy of each run)", ylabel="growth of 1"
    )
    drawdowns = charts.drawdown_chart(curves)
    banner = synthetic_banner() if any(r.synthetic for r in runs) else ""
    body = (
        f"<h1>Compare {len(runs)} runs</h1><ul>{sources}</ul>"
        f"<h2>Metrics</h2>{metrics}"
        f'<h2>Growth of 1</h2><div class="chart" id="compare-equity">{equity}</div>'
        f'<h2>Drawdowns</h2><div class="chart" id="compare-drawdown">{drawdowns}</div>'
    )
    top = nav_bar([(index_href, "All runs")]) + banner
    return page("geohedge: compare runs", body, top=top, script=True)


def write_compare(runs: Sequence[RunInfo], out: Path, *, index: Path) -> Path:
    """Write the comparison page of ``runs`` to ``out`` atomically, linking back to ``index``."""
    href = Path(os.path.relpath(Path(index).resolve(), Path(out).resolve().parent)).as_posix()
    return atomic_write_text(out, compare_html(runs, index_href=href))

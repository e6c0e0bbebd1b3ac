"""``index.html`` at the reports root: every finished run, sortable, rebuilt after each run."""

from __future__ import annotations

from pathlib import Path

from backtests.atomic import atomic_write_text
from backtests.reports.catalog import RunInfo, discover_runs
from backtests.reports.markup import Column, esc, html_formatter, nav_bar, num, page, pct, table

INDEX_PAGE = "index.html"


@html_formatter
def _link(run: RunInfo) -> str:
    href = f"{run.path.parent.name}/{run.path.name}/tearsheet.html"
    if not (run.path / "tearsheet.html").exists():
        href = f"{run.path.parent.name}/{run.path.name}/events.html"
    return f'<a href="{esc(href)}">{esc(run.run_id)}</a>'


@html_formatter
def _source(run: RunInfo) -> str:
    tag = ' <span class="tag-synthetic">synthetic</span>' if run.synthetic else ""
    return esc(run.data_label) + tag


def _row(run: RunInfo) -> dict[str, object]:
    m = run.metrics
    return {
        "run": run,
        "strategy": run.strategy,
        "description": run.description,
        "period": run.period,
        "cagr": m.get("cagr"),
        "sharpe": m.get("sharpe"),
        "max_drawdown": m.get("max_drawdown"),
        "volatility": m.get("volatility"),
        "bench_cagr": run.benchmark_metrics.get("cagr"),
    }


def index_html(runs: list[RunInfo]) -> str:
    """The page listing ``runs`` (newest first until the user sorts)."""
    columns = [
        Column("run", "Run", _link),
        Column("strategy", "Strategy"),
        Column("description", "Description"),
        Column("period", "Period"),
        Column("run", "Data", _source),
        Column("cagr", "CAGR", pct, True),
        Column("sharpe", "Sharpe", num, True),
        Column("max_drawdown", "Max drawdown", pct, True),
        Column("volatility", "Volatility", pct, True),
        Column("bench_cagr", "Benchmark CAGR", pct, True),
    ]
    rows = [_row(r) for r in reversed(runs)]
    body = (
        f"<h1>All runs</h1>"
        f'<p class="sub">{len(runs)} finished run{"" if len(runs) == 1 else "s"}. Click a column header to sort.</p>'
        + table(rows, columns, sortable=True, table_id="runs")
    )
    return page("geohedge: all runs", body, top=nav_bar([(INDEX_PAGE, "All runs")]), script=True)


def rebuild_index(root: Path) -> Path:
    """Rescan ``root/*/*/manifest.json`` and rewrite ``root/index.html`` atomically."""
    return atomic_write_text(Path(root) / INDEX_PAGE, index_html(discover_runs(root)))

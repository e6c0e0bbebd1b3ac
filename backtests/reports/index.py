"""``index.html`` at the reports root: every finished run, sweep and compare page, rebuilt after each run.

Runs: both pages of each run (tearsheet, events), its benchmark, time hedged and
the hedge's excess CAGR over its base (the same portfolio with the hedge off);
sortable, newest first. Incomplete run folders are not listed, only counted.
Sweeps link their heatmap page (else ``summary.json``) and the winner's run;
compare pages (``compare/*.html``) list the runs they show. Links are relative,
so the whole root can be moved or archived.
"""

from __future__ import annotations

import os
from pathlib import Path

from backtests.atomic import atomic_write_text
from backtests.reports.catalog import (
    DSR_READING,
    PBO_READING,
    SWEEP_PAGE,
    SWEEP_SUMMARY,
    Catalog,
    ComparePage,
    RunInfo,
    SweepInfo,
    scan,
)
from backtests.reports.folders import leftover_files, locked
from backtests.reports.markup import (
    Column,
    esc,
    html_formatter,
    nav_bar,
    num,
    page,
    pct,
    table,
)

INDEX_PAGE = "index.html"
RUN_PAGES = (("tearsheet.html", "tearsheet"), ("events.html", "events"))
SMALL = "color:#555d6b;font-size:12px"  # a second line in a cell: links, description


def _href(root: Path, path: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


def _links(root: Path, items: list[tuple[Path | None, str]]) -> str:
    """``a · b`` links for the items that exist (escaped)."""
    return " · ".join(
        f'<a href="{esc(_href(root, path))}">{esc(text)}</a>' for path, text in items if path
    )


def _run_row(root: Path, run: RunInfo) -> dict[str, object]:
    m = run.metrics
    pages = _links(root, [(run.page(name), text) for name, text in RUN_PAGES])
    return {
        "run": f'{esc(run.run_id)}<div style="{SMALL}">{pages}</div>',
        "strategy": (run.strategy, run.description),
        "period": _period(run.start, run.end),
        "data": run,
        "benchmark": run.benchmark,
        "cagr": m.get("cagr"),
        "sharpe": m.get("sharpe"),
        "max_drawdown": m.get("max_drawdown"),
        "time_hedged": run.time_hedged,
        "excess_cagr": run.excess_cagr,
        "bench_cagr": run.benchmark_metrics.get("cagr"),
    }


def _period(start: str, end: str) -> str:
    """``start – end``, breaking only between the two dates (escaped HTML)."""
    nowrap = '<span style="white-space:nowrap">{}</span>'
    return nowrap.format(f"{esc(start)} –") + " " + nowrap.format(esc(end))


@html_formatter
def _raw(value: object) -> str:
    """A cell already built (and escaped) by this module."""
    return str(value or "")


@html_formatter
def _strategy(value: tuple[str, str]) -> str:
    name, description = value
    return esc(name) + (f'<div style="{SMALL}">{esc(description)}</div>' if description else "")


@html_formatter
def _source(run: RunInfo) -> str:
    tag = ' <span class="tag-synthetic">synthetic</span>' if run.synthetic else ""
    return esc(run.data_label) + tag


def _runs_section(root: Path, catalog: Catalog) -> str:
    runs, incomplete = catalog.runs, catalog.incomplete
    columns = [
        Column("run", "Run", _raw, nowrap=True),
        Column("strategy", "Strategy", _strategy),
        Column("period", "Period", _raw),
        Column("data", "Data", _source),
        Column("benchmark", "Benchmark"),
        Column("cagr", "CAGR", pct, True),
        Column("sharpe", "Sharpe", num, True),
        Column("max_drawdown", "Max drawdown", pct, True),
        Column("time_hedged", "Time hedged", lambda v: pct(v, 1), True, pivot=None),
        Column("excess_cagr", "Excess CAGR vs base", pct, True),
        Column("bench_cagr", "Benchmark CAGR", pct, True),
    ]
    rows = [_run_row(root, r) for r in reversed(runs)]
    count = f"{len(runs)} finished run{'' if len(runs) == 1 else 's'}"
    skipped = ""
    if incomplete:
        names = ", ".join(_href(root, p) for p in incomplete)
        skipped = (
            f' <span id="incomplete" style="color:#b3261e">{len(incomplete)} incomplete folder'
            f"{'' if len(incomplete) == 1 else 's'} not listed (no valid manifest.json): "
            f"{esc(names)}.</span>"
        )
    return (
        f'<h1 id="runs-title">All runs</h1><p class="sub">{count}. Click a column header to sort.'
        f"{skipped}</p>"
        '<p class="note">Excess CAGR vs base: the hedge\'s CAGR over the same portfolio with '
        "the hedge off (unhedged; untilted for tilt strategies), on the same data and costs. "
        "Time hedged: share of days with the hedge on.</p>"
        f'<div class="scroll">{table(rows, columns, sortable=True, table_id="runs")}</div>'
    )


def _params(params: dict[str, object]) -> str:
    return ", ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in params.items())


def _sweep_row(root: Path, sweep: SweepInfo) -> dict[str, object]:
    s, winner = sweep.summary, sweep.winner
    objective = str(s.get("objective", ""))
    metrics = winner.get("metrics") or {}
    winner_run = next(
        (sweep.path / "winner" / n for n, _ in RUN_PAGES if (sweep.path / "winner" / n).is_file()),
        None,
    )
    page_path = sweep.path / SWEEP_PAGE
    links = _links(
        root,
        [
            (page_path if page_path.is_file() else None, "page"),
            (sweep.path / SWEEP_SUMMARY, "summary"),
            (winner_run, "winner run"),
        ],
    )
    period = s.get("period") or {}
    return {
        "sweep": f'{esc(sweep.sweep_id)}<div style="{SMALL}">{links}</div>',
        "strategy": (sweep.strategy, f"data: {s.get('data', '')}"),
        "period": _period(str(period.get("start", "")), str(period.get("end", ""))),
        "trials": s.get("n_trials"),
        "objective": objective,
        "winner": _params(winner.get("params") or {}),
        "is": metrics.get(f"is_{objective}"),
        "oos": metrics.get(f"oos_{objective}"),
        "dsr": s.get("deflated_sharpe_ratio"),
        "pbo": s.get("probability_of_backtest_overfitting"),
    }


def _three(value: object) -> str:
    return num(value, 3)


def _sweeps_section(root: Path, sweeps: list[SweepInfo]) -> str:
    if not sweeps:
        return '<h2 id="sweeps">Sweeps</h2><p class="note">No sweeps yet (`backtest sweep`).</p>'
    columns = [
        Column("sweep", "Sweep", _raw, nowrap=True),
        Column("strategy", "Strategy", _strategy),
        Column("period", "Period", _raw),
        Column("trials", "Trials", num, True, pivot=None),
        Column("objective", "Objective"),
        Column("winner", "Winner"),
        Column("is", "Winner in sample", _three, True),
        Column("oos", "Winner out of sample", _three, True),
        Column("dsr", "DSR", _three, True, pivot=None),
        Column("pbo", "PBO", _three, True, pivot=None),
    ]
    rows = [_sweep_row(root, s) for s in reversed(sweeps)]
    return (
        '<h2 id="sweeps">Sweeps</h2>'
        f'<p class="note">DSR (Deflated Sharpe Ratio): {esc(DSR_READING)}. '
        f"PBO (Probability of Backtest Overfitting): {esc(PBO_READING)}.</p>"
        f'<div class="scroll">{table(rows, columns, sortable=True, table_id="sweeps")}</div>'
    )


def _compares_section(root: Path, compares: list[ComparePage]) -> str:
    if not compares:
        return (
            '<h2 id="compares">Comparisons</h2><p class="note">No comparisons yet '
            "(`backtest report compare RUN_A RUN_B`).</p>"
        )
    items = "".join(
        f"<li>{_links(root, [(c.path, c.path.name)])}: {esc(', '.join(c.runs))}</li>"
        for c in compares
    )
    return f'<h2 id="compares">Comparisons</h2><ul id="compare-pages">{items}</ul>'


def index_html(catalog: Catalog, root: Path) -> str:
    """The page listing everything in ``catalog`` (runs newest first until the user sorts)."""
    root = Path(root)
    body = (
        _runs_section(root, catalog)
        + _sweeps_section(root, catalog.sweeps)
        + _compares_section(root, catalog.compares)
    )
    top = nav_bar([(INDEX_PAGE, "All runs"), ("#sweeps", "Sweeps"), ("#compares", "Comparisons")])
    return page("geohedge: all runs", body, top=top, script=True)


def rebuild_index(root: Path) -> Path:
    """Rescan ``root`` and rewrite ``root/index.html`` atomically (one writer at a time).

    Temporary index files left by a killed writer are removed first.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with locked(root):
        for leftover in leftover_files(root, INDEX_PAGE):
            leftover.unlink(missing_ok=True)
        return atomic_write_text(root / INDEX_PAGE, index_html(scan(root), root))

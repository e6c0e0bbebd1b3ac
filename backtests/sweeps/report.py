"""What a sweep writes: ``sweep.csv``, ``summary.json``, the heatmap (PNG + HTML page).

The sweep folder is staged and moved into place whole (``reports.folders``);
``summary.json`` marks it as ours, so a later sweep may replace it.

``outcome.table`` holds one row per configuration and may end with **reference
rows** (column ``reference``: ``"spec"``, the spec's own settings; ``"base"``, the
hedge off; ``""`` for grid rows). References are written to ``sweep.csv`` and
``summary.json`` and shown on the page, but never ranked, counted as trials or
drawn in the heatmap grid; the spec's cell is marked when it lies on the grid.

``heatmap.png`` and ``heatmap.html`` show the objective over the first two swept
keys (mean over any others), in sample and out of sample side by side, the
winner framed in black and the spec's default in red dashes; with one swept key, a line per period.
"""

from __future__ import annotations

import io
import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from backtests.atomic import atomic_write_bytes, atomic_write_text
from backtests.paths import reports_dir
from backtests.reports.artifacts import canonical
from backtests.reports.catalog import (
    DSR_READING,
    PBO_READING,
    SWEEP_PAGE,
    SWEEP_SUMMARY,
)
from backtests.reports.folders import staged_folder
from backtests.reports.index import INDEX_PAGE
from backtests.reports.markup import Column, esc, nav_bar, num, page, pct, table

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from backtests.sweeps.runner import Periods, SweepOutcome

SWEEP_CSV, HEATMAP_PNG = "sweep.csv", "heatmap.png"
SUMMARY, HEATMAP_PAGE = SWEEP_SUMMARY, SWEEP_PAGE
PERIODS = (("is", "In sample"), ("oos", "Out of sample"))
TOP_ROWS = 20
MAX_LABELLED_CELLS = 100  # heatmaps up to this many cells print each value
WINNER_FRAME = {"edgecolor": "black", "linewidth": 2.6, "label": "winner (best in sample)"}
SPEC_FRAME = {"edgecolor": "#e8344e", "linewidth": 2.2, "linestyle": "--", "label": "spec default"}
MIN_PANEL_PX = 480


def references(table: pd.DataFrame) -> pd.Series:
    """The ``reference`` label of each row (``""`` for grid rows; all ``""`` without the column)."""
    if "reference" not in table:
        return pd.Series("", index=table.index)
    return table["reference"].fillna("").astype(str)


def grid_rows(outcome: SweepOutcome) -> pd.DataFrame:
    """The configurations of the grid: the table without its reference rows."""
    return outcome.table[references(outcome.table) == ""]


def _reference_row(outcome: SweepOutcome, name: str) -> pd.Series | None:
    rows = outcome.table[references(outcome.table) == name]
    return rows.iloc[0] if len(rows) else None


def _metric_columns(outcome: SweepOutcome) -> list[str]:
    return [c for c in outcome.table.columns if c not in (*outcome.keys, "reference")]


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def split_dates(periods: Periods) -> dict[str, str]:
    """``start``, ``end`` and, with an out-of-sample part, ``train_until`` and ``test_from``."""
    cal, end = periods.calendar, periods.train_end
    split = {"start": f"{cal[0]:%Y-%m-%d}", "end": f"{cal[-1]:%Y-%m-%d}"}
    if end < len(cal):
        split["train_until"] = f"{cal[end - 1]:%Y-%m-%d}"
        split["test_from"] = f"{cal[end]:%Y-%m-%d}"
    return split


def summary(outcome: SweepOutcome, strategy: str, data_label: str) -> dict[str, Any]:
    """The sweep's headline: winner, references, DSR, PBO, trials, period split, walk-forward folds."""
    split = split_dates(outcome.periods)

    def describe(row: pd.Series) -> dict[str, Any]:
        return {
            "params": {k: _plain(row[k]) for k in outcome.keys},
            "metrics": {c: _plain(row[c]) for c in _metric_columns(outcome)},
        }

    refs = {
        name: describe(row)
        for name in dict.fromkeys(references(outcome.table))
        if name and (row := _reference_row(outcome, name)) is not None
    }
    return canonical(
        {
            "strategy": strategy,
            "data": data_label,
            "objective": outcome.settings.objective,
            "executor": outcome.settings.executor,
            "keys": list(outcome.keys),
            "n_trials": len(grid_rows(outcome)),
            "period": split,
            "winner": {"index": outcome.winner, **describe(outcome.table.iloc[outcome.winner])},
            "references": refs,
            "deflated_sharpe_ratio": outcome.dsr,
            "probability_of_backtest_overfitting": outcome.pbo,
            "walk_forward": outcome.walk_forward,
            "notes": list(outcome.notes),
        }
    )


def ranked(outcome: SweepOutcome, top: int) -> pd.DataFrame:
    """The ``top`` grid configurations by in-sample objective, best first (the winner), under the
    tie rule of ``runner.ranking``."""
    from backtests.sweeps.runner import ranking

    grid = grid_rows(outcome)
    order = ranking(grid[f"is_{outcome.settings.objective}"].to_numpy(dtype=float))[:top]
    return grid.iloc[order]


# --- the heatmap -------------------------------------------------------------------------------


def _sort_key(value: Any) -> tuple[int, Any]:
    try:
        return (0, float(value))
    except (TypeError, ValueError):
        return (1, str(value))


def _label(value: Any) -> str:
    value = _plain(value)
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def _periods(outcome: SweepOutcome) -> list[tuple[str, str]]:
    """``(prefix, title)`` of the periods the table has (out of sample only with a split)."""
    split = split_dates(outcome.periods)
    ranges = {
        "is": (split["start"], split.get("train_until", split["end"])),
        "oos": (split.get("test_from"), split["end"]),
    }
    return [
        (prefix, f"{title} ({ranges[prefix][0]}..{ranges[prefix][1]})")
        for prefix, title in PERIODS
        if ranges[prefix][0] and f"{prefix}_{outcome.settings.objective}" in outcome.table
    ]


def _surface(outcome: SweepOutcome, metric: str) -> pd.DataFrame:
    """``metric`` over the first two keys (rows: 2nd key, columns: 1st), mean over other keys."""
    x_key, y_key = outcome.keys[:2]
    grid = grid_rows(outcome)
    cells = grid.groupby([grid[y_key].map(_label), grid[x_key].map(_label)], sort=False)[metric].mean()
    surface = cells.unstack()
    return surface.loc[
        sorted(surface.index, key=_sort_key), sorted(surface.columns, key=_sort_key)
    ]


def _cell(surface: pd.DataFrame, row: pd.Series | None, outcome: SweepOutcome) -> tuple[int, int] | None:
    """(column, row) position of ``row``'s first two key values in ``surface``, if on the grid."""
    if row is None:
        return None
    x, y = _label(row[outcome.keys[0]]), _label(row[outcome.keys[1]])
    if x in surface.columns and y in surface.index:
        return surface.columns.get_loc(x), surface.index.get_loc(y)
    return None


def _ticks(n: int, most: int = 20) -> list[int]:
    return list(range(0, n, max(1, -(-n // most))))


def _heat_panel(ax: Axes, outcome: SweepOutcome, prefix: str, title: str) -> None:
    """One period's heatmap on ``ax``: values, colour bar, the winner and the spec framed."""
    import matplotlib as mpl

    objective = outcome.settings.objective
    surface = _surface(outcome, f"{prefix}_{objective}")
    cmap = mpl.colormaps["viridis"].with_extremes(bad="#d9d9d9")
    image = ax.imshow(
        np.ma.masked_invalid(surface.to_numpy(dtype=float)), aspect="auto", origin="lower", cmap=cmap
    )
    if surface.size <= MAX_LABELLED_CELLS:
        lo, hi = np.nanmin(surface.to_numpy(dtype=float)), np.nanmax(surface.to_numpy(dtype=float))
        for (r, c), value in np.ndenumerate(surface.to_numpy(dtype=float)):
            if math.isfinite(value):
                dark = hi == lo or (value - lo) / (hi - lo) < 0.6  # viridis: dark below ~60%
                ax.text(c, r, f"{value:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if dark else "black")
    xt, yt = _ticks(len(surface.columns)), _ticks(len(surface.index))
    ax.set_xticks(xt, [surface.columns[i] for i in xt], rotation=45, ha="right")
    ax.set_yticks(yt, [surface.index[i] for i in yt])
    ax.set_xlabel(outcome.keys[0])
    ax.set_ylabel(outcome.keys[1])
    ax.set_title(title, loc="left", fontsize=10, fontweight="bold")
    ax.figure.colorbar(image, ax=ax, label=objective, fraction=0.05, pad=0.02)
    from matplotlib.patches import Rectangle

    for row, inset, style, name in (
        (outcome.table.iloc[outcome.winner], 0.04, WINNER_FRAME, "winner"),
        (_reference_row(outcome, "spec"), 0.12, SPEC_FRAME, "spec"),
    ):
        cell = _cell(surface, row, outcome)
        if cell is not None:  # a frame inside the cell: the value stays readable
            side = 1 - 2 * inset
            ax.add_patch(Rectangle((cell[0] - 0.5 + inset, cell[1] - 0.5 + inset), side, side,
                                   fill=False, gid=f"{prefix}-{name}-cell", **style))
    ax.legend(handles=[Rectangle((0, 0), 1, 1, fill=False, **s) for s in (WINNER_FRAME, SPEC_FRAME)],
              loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=2, frameon=False, fontsize=9)


def _line_panel(ax: Axes, outcome: SweepOutcome, prefix: str, title: str) -> None:
    """One period's objective along the single swept key, the winner (star) and the spec (circle)."""
    key, objective = outcome.keys[0], outcome.settings.objective
    metric = f"{prefix}_{objective}"
    grid = grid_rows(outcome)
    values = grid.groupby(grid[key].map(_label), sort=False)[metric].mean()
    values = values.loc[sorted(values.index, key=_sort_key)]
    x = np.arange(len(values))
    ax.plot(x, values.to_numpy(dtype=float), color="#1f5fbf", linewidth=1.4, marker=".")
    xt = _ticks(len(values))
    ax.set_xticks(xt, [values.index[i] for i in xt], rotation=45, ha="right")
    ax.set_xlabel(key)
    ax.set_ylabel(objective)
    ax.set_title(title, loc="left", fontsize=10, fontweight="bold")
    spec_style = {"marker": "o", "markersize": 13, "markerfacecolor": "none",
                  "markeredgecolor": "#e8344e", "markeredgewidth": 2.2, "label": "spec default"}
    winner_style = {"marker": "*", "markersize": 15, "color": "#f2a33a", "markeredgecolor": "black",
                    "markeredgewidth": 0.8, "label": "winner (best in sample)"}
    for row, style, name in (
        (_reference_row(outcome, "spec"), spec_style, "spec"),
        (outcome.table.iloc[outcome.winner], winner_style, "winner"),
    ):
        if row is not None and _label(row[key]) in values.index:
            pos = values.index.get_loc(_label(row[key]))
            ax.plot([pos], [values.iloc[pos]], linestyle="none", gid=f"{prefix}-{name}-cell", **style)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncols=2, frameon=False, fontsize=9)


def _panel(ax: Axes, outcome: SweepOutcome, prefix: str, title: str) -> None:
    (_heat_panel if len(outcome.keys) >= 2 else _line_panel)(ax, outcome, prefix, title)


def heatmap_figure(
    outcome: SweepOutcome, *, periods: list[tuple[str, str]] | None = None, title: str = ""
) -> Figure:
    """The objective over the first two swept keys, one panel per period (in sample, out of sample)."""
    from matplotlib.figure import Figure

    periods = periods if periods is not None else _periods(outcome)
    fig = Figure(figsize=(6.2 * len(periods), 5.4), dpi=100, layout="constrained")
    if title:
        fig.suptitle(title, fontweight="bold")
    for i, (prefix, heading) in enumerate(periods):
        _panel(fig.add_subplot(1, len(periods), i + 1), outcome, prefix, heading)
    return fig


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    return buf.getvalue()


# --- the HTML page ------------------------------------------------------------------------------


def _verdict(value: float, threshold: float, above: str, below: str) -> str:
    return "undefined" if not math.isfinite(value) else above if value > threshold else below


def _stat_rows(outcome: SweepOutcome) -> str:
    """DSR and PBO, each with its value, a verdict and the one-line reading."""
    dsr, pbo = float(outcome.dsr), float(outcome.pbo)
    rows = [
        {
            "stat": "Deflated Sharpe Ratio (DSR)",
            "value": num(dsr, 3),
            "verdict": _verdict(dsr, 0.95, "strong", "not strong"),
            "reading": DSR_READING,
        },
        {
            "stat": "Probability of Backtest Overfitting (PBO)",
            "value": num(pbo, 3),
            "verdict": _verdict(pbo, 0.5, "likely luck", "not likely luck"),
            "reading": PBO_READING,
        },
    ]
    columns = [
        Column("stat", "Statistic"),
        Column("value", "Value", nowrap=True),
        Column("verdict", "Verdict", nowrap=True),
        Column("reading", "How to read it"),
    ]
    return table(rows, columns, table_id="sweep-stats")


def _configurations_table(outcome: SweepOutcome, top: int) -> str:
    """The top grid rows by in-sample objective, then the reference rows (not ranked)."""
    objective = outcome.settings.objective
    periods = [p for p, _ in _periods(outcome)]
    rows = []
    refs = references(outcome.table)
    winner = outcome.table.index[outcome.winner]
    for rank, (i, row) in enumerate(ranked(outcome, top).iterrows(), start=1):
        rows.append({"rank": f"{rank} (winner)" if i == winner else str(rank), **row.to_dict()})
    for i, row in outcome.table[refs != ""].iterrows():
        label = {"spec": "spec default", "base": "base (hedge off)"}.get(refs[i], refs[i])
        rows.append({"rank": f"reference: {label}", **row.to_dict()})
    for row in rows:
        for k in outcome.keys:
            row[k] = _label(row[k])
    columns = [
        Column("rank", "Rank", nowrap=True),
        *[Column(k, k.rsplit(".", 1)[-1]) for k in outcome.keys],
    ]
    for p in periods:
        tag = "IS" if p == "is" else "OOS"
        columns += [
            Column(f"{p}_{objective}", f"{tag} {objective}", lambda v: num(v, 3), True),
            Column(f"{p}_cagr", f"{tag} CAGR", pct, True),
            Column(f"{p}_max_drawdown", f"{tag} max DD", pct, True),
        ]
    return f'<div class="scroll">{table(rows, columns, table_id="sweep-top")}</div>'


def _walk_forward_table(outcome: SweepOutcome) -> str:
    if not outcome.walk_forward:
        return ""
    rows = [
        {
            "fold": f["fold"],
            "train": "..".join(f["train"]),
            "test": "..".join(f["test"]),
            "best": ", ".join(
                f"{k.rsplit('.', 1)[-1]}={_label(outcome.table.iloc[f['best']][k])}"
                for k in outcome.keys
            ),
            "train_score": f["train_score"],
            "test_score": f["test_score"],
        }
        for f in outcome.walk_forward
    ]
    columns = [
        Column("fold", "Fold", numeric=True),
        Column("train", "Train", nowrap=True),
        Column("test", "Test", nowrap=True),
        Column("best", "Best configuration"),
        Column("train_score", "In sample", lambda v: num(v, 3), True),
        Column("test_score", "Out of sample", lambda v: num(v, 3), True),
    ]
    return (
        "<h2 id=\"walk-forward\">Walk-forward</h2>"
        f'<div class="scroll">{table(rows, columns, table_id="walk-forward-folds")}</div>'
    )


def _off_grid(outcome: SweepOutcome) -> str:
    """A sentence when the spec's default settings are not a configuration of the grid."""
    spec = _reference_row(outcome, "spec")
    if spec is None:
        return ""
    grid = grid_rows(outcome)
    values = {k: _label(spec[k]) for k in outcome.keys[:2]}
    on_grid = np.ones(len(grid), dtype=bool)
    for key, value in values.items():
        on_grid &= (grid[key].map(_label) == value).to_numpy()
    if on_grid.any():
        return ""
    where = ", ".join(f"{k} = {v}" for k, v in values.items())
    return f" The spec's default ({where}) is not on the grid."


def heatmap_page(
    outcome: SweepOutcome, strategy: str, data_label: str, *, panels: list[str], index_href: str
) -> str:
    """``heatmap.html``: nav bar, DSR and PBO with their readings, the panels, the top configurations."""
    objective = outcome.settings.objective
    n = len(grid_rows(outcome))
    keys = ", ".join(outcome.keys)
    spread = " (mean over the other swept keys)" if len(outcome.keys) > 2 else ""
    marks = (
        "Black frame: the winner (best in sample); red dashed frame: the spec's default settings."
        if len(outcome.keys) >= 2
        else "Star: the winner (best in sample); red circle: the spec's default settings."
    ) + _off_grid(outcome)
    oos_note = (
        ""
        if len(panels) > 1
        else '<p class="note">No out-of-sample period: add --train-until DATE to hold data out.</p>'
    )
    charts = "".join(
        f'<div class="sweep-panel" style="flex:1 1 {MIN_PANEL_PX}px;min-width:{MIN_PANEL_PX}px">'
        + svg.replace("<svg ", '<svg style="width:100%;height:auto" ', 1)
        + "</div>"
        for svg in panels
    )
    notes = "".join(f"<li>{esc(line)}</li>" for line in outcome.notes)
    body = (
        f"<h1>{esc(strategy)}: sweep of {esc(keys)}</h1>"
        f'<p class="sub">Data: {esc(data_label)} · objective: {esc(objective)} · {n} configurations '
        f"· executor: {esc(outcome.settings.executor)}</p>"
        f'<h2 id="validation">Is the winner skill or luck?</h2>{_stat_rows(outcome)}'
        f'<h2 id="heatmap">In sample and out of sample</h2>'
        f'<p class="note">Colour: {esc(objective)} of each configuration{esc(spread)}; each panel has '
        f"its own colour scale. {esc(marks)} Grey: undefined.</p>"
        f"{oos_note}"
        '<div class="scroll"><div id="sweep-panels" style="display:flex;flex-wrap:wrap;gap:12px">'
        f"{charts}</div></div>"
        f'<h2 id="configurations">Top configurations</h2>'
        f'<p class="note">Ranked by in-sample {esc(objective)}. Reference rows are evaluated on the '
        "same data but not ranked, not counted as trials and not in the heatmap.</p>"
        f"{_configurations_table(outcome, TOP_ROWS)}"
        f"{_walk_forward_table(outcome)}"
        + (f'<h2 id="notes">Notes</h2><ul>{notes}</ul>' if notes else "")
    )
    top = nav_bar(
        [
            (index_href, "All runs"),
            (HEATMAP_PAGE, "Sweep"),
            (SWEEP_CSV, "sweep.csv"),
            (SUMMARY, "summary.json"),
        ]
    )
    return page(f"{strategy}: sweep", body, top=top)


def write_outputs(
    outcome: SweepOutcome, out_dir: Path, strategy: str, data_label: str, *, force: bool = False
) -> dict[str, Path]:
    """Write the sweep folder ``out_dir`` whole: sweep.csv, summary.json, heatmap.png and heatmap.html.

    ``out_dir`` may be missing, empty or a sweep folder of ours (replaced whole); anything
    else raises ``UserInputError`` unless ``force``. Returns file name -> path.
    """
    import matplotlib as mpl

    target = Path(out_dir)
    index_href = Path(
        os.path.relpath(os.path.abspath(reports_dir() / INDEX_PAGE), os.path.abspath(target))
    ).as_posix()
    periods = _periods(outcome)
    with mpl.rc_context({"svg.hashsalt": "geohedge", "svg.fonttype": "none", "font.size": 9}):
        title = f"{strategy}: {outcome.settings.objective} by configuration ({data_label})"
        png = _png(heatmap_figure(outcome, periods=periods, title=title))
        panels = [_svg(heatmap_figure(outcome, periods=[p])) for p in periods]
    texts = {
        SWEEP_CSV: outcome.table.to_csv(index=False, float_format="%.10g", lineterminator="\n"),
        SUMMARY: json.dumps(summary(outcome, strategy, data_label), indent=2, sort_keys=True) + "\n",
        HEATMAP_PAGE: heatmap_page(
            outcome, strategy, data_label, panels=panels, index_href=index_href
        ),
    }
    with staged_folder(target, kind="sweep", force=force) as stage:
        for name, text in texts.items():
            atomic_write_text(stage / name, text)
        atomic_write_bytes(stage / HEATMAP_PNG, png)
    return {name: target / name for name in (SWEEP_CSV, SUMMARY, HEATMAP_PNG, HEATMAP_PAGE)}

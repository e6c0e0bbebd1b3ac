"""What a sweep writes: ``sweep.csv``, ``summary.json``, the heatmap (SVG + HTML page).

The sweep folder is staged and moved into place whole (``reports.folders``);
``summary.json`` marks it as ours, so a later sweep may replace it.

``outcome.table`` holds one row per configuration and may end with **reference
rows** (column ``reference``: ``"spec"``, the spec's own settings; ``"base"``, the
hedge off; ``""`` for grid rows). References are written to ``sweep.csv`` and
``summary.json`` and shown on the page, but never ranked, counted as trials or
drawn in the heatmap grid; the spec's cell is marked when it lies on the grid.

``heatmap.svg`` and ``heatmap.html`` show the objective over the first two swept
keys (mean over any others), in sample and out of sample side by side, the
winner framed in black and the spec's default in red dashes; with one swept key, a line per period.
This module picks the data (surfaces, lines, marked cells); ``sweeps.heatmap`` draws them as
hand-built SVG, so writing a sweep never imports matplotlib.
"""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np
import pandas as pd

from backtests.atomic import atomic_write_text
from backtests.paths import reports_dir
from backtests.reports.catalog import (
    DSR_READING,
    PBO_READING,
    SWEEP_PAGE,
    SWEEP_SUMMARY,
)
from backtests.reports.folders import staged_folder
from backtests.reports.index import INDEX_PAGE
from backtests.reports.jsonsafe import canonical
from backtests.reports.markup import Column, esc, nav_bar, num, page, pct, table
from backtests.sweeps.heatmap import Figure, Panel, figure, heat_panel, line_panel

if TYPE_CHECKING:
    from backtests.sweeps.runner import Periods, SweepOutcome

SWEEP_CSV, HEATMAP_SVG = "sweep.csv", "heatmap.svg"
SUMMARY, HEATMAP_PAGE = SWEEP_SUMMARY, SWEEP_PAGE
PERIODS = (("is", "In sample"), ("oos", "Out of sample"))
TOP_ROWS = 20
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


def _axis(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """The distinct ``_label``s of ``column`` in ``_sort_key`` order (ties: first seen first), and
    each value's position among them (``_label`` runs once per distinct value)."""
    if column.dtype == object:  # list values (e.g. categories) are not hashable: factorize tuples
        column = column.map(lambda v: tuple(v) if isinstance(v, list) else v)
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    labels = [_label(list(u) if isinstance(u, tuple) else u) for u in uniques]
    order = sorted(dict.fromkeys(labels), key=_sort_key)
    where = {label: i for i, label in enumerate(order)}
    return np.array([where[label] for label in labels], dtype=np.intp)[codes], order


def _means(outcome: SweepOutcome, keys: list[str], metric: str) -> tuple[np.ndarray, list[list[str]]]:
    """Mean of ``metric`` over the grid rows of each combination of the ``keys``' labels (NaN
    skipped; NaN where there is no value), shape ``(len(labels) of keys[0], ...)``, and the labels."""
    grid = grid_rows(outcome)
    axes = [_axis(grid[key]) for key in keys]
    shape = tuple(len(labels) for _, labels in axes)
    flat = np.ravel_multi_index([codes for codes, _ in axes], shape)
    values = grid[metric].to_numpy(dtype=float)
    finite = np.isfinite(values)
    size = math.prod(shape)
    total = np.bincount(flat, weights=np.where(finite, values, 0.0), minlength=size)
    count = np.bincount(flat, weights=finite.astype(float), minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return means.reshape(shape), [labels for _, labels in axes]


def _surface(outcome: SweepOutcome, metric: str) -> pd.DataFrame:
    """``metric`` over the first two keys (rows: 2nd key, columns: 1st), mean over other keys."""
    means, (rows, columns) = _means(outcome, outcome.keys[1::-1], metric)
    return pd.DataFrame(means, index=rows, columns=columns)


def _line(outcome: SweepOutcome, metric: str) -> pd.Series:
    """``metric`` along the single swept key, in value order."""
    means, (labels,) = _means(outcome, outcome.keys[:1], metric)
    return pd.Series(means, index=labels)


def _cell(surface: pd.DataFrame, row: pd.Series | None, outcome: SweepOutcome) -> tuple[int, int] | None:
    """(column, row) position of ``row``'s first two key values in ``surface``, if on the grid."""
    if row is None:
        return None
    x, y = _label(row[outcome.keys[0]]), _label(row[outcome.keys[1]])
    if x in surface.columns and y in surface.index:
        return surface.columns.get_loc(x), surface.index.get_loc(y)
    return None


def _panel(outcome: SweepOutcome, prefix: str, title: str) -> Panel:
    """One period's chart: a heat panel over the first two keys, or a line for a single key."""
    objective, keys = outcome.settings.objective, outcome.keys
    metric = f"{prefix}_{objective}"
    marks = {"winner": outcome.table.iloc[outcome.winner], "spec": _reference_row(outcome, "spec")}
    if len(keys) >= 2:
        surface = _surface(outcome, metric)
        return heat_panel(
            surface.to_numpy(dtype=float),
            list(surface.columns),
            list(surface.index),
            prefix=prefix,
            title=title,
            x_name=keys[0],
            y_name=keys[1],
            value_name=objective,
            **{name: _cell(surface, row, outcome) for name, row in marks.items()},
        )
    values = _line(outcome, metric)
    where = {
        name: values.index.get_loc(_label(row[keys[0]]))
        for name, row in marks.items()
        if row is not None and _label(row[keys[0]]) in values.index
    }
    return line_panel(
        values.to_numpy(dtype=float),
        list(values.index),
        prefix=prefix,
        title=title,
        x_name=keys[0],
        y_name=objective,
        **where,
    )


def heatmap_panels(outcome: SweepOutcome) -> list[Panel]:
    """One chart per period the table has (in sample, then out of sample)."""
    return [_panel(outcome, prefix, title) for prefix, title in _periods(outcome)]


def heatmap_figure(
    outcome: SweepOutcome, strategy: str, data_label: str, *, panels: list[Panel] | None = None
) -> Figure:
    """``heatmap.svg``: the periods' charts side by side under a title naming the strategy,
    the objective and the data (``panels``: already drawn by ``heatmap_panels``)."""
    title = f"{strategy}: {outcome.settings.objective} by configuration ({data_label})"
    return figure(panels if panels is not None else heatmap_panels(outcome), title)


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
        codes, labels = _axis(grid[key])
        on_grid &= codes == (labels.index(value) if value in labels else -1)
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


#: Rows formatted at a time by ``write_csv``: memory stays flat for a million configurations.
CSV_ROWS = 50_000


def write_csv(table: pd.DataFrame, out: TextIO) -> None:
    """``sweep.csv`` into ``out``: a header, then one line per row; floats with 10 significant
    digits (NaN empty), other values as ``str``; quoted only where needed (pandas' ``to_csv``
    layout, built column by column and ``CSV_ROWS`` rows at a time: fast and flat in memory)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.columns)
    for start in range(0, len(table), CSV_ROWS):
        rows = table.iloc[start : start + CSV_ROWS]
        columns = []
        for name in rows.columns:
            values = rows[name]
            if values.dtype.kind == "f":
                cells = map("{:.10g}".format, values.to_numpy(dtype=float).tolist())
                columns.append(["" if cell == "nan" else cell for cell in cells])
            else:
                columns.append(["" if value is None else value for value in values.tolist()])
        writer.writerows(zip(*columns))


def write_outputs(
    outcome: SweepOutcome, out_dir: Path, strategy: str, data_label: str, *, force: bool = False
) -> dict[str, Path]:
    """Write the sweep folder ``out_dir`` whole: sweep.csv, summary.json, heatmap.svg and heatmap.html.

    ``out_dir`` may be missing, empty or a sweep folder of ours (replaced whole); anything
    else raises ``UserInputError`` unless ``force``. Returns file name -> path.
    """
    target = Path(out_dir)
    index_href = Path(
        os.path.relpath(os.path.abspath(reports_dir() / INDEX_PAGE), os.path.abspath(target))
    ).as_posix()
    panels = heatmap_panels(outcome)
    texts = {
        SUMMARY: json.dumps(summary(outcome, strategy, data_label), indent=2, sort_keys=True) + "\n",
        HEATMAP_SVG: heatmap_figure(outcome, strategy, data_label, panels=panels).svg,
        HEATMAP_PAGE: heatmap_page(
            outcome, strategy, data_label, panels=[p.svg() for p in panels], index_href=index_href
        ),
    }
    with staged_folder(target, kind="sweep", force=force) as stage:
        with open(stage / SWEEP_CSV, "w", encoding="utf-8", newline="") as out:  # the stage is renamed whole
            write_csv(outcome.table, out)
        for name, text in texts.items():
            atomic_write_text(stage / name, text)
    return {name: target / name for name in (SWEEP_CSV, *texts)}

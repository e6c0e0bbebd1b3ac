"""What a sweep writes: ``sweep.csv``, ``summary.json``, the heatmap (PNG + HTML) and the best spec."""

from __future__ import annotations

import html
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from backtests.atomic import atomic_write, atomic_write_text
from backtests.sweep.runner import SweepResult


def summary(result: SweepResult, strategy: str, data_label: str) -> dict:
    """The sweep's headline: winner, DSR, PBO, trials, period split, walk-forward folds."""
    cal = result.periods.calendar
    table = result.table
    row = table.iloc[result.winner]
    split = {"start": f"{cal[0]:%Y-%m-%d}", "end": f"{cal[-1]:%Y-%m-%d}"}
    if result.periods.train_end < len(cal):
        split["train_until"] = f"{cal[result.periods.train_end - 1]:%Y-%m-%d}"
        split["test_from"] = f"{cal[result.periods.train_end]:%Y-%m-%d}"
    metrics = {c: _num(row[c]) for c in table.columns if c not in result.keys}
    return {
        "strategy": strategy,
        "data": data_label,
        "objective": result.settings.objective,
        "executor": result.settings.executor,
        "n_trials": int(len(table)),
        "period": split,
        "winner": {"index": result.winner, "params": {k: str(row[k]) for k in result.keys}, "metrics": metrics},
        "deflated_sharpe_ratio": _num(result.dsr),
        "probability_of_backtest_overfitting": _num(result.pbo),
        "walk_forward": result.walk_forward,
        "notes": result.notes,
    }


def _num(value) -> float | None:
    value = float(value)
    return None if np.isnan(value) else float(f"{value:.12g}")


def ranked(result: SweepResult, top: int) -> pd.DataFrame:
    """The ``top`` configurations by in-sample objective (ties keep grid order)."""
    key = f"is_{result.settings.objective}"
    order = result.table[key].rank(ascending=False, method="first").sort_values().index[:top]
    return result.table.loc[order]


def write_outputs(result: SweepResult, out_dir: Path, strategy: str, data_label: str) -> dict[str, Path]:
    """Write sweep.csv, summary.json and, with two or more swept keys, the heatmap files."""
    paths = {
        "sweep.csv": atomic_write_text(out_dir / "sweep.csv", result.table.to_csv(index=False, float_format="%.10g")),
        "summary.json": atomic_write_text(
            out_dir / "summary.json", json.dumps(summary(result, strategy, data_label), indent=2, sort_keys=True) + "\n"
        ),
    }
    if len(result.keys) >= 2:
        paths.update(write_heatmap(result, out_dir, strategy, data_label))
    return paths


def write_heatmap(result: SweepResult, out_dir: Path, strategy: str, data_label: str) -> dict[str, Path]:
    """In-sample objective over the first two swept keys (mean over any others): PNG and self-contained HTML."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x_key, y_key = result.keys[:2]
    metric = f"is_{result.settings.objective}"
    pivot = result.table.pivot_table(index=y_key, columns=x_key, values=metric, aggfunc="mean", sort=False)
    pivot = pivot.loc[sorted(pivot.index, key=_sort_key), sorted(pivot.columns, key=_sort_key)]
    fig, ax = plt.subplots(figsize=(10, 6.5), dpi=110)
    image = ax.imshow(pivot.to_numpy(), aspect="auto", origin="lower", cmap="viridis")
    ax.set_xticks(_ticks(len(pivot.columns)), [pivot.columns[i] for i in _ticks(len(pivot.columns))], rotation=45)
    ax.set_yticks(_ticks(len(pivot.index)), [pivot.index[i] for i in _ticks(len(pivot.index))])
    ax.set_xlabel(x_key)
    ax.set_ylabel(y_key)
    ax.set_title(f"{strategy}: in-sample {result.settings.objective} ({data_label})")
    fig.colorbar(image, ax=ax, label=result.settings.objective)
    fig.tight_layout()
    png, svg = io.BytesIO(), io.StringIO()
    fig.savefig(png, format="png")
    fig.savefig(svg, format="svg")
    plt.close(fig)
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(strategy)} sweep heatmap</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}svg{max-width:100%;height:auto}</style>"
        f"</head><body><h1>{html.escape(strategy)}: sweep heatmap</h1>"
        f"<p>Data: {html.escape(data_label)}. Colour: in-sample {html.escape(result.settings.objective)}, "
        f"mean over other swept keys. {len(result.table)} configurations; "
        f"DSR {result.dsr:.3f}, PBO {result.pbo:.3f}.</p>"
        f"{svg.getvalue()[svg.getvalue().index('<svg') :]}</body></html>\n"
    )
    return {
        "heatmap.png": atomic_write(out_dir / "heatmap.png", lambda p: p.write_bytes(png.getvalue())),
        "heatmap.html": atomic_write_text(out_dir / "heatmap.html", page),
    }


def _ticks(n: int, most: int = 20) -> list[int]:
    return list(range(0, n, max(1, -(-n // most))))


def _sort_key(value: str):
    try:
        return (0, float(value))
    except ValueError:
        return (1, value)

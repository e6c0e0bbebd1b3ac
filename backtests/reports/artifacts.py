"""The run folder: every file one run writes, staged and moved into place whole, ``manifest.json`` last.

Layout (``reports/STRATEGY/RUN_ID/`` by default, or the ``--out`` folder itself)::

    tearsheet.html  events.html  metrics.json  config.toml
    returns.csv  weights.csv  targets.csv  trades.csv  triggers.csv  manifest.json

The files are written into a hidden staging sibling and the folder is renamed
into place (``reports.folders``): a reader sees the old run or the new one, never
a mix (no stale tearsheet beside a new manifest), and a folder that is not a run
of ours is never replaced without ``force``. ``manifest.json`` (written last)
proves a run folder is ours and complete; ``index`` and ``backtest report`` report
folders without a valid one as incomplete. ``metrics.json`` is byte-identical for
identical inputs: sorted keys, floats rounded to 12 significant digits, NaN/inf as
``null``, no timestamps (those live in the manifest).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backtests.atomic import atomic_write_text
from backtests.attribution import EPISODE_COLUMNS
from backtests.errors import BacktestError
from backtests.paths import reports_dir
from backtests.reports.folders import (
    Kind,
    check_out_folder,
    check_writable_file,
    check_writable_folder,
    staged_folder,
)
from backtests.reports.index import INDEX_PAGE
from backtests.reports.pages import EVENTS_PAGE, TEARSHEET_PAGE, events_page, run_nav
from backtests.reports.tearsheet import Comparator, write_tearsheet
from backtests.results import RunResult
from backtests.triggers.context import FIRING_COLUMNS

__all__ = [
    "canonical",
    "check_writable_file",  # re-exported: the CLI checks --save-best with it
    "check_writable_target",
    "metrics_json",
    "new_run_dir",
    "strategy_folder",
    "write_run",
]
MANIFEST = "manifest.json"
METRICS = "metrics.json"
SIGNIFICANT_DIGITS = 12


def strategy_folder(strategy: str) -> Path:
    """A safe relative folder for a strategy: each ``/`` segment keeps ``[A-Za-z0-9._-]`` only.

    ``"tariff shock"`` -> ``tariff-shock``; ``"name/sweeps"`` -> ``name/sweeps``; no ``..``.
    """
    parts = [re.sub(r"[^A-Za-z0-9._-]+", "-", seg).strip("-.") for seg in strategy.split("/")]
    return Path(*[p for p in parts if p] or ["strategy"])


def new_run_dir(
    strategy: str, root: Path | None = None, *, spec_toml: str = "", now: datetime | None = None
) -> Path:
    """Create ``ROOT/STRATEGY/RUN_ID``, ``RUN_ID = YYYYmmddTHHMMSSZ-<6 hex of spec hash>``.

    Sortable by time; a second run in the same second with the same spec gets ``-2``, ``-3``...
    """
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    digest = hashlib.sha256(spec_toml.encode("utf-8")).hexdigest()[:6]
    parent = (root if root is not None else reports_dir()) / strategy_folder(strategy)
    check_writable_folder(parent, what="reports folder")
    parent.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        candidate = parent / (f"{stamp}-{digest}" + (f"-{n}" if n > 1 else ""))
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise BacktestError(f"no free run folder under {parent} for {stamp}-{digest}; try again")


def check_writable_target(path: Path, *, force: bool = False, kind: Kind | None = None) -> None:
    """Before computing: raise unless a run (or sweep) can be written to ``path``.

    ``path`` is either the reports root (``reports_dir()``: runs go inside it, so it must be
    a folder we can write in) or an ``--out`` folder, replaced whole: missing, empty, or a
    ``kind`` folder of ours (``None``: a run or a sweep folder), unless ``force``. One-line
    ``BacktestError`` naming the path and the reason (exit 1), ``UserInputError`` for a folder
    holding someone else's files (exit 2).
    """
    if os.path.abspath(path) == os.path.abspath(reports_dir()):
        check_writable_folder(Path(path), what="reports folder")
    else:
        check_out_folder(Path(path), kind=kind, force=force)


def canonical(value: Any) -> Any:
    """JSON-ready copy of ``value``: floats to 12 significant digits, NaN/inf -> None."""
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        x = float(value)
        return None if not math.isfinite(x) else float(f"{x:.{SIGNIFICANT_DIGITS}g}")
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def metrics_json(metrics: dict[str, dict[str, Any]]) -> str:
    """The deterministic text of ``metrics.json``."""
    return json.dumps(canonical(metrics), indent=2, sort_keys=True, allow_nan=False) + "\n"


def _csv(frame: pd.DataFrame, *, index: bool) -> str:
    return frame.to_csv(
        index=index, date_format="%Y-%m-%d", float_format="%.10g", lineterminator="\n"
    )


def _data_files(result: RunResult) -> dict[str, str]:
    """The CSV files of a run, name -> text."""
    columns = {"strategy": result.returns, "benchmark": result.benchmark_returns}
    if result.base_returns is not None:
        columns["base"] = result.base_returns
    returns = pd.DataFrame(columns)
    firings = result.firings.reindex(columns=list(FIRING_COLUMNS))
    return {
        "returns.csv": _csv(returns.rename_axis("date"), index=True),
        "weights.csv": _csv(result.weights.rename_axis("date"), index=True),
        "targets.csv": _csv(result.targets.rename_axis("date"), index=True),
        "trades.csv": _csv(result.trades, index=False),
        "triggers.csv": _csv(firings, index=False),
        "episodes.csv": _csv(
            pd.DataFrame(result.episodes).reindex(columns=list(EPISODE_COLUMNS)), index=False
        ),
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(
    result: RunResult, target: Path, command_line: Sequence[str], files: dict[str, Path]
) -> str:
    """``result.manifest`` (kept as the pipeline built it) plus what only the run folder knows."""
    manifest = dict(result.manifest)
    manifest.setdefault("created", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    manifest.setdefault("strategy", result.strategy)
    manifest.setdefault(
        "period", {"start": f"{result.start:%Y-%m-%d}", "end": f"{result.end:%Y-%m-%d}"}
    )
    manifest.setdefault("base_label", result.base_label)
    data = dict(manifest.get("data") or {})
    data.setdefault("label", result.data_label)
    data.setdefault("synthetic", bool(result.synthetic))
    manifest.update(
        {
            "run_id": target.name,
            "command_line": list(command_line),
            "description": result.description,
            "benchmark": result.benchmark,
            "data": data,
            "files": {path.name: _sha256(path) for path in sorted(files.values())},
        }
    )
    return json.dumps(canonical(manifest), indent=2, sort_keys=True, default=str) + "\n"


def write_run(
    result: RunResult,
    folder: Path,
    *,
    tearsheet: bool = True,
    tearsheet_benchmark: Comparator = None,
    command_line: Sequence[str] = (),
    force: bool = False,
) -> dict[str, Path]:
    """Write every file of a run as the folder ``folder``; return ``{stem: path}`` (``"tearsheet"``, ...).

    ``folder`` may be missing, empty (``new_run_dir``) or a run folder of ours, which is
    replaced whole; anything else raises ``UserInputError`` unless ``force``. On failure
    ``folder`` is left as it was. ``tearsheet_benchmark`` is handed to
    ``tearsheet.write_tearsheet(benchmark=...)``. The caller rebuilds the index
    (``index.rebuild_index``) when the run sits in the reports root.
    """
    target = Path(folder)
    index_href = Path(
        os.path.relpath(os.path.abspath(reports_dir() / INDEX_PAGE), os.path.abspath(target))
    ).as_posix()
    texts = {
        **_data_files(result),
        "config.toml": result.spec_toml,
        METRICS: metrics_json(result.metrics),
        EVENTS_PAGE: events_page(result, index_href=index_href, tearsheet=tearsheet),
    }
    with staged_folder(target, kind="run", force=force) as stage:
        files = {
            Path(name).stem: atomic_write_text(stage / name, text) for name, text in texts.items()
        }
        if tearsheet:
            files["tearsheet"] = write_tearsheet(
                result,
                stage / TEARSHEET_PAGE,
                top_html=run_nav(index_href, tearsheet=True),
                benchmark=tearsheet_benchmark,
            )
        files["manifest"] = atomic_write_text(
            stage / MANIFEST, _manifest(result, target, command_line, files)
        )
    return {stem: target / path.name for stem, path in files.items()}

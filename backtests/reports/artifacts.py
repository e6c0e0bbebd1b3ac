"""The run folder: every file one run writes, each atomically, ``manifest.json`` last.

Layout (``reports/STRATEGY/RUN_ID/`` by default, or the ``--out`` folder itself)::

    tearsheet.html  events.html  metrics.json  config.toml
    returns.csv  weights.csv  targets.csv  trades.csv  triggers.csv  manifest.json

A folder without ``manifest.json`` is incomplete (the run failed or is still
writing); ``index`` and ``backtest report`` ignore it. ``metrics.json`` is
byte-identical for identical inputs: sorted keys, floats rounded to 12
significant digits, NaN/inf as ``null``, no timestamps (those live in the manifest).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backtests.atomic import atomic_write_text
from backtests.paths import reports_dir
from backtests.reports.index import INDEX_PAGE
from backtests.reports.pages import EVENTS_PAGE, TEARSHEET_PAGE, events_page, run_nav
from backtests.reports.tearsheet import write_tearsheet
from backtests.results import RunResult
from backtests.triggers.context import FIRING_COLUMNS

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
    parent.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        candidate = parent / (f"{stamp}-{digest}" + (f"-{n}" if n > 1 else ""))
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise FileExistsError(f"no free run folder under {parent} for {stamp}-{digest}")


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
    returns = pd.DataFrame({"strategy": result.returns, "benchmark": result.benchmark_returns})
    firings = result.firings.reindex(columns=list(FIRING_COLUMNS))
    return {
        "returns.csv": _csv(returns.rename_axis("date"), index=True),
        "weights.csv": _csv(result.weights.rename_axis("date"), index=True),
        "targets.csv": _csv(result.targets.rename_axis("date"), index=True),
        "trades.csv": _csv(result.trades, index=False),
        "triggers.csv": _csv(firings, index=False),
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(
    result: RunResult, out_dir: Path, command_line: list[str], files: dict[str, Path]
) -> str:
    """``result.manifest`` (kept as the pipeline built it) plus what only the run folder knows."""
    manifest = dict(result.manifest)
    manifest.setdefault("created", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    manifest.setdefault("strategy", result.strategy)
    manifest.setdefault(
        "period", {"start": f"{result.start:%Y-%m-%d}", "end": f"{result.end:%Y-%m-%d}"}
    )
    data = dict(manifest.get("data") or {})
    data.setdefault("label", result.data_label)
    data.setdefault("synthetic", bool(result.synthetic))
    manifest.update(
        {
            "run_id": out_dir.name,
            "command_line": list(command_line),
            "description": result.description,
            "benchmark": result.benchmark,
            "data": data,
            "files": {path.name: _sha256(path) for path in sorted(files.values())},
        }
    )
    return json.dumps(canonical(manifest), indent=2, sort_keys=True, default=str) + "\n"


def write_run(
    result: RunResult, out_dir: Path, *, tearsheet: bool = True, command_line: list[str]
) -> dict[str, Path]:
    """Write every file of a run into ``out_dir``; return ``{stem: path}`` (``"tearsheet"``, ...).

    ``manifest.json`` is removed first and written last, so a failure leaves a
    folder that does not look complete. The caller rebuilds the index
    (``index.rebuild_index``) when the run sits in the reports root.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MANIFEST).unlink(missing_ok=True)
    root = reports_dir()
    index_href = Path(os.path.relpath(root / INDEX_PAGE, out_dir)).as_posix()
    texts = {
        **_data_files(result),
        "config.toml": result.spec_toml,
        METRICS: metrics_json(result.metrics),
        EVENTS_PAGE: events_page(result, index_href=index_href, tearsheet=tearsheet),
    }
    files = {
        Path(name).stem: atomic_write_text(out_dir / name, text) for name, text in texts.items()
    }
    if tearsheet:
        files["tearsheet"] = write_tearsheet(
            result, out_dir / TEARSHEET_PAGE, top_html=run_nav(index_href, tearsheet=True)
        )
    files["manifest"] = atomic_write_text(
        out_dir / MANIFEST, _manifest(result, out_dir, command_line, files)
    )
    return files

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
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from backtests.atomic import atomic_write_text
from backtests.attribution import EPISODE_COLUMNS
from backtests.reports.folders import staged_folder
from backtests.reports.jsonsafe import canonical
from backtests.reports.navigation import (
    EVENTS_PAGE,
    TEARSHEET_PAGE,
    index_href,
    tearsheet_nav,
)
from backtests.reports.pages import events_page
from backtests.reports.tearsheet_job import Comparator
from backtests.results import RunResult
from backtests.triggers.context import FIRING_COLUMNS

if TYPE_CHECKING:
    from backtests.reports.worker import TearsheetWorker

__all__ = ["metrics_json", "write_run"]
MANIFEST = "manifest.json"
METRICS = "metrics.json"


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
    renderer: TearsheetWorker | None = None,
) -> dict[str, Path]:
    """Write every file of a run as the folder ``folder``; return ``{stem: path}`` (``"tearsheet"``, ...).

    ``folder`` may be missing, empty (``new_run_dir``) or a run folder of ours, which is
    replaced whole; anything else raises ``UserInputError`` unless ``force``. On failure
    ``folder`` is left as it was. ``tearsheet_benchmark`` is handed to
    ``tearsheet.write_tearsheet(benchmark=...)``. ``renderer``: a started
    ``reports.worker.TearsheetWorker`` draws the tearsheet in its process (the same bytes)
    while this one writes the other files; ``None``: drawn here. The caller rebuilds the
    index (``index.rebuild_index``) when the run sits in the reports root.
    """
    target = Path(folder)
    to_index = index_href(target)
    nav = tearsheet_nav(target)
    with staged_folder(target, kind="run", force=force) as stage:
        page = stage / TEARSHEET_PAGE
        pending = (
            renderer.render(result, page, top_html=nav, benchmark=tearsheet_benchmark)
            if tearsheet and renderer is not None
            else None
        )
        try:
            texts = {
                **_data_files(result),
                "config.toml": result.spec_toml,
                METRICS: metrics_json(result.metrics),
                EVENTS_PAGE: events_page(result, index_href=to_index, tearsheet=tearsheet),
            }
            files = {
                Path(name).stem: atomic_write_text(stage / name, text)
                for name, text in texts.items()
            }
            if pending is not None:
                files["tearsheet"] = pending.result()
            elif tearsheet:
                from backtests.reports.tearsheet import write_tearsheet  # matplotlib: only when drawn here

                files["tearsheet"] = write_tearsheet(
                    result, page, top_html=nav, benchmark=tearsheet_benchmark
                )
        except BaseException:
            if pending is not None:
                pending.abort()
            raise
        files["manifest"] = atomic_write_text(
            stage / MANIFEST, _manifest(result, target, command_line, files)
        )
    return {stem: target / path.name for stem, path in files.items()}

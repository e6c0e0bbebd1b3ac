"""Find finished runs under the reports root; resolve what a user types (id, folder, ``latest``).

A run is a folder ``ROOT/STRATEGY/RUN_ID`` holding ``manifest.json`` (written
last, so its presence means the run finished) and ``metrics.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backtests.errors import UserInputError


@dataclass(frozen=True)
class RunInfo:
    """What the index, ``report list`` and ``report compare`` show about one finished run."""

    run_id: str
    strategy: str
    path: Path
    start: str
    end: str
    data_label: str
    synthetic: bool
    benchmark: str
    description: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    benchmark_metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def period(self) -> str:
        """``YYYY-MM-DD..YYYY-MM-DD``."""
        return f"{self.start}..{self.end}"

    @property
    def source(self) -> str:
        """The data label, flagged when synthetic."""
        return f"{self.data_label} (synthetic)" if self.synthetic else self.data_label

    def row(self) -> dict[str, Any]:
        """The flat record of ``backtest report list`` (and its ``--json``)."""
        return {
            "id": self.run_id,
            "strategy": self.strategy,
            "period": self.period,
            "source": self.source,
            "synthetic": self.synthetic,
            "sharpe": self.metrics.get("sharpe"),
            "cagr": self.metrics.get("cagr"),
            "max_drawdown": self.metrics.get("max_drawdown"),
            "path": str(self.path),
        }


def load_run(folder: Path) -> RunInfo | None:
    """The run in ``folder``, or ``None`` if unfinished (manifest/metrics missing or unreadable)."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    period, data = manifest.get("period") or {}, manifest.get("data") or {}
    return RunInfo(
        run_id=str(manifest.get("run_id") or folder.name),
        strategy=str(manifest.get("strategy") or folder.parent.name),
        path=folder,
        start=str(period.get("start", "")),
        end=str(period.get("end", "")),
        data_label=str(data.get("label", "")),
        synthetic=bool(data.get("synthetic", False)),
        benchmark=str(manifest.get("benchmark", "")),
        description=str(manifest.get("description", "")),
        metrics=dict(metrics.get("strategy") or {}),
        benchmark_metrics=dict(metrics.get("benchmark") or {}),
    )


def discover_runs(root: Path) -> list[RunInfo]:
    """Every finished run under ``root`` (``*/*/manifest.json``), oldest first."""
    runs = [load_run(m.parent) for m in sorted(Path(root).glob("*/*/manifest.json"))]
    return sorted((r for r in runs if r is not None), key=lambda r: (r.run_id, r.strategy))


def resolve_run(ref: str, root: Path) -> RunInfo:
    """``ref`` = a run id, a run folder, or ``latest``; a one-line ``UserInputError`` otherwise."""
    folder = Path(ref).expanduser()
    if folder.is_dir():
        found = load_run(folder)
        if found is None:
            raise UserInputError(
                f"{ref} is not a finished run folder (no manifest.json or metrics.json)"
            )
        return found
    runs = discover_runs(root)
    if ref == "latest":
        if not runs:
            raise UserInputError(f"no runs under {root}; run `backtest run STRATEGY` first")
        return runs[-1]
    matches = [r for r in runs if r.run_id == ref or f"{r.path.parent.name}/{r.run_id}" == ref]
    if len(matches) == 1:
        return matches[0]
    if matches:
        options = ", ".join(f"{r.path.parent.name}/{r.run_id}" for r in matches)
        raise UserInputError(
            f"run {ref!r} is ambiguous ({options}); give STRATEGY/RUN_ID or the folder"
        )
    raise UserInputError(
        f"unknown run {ref!r} under {root}; see `backtest report list` for run ids"
    )

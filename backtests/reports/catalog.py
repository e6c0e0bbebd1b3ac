"""What the reports root holds: finished runs, incomplete folders, sweeps and compare pages.

Layout under the root (``reports/`` or ``$BACKTEST_REPORTS_DIR``):

- ``STRATEGY/RUN_ID/``: a run. Finished when its ``manifest.json`` is one of ours
  (``run_id`` and ``files`` keys; written last) and ``metrics.json`` holds a
  ``strategy`` object. A non-empty folder without both is **incomplete** (killed,
  failed, or corrupt): listed by path and count, never as a run. An empty folder
  is a run folder reserved by a command still computing (or abandoned by one that
  was killed, removed by the next reservation: ``destinations.reserved_run_dir``),
  and is skipped.
- ``STRATEGY/sweeps/SWEEP_ID/``: a sweep, finished when its ``summary.json`` is ours.
- ``compare/*.html``: compare pages; each names its runs (``STRATEGY/RUN_ID``) in a
  ``<script type="application/json" id=COMPARE_META>`` data block.

Hidden names (staging folders, temporary files) are never looked at.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backtests.errors import BacktestError, UserInputError
from backtests.reports.folders import read_own_json

SWEEPS = "sweeps"
SWEEP_PAGE, SWEEP_SUMMARY = "heatmap.html", "summary.json"
COMPARE_DIR = "compare"
#: How every page and the terminal read the two sweep statistics (one line each).
DSR_READING = "probability the winner's Sharpe beats luck; > 0.95 is strong"
PBO_READING = "above 0.5 the winner is likely luck"
#: The id of the JSON data block naming a compare page's runs.
COMPARE_META = "geohedge-compare-runs"
_META_RE = re.compile(rf'<script type="application/json" id="{COMPARE_META}">(.*?)</script>', re.DOTALL)


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
    base_metrics: dict[str, Any] = field(default_factory=dict)
    hedge_metrics: dict[str, Any] = field(default_factory=dict)
    base_label: str = "base"

    @property
    def period(self) -> str:
        """``YYYY-MM-DD..YYYY-MM-DD``."""
        return f"{self.start}..{self.end}"

    @property
    def source(self) -> str:
        """The data label, flagged when synthetic."""
        return f"{self.data_label} (synthetic)" if self.synthetic else self.data_label

    @property
    def key(self) -> str:
        """``STRATEGY_FOLDER/RUN_ID``: unique under the root."""
        return f"{self.path.parent.name}/{self.path.name}"

    @property
    def time_hedged(self) -> Any:
        """Share of days with the hedge on (``hedge`` block, else the strategy's own metric)."""
        return self.hedge_metrics.get("time_hedged", self.metrics.get("time_hedged"))

    @property
    def excess_cagr(self) -> Any:
        """The hedge's CAGR over its base (``None`` for runs written before attribution)."""
        return self.hedge_metrics.get("excess_cagr")

    def page(self, name: str) -> Path | None:
        """``path/name`` if the run wrote that page."""
        return self.path / name if (self.path / name).is_file() else None

    def row(self) -> dict[str, Any]:
        """The flat record of ``backtest report list`` (and its ``--json``)."""
        return {
            "id": self.run_id,
            "strategy": self.strategy,
            "period": self.period,
            "source": self.source,
            "synthetic": self.synthetic,
            "benchmark": self.benchmark,
            "sharpe": self.metrics.get("sharpe"),
            "cagr": self.metrics.get("cagr"),
            "max_drawdown": self.metrics.get("max_drawdown"),
            "time_hedged": self.time_hedged,
            "excess_cagr": self.excess_cagr,
            "path": str(self.path),
        }


@dataclass(frozen=True)
class SweepInfo:
    """One finished sweep folder and its ``summary.json``."""

    path: Path
    summary: dict[str, Any]

    @property
    def sweep_id(self) -> str:
        return self.path.name

    @property
    def strategy(self) -> str:
        return str(self.summary.get("strategy") or self.path.parent.parent.name)

    @property
    def period(self) -> str:
        period = self.summary.get("period") or {}
        return f"{period.get('start', '')}..{period.get('end', '')}"

    @property
    def winner(self) -> dict[str, Any]:
        return dict(self.summary.get("winner") or {})


@dataclass(frozen=True)
class ComparePage:
    """A compare page under ``ROOT/compare/`` and the runs it shows (``STRATEGY/RUN_ID``)."""

    path: Path
    runs: tuple[str, ...]


@dataclass(frozen=True)
class Catalog:
    """Everything under a reports root, each list oldest first (by id)."""

    runs: list[RunInfo]
    incomplete: list[Path]
    sweeps: list[SweepInfo]
    compares: list[ComparePage]


def _json_object(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def load_run(folder: Path) -> RunInfo | None:
    """The finished run in ``folder``, or ``None`` (no valid manifest.json or metrics.json)."""
    manifest = read_own_json(folder, "run")
    metrics = _json_object(folder / "metrics.json")
    if manifest is None or metrics is None or not isinstance(metrics.get("strategy"), dict):
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
        metrics=dict(metrics["strategy"]),
        benchmark_metrics=dict(metrics.get("benchmark") or {}),
        base_metrics=dict(metrics.get("base") or {}),
        hedge_metrics=dict(metrics.get("hedge") or {}),
        base_label=str(manifest.get("base_label") or "base"),
    )


def _visible_dirs(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _compare_page(path: Path) -> ComparePage | None:
    try:
        found = _META_RE.search(path.read_text(encoding="utf-8"))
        runs = json.loads(found.group(1)) if found else None
    except (OSError, ValueError):
        return None
    return ComparePage(path, tuple(str(r) for r in runs)) if isinstance(runs, list) else None


def scan(root: Path) -> Catalog:
    """Read the reports root (see the module docstring)."""
    root = Path(root)
    runs: list[RunInfo] = []
    incomplete: list[Path] = []
    sweeps: list[SweepInfo] = []
    for strategy in _visible_dirs(root):
        for folder in _visible_dirs(strategy):
            if folder.name == SWEEPS:
                for sweep in _visible_dirs(folder):
                    summary = read_own_json(sweep, "sweep")
                    if summary is not None:
                        sweeps.append(SweepInfo(sweep, summary))
                    elif any(sweep.iterdir()):
                        incomplete.append(sweep)
                continue
            found = load_run(folder)
            if found is not None:
                runs.append(found)
            elif any(folder.iterdir()):
                incomplete.append(folder)
    compares = [c for p in sorted((root / COMPARE_DIR).glob("*.html")) if (c := _compare_page(p))]
    return Catalog(
        runs=sorted(runs, key=lambda r: (r.run_id, r.strategy)),
        incomplete=incomplete,
        sweeps=sorted(sweeps, key=lambda s: (s.sweep_id, s.strategy)),
        compares=compares,
    )


def discover_runs(root: Path) -> list[RunInfo]:
    """Every finished run under ``root``, oldest first."""
    return scan(root).runs


def _incomplete(folder: Path) -> BacktestError:
    return BacktestError(f"run folder {folder} is incomplete (no valid manifest.json)")


def resolve_run(ref: str, root: Path) -> RunInfo:
    """``ref`` = a run id, ``STRATEGY/RUN_ID``, a run folder, or ``latest``.

    ``UserInputError`` for an unknown or ambiguous ``ref``; ``BacktestError`` (one line)
    when it names an incomplete run folder.
    """
    folder = Path(ref).expanduser()
    if folder.is_dir():
        found = load_run(folder)
        if found is None:
            raise _incomplete(folder)
        return found
    catalog = scan(root)
    if ref == "latest":
        if not catalog.runs:
            raise UserInputError(f"no runs under {root}; run `backtest run STRATEGY` first")
        return catalog.runs[-1]
    matches = [r for r in catalog.runs if ref in (r.run_id, r.key)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        options = ", ".join(r.key for r in matches)
        raise UserInputError(
            f"run {ref!r} is ambiguous ({options}); give STRATEGY/RUN_ID or the folder"
        )
    for path in catalog.incomplete:
        if ref in (path.name, f"{path.parent.name}/{path.name}"):
            raise _incomplete(path)
    raise UserInputError(
        f"unknown run {ref!r} under {root}; see `backtest report list` for run ids"
    )

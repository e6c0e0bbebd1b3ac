"""Where a run or sweep folder goes: ``new_run_dir`` (``ROOT/STRATEGY/RUN_ID``), ``run_folder`` (that or
``--out``, for the length of a run) and the check made before any computation that the target can be
written (``check_writable_target``).

Light on purpose (standard library and ``reports.folders`` only): ``backtest sweep`` checks and
names its folder without importing the run-report machinery (and so matplotlib).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from backtests.errors import BacktestError
from backtests.paths import reports_dir
from backtests.reports.folders import Kind, check_out_folder, check_writable_folder


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


@contextmanager
def run_folder(out: Path | None, strategy: str, spec_toml: str) -> Iterator[Path]:
    """The folder a run is saved in, known before it runs: ``out`` as given, or a ``new_run_dir``
    that is removed again if the block fails while it is still empty."""
    if out is not None:
        yield out
        return
    folder = new_run_dir(strategy, spec_toml=spec_toml)
    try:
        yield folder
    except BaseException:
        with suppress(OSError):  # rmdir removes only an empty folder: one holding anything is not ours
            folder.rmdir()
        raise


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

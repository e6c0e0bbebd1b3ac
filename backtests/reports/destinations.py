"""Where a run or sweep folder goes: ``new_run_dir`` (``ROOT/STRATEGY/RUN_ID``), ``reserved_run_dir``
(one held for the length of a command), ``run_folder`` (that or ``--out``) and the check made before
any computation that the target can be written (``check_writable_target``).

``backtest run`` reserves its ``RUN_ID`` folder before it computes (the run's pages link to it),
``backtest sweep`` just before it saves; the folder stays empty until the result is saved into it.
The command holds an ``flock`` on it meanwhile and removes it if it fails before saving; a
command killed outright (``kill -9``, a power cut) cannot, so each reservation first removes, in
the same parent, the empty ``RUN_ID`` folders no live command holds. Only empty folders with a
``RUN_ID`` name are touched (``flock`` as on local file systems: not across NFS clients).

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
from backtests.reports.folders import Kind, check_out_folder, check_writable_folder, hold, locked, remove_unheld

#: A ``new_run_dir`` name: ``YYYYmmddTHHMMSSZ-<6 hex>``, then ``-2``, ``-3``... within one second.
RUN_ID = re.compile(r"[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}(-[0-9]+)?")  # matched whole (``fullmatch``)


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
    The folder is not held: while it is empty, a command reserving a folder beside it takes it
    for abandoned and removes it (``write_run`` into it still works: it creates the folder).
    A command that must keep it uses ``reserved_run_dir``.
    """
    parent = _run_parent(strategy, root)
    return _new_folder(parent, now, spec_toml)


def _run_parent(strategy: str, root: Path | None) -> Path:
    """``ROOT/STRATEGY``, checked writable and created."""
    parent = (root if root is not None else reports_dir()) / strategy_folder(strategy)
    check_writable_folder(parent, what="reports folder")
    parent.mkdir(parents=True, exist_ok=True)
    return parent


def _new_folder(parent: Path, now: datetime | None, spec_toml: str) -> Path:
    """Create ``parent/RUN_ID`` (see ``new_run_dir``)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    digest = hashlib.sha256(spec_toml.encode("utf-8")).hexdigest()[:6]
    for n in range(1, 1000):
        candidate = parent / (f"{stamp}-{digest}" + (f"-{n}" if n > 1 else ""))
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise BacktestError(f"no free run folder under {parent} for {stamp}-{digest}; try again")


@contextmanager
def reserved_run_dir(
    strategy: str, root: Path | None = None, *, spec_toml: str = "", now: datetime | None = None
) -> Iterator[Path]:
    """A ``new_run_dir`` held (``flock``) while the block runs and removed again if the block fails
    while it is still empty; abandoned reservations in the same parent are removed first (see the
    module docstring)."""
    parent = _run_parent(strategy, root)
    with locked(parent):  # no other command sweeps between our mkdir and our lock
        remove_abandoned(parent)
        folder = _new_folder(parent, now, spec_toml)
        try:
            fd = hold(folder)
        except BaseException:
            folder.rmdir()
            raise
    try:
        yield folder
    except BaseException:
        with suppress(OSError):  # rmdir removes only an empty folder: one holding anything is not ours
            folder.rmdir()
        raise
    finally:
        os.close(fd)  # releases the lock (a saved run replaced the empty folder: nothing to hold)


def remove_abandoned(parent: Path) -> list[Path]:
    """Remove the empty ``RUN_ID`` folders in ``parent`` that no live command holds; return them.

    Call it holding ``locked(parent)``.
    """

    def empty_reservation(entry: Path) -> bool:  # a saved run (most of them) is not even locked
        return bool(RUN_ID.fullmatch(entry.name)) and not any(entry.iterdir())

    return remove_unheld(parent, empty_reservation, Path.rmdir)


@contextmanager
def run_folder(out: Path | None, strategy: str, spec_toml: str) -> Iterator[Path]:
    """The folder a run is saved in, known before it runs: ``out`` as given, or a ``reserved_run_dir``."""
    if out is not None:
        yield out
        return
    with reserved_run_dir(strategy, spec_toml=spec_toml) as folder:
        yield folder


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

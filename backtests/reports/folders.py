"""Output folders (run and sweep folders) that appear whole and never destroy a user's files.

Contract:

- **Staged.** A folder is written into a fresh hidden sibling ``.NAME.geohedge-XXXXXXXX.tmp``
  (same file system) and then renamed onto ``NAME``. A reader sees no folder, the
  old folder or the new one whole; replacing a folder replaces ALL of it.
- **Ownership.** ``NAME`` may be replaced only when it is missing, empty, or a
  folder of the same kind written by us (a run: a ``manifest.json`` of ours; a
  sweep: a ``summary.json`` of ours). Anything else needs ``force=True`` (``--force``).
- **Leftovers.** A killed write leaves a ``.NAME.geohedge-XXXXXXXX.tmp`` folder. The next staged
  write into the same parent removes such folders when no live writer holds
  them (each staging folder is ``flock``-ed by its writer while it exists).
  Only that name pattern is touched.
- **Writability** is checked before any computation (``check_*``): a path whose
  parent is a file, a read-only folder, or a file where a folder should be, is a
  ``BacktestError`` naming the path and the reason.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Literal

from backtests.errors import BacktestError, UserInputError

Kind = Literal["run", "sweep"]
#: Our staging folders: ``.NAME.geohedge-XXXXXXXX.tmp`` (8 random hex digits).
STAGING_TAG = ".geohedge-"
STAGING = re.compile(r"^\..+\.geohedge-[0-9a-f]{8}\.tmp$")
#: The file that proves a folder of each kind was written by us, and a key it always holds.
OWN_MARKERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "run": ("manifest.json", ("run_id", "files")),
    "sweep": ("summary.json", ("n_trials", "objective")),
}


def read_own_json(folder: Path, kind: Kind) -> dict | None:
    """The marker file of ``folder`` if it is a complete ``kind`` folder written by us, else ``None``."""
    name, keys = OWN_MARKERS[kind]
    try:
        data = json.loads((Path(folder) / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and all(k in data for k in keys) else None


def _existing_ancestor(path: Path) -> Path:
    """``path`` or its nearest existing ancestor (absolute)."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _why_not_writable(folder: Path) -> str | None:
    """Why no entry can be created inside the existing path ``folder`` (``None``: it can)."""
    if not folder.is_dir():
        return f"{folder} is a file, not a folder"
    try:
        probe = _new_hidden_folder(folder, "probe")
    except OSError as exc:
        reason = "read-only file system" if exc.errno == errno.EROFS else exc.strerror or str(exc)
        return f"{folder} is not writable ({reason})"
    with suppress(FileNotFoundError):  # a concurrent clean-up of leftovers may have taken it
        os.rmdir(probe)
    return None


def check_writable_folder(path: Path, *, what: str) -> None:
    """Raise ``BacktestError`` unless ``path`` is (or can be created as) a folder we can write in."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise BacktestError(f"{what} {path}: it is a file, not a folder; choose another folder")
    reason = _why_not_writable(_existing_ancestor(path))
    if reason:
        raise BacktestError(f"{what} {path} cannot be written: {reason}; choose another folder")


def check_writable_file(path: Path, *, what: str = "output file") -> None:
    """Raise ``BacktestError`` unless the file ``path`` can be (re)written atomically."""
    path = Path(path)
    if path.is_dir():
        raise BacktestError(f"{what} {path}: it is a folder, not a file; give a file name")
    if path.exists() and not os.access(path, os.W_OK):
        raise BacktestError(f"{what} {path} cannot be written: it is read-only; choose another path")
    reason = _why_not_writable(_existing_ancestor(path.parent))
    if reason:
        raise BacktestError(f"{what} {path} cannot be written: {reason}; choose another path")


def check_out_folder(
    path: Path, *, kind: Kind | None, force: bool = False, what: str = "--out"
) -> None:
    """Check, before computing, that a ``kind`` folder can be written at ``path`` (see the module doc).

    ``kind=None``: a run or a sweep folder of ours may be replaced. ``UserInputError`` when
    ``path`` holds files that are not such a folder of ours and ``force`` is false, or when it
    contains the current folder (never replaced); ``BacktestError`` when it cannot be written.
    """
    path = Path(os.path.abspath(path))
    if path.exists() and not path.is_dir():
        raise BacktestError(f"{what} {path}: it is a file, not a folder; choose another folder")
    reason = _why_not_writable(_existing_ancestor(path.parent))
    if reason:
        raise BacktestError(f"{what} {path} cannot be written: {reason}; choose another folder")
    kinds: tuple[Kind, ...] = (kind,) if kind else ("run", "sweep")
    if not path.is_dir() or any(read_own_json(path, k) is not None for k in kinds):
        return
    if Path.cwd().resolve().is_relative_to(path.resolve()):
        raise UserInputError(f"{what} {path} contains the current folder; choose another folder")
    if not force and any(path.iterdir()):
        raise UserInputError(
            f"{what} {path} is not empty and is not a {' or '.join(kinds)} folder written by "
            "geohedge; use --force to replace it (its files are deleted) or choose another folder"
        )


@contextmanager
def locked(folder: Path, *, blocking: bool = True) -> Iterator[bool]:
    """Hold an exclusive ``flock`` on ``folder`` (yields False if non-blocking and held elsewhere).

    Locks belong to an open file: do not nest two on the same folder in one process.
    """
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing releases the lock


def leftover_files(parent: Path, name: str) -> list[Path]:
    """The temporary files ``backtests.atomic`` left for ``parent/name`` (call under ``locked``)."""
    pattern = re.compile(rf"^\.{re.escape(name)}\.[a-z0-9_]{{8}}\.tmp$")
    return sorted(p for p in Path(parent).iterdir() if pattern.match(p.name) and p.is_file())


def hold(folder: Path) -> int:
    """Open ``folder`` and take an exclusive ``flock`` on it; returns the descriptor (closing it
    releases the lock). For the folder a command is writing: ``remove_unheld`` leaves it alone."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return fd


def remove_unheld(parent: Path, wanted: Callable[[Path], bool], remove: Callable[[Path], None]) -> list[Path]:
    """``remove`` each real folder in ``parent`` (in name order) that is ``wanted`` and that no live
    command holds (``hold``); returns what was removed. Call it holding ``locked(parent)``.

    An entry that vanishes, changes or cannot be opened meanwhile (``OSError``) is left as it is.
    """
    removed = []
    for entry in sorted(Path(parent).iterdir()):
        try:
            if not (entry.is_dir() and not entry.is_symlink() and wanted(entry)):
                continue
            with locked(entry, blocking=False) as free:
                if free and wanted(entry):
                    remove(entry)
                    removed.append(entry)
        except OSError:
            continue
    return removed


def remove_leftovers(parent: Path) -> list[Path]:
    """Remove staging folders in ``parent`` that no live writer holds; return what was removed."""
    with locked(parent):
        return remove_unheld(
            parent,
            lambda entry: bool(STAGING.match(entry.name)),
            lambda entry: shutil.rmtree(entry, ignore_errors=True),
        )


def _new_hidden_folder(parent: Path, name: str) -> Path:
    """Create ``parent/.NAME.geohedge-XXXXXXXX.tmp`` (usual permissions) and return it."""
    for _ in range(100):
        candidate = Path(parent) / f".{name}{STAGING_TAG}{secrets.token_hex(4)}.tmp"
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise BacktestError(f"no free temporary folder name in {parent}; remove its .*.tmp folders")


@contextmanager
def staged_folder(target: Path, *, kind: Kind, force: bool = False) -> Iterator[Path]:
    """Yield an empty staging folder beside ``target``; on success it replaces ``target`` whole.

    On any exception the staging folder is removed and ``target`` is left as it was.
    """
    target = Path(os.path.abspath(target))
    check_out_folder(target, kind=kind, force=force, what="output folder")
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(parent)
    with locked(parent):  # so remove_leftovers never sees it before it is locked
        stage = _new_hidden_folder(parent, target.name)
        try:
            fd = hold(stage)
        except BaseException:
            stage.rmdir()
            raise
    try:
        yield stage
        _move_into_place(stage, target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    finally:
        os.close(fd)


def _move_into_place(stage: Path, target: Path) -> None:
    """Rename ``stage`` onto ``target``; an existing non-empty ``target`` is moved aside and deleted."""
    try:
        os.rename(stage, target)  # also replaces an empty folder
        return
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
    aside = _new_hidden_folder(target.parent, target.name)
    os.rename(target, aside)  # onto the empty folder just made: the name is ours
    os.rename(stage, target)
    shutil.rmtree(aside, ignore_errors=True)  # if interrupted: a leftover, removed next time

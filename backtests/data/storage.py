"""The cache folders' two guards: "can we write here?" before any work, and one lock per folder.

``require_writable`` writes (then deletes) a probe file in the folder, or in
its nearest existing ancestor, so a read-only folder, a file in the way or
missing permissions are reported in one line naming the path before any
download or import starts.
``folder_lock`` is an inter-process file lock (``filelock``) held around every
read-modify-write of a folder's manifest, so concurrent imports never lose an
entry. It is re-entrant within a process (one lock object per path), and
its file sits beside the folder (``.prices.lock`` next to ``prices/``), so
clearing the folder leaves it empty.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from backtests.errors import BacktestError

LOCK_TIMEOUT_SECONDS = 120.0


def require_writable(folder: Path) -> None:
    """Check a file can be written in ``folder`` (or, while it does not exist, in its nearest
    existing ancestor, where it would be created); ``BacktestError`` (exit 1) if not. Leaves nothing behind."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        if not existing.is_dir():
            raise NotADirectoryError(str(existing))
        fd, probe = tempfile.mkstemp(prefix=".write-probe.", suffix=".tmp", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise _unwritable(folder, exc) from None


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold the inter-process lock of ``folder`` (its parent is created if needed)."""
    lock = FileLock(folder.parent / f".{folder.name}.lock", timeout=LOCK_TIMEOUT_SECONDS, is_singleton=True)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout:  # before OSError: a Timeout is a TimeoutError
        raise BacktestError(
            f"{folder} is busy: another backtest process has held its lock for {LOCK_TIMEOUT_SECONDS:g} s; "
            "wait for it to finish, then run the command again"
        ) from None
    except OSError as exc:
        raise _unwritable(folder.parent, exc) from None
    try:
        yield
    finally:
        lock.release()


def _unwritable(folder: Path, exc: OSError) -> BacktestError:
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        reason = "a file is in the way"
    else:
        reason = exc.strerror or type(exc).__name__
    return BacktestError(
        f"cannot write to the data folder {folder} ({reason}); fix it or choose another "
        "folder with --data-dir or BACKTEST_DATA_DIR"
    )

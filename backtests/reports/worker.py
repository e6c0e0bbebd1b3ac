"""``TearsheetWorker``: render quantstats tearsheets in a second process, started early.

Rendering the tearsheet is the slowest part of a run (importing quantstats, seaborn
and scipy.stats, then drawing its charts). A worker started before the data are
loaded does those imports while this process loads and backtests; once the
``RunResult`` exists, ``render`` hands it a small ``TearsheetJob`` (built here by
``tearsheet.tearsheet_job``, so bad input raises here, at once) and the page is
drawn there by ``tearsheet.render_tearsheet``, the very code ``write_tearsheet``
runs in-process, while this process writes the rest of the run folder.

Contract:

- One worker process, started with the ``spawn`` context (never ``fork``: numba's
  and matplotlib's threads may already exist). It ignores SIGINT: Ctrl-C reaches
  this process, whose ``close`` (also on ``with`` exit, error or not) terminates
  the worker and waits for it, so no process outlives the command.
- ``PendingTearsheet.result()`` returns the path or raises what the render raised
  in the worker (same type and message). If the worker died (``BrokenProcessPool``:
  killed, out of memory) the page is rendered in this process instead: slower,
  same bytes; the temporary file a worker killed mid-render left is deleted first.
- From a script of your own: ``spawn`` re-imports the main module in the worker, so
  start the worker under ``if __name__ == "__main__":`` (as for any multiprocessing).
- ``PendingTearsheet.abort()`` stops the render (terminating the worker when it has
  begun) and returns once nothing can write to the target folder any more: call it
  before removing a staging folder the page was going into.
"""

from __future__ import annotations

import glob
import multiprocessing
import signal
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:  # the heavy modules load in the worker first; here only once a job is built
    from backtests.reports.tearsheet import Comparator, TearsheetJob
    from backtests.results import RunResult


def _ignore_sigint() -> None:
    """Worker initializer: Ctrl-C is the parent's to handle (it terminates the worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _warm_up() -> None:
    from backtests.reports.tearsheet import warm_up

    warm_up()


def _render(job: TearsheetJob, path: Path) -> Path:
    from backtests.reports.tearsheet import render_tearsheet

    return render_tearsheet(job, path)


def _remove_leftovers(path: Path) -> None:
    """Delete the temporary page a worker killed mid-render left beside ``path`` (``atomic_write``'s)."""
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        tmp.unlink(missing_ok=True)


@dataclass
class PendingTearsheet:
    """A tearsheet being rendered by a ``TearsheetWorker`` into ``path``."""

    worker: TearsheetWorker
    future: Future[Path]
    job: TearsheetJob
    path: Path

    def result(self) -> Path:
        """Wait for the page; the worker's exception as is; rendered here if the worker died."""
        try:
            return self.future.result()
        except BrokenProcessPool:
            _remove_leftovers(self.path)
            return _render(self.job, self.path)

    def abort(self) -> None:
        """Stop the render; on return nothing writes into ``path``'s folder any more."""
        if not self.future.cancel() and not self.future.done():
            self.worker.close()


class TearsheetWorker:
    """One spawned process that renders tearsheets; use as a context manager (``with``).

    ``start()`` (or entering ``with``) launches it and begins its imports;
    ``render(result, path, ...)`` takes the arguments of ``write_tearsheet``.
    """

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> Self:
        """Launch the worker and start importing quantstats there; returns ``self``."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_ignore_sigint,
            )
            self._pool.submit(_warm_up)
        return self

    def render(
        self, result: RunResult, path: Path, *, top_html: str = "", benchmark: Comparator = None
    ) -> PendingTearsheet:
        """Start rendering the tearsheet of ``result`` into ``path`` (see ``write_tearsheet``)."""
        from backtests.reports.tearsheet import tearsheet_job

        job = tearsheet_job(result, top_html=top_html, benchmark=benchmark)
        pool = self.start()._pool
        assert pool is not None
        try:
            future = pool.submit(_render, job, Path(path))
        except BrokenProcessPool:  # died while warming up: render in this process, on result()
            future = Future()
            future.set_exception(BrokenProcessPool("the tearsheet worker died"))
        return PendingTearsheet(self, future, job, Path(path))

    def pids(self) -> list[int]:
        """The worker's process id (empty before ``start`` and after ``close``)."""
        processes: dict[int, Any] = getattr(self._pool, "_processes", None) or {}
        return list(processes)

    def close(self) -> None:
        """Terminate the worker (whatever it is doing) and wait until it is gone."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # What ProcessPoolExecutor.terminate_workers does (Python 3.14+): a running task
        # cannot be cancelled otherwise, and an idle worker needs no goodbye.
        processes = list((getattr(pool, "_processes", None) or {}).values())
        for process in processes:
            process.terminate()
        for process in processes:
            process.join()
        pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

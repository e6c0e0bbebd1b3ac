"""``TearsheetWorker``: render quantstats tearsheets in a second process, started early.

Rendering the tearsheet is the slowest part of a run (importing quantstats, seaborn
and scipy.stats, then drawing its charts). A worker started before the data are
loaded does those imports while this process loads and backtests; once a
``RunResult`` exists, ``render`` hands it a small ``TearsheetJob`` (built here by
``tearsheet_job.tearsheet_job``, pandas only, so bad input raises here, at once) and the page is
drawn there by ``tearsheet.tearsheet_html``, the very code ``write_tearsheet``
runs in-process, while this process writes the rest of the run folder. The worker runs
one thread, so it may fork to share the charts (``reports.shared_charts``: same bytes).

Drawing early: ``prepare`` starts the page of a provisional result (``backtest run``
hands it the fast executor's result, which equals backtrader's bit for bit, before
backtrader runs). ``render`` then keeps that page when its own job is the same
(``TearsheetJob.same_as``) and starts a new one otherwise, so a page always shows the
result it is saved with.

Contract (the process itself is a ``WarmProcess``: spawned, SIGINT left to this process,
terminated and waited for on ``close``, so no process outlives the command):

- The worker draws in a private temporary folder this process made and removes on
  ``close``, and hands the page back as text; only this process writes the target
  (atomically), so a worker killed mid-render leaves nothing in the run folder.
- ``PendingTearsheet.result()`` writes the page and returns its path, or raises what
  the render raised in the worker (same type and message). If the worker died
  (``BrokenProcessPool``: killed, out of memory) the page is rendered in this process
  instead: slower, same bytes.
- ``PendingTearsheet.abort()`` stops the render (terminating the worker when it has
  begun).
"""

from __future__ import annotations

import shutil
import tempfile
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Self

from backtests.lazy_imports import import_on_first_use
from backtests.shielded import shielded
from backtests.warm_process import WarmProcess

if TYPE_CHECKING:  # the heavy modules load in the worker first; here only once a job is built
    from backtests.reports.tearsheet_job import Comparator, TearsheetJob
    from backtests.results import RunResult


def _warm_up() -> None:
    """The worker's first task. quantstats imports yfinance (with requests, curl_cffi, bs4 and
    peewee: about 0.3 s) for downloads a tearsheet never makes (every series is given): in this
    process, which runs nothing else, yfinance is imported on first use."""
    import_on_first_use("yfinance")  # before anything that could import quantstats
    from backtests.reports.tearsheet import warm_up

    warm_up()


def _html(job: TearsheetJob, workdir: Path) -> str:
    from backtests.reports.tearsheet import tearsheet_html

    return tearsheet_html(job, workdir, share_charts=True)  # this process runs one thread: it may fork


@dataclass
class PendingTearsheet:
    """A tearsheet being rendered by a ``TearsheetWorker``, to be written to ``path``."""

    worker: TearsheetWorker
    future: Future[str]
    job: TearsheetJob
    path: Path

    def result(self) -> Path:
        """Wait for the page and write it; the worker's exception as is; rendered here if the worker died."""
        from backtests.atomic import atomic_write_text

        try:
            return atomic_write_text(self.path, self.future.result())
        except BrokenProcessPool:
            # matplotlib and quantstats load here only then: waiting for the worker, this
            # process would take a core from its drawing
            from backtests.reports.tearsheet import render_tearsheet

            return render_tearsheet(self.job, self.path)

    def abort(self) -> None:
        """Stop the render (nothing was written yet: only ``result`` writes)."""
        self.worker.cancel(self.future)


class TearsheetWorker(WarmProcess):
    """One spawned process that renders tearsheets; use as a context manager (``with``).

    ``start()`` (or entering ``with``) launches it and begins its imports;
    ``prepare(result, ...)`` starts drawing a provisional result's page;
    ``render(result, path, ...)`` takes the arguments of ``write_tearsheet``.
    """

    def __init__(self) -> None:
        super().__init__(_warm_up)
        self._workdir: Path | None = None
        self._prepared: tuple[TearsheetJob, Future[str]] | None = None

    def start(self) -> Self:
        """Launch the worker and start importing quantstats there; returns ``self``."""
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="geohedge-tearsheet-"))
        try:
            return super().start()
        except BaseException:
            self.close()
            raise

    def _submit(self, job: TearsheetJob) -> Future[str]:
        self.start()
        return self.submit(_html, job, self._workdir)  # a dead worker: rendered here, on result()

    def prepare(self, result: RunResult, *, top_html: str = "", benchmark: Comparator = None) -> None:
        """Start drawing the page ``render`` would draw for ``result`` (the same arguments, no path)."""
        from backtests.reports.tearsheet_job import tearsheet_job

        job = tearsheet_job(result, top_html=top_html, benchmark=benchmark)
        if self._prepared is not None:
            self.cancel(self._prepared[1])
        self._prepared = (job, self._submit(job))

    def render(
        self, result: RunResult, path: Path, *, top_html: str = "", benchmark: Comparator = None
    ) -> PendingTearsheet:
        """Start rendering the tearsheet of ``result`` for ``path`` (see ``write_tearsheet``); a page
        ``prepare`` started for the same job is kept, any other is stopped."""
        from backtests.reports.tearsheet_job import tearsheet_job

        job = tearsheet_job(result, top_html=top_html, benchmark=benchmark)
        prepared, self._prepared = self._prepared, None
        if prepared is not None and prepared[0].same_as(job):
            future = prepared[1]
        else:
            if prepared is not None:
                self.cancel(prepared[1])
            future = self._submit(job)
        return PendingTearsheet(self, future, job, Path(path))

    def cancel(self, future: Future[str]) -> None:
        """Drop a render: if it can still be cancelled it never runs; otherwise (begun, or already
        handed to the worker's queue, which takes two tasks ahead) the worker is stopped, and a new
        one starts, cold, on the next ``render``."""
        if not future.cancel() and not future.done():
            self.close()

    @shielded
    def close(self) -> None:
        """Terminate the worker (whatever it is doing), wait until it is gone, remove its folder."""
        self._prepared = None
        workdir, self._workdir = self._workdir, None
        try:
            super().close()
        finally:
            if workdir is not None:
                shutil.rmtree(workdir, ignore_errors=True)

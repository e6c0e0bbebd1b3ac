"""Draw one quantstats tearsheet's charts in two processes: this one and a fork of it.

``quantstats.reports.html`` computes its tables, then draws a dozen charts one after the
other, each saved into its own in-memory file (``savefig={"fname": stream, ...}``) and
pasted into the page. Drawing them is most of a render, and one core is free by then
(``backtest run`` has finished its own work). ``shared_charts(qs, folder)`` wraps
quantstats' chart functions (``quantstats.plots``) for one ``html`` call:

- At the first chart this process forks. Both processes then go on with the same ``html``
  call. Each chart is drawn by the process that claims it first (creating
  ``folder/chart-K`` with ``O_EXCL``, K its place in the order of the calls); the other one
  saves a marker in its place. So the two share the charts as they come: whichever is free
  takes the next.
- The fork never writes the page: in the fork, ``html``'s last step (writing the page, through
  quantstats' module-level ``open``) sends the charts the fork drew (K -> SVG bytes) through
  a pipe and ends the fork (``os._exit``: none of the caller's code runs there).
- ``SharedCharts.page(text)`` takes this process's page and puts the fork's charts where
  their markers are.

Contract:

- Same bytes as drawing every chart in one process, whoever draws which: a chart's SVG
  depends only on its own inputs (its ids are content hashes under the fixed
  ``svg.hashsalt``). Tested for all-here, all-there, alternating and the live race.
- Only where forking is safe (``can_share``): Linux, two usable cores, a process running one
  Python thread (``reports.worker``'s process; never a caller's process, whose threads
  a fork would not carry).
- The fork never outlives this process: the kernel kills it if this process dies
  (``PR_SET_PDEATHSIG``), and leaving the block (also on error) kills and reaps it.
- An error raised in the fork is raised here, with its type and message. A fork that died
  without answering, or did not answer within ``ANSWER_TIMEOUT`` seconds, raises
  ``ChartsLost``: the caller draws the page again in one process.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import select
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from backtests.reports.quantstats_fast import swapped

#: How long this process waits for the fork's charts once its own part of the page is done.
ANSWER_TIMEOUT = 120.0
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class ChartsLost(RuntimeError):
    """The fork ended without sending its charts (killed, or silent too long)."""


def can_share() -> bool:
    """Whether this process may fork to share the charts (see the module docstring)."""
    return (
        sys.platform.startswith("linux")
        and len(os.sched_getaffinity(0)) >= 2
        and threading.active_count() == 1
    )


_MARKER = "<!--geohedge-chart-"


def marker(index: int) -> str:
    """What stands in the page for chart ``index`` drawn by the other process."""
    return f"{_MARKER}{index}-->"


class SharedCharts:
    """The state of one shared ``html`` call (see ``shared_charts``)."""

    def __init__(self, qs: Any, claims: Path) -> None:
        self._qs = qs
        self._claims = claims
        self._calls = 0
        self._depth = 0
        self._parent = os.getpid()
        self._child: int | None = None
        self._answer: int | None = None  # this process's end of the pipe
        self._drawn: dict[int, bytes] = {}  # in the fork: the charts it drew

    @property
    def in_fork(self) -> bool:
        """Whether this is the fork (the code runs in both processes)."""
        return os.getpid() != self._parent

    def wrap(self, draw: Callable[..., Any]) -> Callable[..., Any]:
        """``draw`` (a quantstats chart function) shared between the two processes."""

        def shared(*args: Any, **kwargs: Any) -> Any:
            savefig = kwargs.get("savefig")
            stream = savefig.get("fname") if isinstance(savefig, dict) else None
            if self._depth or not hasattr(stream, "getvalue"):
                return draw(*args, **kwargs)  # not one of the page's charts: as is
            index, self._calls = self._calls, self._calls + 1
            if self._child is None and not self.in_fork:
                self._fork()
            if not self._claim(index):
                stream.write(marker(index).encode())
                return None
            self._depth += 1
            try:
                value = draw(*args, **kwargs)
            except BaseException as error:
                if self.in_fork:
                    self.send_and_exit(("error", error))
                raise
            finally:
                self._depth -= 1
            if self.in_fork:
                self._drawn[index] = stream.getvalue()
            return value

        return shared

    def _claim(self, index: int) -> bool:
        try:
            os.close(os.open(self._claims / f"chart-{index}", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        return True

    def _fork(self) -> None:
        read, write = os.pipe()
        pid = os.fork()
        if pid:
            os.close(write)
            self._child, self._answer = pid, read
            return
        os.close(read)
        self._answer = write
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):  # no prctl: leaving the block here still kills the fork
            pass
        if os.getppid() != self._parent:  # the parent died before prctl took effect
            os._exit(1)
        # html() ends by writing the page through its module's ``open``: here, that is the end of the fork.
        self._qs.reports.open = lambda *_args, **_kwargs: self.send_and_exit(("charts", self._drawn))

    def send_and_exit(self, answer: tuple[str, Any]) -> None:
        """In the fork: send ``answer`` and end the process (never returns)."""
        try:
            try:
                data = pickle.dumps(answer)
            except Exception:  # an error that does not pickle: its type and message
                kind, error = answer
                data = pickle.dumps((kind, RuntimeError(f"{type(error).__name__}: {error}")))
            with os.fdopen(self._answer, "wb") as pipe:  # type: ignore[arg-type]
                pipe.write(data)
        finally:
            os._exit(0)

    def page(self, text: str) -> str:
        """This process's page with the fork's charts in place of their markers."""
        if self._child is None:
            return text  # html() drew no chart: nothing was shared
        charts = self._receive()
        for index, svg in sorted(charts.items()):
            text = text.replace(marker(index), svg.decode())
        if _MARKER in text:
            raise ChartsLost("a chart the fork claimed is missing from its answer")
        return text

    def _receive(self) -> dict[int, bytes]:
        assert self._answer is not None
        chunks = []
        while True:
            ready, _, _ = select.select([self._answer], [], [], ANSWER_TIMEOUT)
            if not ready:
                raise ChartsLost(f"the fork sent nothing for {ANSWER_TIMEOUT:.0f} s")
            chunk = os.read(self._answer, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        if not chunks:
            raise ChartsLost("the fork ended without sending its charts")
        kind, value = pickle.loads(b"".join(chunks))
        if kind == "error":
            raise value
        return value

    def close(self) -> None:
        """Kill and reap the fork (if still there), close the pipe, remove the claims."""
        child, self._child = self._child, None
        if child is not None:
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(child, 0)
        if self._answer is not None:
            os.close(self._answer)
            self._answer = None
        shutil.rmtree(self._claims, ignore_errors=True)


@contextmanager
def shared_charts(qs: Any, folder: Path) -> Iterator[SharedCharts]:
    """Inside the block, quantstats' charts (module ``qs``) are shared with a fork (see the
    module docstring); ``folder`` holds the claims, in a subfolder removed on exit."""
    charts = SharedCharts(qs, Path(tempfile.mkdtemp(prefix="charts-", dir=folder)))
    try:
        with ExitStack() as stack:
            for name in _chart_functions(qs):
                stack.enter_context(swapped(qs.plots, name, charts.wrap(getattr(qs.plots, name))))
            try:
                yield charts
            except BaseException as error:
                if charts.in_fork:  # an error outside a chart: still the fork's answer
                    charts.send_and_exit(("error", error))
                raise
            if charts.in_fork:  # html() returned without writing a page: say so, then end
                charts.send_and_exit(("error", RuntimeError("quantstats wrote no page")))
    finally:
        if not charts.in_fork:
            charts.close()


def _chart_functions(qs: Any) -> list[str]:
    """The public functions of ``quantstats.plots`` (the charts ``html`` draws are among them)."""
    return sorted(
        name
        for name, value in vars(qs.plots).items()
        if not name.startswith("_") and callable(value) and str(getattr(value, "__module__", "")).startswith("quantstats")
    )

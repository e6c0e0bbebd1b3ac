"""Draw one quantstats tearsheet's charts in two processes: this one and a fork of it.

``quantstats.reports.html`` computes its tables, then draws a dozen charts one after the
other, each saved into its own in-memory file (``savefig={"fname": stream, "format": "svg"}``)
and pasted into the page. Drawing them is most of a render. ``shared_charts(qs, folder)``
wraps quantstats' chart functions (``quantstats.plots``) for one ``html`` call:

- At the first chart this process forks. Both processes then go on with the same ``html``
  call. Each chart is drawn by the process that claims it first (creating
  ``folder/charts-*/chart-K`` with ``O_EXCL``, K its place in the order of the calls); the
  other one saves a marker in its place. So the two share the charts as they come: whichever
  is free takes the next.
- The fork never writes the page: in the fork, ``html``'s last step (writing the page, through
  quantstats' module-level ``open``) sends the charts the fork drew (K -> SVG bytes) through
  a pipe and ends the fork (``os._exit``: none of the caller's code runs there).
- ``SharedCharts.page(text)`` takes this process's page and puts the fork's charts where
  their markers are.

Contract:

- Same bytes as drawing every chart in one process, whoever draws which: a chart's SVG
  depends only on its own inputs (its ids are content hashes under the fixed
  ``svg.hashsalt``). The names shown in the charts never hold ``{{`` or ``}}``
  (``tearsheet_job.unbraced``): quantstats' last step deletes ``{{...}}``
  from the page, which the fork's charts, pasted in after it, would escape. Tested for
  all-here, all-there, alternating, first-three and the live race.
- Only where forking is safe (``can_share``): Linux, two usable cores, a process running one
  Python thread (``reports.worker``'s process; never a caller's process, whose threads a
  fork would not carry). Only SVG charts are shared; a chart of another format is drawn by
  both processes.
- The fork never outlives this process: the kernel kills it if this process dies
  (``PR_SET_PDEATHSIG``), leaving the block (also on error) kills and reaps it, and it
  ignores Ctrl-C (this process handles it).
- Errors are those one process would raise: the error of the earliest failing step, in
  the order of the calls, whichever process met it (raised here with its type and
  message; one that does not survive pickling becomes a ``RuntimeError`` naming its type).
  After an error here the fork draws no chart past it (a ``stop`` file in the claims folder).
- When sharing itself fails, the page does not: if the fork cannot be made, this process
  draws every chart; if the fork died without a whole answer, did not answer within
  ``ANSWER_TIMEOUT`` seconds, or quantstats ended without writing its page through
  ``open``, ``page`` raises ``ChartsLost`` and the caller draws the page again in one process.
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
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

from backtests.reports.quantstats_fast import swapped

#: How long this process waits for the fork's answer once its own part of the page is done.
ANSWER_TIMEOUT = 120.0
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_MARKER = "<!--geohedge-chart-"

#: Where a step stands in the order of the calls: (K, 0) before chart K is called, (K, 1) at chart K.
Position = tuple[int, int]


class ChartsLost(RuntimeError):
    """The fork ended without a whole answer (killed, silent too long, or quantstats wrote no page)."""


def can_share() -> bool:
    """Whether this process may fork to share the charts (see the module docstring)."""
    return (
        sys.platform.startswith("linux")
        and len(os.sched_getaffinity(0)) >= 2
        and threading.active_count() == 1
    )


def marker(index: int) -> str:
    """What stands in the page for chart ``index`` drawn by the other process."""
    return f"{_MARKER}{index}-->"


class SharedCharts:
    """The state of one shared ``html`` call, in each of the two processes (see ``shared_charts``)."""

    def __init__(self, qs: Any, claims: Path) -> None:
        self._qs = qs
        self._claims = claims
        self._calls = 0
        self._depth = 0
        self._parent = os.getpid()
        self._alone = False  # the fork could not be made: every chart is drawn here
        self._child: int | None = None
        self._pipe: int | None = None  # this process's end
        self._failed_at: Position | None = None
        self._answered: tuple[str, Position | None, Any] | ChartsLost | None = None
        self._drawn: dict[int, bytes] = {}  # in the fork: the charts it drew

    @property
    def in_fork(self) -> bool:
        """Whether this is the fork (this code runs in both processes)."""
        return os.getpid() != self._parent

    def wrap(self, draw: Callable[..., Any]) -> Callable[..., Any]:
        """``draw`` (a quantstats chart function) shared between the two processes."""

        def shared(*args: Any, **kwargs: Any) -> Any:
            savefig = kwargs.get("savefig")
            stream = savefig.get("fname") if isinstance(savefig, dict) else None
            if self._depth or not hasattr(stream, "getvalue") or savefig.get("format") != "svg":
                return draw(*args, **kwargs)  # not one of the page's SVG charts: as is
            index, self._calls = self._calls, self._calls + 1
            if self._child is None and not self._alone and not self.in_fork:
                self._fork()
            if self.in_fork and (stop := self._stopped_at()) is not None and index >= stop:
                self.answer_and_exit(("charts", None, self._drawn))  # no error before this process's
            if not self._claim(index):
                stream.write(marker(index).encode())
                return None
            before = len(stream.getvalue())
            self._depth += 1
            try:
                value = draw(*args, **kwargs)
            except Exception as error:
                self._failed_at = (index, 1)
                if self.in_fork:
                    self.answer_and_exit(("error", self._failed_at, error))
                raise
            finally:
                self._depth -= 1
            if self.in_fork:
                self._drawn[index] = stream.getvalue()[before:]
            return value

        return shared

    def _claim(self, index: int) -> bool:
        if self._alone:
            return True
        try:
            os.close(os.open(self._claims / f"chart-{index}", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        except OSError:
            pass  # no claim to be made (a full disk...): drawn anyway, by both if so; the same bytes
        return True

    def _stopped_at(self) -> int | None:
        """In the fork: the chart at which this process failed (``failed`` says so), if it did."""
        try:
            return int((self._claims / "stop").read_text())
        except (OSError, ValueError):
            return None

    def _fork(self) -> None:
        try:
            read, write = os.pipe()
        except OSError:
            self._alone = True
            return
        try:
            pid = os.fork()
        except OSError:  # no process to spare (memory, process limit): draw everything here
            os.close(read)
            os.close(write)
            self._alone = True
            return
        if pid:
            os.close(write)
            self._child, self._pipe = pid, read
            return
        os.close(read)
        self._pipe = write
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):  # no prctl: leaving the block here still kills the fork
            pass
        if os.getppid() != self._parent:  # the parent died before prctl took effect
            os._exit(1)
        # html() ends by writing the page through its module's ``open``: in the fork, that is its end.
        self._qs.reports.open = lambda *_args, **_kwargs: self.answer_and_exit(("charts", None, self._drawn))

    def answer_and_exit(self, answer: tuple[str, Position | None, Any]) -> None:
        """In the fork: send ``answer`` (kind, position, value) and end the process (never returns)."""
        try:
            data = pickle.dumps(answer)
            pickle.loads(data)  # what does not come back whole is sent as its type and message
        except Exception:
            kind, position, value = answer
            data = pickle.dumps((kind, position, RuntimeError(f"{type(value).__name__}: {value}")))
        try:
            with os.fdopen(self._pipe, "wb") as pipe:  # type: ignore[arg-type]
                pipe.write(data)
        finally:
            os._exit(0)

    def page(self, text: str) -> str:
        """This process's page with the fork's charts in place of their markers."""
        if self._child is None:
            return text  # nothing was shared
        kind, position, value = self._answer()
        if kind == "error" and position < (self._calls, 0):
            raise value
        if kind != "charts":  # "lost", or an error after every step passed here: not the page's
            raise ChartsLost(value if kind == "lost" else f"the fork failed after the charts: {value}")
        for index, svg in sorted(value.items()):
            text = text.replace(marker(index), svg.decode())
        if _MARKER in text:
            raise ChartsLost("a chart the fork claimed is missing from its answer")
        return text

    def failed(self, error: Exception) -> Exception:
        """After ``error`` in the block. In the fork: send it and end. Here: the error one process
        would raise, the fork's if the fork failed at an earlier step, else ``error``."""
        position = self._failed_at if self._failed_at is not None else (self._calls, 0)
        if self.in_fork:
            self.answer_and_exit(("error", position, error))
        if self._child is None or isinstance(error, ChartsLost):
            return error
        # The fork need not draw past this step: it answers on reaching the chart after it.
        with suppress(OSError):
            (self._claims / "stop").write_text(str(position[0] + position[1]))
        try:
            kind, theirs, value = self._answer()
        except ChartsLost:
            return error
        return value if kind == "error" and theirs < position else error

    def _answer(self) -> tuple[str, Position | None, Any]:
        """The fork's answer (waiting for it, once); ``ChartsLost`` if there is no whole one."""
        if self._answered is None:
            try:
                self._answered = self._read_answer()
            except ChartsLost as lost:
                self._answered = lost
        if isinstance(self._answered, ChartsLost):
            raise self._answered
        return self._answered

    def _read_answer(self) -> tuple[str, Position | None, Any]:
        assert self._pipe is not None
        chunks = []
        while True:
            ready, _, _ = select.select([self._pipe], [], [], ANSWER_TIMEOUT)
            if not ready:
                raise ChartsLost(f"the fork sent nothing for {ANSWER_TIMEOUT:.0f} s")
            chunk = os.read(self._pipe, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        try:
            return pickle.loads(b"".join(chunks))
        except Exception as error:  # nothing, or cut short: the fork died while answering
            raise ChartsLost("the fork ended without a whole answer") from error

    def close(self) -> None:
        """Kill and reap the fork (if still there), close the pipe, remove the claims."""
        child, self._child = self._child, None
        if child is not None:
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(child, 0)
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None
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
            except Exception as error:
                first = charts.failed(error)
                if first is not error:
                    raise first from None
                raise
            if charts.in_fork:  # html() returned without writing its page through ``open``
                charts.answer_and_exit(("lost", None, "quantstats wrote no page"))
    except BaseException:
        if charts.in_fork:  # never run the caller's code in the fork
            os._exit(1)
        raise
    finally:
        if not charts.in_fork:
            charts.close()


def _chart_functions(qs: Any) -> list[str]:
    """The public functions of ``quantstats.plots`` (the charts ``html`` draws are among them)."""
    return sorted(
        name
        for name, value in vars(qs.plots).items()
        if not name.startswith("_")
        and callable(value)
        and str(getattr(value, "__module__", "")).startswith("quantstats")
    )

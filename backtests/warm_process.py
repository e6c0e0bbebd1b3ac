"""``WarmProcess``: worker processes, spawned early, that do their imports while the caller does its own.

A command that will hand heavy work to a second process (the tearsheet, a sweep's
compiled kernels) starts it before it imports pandas itself: the worker's first task,
``warm_up``, imports and loads what that work needs, on the other core, while this
process reads the spec and loads the data.

Contract:

- One worker process (or ``processes`` of them), started with the ``spawn`` context
  (never ``fork``: numba's and matplotlib's threads may already exist here). SIGINT never reaches it: it is spawned
  with SIGINT blocked and keeps it blocked, and ignored. A Ctrl-C meanwhile is delivered
  here once it is spawned (unless it reaches Python through another thread of this
  process: ``backtest`` holds it then, ``cli.interrupts``). Ctrl-C is this process's to
  handle; its ``close`` (also on ``with`` exit, error or not) terminates the worker and
  waits for it, so no process outlives the command. ``close`` and ``__exit__`` are
  ``shielded``: in ``backtest`` a Ctrl-C waits until they return. Elsewhere, a
  KeyboardInterrupt inside a step of ``close`` is raised once every step is done: cut
  short, ``close`` would leave the worker running, or the pool's semaphores behind.
- With one process, tasks run one at a time, in the order they were submitted; with more, as
  many at once as there are processes, each process warmed up first.
- ``submit`` never raises ``BrokenProcessPool``: if the worker died (killed, out of
  memory) the returned future holds that error, for the caller to fall back on doing the
  work itself. A dead worker is not restarted (until ``close`` and a new ``start``). A
  future cancelled while its task waits in the queue stays cancelled through ``close``. An
  error starting the process (``OSError``) is raised by ``start`` (or the first ``submit``).
- From a script of your own: ``spawn`` re-imports the main module in the worker, so start
  it under ``if __name__ == "__main__":`` (as for any multiprocessing).
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from functools import partial
from types import TracebackType
from typing import Any, Self

from backtests.shielded import shielded


@contextmanager
def children_without_sigint() -> Iterator[None]:
    """Processes spawned inside the block, by this thread or by threads it starts there, begin with
    SIGINT blocked (the mask is inherited through fork and exec): a Ctrl-C in the terminal, sent to
    every process of the foreground group, cannot print a traceback from their start-up; it is
    their parent's to handle. In this thread SIGINT is blocked meanwhile (where there are signal
    masks); one that arrives is delivered on exit, when the mask is restored.

    multiprocessing's resource tracker unblocks SIGINT in the thread that starts it, so it is
    started first.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _Dropped(Future):
    """Stands in, in a pool being terminated, for a queued task's cancelled future: the pool skips
    it, and its "worker died" error, set on it, goes nowhere."""

    def __init__(self) -> None:
        super().__init__()
        self.cancel()

    def set_exception(self, exception: BaseException | None) -> None:
        pass

    def set_result(self, result: Any) -> None:
        pass


def _ignore_sigint() -> None:
    """Worker initializer: Ctrl-C is the parent's to handle (it terminates the worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class WarmProcess:
    """Spawned workers whose first task is ``warm_up`` (a module-level function); use with ``with``."""

    def __init__(self, warm_up: Callable[[], Any], processes: int = 1) -> None:
        self._warm_up = warm_up
        self._processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> Self:
        """Launch the worker and its warm-up (nothing if it runs already); returns ``self``."""
        if self._pool is None:
            # The first submit spawns the process: a Ctrl-C while the worker starts Python
            # (before its initializer) cannot print a traceback from its imports.
            with children_without_sigint():
                self._pool = ProcessPoolExecutor(
                    max_workers=self._processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_ignore_sigint,
                )
                for _ in range(self._processes):
                    self._pool.submit(self._warm_up)
        return self

    def submit(self, function: Callable[..., Any], /, *args: Any) -> Future[Any]:
        """``function(*args)`` in the worker (started if need be)."""
        pool = self.start()._pool
        assert pool is not None
        try:
            return pool.submit(function, *args)
        except BrokenProcessPool as exc:
            future: Future[Any] = Future()
            future.set_exception(exc)
            return future

    def pids(self) -> list[int]:
        """The workers' process ids (empty before ``start`` and after ``close``)."""
        processes: dict[int, Any] = getattr(self._pool, "_processes", None) or {}
        return list(processes)

    @shielded
    def close(self) -> None:
        """Terminate the workers (whatever they are doing) and wait until they are gone."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # What ProcessPoolExecutor.terminate_workers does (Python 3.14+): a running task
        # cannot be cancelled otherwise, and an idle worker needs no goodbye.
        processes = list((getattr(pool, "_processes", None) or {}).values())
        # Python 3.11's pool sets "worker died" on every queued task once a worker is gone, cancelled
        # ones too, which raises in its manager thread: a traceback, and the pool's semaphores left
        # behind (3.12 ignores them). A cancelled task waiting in the queue gets a stand-in future.
        for item in list((getattr(pool, "_pending_work_items", None) or {}).values()):
            if item.future.cancelled():
                item.future = _Dropped()
        # A worker killed while it sends a result leaves half a message in the pipe; the pool's
        # thread waits for the rest as long as a write end is open, and this process holds one
        # (it never writes there): closed, the thread reads the end of the pipe and stops.
        writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
        if writer is not None:
            writer.close()
        steps = [
            *(process.terminate for process in processes),
            *(process.join for process in processes),
            partial(pool.shutdown, wait=True, cancel_futures=True),
        ]
        interrupted: KeyboardInterrupt | None = None
        for step in steps:  # each to its end: cut short, the pool's queues and semaphores would be left behind
            while True:
                try:
                    step()
                    break
                except KeyboardInterrupt as exc:
                    interrupted = exc
        if interrupted is not None:
            raise interrupted

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:  # ``with`` never reaches ``close`` when entering fails
            self.close()
            raise

    @shielded
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

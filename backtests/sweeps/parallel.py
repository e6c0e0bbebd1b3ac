"""Where a sweep's chunks run: this process, worker processes on this machine (``jobs``), or a Dask cluster.

A sweep is a list of ``GroupData`` (one compiled group: prices, sleeves,
signal, costs; shipped to each worker once per ``run``) and ``Chunk`` s (configuration
indices and their response parameters; small), both defined in ``sweeps.chunks``. Every backend returns each
chunk's result keyed by configuration index, so the merged table, DSR and PBO
are byte-identical whatever ran them: each configuration is simulated
serially on its own, and nothing is summed across chunks.

- ``jobs = 1``: in this process, or in a ``SweepWorker`` when one is given (the CLI
  starts one before it loads the data, so numba's start-up overlaps the load); numba
  uses every core. ``Plan.call`` runs other compiled work (the PBO) in that worker too.
- ``jobs = N``: N spawned processes (a ``SweepWorker`` of N, started with SIGINT blocked and
  closed on exit like the one-job worker, so none outlives the sweep); each chunk is sent
  with its group, at most two chunks per process in flight; processes x numba threads
  never exceed the cores (``N`` above the core count is capped: ``capped_jobs``). How many
  processes ran is not part of the result, so nothing about it is saved (the CLI says it
  on stderr).
- ``cluster = "tcp://HOST:8786"``: an existing dask.distributed scheduler;
  ``"local"`` or ``"local:N"``: a LocalCluster of N worker processes (default:
  the cores) on this machine. Each group is scattered to the workers once
  (broadcast), then chunks are mapped over them. Needs ``pip install
  'geohedge[dask]'`` here and on every worker. A LocalCluster's workers start with
  SIGINT blocked (``warm_process.children_without_sigint``) and log only errors: a Ctrl-C
  reaches only this process, whose ``Plan.__exit__`` closes the client and the cluster
  (both shielded), with dask's logs of the work it loses silenced. A cluster started
  here is never left running by an error or a Ctrl-C in this process.
"""

from __future__ import annotations

import itertools
import logging
import os
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, nullcontext
from functools import partial
from typing import Any

from backtests.errors import BacktestError, DataUnavailableError, UserInputError
from backtests.shielded import shielded
from backtests.sweeps.chunks import Chunk, GroupData, keep_groups, run_kept
from backtests.warm_process import WarmProcess, children_without_sigint


def capped_jobs(jobs: int) -> int:
    """The worker processes ``jobs`` gives on this machine: at most one per core."""
    return min(jobs, os.cpu_count() or 1)


class Plan:
    """How to run chunks: ``jobs`` processes or a ``cluster`` address, and numba ``threads`` per process.

    Use it as a context manager: a Dask client (and a LocalCluster) is opened once
    for the whole sweep and closed at the end, and so are the processes of ``jobs`` above 1.
    ``worker`` (a started ``SweepWorker``, used only with one job and no cluster), or those
    processes, run the chunks and ``call`` s instead of this process, which then never loads
    numba; what a dead worker could not run runs here.
    """

    def __init__(
        self,
        jobs: int,
        cluster: str | None,
        threads: int,
        worker: WarmProcess | None = None,
    ) -> None:
        self.jobs, self.cluster, self.threads = jobs, cluster, threads
        self.worker = worker
        self._pool: WarmProcess | None = None
        self._client: Any = None
        self._local: Any = None

    @classmethod
    def make(cls, jobs: int, cluster: str | None, worker: WarmProcess | None = None) -> Plan:
        """Check and cap the request against this machine's cores."""
        if cluster is not None:
            check_cluster(cluster)
            return cls(1, cluster, 1)
        jobs = capped_jobs(jobs)
        return cls(jobs, None, max(1, (os.cpu_count() or 1) // jobs), worker if jobs == 1 else None)

    def __enter__(self) -> Plan:
        try:
            if self.cluster is not None:
                self._client, self._local = _connect(self.cluster)
            elif self.jobs > 1:
                from backtests.sweeps.worker import SweepWorker

                self._pool = SweepWorker(self.jobs)
                self._pool.start()
        except BaseException as exc:  # a Ctrl-C too: ``with`` never reaches __exit__ when entering fails
            self.__exit__(type(exc))
            raise
        return self

    @shielded  # a Ctrl-C on its first lines would leave the cluster or the processes running
    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
        client, local, self._client, self._local = self._client, self._local, None, None
        # Stopped by an error or Ctrl-C mid-sweep, the scheduler logs the chunks and scattered
        # inputs it loses as the cluster closes: that is expected then, not news.
        _close(client, local, quiet=kind is not None)

    def run(self, function: Callable, groups: list[GroupData], chunks: list[Chunk]) -> Iterator[Any]:
        """``function(group, chunk)`` for every chunk, results in chunk order."""
        if self._client is not None:
            shipped = self._client.scatter(groups, broadcast=True)
            futures = deque(self._client.map(function, [shipped[c.group] for c in chunks], chunks, pure=False))
            return _drain(futures)
        if self.worker is not None:
            return self._in_worker(function, groups, chunks)
        if self._pool is not None:
            return self._in_pool(self._pool, function, groups, chunks)
        return (function(groups[c.group], c) for c in chunks)

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` in the worker or the processes when there are any (their compiled code
        is loaded there), else here."""
        for worker in (self.worker, self._pool):
            if worker is not None:
                try:
                    return worker.submit(function, *args).result()
                except BrokenProcessPool:
                    break
        return function(*args)

    def _in_worker(self, function: Callable, groups: list[GroupData], chunks: list[Chunk]) -> Iterator[Any]:
        """The groups sent to the worker once, then every chunk (``_streamed``); the groups dropped after."""
        worker = self.worker
        assert worker is not None
        key = uuid.uuid4().hex
        worker.submit(keep_groups, key, groups)
        try:
            yield from _streamed(partial(worker.submit, run_kept, key, function), function, groups, chunks, 2)
        finally:
            worker.submit(keep_groups, key, [])  # a dead worker: a failed future

    def _in_pool(
        self, pool: WarmProcess, function: Callable, groups: list[GroupData], chunks: list[Chunk]
    ) -> Iterator[Any]:
        """Every chunk in ``pool``, each sent with its group (``_streamed``)."""

        def send(chunk: Chunk) -> Any:
            return pool.submit(function, groups[chunk.group], chunk)

        return _streamed(send, function, groups, chunks, 2 * self.jobs)


def _streamed(
    send: Callable[[Chunk], Any], function: Callable, groups: list[GroupData], chunks: list[Chunk], window: int
) -> Iterator[Any]:
    """``send(chunk)`` (a future of ``function(group, chunk)`` in a worker) for every chunk, ``window`` of
    them in flight; results in chunk order, each future released once read; a chunk whose worker died
    runs here. Stopped early (an error, a caller that stopped reading), the queued chunks are cancelled."""
    waiting = iter(chunks)
    pending = deque((chunk, send(chunk)) for chunk in itertools.islice(waiting, window))
    try:
        while pending:
            chunk, future = pending.popleft()
            following = next(waiting, None)
            if following is not None:
                pending.append((following, send(following)))
            try:
                result = future.result()
            except BrokenProcessPool:
                result = function(groups[chunk.group], chunk)
            yield result
    finally:
        for _, future in pending:
            future.cancel()


def _drain(futures: deque) -> Iterator[Any]:
    """Results in order, each future released once read, so workers do not keep every chunk's result."""
    while futures:
        future = futures.popleft()
        result = future.result()
        future.release()
        yield result


def check_cluster(cluster: str) -> None:
    """Raise ``UserInputError`` unless ``cluster`` is ``tcp://HOST:PORT``, ``local`` or ``local:N``."""
    if cluster.startswith("tcp://") and len(cluster) > len("tcp://"):
        return
    head, _, count = cluster.partition(":")
    if head == "local" and (not count or (count.isdigit() and int(count) >= 1)):
        return
    raise UserInputError(f"`cluster` {cluster!r}: use tcp://HOST:PORT (a running dask scheduler), local or local:N")


def _connect(cluster: str) -> tuple[Any, Any]:
    """(client, local cluster or None) for ``cluster``; dask's own logging kept to errors."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise DataUnavailableError(
            "`cluster` needs dask and distributed; install them with: pip install 'geohedge[dask]'"
        ) from None
    logging.getLogger("distributed").setLevel(logging.ERROR)
    local = None
    try:
        if cluster.startswith("local"):
            _, _, count = cluster.partition(":")
            workers = int(count) if count else (os.cpu_count() or 1)
            # Its event loop thread, started here, spawns the workers: they keep SIGINT blocked, so
            # a Ctrl-C in the terminal reaches only this process, which closes the cluster. Their
            # own logs are kept to errors too (a chunk cancelled by that close is not one).
            with children_without_sigint():
                local = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
        return Client(local if local is not None else cluster, timeout="20s"), local
    except BaseException as exc:  # a Ctrl-C too: a cluster started here is closed, never left behind
        _close(None, local, quiet=True)
        if isinstance(exc, (OSError, TimeoutError)):
            if cluster.startswith("local"):
                raise BacktestError(f"cannot start a local Dask cluster ({cluster}): {exc}") from None
            raise BacktestError(
                f"cannot reach the dask scheduler at {cluster}: {exc}; start one with `dask scheduler`"
            ) from None
        raise


@shielded
def _close(client: Any, local: Any, *, quiet: bool) -> None:
    """Close the client, then the local cluster (either may be None), each to its end; with
    ``quiet``, dask's and tornado's loggers are silent meanwhile."""
    with _dask_quiet() if quiet else nullcontext():
        try:
            if client is not None:
                client.close()
        finally:
            if local is not None:
                local.close()


@contextmanager
def _dask_quiet() -> Iterator[None]:
    """Every ``distributed.*`` and ``tornado.*`` logger silent inside the block, as it was after it
    (dask's configuration gives some of them levels of their own)."""
    names = [
        name
        for name in ("distributed", "tornado", *logging.root.manager.loggerDict)
        if name.partition(".")[0] in ("distributed", "tornado")
    ]
    loggers = [logging.getLogger(name) for name in dict.fromkeys(names)]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)

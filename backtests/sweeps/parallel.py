"""Where a sweep's chunks run: this process, worker processes on this machine (``jobs``), or a Dask cluster.

A sweep is a list of ``GroupData`` (one compiled group: prices, sleeves,
signal, costs; shipped to each worker once) and ``Chunk`` s (configuration
indices and their response parameters; small). Every backend returns each
chunk's result keyed by configuration index, so the merged table, DSR and PBO
are byte-identical whatever ran them: each configuration is simulated
serially on its own, and nothing is summed across chunks.

- ``jobs = 1``: in this process; numba uses every core.
- ``jobs = N``: N loky processes; processes x numba threads never exceed the
  cores (``N`` above the core count is capped, with a note).
- ``cluster = "tcp://HOST:8786"``: an existing dask.distributed scheduler;
  ``"local"`` or ``"local:N"``: a LocalCluster of N worker processes (default:
  the cores) on this machine. Each group is scattered to the workers once
  (broadcast), then chunks are mapped over them. Needs ``pip install
  'geohedge[dask]'`` here and on every worker.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from backtests.assembly import CompiledRun, ResponseArrays
from backtests.errors import BacktestError, DataUnavailableError, UserInputError
from backtests.execution.rules import CostModel, RebalanceRule


@dataclass(frozen=True)
class GroupData:
    """One compiled group, as arrays: what every chunk of the group needs."""

    dates: pd.DatetimeIndex
    closes: np.ndarray
    base: np.ndarray
    shift: np.ndarray
    signal: np.ndarray
    release: np.ndarray
    in_period: np.ndarray
    costs: CostModel
    rebalance: RebalanceRule
    cash: float
    ranges: dict[str, tuple[int, int]]
    executor: str
    threads: int

    @classmethod
    def of(cls, compiled: CompiledRun, ranges: dict[str, tuple[int, int]], executor: str, threads: int) -> GroupData:
        return cls(
            dates=compiled.calendar,
            closes=compiled.closes.to_numpy(),
            base=compiled.base.to_numpy(),
            shift=compiled.shift.to_numpy(),
            signal=compiled.signal.to_numpy(dtype=float),
            release=compiled.release.to_numpy(dtype=bool),
            in_period=compiled.in_period,
            costs=compiled.costs,
            rebalance=compiled.rebalance,
            cash=compiled.cash,
            ranges=ranges,
            executor=executor,
            threads=threads,
        )

    def limit_threads(self) -> None:
        """Cap numba's threads in this process, so processes x threads never exceed the cores."""
        from backtests.execution.fast_exec import set_threads

        set_threads(self.threads)


@dataclass(frozen=True)
class Chunk:
    """Configurations ``members`` (indices into the sweep) of group ``group``, with their response parameters."""

    group: int
    members: np.ndarray
    response: ResponseArrays


class Plan:
    """How to run chunks: ``jobs`` processes or a ``cluster`` address, and numba ``threads`` per process.

    Use it as a context manager: a Dask client (and a LocalCluster) is opened once
    for the whole sweep and closed at the end.
    """

    def __init__(self, jobs: int, cluster: str | None, threads: int, notes: tuple[str, ...] = ()) -> None:
        self.jobs, self.cluster, self.threads, self.notes = jobs, cluster, threads, notes
        self._client: Any = None
        self._local: Any = None

    @classmethod
    def make(cls, jobs: int, cluster: str | None) -> Plan:
        """Check and cap the request against this machine's cores."""
        cores = os.cpu_count() or 1
        if cluster is not None:
            check_cluster(cluster)
            return cls(1, cluster, 1)
        notes: tuple[str, ...] = ()
        if jobs > cores:
            notes = (f"`jobs` {jobs} is more than the {cores} cores here: using {cores}",)
            jobs = cores
        return cls(jobs, None, max(1, cores // jobs), notes)

    def __enter__(self) -> Plan:
        if self.cluster is not None:
            self._client, self._local = _connect(self.cluster)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
        if self._local is not None:
            self._local.close()
        self._client = self._local = None

    def run(self, function: Callable, groups: list[GroupData], chunks: list[Chunk]) -> Iterator[Any]:
        """``function(group, chunk)`` for every chunk, results in chunk order."""
        if self._client is not None:
            shipped = self._client.scatter(groups, broadcast=True)
            futures = deque(self._client.map(function, [shipped[c.group] for c in chunks], chunks, pure=False))
            return _drain(futures)
        if self.jobs == 1 or len(chunks) <= 1:
            return (function(groups[c.group], c) for c in chunks)
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=self.jobs, backend="loky", return_as="generator")
        return parallel(delayed(function)(groups[c.group], c) for c in chunks)


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
    import logging

    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise DataUnavailableError(
            "`cluster` needs dask and distributed; install them with: pip install 'geohedge[dask]'"
        ) from None
    logging.getLogger("distributed").setLevel(logging.ERROR)
    local = None
    if cluster.startswith("local"):
        _, _, count = cluster.partition(":")
        workers = int(count) if count else (os.cpu_count() or 1)
        local = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        return Client(local if local is not None else cluster, timeout="20s"), local
    except (OSError, TimeoutError) as exc:
        if local is not None:
            local.close()
        raise BacktestError(
            f"cannot reach the dask scheduler at {cluster}: {exc}; start one with `dask scheduler`"
        ) from None

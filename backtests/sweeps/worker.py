"""``SweepWorker``: the process a sweep's compiled work runs in, started before the data load.

The first compiled call in a process costs numba about 0.7-1 s (its registries, then the
cached kernels): more than the whole compute of a 1,000-configuration sweep.
``backtest sweep`` starts this worker before it imports pandas; its warm-up
(``chunks.warm_up``: a tiny chunk and a PBO) loads all of that on the other core while
the command reads the spec, loads the data and compiles the groups. The worker runs only
``sweeps.chunks`` (no pandas), so it is ready first. ``Plan`` then sends it the chunks and
the PBO (one job, no cluster). The results are the same bytes as in-process: the same
functions on the same inputs, each configuration serial.

This module is light (no numpy, pandas or numba here).
"""

from __future__ import annotations

from backtests.warm_process import WarmProcess


def _warm_up() -> None:
    from backtests.sweeps.chunks import warm_up

    warm_up()


class SweepWorker(WarmProcess):
    """A ``WarmProcess`` whose processes load the sweep kernels: one, passed to ``sweep(..., worker=...)``;
    ``Plan`` starts one of ``jobs`` processes for ``jobs`` above 1."""

    def __init__(self, processes: int = 1) -> None:
        super().__init__(_warm_up, processes)

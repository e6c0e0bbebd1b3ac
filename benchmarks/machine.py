"""How fast this machine is right now: a yardstick printed beside every benchmark's figures.

On a shared virtual machine the speed of one core moves by a third or more from one
minute to the next, and two virtual cores may not give twice the work of one. Each
benchmark prints ``describe()`` first (and ``bench_commands`` again after its cases),
so that its figures can be read against the machine's state when they were taken:

- the seconds a fixed pure-Python loop (``LOOPS`` iterations) takes alone: larger is slower;
- the work two such loops get done running at once, relative to one alone: 2.0 on two
  free cores, less where the cores are shared.

Median of ``trials``; each loop is a fresh process, timed inside it.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

LOOPS = 20_000_000
_CODE = f"import time\nt = time.perf_counter()\nfor _ in range({LOOPS}): pass\nprint(time.perf_counter() - t)"


def _start() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _CODE], stdout=subprocess.PIPE, text=True)


def probe(trials: int = 3) -> tuple[float, float]:
    """(seconds of the loop alone, work of two at once relative to one alone), medians of ``trials``."""
    alone, together = [], []
    for _ in range(trials):
        one = float(_start().communicate()[0])
        pair = [_start() for _ in range(2)]
        both = max(float(p.communicate()[0]) for p in pair)
        alone.append(one)
        together.append(2 * one / both)
    return statistics.median(alone), statistics.median(together)


def describe(trials: int = 3) -> str:
    """One line: the loop's seconds alone and the parallel capacity."""
    seconds, capacity = probe(trials)
    return (
        f"machine now: a {LOOPS:,}-iteration Python loop takes {seconds:.2f} s alone (larger = slower); "
        f"two at once get {capacity:.2f}x the work of one done (2.00 on two free cores)"
    )

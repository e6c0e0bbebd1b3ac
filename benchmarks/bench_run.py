"""Benchmark: one ``backtest run tariff-shock-hedge`` on real prices, with and without the tearsheet.

The ``help``, ``run`` and ``run-no-tearsheet`` cases of ``bench_commands.py`` (which
defines and measures them: fresh processes under ``/usr/bin/time``, one warm-up run
each, min / median / max wall time, peak RSS, load average): 2015-01-01 to 2025-12-31
from ``../shared/data/prices``, the curated events; ``backtest --help`` shows the fixed
cost of start-up.

Run: ``python benchmarks/bench_run.py [--runs N] [--prices DIR]``.
"""

from __future__ import annotations

import sys

from bench_commands import main

if __name__ == "__main__":
    sys.exit(main(names=("help", "run", "run-no-tearsheet")))

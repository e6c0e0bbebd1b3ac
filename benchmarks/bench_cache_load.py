"""Benchmark: load every reference ticker (43) x 2011-2025 from the Parquet cache, cold and warm.

Imports ``../shared/data/prices`` (relative to the repository) into a temporary
cache, then times ``load_prices(..., source="cache")``:

- cold: a fresh Python process per run (imports not counted, first read of the files);
- warm: repeated loads in one process.

Run: ``python benchmarks/bench_cache_load.py [--runs N]``. Prints figures only.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from backtests.data.cache import PriceCache
from backtests.data.csvfile import CsvSource
from backtests.data.loader import load_prices

REPO = Path(__file__).resolve().parents[1]
SHARED_PRICES = REPO.parent / "shared" / "data" / "prices"
START, END = "2011-01-01", "2025-12-31"

_COLD_SCRIPT = """
import sys, time
from backtests.data.loader import load_prices
tickers = sys.argv[2].split(",")
t0 = time.perf_counter()
data = load_prices(tickers, "{start}", "{end}", source="cache", data_dir=sys.argv[1])
print(time.perf_counter() - t0, data.closes.shape[0], data.closes.shape[1])
"""


def _import(cache_dir: Path) -> list[str]:
    started = time.perf_counter()
    cache = PriceCache(cache_dir)
    series = CsvSource(SHARED_PRICES).read()
    for ticker, values in series.items():
        cache.store(ticker, values, source=f"csv:{SHARED_PRICES / ticker}.csv")
    print(f"import {len(series)} CSVs into the cache: {time.perf_counter() - started:.2f} s")
    return list(series)


def _cold(cache_dir: Path, tickers: list[str], runs: int) -> list[float]:
    script = _COLD_SCRIPT.format(start=START, end=END)
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", script, str(cache_dir), ",".join(tickers)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        times.append(float(out[0]))
    print(
        f"cold load ({out[1]} days x {out[2]} tickers, fresh process, median of {runs}): "
        f"{statistics.median(times) * 1000:.1f} ms (min {min(times) * 1000:.1f})"
    )
    return times


def _warm(cache_dir: Path, tickers: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        load_prices(tickers, START, END, source="cache", data_dir=cache_dir)
        times.append(time.perf_counter() - started)
    print(
        f"warm load (same process, median of {runs}): "
        f"{statistics.median(times) * 1000:.1f} ms (min {min(times) * 1000:.1f})"
    )
    return times


def main() -> None:
    """Import, then print cold and warm load timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not SHARED_PRICES.is_dir():
        sys.exit(
            f"reference prices not found at {SHARED_PRICES}; place ../shared/data beside the repository"
        )
    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = Path(tmp)
        tickers = _import(cache_dir)
        _cold(cache_dir, tickers, args.runs)
        _warm(cache_dir, tickers, args.runs)


if __name__ == "__main__":
    main()

"""Concurrent ``backtest data import`` processes on one cache: no manifest entry is lost.

Four real processes (multiprocessing, spawn: fresh interpreters, like four
terminals) wait on a barrier, then each runs the CLI's ``data import`` on its
own 15 tickers into one cache. Before the manifest had a file lock, their
read-modify-writes of ``manifest.json`` overwrote each other (Parquet files
without manifest entries, listed with source ``unknown``).
"""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

PROCESSES = 4
TICKERS_PER_PROCESS = 15


def _import(folder: str, cache: str, barrier) -> None:
    """The child process: ``backtest data import FOLDER --data-dir CACHE``, started with the others."""
    from backtests.cli import cli

    barrier.wait()
    cli.main(["data", "import", folder, "--data-dir", cache])  # exits with the command's code


def _write_prices(folder: Path, tickers: list[str]) -> None:
    folder.mkdir()
    rows = "".join(f"2024-01-{day:02d},{100 + day}\n" for day in (2, 3, 4, 5, 8, 9, 10, 11, 12))
    for ticker in tickers:
        (folder / f"{ticker}.csv").write_text("Date,Close\n" + rows)


def test_four_concurrent_imports_keep_every_ticker_and_its_source(tmp_path):
    cache = tmp_path / "cache"
    folders = []
    for p in range(PROCESSES):
        folder = tmp_path / f"batch{p}"
        _write_prices(folder, [f"T{p}X{i:02d}" for i in range(TICKERS_PER_PROCESS)])
        folders.append(folder)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    processes = [context.Process(target=_import, args=(str(f), str(cache), barrier)) for f in folders]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    assert [process.exitcode for process in processes] == [0] * PROCESSES
    manifest = json.loads((cache / "prices" / "manifest.json").read_text())["tickers"]
    expected = {
        path.stem: f"csv:{path.resolve()}" for folder in folders for path in sorted(folder.glob("*.csv"))
    }
    assert len(list((cache / "prices").glob("*.parquet"))) == PROCESSES * TICKERS_PER_PROCESS
    assert {ticker: entry["source"] for ticker, entry in manifest.items()} == expected

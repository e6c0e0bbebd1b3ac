"""Everything a run writes and the reports users read.

- ``artifacts.write_run``: the run folder (tearsheet, events page, metrics, CSVs,
  config, manifest last) — the one call the pipeline makes.
- ``tearsheet``: quantstats' HTML tearsheet with our fixes.
- ``pages``: ``events.html`` (equity with firings marked, weights, event study).
- ``event_study``: pure event-window returns and their averages.
- ``index``/``catalog``: the runs under the reports root; ``compare``: runs side by side.
- ``timecharts``: the events page's charts, hand-built SVG (no matplotlib); ``charts``: the
  compare page's and the tearsheet's, matplotlib SVG; ``markup``: the HTML helpers they share.
- ``destinations``/``jsonsafe``: where a run folder goes, JSON-ready values; light (no
  matplotlib), so a sweep uses them without loading the run-report machinery.
"""

from __future__ import annotations

import importlib
from typing import Any

from backtests.reports.destinations import new_run_dir
from backtests.reports.index import rebuild_index

__all__ = ["new_run_dir", "rebuild_index", "write_run"]


def __getattr__(name: str) -> Any:
    """``write_run`` loads ``artifacts`` on first use only (matplotlib only when it draws a
    tearsheet in this process), so importing a light module of this package (``markup``,
    ``folders``, ``destinations``, ``jsonsafe``, ``svg``) stays light."""
    if name == "write_run":
        return importlib.import_module("backtests.reports.artifacts").write_run
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Everything a run writes and the reports users read.

- ``artifacts.write_run``: the run folder (tearsheet, events page, metrics, CSVs,
  config, manifest last) — the one call the pipeline makes.
- ``tearsheet``: quantstats' HTML tearsheet with our fixes.
- ``pages``: ``events.html`` (equity with firings marked, weights, event study).
- ``event_study``: pure event-window returns and their averages.
- ``index``/``catalog``: the runs under the reports root; ``compare``: runs side by side.
- ``charts``/``markup``: the matplotlib-SVG charts and HTML helpers they share.
"""

from backtests.reports.artifacts import new_run_dir, write_run
from backtests.reports.index import rebuild_index

__all__ = ["new_run_dir", "rebuild_index", "write_run"]

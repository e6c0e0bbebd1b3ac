"""The link bar atop a run's two pages, and the pages' names: ``run_nav``, ``tearsheet_nav``.

Light on purpose (standard library and ``reports.markup``): ``backtest run`` builds the
tearsheet's bar before backtrader runs, to start the page early, without loading matplotlib.
"""

from __future__ import annotations

import os
from pathlib import Path

from backtests.paths import reports_dir
from backtests.reports.index import INDEX_PAGE
from backtests.reports.markup import nav_bar

EVENTS_PAGE = "events.html"
TEARSHEET_PAGE = "tearsheet.html"


def run_nav(index_href: str, *, tearsheet: bool) -> str:
    """The link bar atop a run's tearsheet and events page (no tearsheet link if none written)."""
    return nav_bar(
        [
            *([(TEARSHEET_PAGE, "Tearsheet")] if tearsheet else []),
            (EVENTS_PAGE, "Hedge & events"),
            (f"{EVENTS_PAGE}#episodes", "Episodes"),
            (f"{EVENTS_PAGE}#event-study", "Event study"),
            (index_href, "All runs"),
        ]
    )


def index_href(folder: str | os.PathLike) -> str:
    """The link from run folder ``folder`` to the reports index."""
    return Path(os.path.relpath(os.path.abspath(reports_dir() / INDEX_PAGE), os.path.abspath(folder))).as_posix()


def tearsheet_nav(folder: str | os.PathLike) -> str:
    """The bar atop the tearsheet of a run saved in ``folder`` (``TearsheetWorker.prepare``'s ``top_html``)."""
    return run_nav(index_href(folder), tearsheet=True)

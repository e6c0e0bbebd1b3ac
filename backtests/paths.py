"""Where things live: the data cache, the reports root and the files shipped with the package.

Resolution order for the cache: ``--data-dir``, else ``$BACKTEST_DATA_DIR``, else
``~/.cache/geohedge``. Reports: ``$BACKTEST_REPORTS_DIR``, else ``./reports``.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA_DIR = Path("~/.cache/geohedge")
DEFAULT_REPORTS_DIR = Path("reports")
_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The cache root for prices and index data (not created here)."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get("BACKTEST_DATA_DIR")
    return Path(env).expanduser() if env else DEFAULT_DATA_DIR.expanduser()


def reports_dir() -> Path:
    """The root folder under which each run writes ``STRATEGY/RUN_ID/``."""
    env = os.environ.get("BACKTEST_REPORTS_DIR")
    return Path(env).expanduser() if env else DEFAULT_REPORTS_DIR


def shipped_dir(name: str) -> Path:
    """A folder shipped with the project: ``"strategies"`` or ``"data"``.

    An installed wheel carries them as ``backtests/shipped/<name>``; an editable
    install or a source checkout reads the top-level folders of the repository.
    """
    for candidate in (_PACKAGE_DIR / "shipped" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"shipped folder {name!r} not found next to {_PACKAGE_DIR}")


def curated_events_dir() -> Path:
    """The folder of curated event calendars shipped with the project."""
    return shipped_dir("data") / "events"


def strategies_dir() -> Path:
    """The folder of shipped strategy specs."""
    return shipped_dir("strategies")

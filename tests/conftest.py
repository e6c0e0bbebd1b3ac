"""Shared fixtures: the real reference data beside the project, and isolated folders.

Tests that need real prices use ``shared_data``. When ``../shared/data`` is
missing they skip with the reason, unless ``BACKTEST_REQUIRE_SHARED=1`` (CI),
where they fail instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests: no per-example deadline (timings vary on a shared 2-core machine).
# Under CI the examples are derandomized, so a run is reproducible; locally they
# are random, to keep finding new cases.
settings.register_profile("ci", deadline=None, derandomize=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _require_shared() -> Path:
    if (SHARED_DATA / "prices").is_dir():
        return SHARED_DATA
    reason = f"real reference data not found at {SHARED_DATA} (place ../shared/data beside the project)"
    if os.environ.get("BACKTEST_REQUIRE_SHARED") == "1":
        pytest.fail(reason + "; BACKTEST_REQUIRE_SHARED=1 makes this a failure")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (with ``prices/`` and ``gpr/``), or skip/fail as documented."""
    return _require_shared()


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the user's cache or reports folder from a test."""
    root = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("BACKTEST_DATA_DIR", str(root / "cache"))
    monkeypatch.setenv("BACKTEST_REPORTS_DIR", str(root / "reports"))
    monkeypatch.setenv("MPLBACKEND", "Agg")

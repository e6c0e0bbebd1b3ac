"""Our pages in a real browser.

Headless Chromium loads them without console errors, the DOM holds the event
markers and event-study tables, nothing is fetched from the network, and
screenshots are not blank.

Skipped when Chromium is missing, unless ``BACKTEST_REQUIRE_BROWSER=1`` (CI): then it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from helpers_runresult import write_demo_runs
from matplotlib import image

from backtests.reports.catalog import discover_runs
from backtests.reports.compare import write_compare

pytestmark = pytest.mark.browser
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@pytest.fixture(scope="module")
def chromium() -> str:
    found = (
        shutil.which("chromium")
        or shutil.which("chromium-browser")
        or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    )
    if found:
        return found
    reason = "headless Chromium not found (apt-get install -y chromium)"
    if os.environ.get("BACKTEST_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + "; BACKTEST_REQUIRE_BROWSER=1 makes this a failure")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("reports")
    first, _second = write_demo_runs(root, tearsheet=True, periods=300)
    compare = write_compare(discover_runs(root), root / "compare.html", index=root / "index.html")
    return {
        "tearsheet": first / "tearsheet.html",
        "events": first / "events.html",
        "index": root / "index.html",
        "compare": compare,
    }


def _chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)


EXPECTED_IN_DOM = {
    "tearsheet": (
        'class="gh-nav"',
        'class="gh-banner"',
        "EOY Returns vs Benchmark",
        "Key Performance Metrics",
    ),
    "events": (
        'class="event-marker"',
        'id="event-study-summary"',
        'id="event-study-events"',
        'id="firings"',
        "&lt;script&gt;alert(1)&lt;/script&gt;",
    ),
    "index": ('id="runs"', "hostile &lt;i&gt;hedge", "plain-tilt"),
    "compare": ('id="compare-metrics"', 'id="compare-equity"', 'id="compare-drawdown"'),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_IN_DOM))
def test_page_loads_cleanly_and_has_its_content(
    chromium: str, pages: dict[str, Path], name: str, tmp_path: Path
):
    run = _chromium(
        chromium,
        tmp_path / "profile",
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        pages[name].as_uri(),
    )
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    dom = run.stdout
    for needle in EXPECTED_IN_DOM[name]:
        assert needle in dom, f"{needle!r} missing from the {name} page DOM"
    assert not re.search(
        r'<(script|img|link)[^>]+(src|href)="https?:', dom
    )  # nothing fetched online
    if name == "events":
        assert dom.count('class="event-marker"') == 2
        assert "<title>2018-03-02 tariff_news" in dom  # hover text of the first marker


@pytest.mark.parametrize("name", sorted(EXPECTED_IN_DOM))
def test_screenshot_is_not_blank(chromium: str, pages: dict[str, Path], name: str, tmp_path: Path):
    shot = tmp_path / f"{name}.png"
    run = _chromium(
        chromium,
        tmp_path / "profile",
        "--hide-scrollbars",
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        pages[name].as_uri(),
    )
    assert shot.exists(), run.stderr[-2000:]
    pixels = image.imread(shot)
    colours = np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)
    assert len(colours) > 16, f"{name} screenshot has only {len(colours)} colours"


@pytest.mark.parametrize(("clicks", "first"), [(1, "hostile"), (2, "plain-tilt")])
def test_index_sorts_on_header_click(
    chromium: str, pages: dict[str, Path], tmp_path: Path, clicks: int, first: str
):
    """The real sortable.js: click the Strategy header once (ascending) or twice (descending)."""
    html = pages["index"].read_text(encoding="utf-8")
    assert html.index("plain-tilt") < html.index("hostile")  # newest first before sorting
    click = "document.querySelectorAll('#runs thead th')[1].click();" * clicks
    clicked = pages["index"].with_name(f"index-sorted-{clicks}.html")
    clicked.write_text(
        html.replace("</body>", f"<script>{click}</script></body>"), encoding="utf-8"
    )
    run = _chromium(chromium, tmp_path / "profile", "--dump-dom", clicked.as_uri())
    body = run.stdout[run.stdout.index("<tbody>") :]
    other = "plain-tilt" if first == "hostile" else "hostile"
    assert body.index(first) < body.index(other)

"""Our pages in a real browser.

Headless Chromium loads them without console errors, the DOM holds the event
markers and event-study tables, nothing is fetched from the network, and
screenshots are not blank.

Skipped when Chromium is missing, unless ``BACKTEST_REQUIRE_BROWSER=1`` (CI): then it fails.
"""

from __future__ import annotations

import json
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
        'id="hedge-chart"',
        ">unhedged</text>",  # the base series in the chart legend
        'class="episode-span"',  # hedge episodes shaded
        'id="episodes"',
        '<tr id="episode-0">',
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
        assert "<title>2018-03-02: 1 firing\ntariff_news: " in dom  # hover text of the first marker
        assert dom.count('class="episode-span"') == 1


@pytest.mark.parametrize("width", [1400, 400])
@pytest.mark.parametrize("name", sorted(EXPECTED_IN_DOM))
def test_screenshot_is_not_blank(
    chromium: str, pages: dict[str, Path], name: str, tmp_path: Path, width: int
):
    shot = tmp_path / f"{name}-{width}.png"
    run = _chromium(
        chromium,
        tmp_path / "profile",
        "--hide-scrollbars",
        f"--screenshot={shot}",
        f"--window-size={width},2000",
        pages[name].as_uri(),
    )
    assert shot.exists(), run.stderr[-2000:]
    pixels = image.imread(shot)
    colours = np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)
    assert len(colours) > 16, f"{name} screenshot has only {len(colours)} colours"


MEASURE_OVERFLOW = """<script>
var out = {page: document.documentElement.scrollWidth - window.innerWidth, boxes: {}};
document.querySelectorAll("div.scroll > table[id]").forEach(function (t) {
  out.boxes[t.id] = t.parentNode.scrollWidth - t.parentNode.clientWidth;
});
parent.postMessage(JSON.stringify(out), "*");
</script>"""


@pytest.mark.parametrize("width", [1400, 400])
def test_events_page_fits_its_width(
    chromium: str, pages: dict[str, Path], tmp_path: Path, width: int
):
    """The page never scrolls sideways: wide tables scroll in their own box, and at 1400 px
    none of them needs to (no cut-off last column). Laid out in a frame of that width
    (``FRAME_HOST``: headless Chromium's window is at least 500 px wide)."""
    overflow = _measured_in_frame(chromium, pages["events"], MEASURE_OVERFLOW, width, tmp_path)
    assert overflow["page"] <= 0, overflow
    assert set(overflow["boxes"]) >= {"episodes", "event-study-summary", "event-study-events"}
    if width == 1400:
        assert all(v <= 0 for v in overflow["boxes"].values()), overflow
    else:
        assert overflow["boxes"]["episodes"] > 0  # it does scroll in its box at 400 px


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


# --- index, compare and sweep pages: hedge attribution, narrow and wide screens -----------------


@pytest.fixture(scope="module")
def attribution_pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two runs (no tearsheets), a sweep with reference rows, a compare page, and the index."""
    from helpers_sweep import make_outcome

    from backtests.reports.compare import default_path
    from backtests.reports.index import rebuild_index
    from backtests.sweeps.report import write_outputs

    root = tmp_path_factory.mktemp("attribution")
    write_demo_runs(root, tearsheet=False, periods=300)
    sweep = root / "plain-tilt" / "sweeps" / "20251128T100000Z-abcdef"
    write_outputs(make_outcome(), sweep, "plain-tilt", "demo")
    runs = discover_runs(root)
    compare = write_compare(runs, default_path(runs, root), index=root / "index.html")
    return {"index": rebuild_index(root), "compare": compare, "heatmap": sweep / "heatmap.html"}


ATTRIBUTION_DOM = {
    "index": (
        'id="sweeps"',
        'id="compare-pages"',
        ">events</a>",
        "Excess CAGR vs base",
        "Time hedged",
        "/heatmap.html",
        "<td>SPY</td>",
    ),
    "compare": ('id="compare-runs"', "base (unhedged)", "benchmark of", ">events</a>"),
    "heatmap": (
        'class="gh-nav"',
        'id="sweep-stats"',
        'id="is-winner-cell"',
        'id="oos-winner-cell"',
        'id="is-spec-cell"',
        "above 0.5 the winner is likely luck",
        "probability the winner's Sharpe beats luck; &gt; 0.95 is strong",
    ),
}


@pytest.mark.parametrize("name", sorted(ATTRIBUTION_DOM))
def test_attribution_pages_load_cleanly_with_their_elements(
    chromium: str, attribution_pages: dict[str, Path], name: str, tmp_path: Path
):
    run = _chromium(
        chromium,
        tmp_path / "profile",
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        attribution_pages[name].as_uri(),
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert [line for line in run.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line] == []
    for needle in ATTRIBUTION_DOM[name]:
        assert needle in run.stdout, f"{needle!r} missing from the {name} page DOM"


MEASURE = (
    "<script>parent.postMessage(JSON.stringify({"
    "page: document.documentElement.scrollWidth,"
    "unboxed: Array.from(document.querySelectorAll('table.gh'))"
    ".filter(function (t) { return t.scrollWidth > t.parentElement.clientWidth"
    " && !t.parentElement.matches('div.scroll'); }).length}), '*');</script>"
)
#: Headless Chromium's window is at least 500 px wide: a frame lays the page out narrower.
FRAME_HOST = (
    "<!DOCTYPE html><html><body style='margin:0'>"
    "<script>addEventListener('message', function (e) {{"
    " document.body.setAttribute('data-measured', e.data); }});</script>"
    "<iframe src='{src}' style='width:{width}px;height:{height}px;border:0'></iframe></body></html>"
)


def _measured_in_frame(chromium: str, page: Path, script: str, width: int, tmp_path: Path) -> dict:
    """What ``script`` (a ``<script>`` posting JSON to its parent) measures on ``page`` laid out in
    a ``width``-px frame (``FRAME_HOST``)."""
    import html as html_lib

    probe = page.with_name(f"probe-{width}-{page.name}")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", script + "</body>"), "utf-8")
    host = page.with_name(f"probe-host-{width}-{page.name}")
    host.write_text(FRAME_HOST.format(src=probe.name, width=width, height=1600), "utf-8")
    run = _chromium(
        chromium,
        tmp_path / "profile",
        "--window-size=1500,1700",
        "--virtual-time-budget=5000",
        "--dump-dom",
        host.as_uri(),
    )
    found = re.search(r'data-measured="([^"]*)"', run.stdout)
    assert found, run.stderr[-2000:]
    return json.loads(html_lib.unescape(found.group(1)))


MEASURE_TEARSHEET = (
    "<script>var l = document.getElementById('left'), r = document.getElementById('right');"
    "parent.postMessage(JSON.stringify({page: document.documentElement.scrollWidth - window.innerWidth,"
    " side_by_side: r.getBoundingClientRect().top < l.getBoundingClientRect().bottom}), '*');</script>"
)


@pytest.mark.parametrize("width", [1400, 400])
def test_tearsheet_fits_its_width(chromium: str, pages: dict[str, Path], tmp_path: Path, width: int):
    """quantstats lays its charts (620 px) and metrics (320 px) side by side: on a desktop they stay
    so; on a phone they stack at full width and the page does not run off the right edge."""
    measured = _measured_in_frame(chromium, pages["tearsheet"], MEASURE_TEARSHEET, width, tmp_path)
    assert measured["page"] <= 0, measured
    assert measured["side_by_side"] is (width == 1400), measured


@pytest.mark.parametrize("width", [400, 1400])
@pytest.mark.parametrize("name", sorted(ATTRIBUTION_DOM))
def test_attribution_pages_fit_narrow_and_wide_screens(
    chromium: str, attribution_pages: dict[str, Path], name: str, width: int, tmp_path: Path
):
    """The page never scrolls sideways; a table wider than the screen scrolls in its own box."""
    source = attribution_pages[name]
    sizes = _measured_in_frame(chromium, source, MEASURE, width, tmp_path)
    assert sizes["page"] <= width and sizes["unboxed"] == 0, sizes
    shot = tmp_path / f"{name}-{width}.png"
    host = source.with_name(f"host-{width}-{source.name}")
    host.write_text(FRAME_HOST.format(src=source.name, width=width, height=1600), "utf-8")
    _chromium(
        chromium,
        tmp_path / "profile",
        "--hide-scrollbars",
        f"--screenshot={shot}",
        f"--window-size={max(width, 500)},1600",
        host.as_uri(),
    )
    pixels = image.imread(shot)
    assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 16

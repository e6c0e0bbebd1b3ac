"""User text (titles, descriptions) is escaped on every page: tearsheet, events, index, compare."""

from __future__ import annotations

import re

import pytest
from helpers_runresult import HOSTILE_TITLE, write_demo_runs

from backtests.reports.catalog import discover_runs
from backtests.reports.compare import write_compare


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("reports")
    first, second = write_demo_runs(root, tearsheet=True, periods=300)
    compare = write_compare(discover_runs(root), root / "compare.html", index=root / "index.html")
    files = {
        "tearsheet": first / "tearsheet.html",
        "events": first / "events.html",
        "events2": second / "events.html",
        "index": root / "index.html",
        "compare": compare,
    }
    return {name: path.read_text(encoding="utf-8") for name, path in files.items()}


@pytest.mark.parametrize("name", ["tearsheet", "events", "events2", "index", "compare"])
def test_no_unescaped_user_text(pages: dict[str, str], name: str):
    text = pages[name]
    assert HOSTILE_TITLE not in text
    assert "<b>bold</b>" not in text
    assert "<i>hedge" not in text  # the strategy name
    assert not re.search(r"<script[^>]*>[^<]*alert", text)
    assert not re.search(
        r'href="\s*javascript:', text, re.IGNORECASE
    )  # a javascript: source is never a link


def test_escaped_text_is_shown(pages: dict[str, str]):
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages["events"]  # table and marker tooltip
    assert pages["events"].count('class="event-marker"') == 2  # the third event is after the data
    for name in ("events", "index", "compare"):
        assert "Hedges &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; risks" in pages[name]


def test_tearsheet_fixes(pages: dict[str, str]):
    text = pages["tearsheet"]
    assert "synthetic demo data" in text and 'class="gh-banner"' in text
    assert (
        "<title>hostile &lt;i&gt;hedge vs SPY (benchmark), 2018-01-02 to 2019-02-25, "
        "data: demo (synthetic demo data)</title>" in text
    )
    assert 'href="events.html#event-study"' in text and ">All runs</a>" in text
    assert "SPY (benchmark)" in text
    assert (
        "qtpylib.io" not in text and "save()" not in text
    )  # no network favicon, no undefined onload
    assert (
        "EOY Returns vs Benchmark" in text and ">2019</text>" in text
    )  # our EOY chart, years labelled

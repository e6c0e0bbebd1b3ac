"""Chart helpers: yearly returns by hand, thinning, marker tooltips escaped and linked."""

from __future__ import annotations

import pandas as pd
import pytest

from backtests.reports import charts


def test_yearly_returns_compound_within_each_year():
    idx = pd.to_datetime(["2020-12-30", "2020-12-31", "2021-01-04", "2021-01-05"])
    yearly = charts.yearly_returns(pd.Series([0.10, -0.05, 0.02, 0.03], index=idx))
    assert list(yearly.index) == [2020, 2021]
    assert yearly[2020] == pytest.approx(1.10 * 0.95 - 1)  # 0.045
    assert yearly[2021] == pytest.approx(1.02 * 1.03 - 1)  # 0.0506


def test_thin_keeps_first_and_last_and_caps_rows():
    frame = pd.DataFrame({"a": range(2770)})
    thinned = charts.thin(frame, max_points=1000)
    assert thinned["a"].iloc[0] == 0 and thinned["a"].iloc[-1] == 2769
    assert list(thinned["a"].iloc[:3]) == [0, 3, 6]  # step = ceil(2770 / 1000) = 3
    assert len(thinned) == 924  # 0, 3, ..., 2769 = 3 * 923: 924 rows, the last included
    assert len(charts.thin(frame.iloc[:10])) == 10  # short frames untouched


def test_markers_carry_escaped_tooltips_and_links():
    idx = pd.bdate_range("2024-01-01", periods=20)
    curve = pd.Series(1.0, index=idx)
    markers = [
        charts.Marker(idx[3], 1.0, "a <b> & c", "https://example.com/?x=1&y=2", "escalation"),
        charts.Marker(idx[9], 1.0, "market trigger", "#firing-1"),
    ]
    svg = charts.line_chart({"s": curve}, title="t", ylabel="y", markers=markers)
    assert '<g id="event-marker-0" class="event-marker"><title>a &lt;b&gt; &amp; c</title>' in svg
    assert 'xlink:href="https://example.com/?x=1&amp;y=2" target="_blank"' in svg
    assert '<a xlink:href="#firing-1">' in svg  # in-page link stays in the tab
    assert svg.startswith("<svg")

"""Chart helpers: yearly returns by hand, thinning, strip markers and episode spans, colours."""

from __future__ import annotations

import re

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


def _hedge_svg(markers, spans):
    idx = pd.bdate_range("2024-01-01", periods=20)
    curve = pd.Series(1.0, index=idx)
    return charts.hedge_chart(
        {"s": curve, "unhedged": curve, "SPY (benchmark)": curve},
        curve - 1.0,
        {"s": curve - 1.0, "unhedged": curve - 1.0},
        spans=spans,
        markers=markers,
        title="t",
        relative_title="r",
    )


def test_strip_markers_carry_escaped_tooltips_and_links():
    idx = pd.bdate_range("2024-01-01", periods=20)
    markers = [
        charts.Marker(idx[3], 2, "a <b> & c", "https://example.com/?x=1&y=2", "escalation"),
        charts.Marker(idx[9], 1, "market trigger", "#firing-1"),
    ]
    spans = [charts.Span(idx[2], idx[6], "episode <1>", "#episode-0")]
    svg = _hedge_svg(markers, spans)
    assert '<g id="event-marker-0" class="event-marker"><title>a &lt;b&gt; &amp; c</title>' in svg
    assert 'xlink:href="https://example.com/?x=1&amp;y=2" target="_blank"' in svg
    assert '<a xlink:href="#firing-1">' in svg  # in-page link stays in the tab
    assert '<g id="episode-span-0" class="episode-span"><title>episode &lt;1&gt;</title>' in svg
    assert '<a xlink:href="#episode-0">' in svg
    assert svg.count('class="event-marker"') == 2 and svg.count('class="episode-span"') == 1
    assert ">2</text>" in svg  # the day's firing count beside its marker; none for a single one
    assert ">1</text>" not in svg
    assert svg.startswith("<svg")


def test_hedge_chart_is_deterministic():
    idx = pd.bdate_range("2024-01-01", periods=20)
    markers = [charts.Marker(idx[3], 1, "x", "#firing-0")]
    assert _hedge_svg(markers, []) == _hedge_svg(markers, [])


def test_every_sleeve_ticker_gets_its_own_colour():
    for count in (3, 8, 9, 14):
        colors = charts.sleeve_colors(count, charts.CORE_COLORS, "Blues")
        assert len(colors) == count and len(set(map(str, colors))) == count
    assert not set(charts.CORE_COLORS) & set(charts.HEDGE_COLORS)
    idx = pd.bdate_range("2024-01-01", periods=5)
    core = [f"C{i}" for i in range(9)]
    weights = pd.DataFrame(1 / 11, index=idx, columns=[*core, "GLD", "TLT"])
    svg = charts.weights_chart(weights, ("GLD", "TLT"), sleeve="tilt")
    fills = re.findall(r"fill: (#[0-9a-f]{6})", svg)
    assert len(set(fills) - {"#ffffff"}) == 11  # 11 tickers, 11 distinct fills
    assert "GLD (tilt)" in svg and "C0 (" not in svg

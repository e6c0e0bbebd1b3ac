"""Chart helpers: yearly returns by hand, thinning, strip markers and episode spans, colours, date ticks."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtests.reports import charts, timecharts


def test_yearly_returns_compound_within_each_year():
    idx = pd.to_datetime(["2020-12-30", "2020-12-31", "2021-01-04", "2021-01-05"])
    yearly = charts.yearly_returns(pd.Series([0.10, -0.05, 0.02, 0.03], index=idx))
    assert list(yearly.index) == [2020, 2021]
    assert yearly[2020] == pytest.approx(1.10 * 0.95 - 1)  # 0.045
    assert yearly[2021] == pytest.approx(1.02 * 1.03 - 1)  # 0.0506


def test_thin_keeps_first_and_last_and_caps_rows():
    frame = pd.DataFrame({"a": range(2770)})
    thinned = timecharts.thin(frame, max_points=1000)
    assert thinned["a"].iloc[0] == 0 and thinned["a"].iloc[-1] == 2769
    assert list(thinned["a"].iloc[:3]) == [0, 3, 6]  # step = ceil(2770 / 1000) = 3
    assert len(thinned) == 924  # 0, 3, ..., 2769 = 3 * 923: 924 rows, the last included
    assert len(timecharts.thin(frame.iloc[:10])) == 10  # short frames untouched


def _hedge_svg(markers, spans):
    idx = pd.bdate_range("2024-01-01", periods=20)
    curve = pd.Series(1.0, index=idx)
    return timecharts.hedge_chart(
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
        timecharts.Marker(idx[3], 2, "a <b> & c", "https://example.com/?x=1&y=2", "escalation"),
        timecharts.Marker(idx[9], 1, "market trigger", "#firing-1"),
    ]
    spans = [timecharts.Span(idx[2], idx[6], "episode <1>", "#episode-0")]
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
    markers = [timecharts.Marker(idx[3], 1, "x", "#firing-0")]
    assert _hedge_svg(markers, []) == _hedge_svg(markers, [])


def test_every_sleeve_ticker_gets_its_own_colour():
    for count in (3, 8, 9, 14):
        colors = timecharts.sleeve_colors(count, timecharts.CORE_COLORS, timecharts.BLUES)
        assert len(colors) == count and len(set(map(str, colors))) == count
    assert not set(timecharts.CORE_COLORS) & set(timecharts.HEDGE_COLORS)
    idx = pd.bdate_range("2024-01-01", periods=5)
    core = [f"C{i}" for i in range(9)]
    weights = pd.DataFrame(1 / 11, index=idx, columns=[*core, "GLD", "TLT"])
    svg = timecharts.weights_chart(weights, ("GLD", "TLT"), sleeve="tilt")
    fills = re.findall(r"fill: (#[0-9a-f]{6})", svg)
    assert len(set(fills) - {"#ffffff"}) == 11  # 11 tickers, 11 distinct fills
    assert "GLD (tilt)" in svg and "C0 (" not in svg


def _tick_labels(first: str, last: str) -> list[str]:
    days = timecharts._days(pd.to_datetime([first, last]))
    return [label for _, label in timecharts._Axis(int(days[0]), int(days[1])).ticks()]


def test_date_ticks_fall_on_years_months_or_days_inside_the_period():
    assert _tick_labels("2015-01-02", "2025-12-31") == [str(y) for y in range(2016, 2026)]
    assert _tick_labels("1993-01-29", "2026-06-30") == [str(y) for y in range(1995, 2026, 5)]  # 33 starts: every 5th
    assert _tick_labels("2019-01-02", "2019-06-28") == ["Feb 2019", "Mar 2019", "Apr 2019", "May 2019", "Jun 2019"]
    assert _tick_labels("2024-01-02", "2024-01-24") == ["Jan 02", "Jan 04", "Jan 06", "Jan 08", "Jan 10", "Jan 12",
                                                        "Jan 14", "Jan 16", "Jan 18", "Jan 20", "Jan 22", "Jan 24"]  # fmt: skip


def test_a_long_line_keeps_each_pixel_columns_first_lowest_highest_and_last_point():
    """26,000 daily points on ~1,000 pixel columns: at most four a column are drawn, and the
    series' extremes are among them (the line reaches the same top and bottom)."""
    idx = pd.bdate_range("1926-01-01", periods=26_000)
    wave = pd.Series(1.0 + 0.5 * np.sin(np.arange(26_000) / 7.0), index=idx)
    wave.iloc[12_345] = 3.0  # one spike: must survive the reduction
    svg = _hedge_svg_of(wave)
    growth_path = re.search(r'<path d="(M[^"]+)" fill="none" stroke="#1f5fbf" stroke-width="1.3"', svg).group(1)
    ys = [float(p.split()[1]) for p in re.split(r"[ML]", growth_path)[1:]]
    columns = timecharts.WIDTH - timecharts.LEFT - timecharts.RIGHT
    assert len(ys) <= 4 * (columns + 1)
    curves = [wave.to_numpy(), wave.to_numpy() * 0.9, wave.to_numpy() * 1.1]  # as _hedge_svg_of draws them
    top = timecharts._Panel.fitted(timecharts._Axis(0, 1), 58, 270, curves)
    assert min(ys) == pytest.approx(float(top.y(3.0)), abs=0.051)  # the spike, to the path's 0.1 px
    assert max(ys) == pytest.approx(float(top.y(wave.min())), abs=0.051)


def _hedge_svg_of(curve: pd.Series) -> str:
    return timecharts.hedge_chart(
        {"s": curve, "unhedged": curve * 0.9, "SPY (benchmark)": curve * 1.1},
        curve / (curve * 0.9) - 1.0,
        {"s": curve / curve.cummax() - 1.0},
        spans=[],
        markers=[],
        title="t",
        relative_title="r",
    )


def test_percent_ticks_print_as_many_decimals_as_their_step():
    """Relative wealth from -10% to +2.5%: with 5% margins the range is -10.625%..+3.125%, a sixth
    of it 2.29%, so the step is 2.5% and every label has one decimal (worked by hand)."""
    idx = pd.bdate_range("2024-01-01", periods=40)
    rel = pd.Series(np.linspace(-0.1, 0.025, 40), index=idx)
    svg = timecharts.hedge_chart(
        {"s": rel + 1, "u": rel + 1, "b": rel + 1}, rel, {"s": rel.clip(upper=0)},
        spans=[], markers=[], title="t", relative_title="r",
    )  # fmt: skip
    labels = re.findall(r">([^<]*%)</text>", svg)
    assert labels[:6] == ["−10.0%", "−7.5%", "−5.0%", "−2.5%", "0.0%", "2.5%"]


def test_long_sleeves_take_evenly_spaced_colours_of_the_ramp():
    colours = timecharts.sleeve_colors(9, timecharts.CORE_COLORS, timecharts.BLUES)
    # 35% of the 9-stop ramp is 0.8 of the way from #c6dbef to #9ecae1 (worked by hand)
    assert colours[0] == "#a6cde4" and colours[-1] == "#083d7f" and len(set(colours)) == 9


@settings(max_examples=200, deadline=None)
@given(first=st.integers(-40_000, 40_000), span=st.integers(0, 60_000))
def test_date_ticks_are_few_inside_the_plot_and_in_order(first: int, span: int):
    """Any period from one day to ~160 years, 1860 to 2250: one to twelve labelled ticks, each inside
    the plot, distinct and left to right."""
    axis = timecharts._Axis(first, first + span)
    ticks = axis.ticks()
    xs = [x for x, _ in ticks]
    assert 1 <= len(ticks) <= timecharts.MOST_DATE_TICKS
    assert all(axis.left <= x <= axis.left + axis.width + 1e-9 for x in xs)
    assert xs == sorted(xs) and len(set(xs)) == len(xs)


def test_a_relative_panel_of_float_noise_draws_flat_without_error():
    """Strategy and base equal but for float noise (a hedge that never traded): the panel is drawn
    as a flat line at 0 with distinct labels, where a tick step below a millionth used to raise."""
    idx = pd.bdate_range("2024-01-01", periods=30)
    curve = pd.Series(1.0, index=idx)
    for noise in (1e-16, 1e-11, 1e-9):
        rel = pd.Series(0.0, index=idx)
        rel.iloc[5] = noise
        svg = timecharts.hedge_chart(
            {"s": curve, "u": curve, "b": curve}, rel, {"s": curve - 1.0},
            spans=[], markers=[], title="t", relative_title="r",
        )  # fmt: skip
        panel = svg[svg.index(">r</text>") : svg.index(">Drawdown:")]  # the relative panel alone
        labels = re.findall(r">([^<]*%)</text>", panel)
        assert labels and len(labels) == len(set(labels)), labels  # no stacked "0%" labels


def test_a_date_label_at_the_right_edge_stays_inside_the_figure():
    days = timecharts._days(pd.to_datetime(["2025-01-02", "2025-12-01"]))
    axis = timecharts._Axis(int(days[0]), int(days[1]))
    x, label = axis.ticks()[-1]
    assert label == "Dec 2025" and x > timecharts.WIDTH - 30  # the last tick is at the very end
    assert 'text-anchor="end">Dec 2025<' in timecharts._date_label(x, 10, label)

"""The hand-built SVG charts of a sweep: colours, marks, labels, size and valid XML (no matplotlib)."""

from __future__ import annotations

import base64
import re
import struct
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from backtests.sweeps.heatmap import (
    MAX_LABELLED_CELLS,
    Figure,
    block_means,
    colours,
    figure,
    heat_panel,
    line_panel,
    png,
)

SVG = "{http://www.w3.org/2000/svg}"


def _heat(values, **marks) -> ET.Element:
    values = np.asarray(values, dtype=float)
    columns = [f"c{i}" for i in range(values.shape[1])]
    rows = [f"r{i}" for i in range(values.shape[0])]
    panel = heat_panel(
        values,
        columns,
        rows,
        prefix="is",
        title="In sample",
        x_name="x",
        y_name="y",
        value_name="sharpe",
        **marks,
    )
    return ET.fromstring(panel.svg())


def _plot_box(root: ET.Element) -> tuple[float, float, float, float]:
    """The plot area as drawn: the unfilled rectangle with the dark axis stroke."""
    (frame,) = [r for r in root.iter(f"{SVG}rect") if r.get("stroke") == "#333" and r.get("fill") == "none"]
    return tuple(float(frame.get(k)) for k in ("x", "y", "width", "height"))


def _cell_fills(root: ET.Element) -> dict[tuple[int, int], str]:
    """(column, row from the top) -> fill, read back from the cells' paths."""
    fills = {}
    for path in root.iter(f"{SVG}path"):
        for c, r, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", path.get("d")):
            for k in range(int(w)):
                fills[(int(c) + k, int(r))] = path.get("fill")
    return fills


def test_colour_scale_runs_from_viridis_dark_to_yellow_and_nan_is_grey():
    rgb = colours(np.array([-2.0, 3.0, np.nan]), -2.0, 3.0)
    assert ["#{:02x}{:02x}{:02x}".format(*c) for c in rgb.tolist()] == ["#440154", "#fde725", "#d9d9d9"]


def test_cells_are_coloured_by_value_with_row_zero_at_the_bottom():
    # rows (2nd key) bottom to top: r0 = [min, NaN], r1 = [mid, max]
    root = _heat([[0.0, np.nan], [0.5, 1.0]])
    fills = _cell_fills(root)
    assert fills[(0, 1)] == "#440154"  # bottom left: the minimum
    assert fills[(1, 1)] == "#d9d9d9"  # bottom right: NaN is grey
    assert fills[(1, 0)] == "#fde725"  # top right: the maximum
    assert len(fills) == 4


def test_the_winner_and_spec_frames_sit_on_their_cells():
    n_cols, n_rows, winner, spec = 7, 5, (4, 1), (0, 3)
    root = _heat(np.arange(35.0).reshape(n_rows, n_cols), winner=winner, spec=spec)
    left, top, width, height = _plot_box(root)
    for name, (c, r) in (("winner", winner), ("spec", spec)):
        (frame,) = [e for e in root.iter(f"{SVG}rect") if e.get("id") == f"is-{name}-cell"]
        x, y, w, h = (float(frame.get(k)) for k in ("x", "y", "width", "height"))
        # cell (c, r): c-th of n_cols across; r-th of n_rows counted from the bottom
        assert x + w / 2 == pytest.approx(left + (c + 0.5) * width / n_cols, abs=0.02)
        assert y + h / 2 == pytest.approx(top + height - (r + 0.5) * height / n_rows, abs=0.02)
        assert w < width / n_cols and h < height / n_rows  # inside the cell
    winner_frame = root.find(f".//{SVG}rect[@id='is-winner-cell']")
    spec_frame = root.find(f".//{SVG}rect[@id='is-spec-cell']")
    assert winner_frame.get("stroke") == "#000000" and spec_frame.get("stroke-dasharray")


def test_a_mark_off_the_surface_is_not_drawn():
    root = _heat(np.ones((2, 2)), winner=(1, 1), spec=None)
    ids = {e.get("id") for e in root.iter() if e.get("id")}
    assert "is-winner-cell" in ids and "is-spec-cell" not in ids


def _values(root: ET.Element) -> list[str]:
    """The printed cell values: the only text coloured black or white."""
    return [t.text for t in root.iter(f"{SVG}text") if t.get("fill") in ("#ffffff", "#000000")]


def test_values_are_printed_up_to_the_threshold_only():
    side = int(MAX_LABELLED_CELLS**0.5)
    assert side * side == MAX_LABELLED_CELLS
    grid = np.arange(MAX_LABELLED_CELLS, dtype=float).reshape(side, side) / 100
    printed = _values(_heat(grid))
    assert sorted(printed) == sorted(f"{v:.2f}" for v in grid.ravel())
    assert _values(_heat(np.arange(side * (side + 1), dtype=float).reshape(side + 1, side))) == []


def test_value_text_is_white_on_dark_cells_and_black_on_light_ones():
    root = _heat([[0.0, 1.0]])
    colour = {t.text: t.get("fill") for t in root.iter(f"{SVG}text") if t.text in ("0.00", "1.00")}
    assert colour == {"0.00": "#ffffff", "1.00": "#000000"}


def test_text_is_escaped_and_the_figure_parses_as_xml(tmp_path: Path):
    panel = heat_panel(
        np.ones((1, 2)),
        ["a<b", "c&d"],
        ['"q"'],
        prefix="oos",
        title="x < y & z",
        x_name="k<1>",
        y_name="k2",
        value_name="sharpe",
    )
    picture = figure([panel, panel], title="hedge <b>'s</b>")
    root = ET.fromstring(picture.svg)
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {"hedge <b>'s</b>", "x < y & z", "a<b", "c&d", '"q"', "k<1>"} <= texts
    assert float(root.get("width")) == 2 * 620
    assert isinstance(picture, Figure) and picture._repr_svg_() == picture.svg
    assert picture.save(tmp_path / "h.svg").read_text(encoding="utf-8") == picture.svg


def test_line_panel_has_the_star_and_the_circle_at_their_points():
    values = np.array([1.0, 3.0, np.nan, 2.0])
    panel = line_panel(
        values, ["1", "2", "3", "4"], prefix="is", title="t", x_name="k", y_name="sharpe", winner=1, spec=3
    )
    root = ET.fromstring(panel.svg())
    left, _, width, _ = _plot_box(root)
    star = root.find(f".//{SVG}polygon[@id='is-winner-cell']")
    ring = root.find(f".//{SVG}circle[@id='is-spec-cell']")
    xs = [float(p.split(",")[0]) for p in star.get("points").split()]
    assert (max(xs) + min(xs)) / 2 == pytest.approx(left + 1.5 * width / 4, abs=0.02)
    assert float(ring.get("cx")) == pytest.approx(left + 3.5 * width / 4, abs=0.02)
    assert float(ring.get("cy")) > float(star.get("points").split()[0].split(",")[1])  # 2 is below 3
    lines = root.findall(f".//{SVG}polyline")
    assert [len(p.get("points").split()) for p in lines] == [2, 1]  # the NaN breaks the line


def _png_pixels(data: bytes) -> np.ndarray:
    """Decode an 8-bit RGB PNG whose rows all use filter 0 (what ``png`` writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0] == zlib.crc32(tag + body)
        chunks[tag] = chunks.get(tag, b"") + body
        pos += 12 + length
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, 1 + 3 * width)
    assert (rows[:, 0] == 0).all()
    return rows[:, 1:].reshape(height, width, 3)


@given(arrays(np.uint8, st.tuples(st.integers(1, 6), st.integers(1, 6), st.just(3))))
def test_png_round_trips(rgb):
    assert np.array_equal(_png_pixels(png(rgb)), rgb)


@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 9), st.integers(1, 9)),
        elements=st.one_of(st.just(np.nan), st.floats(-5, 5)),
    ),
    st.integers(1, 4),
    st.integers(1, 4),
)
def test_block_means_average_the_finite_values_of_each_block(values, by_rows, by_cols):
    means = block_means(values, by_rows, by_cols)
    for i in range(means.shape[0]):
        for j in range(means.shape[1]):
            block = values[i * by_rows : (i + 1) * by_rows, j * by_cols : (j + 1) * by_cols]
            finite = block[np.isfinite(block)]
            expected = finite.mean() if finite.size else np.nan
            assert means[i, j] == pytest.approx(expected, nan_ok=True, abs=1e-12)
    assert means.shape == (-(-values.shape[0] // by_rows), -(-values.shape[1] // by_cols))


def test_a_million_cells_become_one_small_image_averaged_in_blocks():
    rows, cols = 2000, 1000
    values = np.add.outer(np.linspace(0, 1, rows), np.linspace(0, 1, cols))
    values[5, 7] = np.nan
    panel = heat_panel(
        values,
        [str(i) for i in range(cols)],
        [str(i) for i in range(rows)],
        prefix="is",
        title="t",
        x_name="x",
        y_name="y",
        value_name="sharpe",
        winner=(999, 1999),
        spec=(0, 0),
    )
    assert len(panel.svg()) < 400_000
    root = ET.fromstring(panel.svg())
    assert root.findall(f".//{SVG}path") == [] and len(root.findall(f".//{SVG}image")) == 1
    assert any("means of 3 x 5 blocks" in (t.text or "") for t in root.iter(f"{SVG}text"))
    href = root.find(f".//{SVG}image").get("href")
    pixels = _png_pixels(base64.b64decode(href.split(",", 1)[1]))
    assert pixels.shape == (400, 334, 3)  # ceil(2000 / 5) rows, ceil(1000 / 3) columns
    assert "#{:02x}{:02x}{:02x}".format(*pixels[-1, 0].tolist()) == "#440154"  # bottom left: the minimum
    left, top, width, height = _plot_box(root)
    winner = root.find(f".//{SVG}rect[@id='is-winner-cell']")
    assert float(winner.get("x")) + float(winner.get("width")) / 2 == pytest.approx(
        left + width * 999.5 / cols, abs=0.02
    )
    assert float(winner.get("y")) + float(winner.get("height")) / 2 == pytest.approx(
        top + height * 0.5 / rows, abs=0.02
    )


def test_a_thousand_cells_stay_small():
    values = np.random.default_rng(0).normal(size=(50, 20))
    panel = heat_panel(
        values,
        [str(i) for i in range(20)],
        [str(i) for i in range(50)],
        prefix="is",
        title="t",
        x_name="x",
        y_name="y",
        value_name="sharpe",
    )
    assert len(_cell_fills(ET.fromstring(panel.svg()))) == 1000
    assert len(panel.svg()) < 60_000


def test_a_constant_surface_is_mid_scale_and_an_empty_one_grey():
    constant = _heat(np.full((2, 3), 0.7))
    assert set(_cell_fills(constant).values()) == {"#21918c"}  # viridis at 1/2 (stop 8 of 16)
    assert [t.text for t in constant.iter(f"{SVG}text") if t.text == "0.7"] == ["0.7"]  # one tick
    empty = _heat(np.full((2, 2), np.nan))
    assert set(_cell_fills(empty).values()) == {"#d9d9d9"}

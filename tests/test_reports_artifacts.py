"""The run folder: files, deterministic metrics.json, manifest last, run ids, index rebuild."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from helpers_runresult import make_result

from backtests.paths import reports_dir
from backtests.reports import artifacts
from backtests.reports.artifacts import canonical, metrics_json, new_run_dir, write_run
from backtests.reports.index import rebuild_index

RUN_STEMS = {
    "events",
    "metrics",
    "config",
    "manifest",
    "returns",
    "weights",
    "targets",
    "trades",
    "triggers",
}
RUN_FILES = {
    "events.html",
    "metrics.json",
    "config.toml",
    "manifest.json",
    "returns.csv",
    "weights.csv",
    "targets.csv",
    "trades.csv",
    "triggers.csv",
}


def test_write_run_writes_every_file_and_manifest_describes_them(tmp_path: Path):
    result = make_result(periods=120)
    files = write_run(
        result, tmp_path / "out", tearsheet=False, command_line=["backtest", "run", "x"]
    )
    assert set(files) == RUN_STEMS
    assert {p.name for p in files.values()} == RUN_FILES
    assert {p.name for p in (tmp_path / "out").iterdir()} == RUN_FILES  # no temporary files left
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["run_id"] == "out"
    assert manifest["command_line"] == ["backtest", "run", "x"]
    assert manifest["created"] == "2026-11-28T09:00:00Z"  # kept from result.manifest
    assert manifest["period"] == {"start": "2018-01-02", "end": "2018-06-18"}
    assert (manifest["data"]["label"], manifest["data"]["synthetic"]) == ("demo", True)
    assert (manifest["description"], manifest["benchmark"]) == ("A test hedge strategy", "SPY")
    assert set(manifest["files"]) == RUN_FILES - {"manifest.json"}
    assert (tmp_path / "out" / "config.toml").read_text() == result.spec_toml
    returns = pd.read_csv(tmp_path / "out" / "returns.csv")
    assert list(returns.columns) == ["date", "strategy", "benchmark"]
    assert returns["date"].iloc[0] == "2018-01-02" and len(returns) == 120
    triggers = pd.read_csv(tmp_path / "out" / "triggers.csv")
    assert list(triggers.columns) == [
        "date",
        "trigger",
        "raw_date",
        "reason",
        "event_dates",
        "event_titles",
        "event_categories",
        "event_sources",
    ]
    assert triggers["event_titles"].iloc[0] == "US announces steel and aluminium tariffs"
    assert list(pd.read_csv(tmp_path / "out" / "weights.csv").columns) == ["date", "SPY", "GLD"]


def test_metrics_json_is_byte_identical_and_rounded(tmp_path: Path):
    result = make_result(periods=60)
    write_run(result, tmp_path / "a", tearsheet=False, command_line=[])
    write_run(result, tmp_path / "b", tearsheet=False, command_line=[])
    first = (tmp_path / "a" / "metrics.json").read_bytes()
    assert first == (tmp_path / "b" / "metrics.json").read_bytes()
    parsed = json.loads(first)
    assert (
        parsed["strategy"]["cagr"] == 0.0712345678901
    )  # 0.0712345678901234 to 12 significant digits
    assert list(parsed) == ["benchmark", "strategy"]
    assert b"2026" not in first  # no timestamps in metrics.json


def test_canonical_handles_nan_numpy_and_keys():
    import numpy as np

    assert canonical({"b": np.float64("nan"), "a": np.int64(3), "c": [np.float32(0.5), True]}) == {
        "b": None,
        "a": 3,
        "c": [0.5, True],
    }
    assert metrics_json({"s": {"x": float("inf"), "a": 1 / 3}}) == (
        '{\n  "s": {\n    "a": 0.333333333333,\n    "x": null\n  }\n}\n'
    )


def test_failure_leaves_no_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    out = tmp_path / "run"
    write_run(make_result(periods=60), out, tearsheet=False, command_line=[])
    assert (out / "manifest.json").exists()

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(artifacts, "events_page", broken)
    with pytest.raises(RuntimeError, match="boom"):
        write_run(make_result(periods=60), out, tearsheet=False, command_line=[])
    assert not (out / "manifest.json").exists()  # the rewritten folder does not look complete


def test_new_run_dir_is_sortable_and_unique(tmp_path: Path):
    now = datetime(2025, 11, 28, 9, 33, 12, tzinfo=UTC)
    first = new_run_dir("tariff shock/sweeps", tmp_path, spec_toml="a = 1\n", now=now)
    second = new_run_dir("tariff shock/sweeps", tmp_path, spec_toml="a = 1\n", now=now)
    assert first.parent == tmp_path / "tariff-shock" / "sweeps"
    assert new_run_dir("../evil", tmp_path, now=now).parent == tmp_path / "evil"
    assert re.fullmatch(r"20251128T093312Z-[0-9a-f]{6}", first.name)
    assert second.name == first.name + "-2"
    assert first.is_dir() and second.is_dir()


def test_index_lists_finished_runs_and_pages_link_back():
    root = reports_dir()
    result = make_result(periods=60, strategy="idx-test")
    folder = new_run_dir(result.strategy, spec_toml=result.spec_toml)
    write_run(result, folder, tearsheet=False, command_line=[])
    (root / "idx-test" / "unfinished").mkdir()  # no manifest.json: not listed
    index = rebuild_index(root).read_text()
    assert f"idx-test/{folder.name}/events.html" in index
    assert "unfinished" not in index and "1 finished run." in index
    events = (folder / "events.html").read_text()
    assert 'href="../../index.html"' in events
    assert 'href="tearsheet.html"' not in events  # no tearsheet written, no dead link


def test_run_without_events_or_firings(tmp_path: Path):
    files = write_run(
        make_result(periods=60, events=()), tmp_path / "quiet", tearsheet=False, command_line=[]
    )
    page = files["events"].read_text()
    assert "No event-driven firing inside the data: nothing to study." in page
    assert 'class="event-marker"' not in page
    assert pd.read_csv(files["triggers"]).empty

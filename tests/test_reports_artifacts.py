"""The run folder: files, deterministic metrics.json, staged writes that never destroy a user's
files, leftovers, unwritable targets, incomplete folders, run ids and the index page."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from helpers_runresult import make_result

from backtests.errors import BacktestError, UserInputError
from backtests.paths import reports_dir
from backtests.reports import artifacts, tearsheet
from backtests.reports.artifacts import metrics_json, write_run
from backtests.reports.catalog import COMPARE_META, load_run, resolve_run, scan
from backtests.reports.compare import compare_html, metric_rows, short_names
from backtests.reports.destinations import RUN_ID, check_writable_target, new_run_dir, reserved_run_dir
from backtests.reports.folders import (
    check_out_folder,
    check_writable_file,
    check_writable_folder,
    locked,
)
from backtests.reports.index import rebuild_index
from backtests.reports.jsonsafe import canonical

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
    "episodes",
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
    "episodes.csv",
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
    assert manifest["base_label"] == "unhedged"
    assert set(manifest["files"]) == RUN_FILES - {"manifest.json"}
    assert (tmp_path / "out" / "config.toml").read_text() == result.spec_toml
    returns = pd.read_csv(tmp_path / "out" / "returns.csv")
    assert list(returns.columns) == ["date", "strategy", "benchmark", "base"]
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
    metrics = {"strategy": {"cagr": 0.0712345678901234}, "benchmark": {"cagr": 0.065}}
    result = dataclasses.replace(make_result(periods=60), metrics=metrics)
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


def test_a_failed_rewrite_leaves_the_previous_run_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    out = tmp_path / "run"
    write_run(make_result(periods=60), out, tearsheet=False, command_line=[])
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(artifacts, "_manifest", broken)  # fails inside the staging folder
    with pytest.raises(RuntimeError, match="boom"):
        write_run(make_result(periods=90), out, tearsheet=False, command_line=[])
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # the staging folder is gone


def test_new_run_dir_is_sortable_and_unique(tmp_path: Path):
    now = datetime(2025, 11, 28, 9, 33, 12, tzinfo=UTC)
    first = new_run_dir("tariff shock/sweeps", tmp_path, spec_toml="a = 1\n", now=now)
    second = new_run_dir("tariff shock/sweeps", tmp_path, spec_toml="a = 1\n", now=now)
    assert first.parent == tmp_path / "tariff-shock" / "sweeps"
    assert new_run_dir("../evil", tmp_path, now=now).parent == tmp_path / "evil"
    assert re.fullmatch(r"20251128T093312Z-[0-9a-f]{6}", first.name)
    assert second.name == first.name + "-2"
    assert first.is_dir() and second.is_dir()


def test_a_reservation_removes_only_abandoned_empty_run_folders(tmp_path: Path):
    parent = tmp_path / "s"
    abandoned, filled, held = (parent / f"20251128T09331{n}Z-abcdef" for n in (2, 3, 4))
    theirs, linked = parent / "my-empty-folder", parent / "20251128T093315Z-abcdef"
    for folder in (abandoned, filled, held, theirs):
        folder.mkdir(parents=True)
    (filled / "notes.txt").write_text("mine")
    (parent / "20251128T093316Z-abcdef").write_text("a file")
    linked.symlink_to(theirs)
    with locked(held):  # another command's reservation (a second open file: its own lock)
        with reserved_run_dir("s", tmp_path, spec_toml="a = 1\n") as folder:
            assert RUN_ID.fullmatch(folder.name) and folder.parent == parent and folder.is_dir()
            assert not abandoned.exists()
            assert filled.is_dir() and held.is_dir() and theirs.is_dir() and linked.is_symlink()
            assert (parent / "20251128T093316Z-abcdef").read_text() == "a file"
            with reserved_run_dir("s", tmp_path, spec_toml="a = 1\n") as second:
                assert folder.is_dir() and second.is_dir()  # ours is held while its block runs
    assert (filled / "notes.txt").read_text() == "mine"


def test_a_killed_commands_reservation_is_removed_by_the_next(tmp_path: Path):
    import signal
    import subprocess
    import sys

    code = (
        "import sys, time; from pathlib import Path; "
        "from backtests.reports.destinations import reserved_run_dir\n"
        "with reserved_run_dir('s', Path(sys.argv[1])) as folder:\n"
        "    print(folder, flush=True); time.sleep(60)\n"
    )
    command = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        reserved = Path(command.stdout.readline().strip())
        with reserved_run_dir("s", tmp_path):
            assert reserved.is_dir()  # its command is alive: kept
        command.send_signal(signal.SIGKILL)
        command.wait(timeout=30)
        with reserved_run_dir("s", tmp_path) as folder:  # in the same second it may reuse the freed name
            assert list(reserved.parent.iterdir()) == [folder]
    finally:
        command.kill()
        command.wait(timeout=30)
        command.stdout.close()


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


# --- run folders never destroy a user's files -------------------------------------------------


def _fake_tearsheet(result, path: Path, *, top_html: str = "", **_kwargs) -> Path:
    """Stands in for quantstats (slow): the folder contract does not depend on its content."""
    path.write_text(f"tearsheet of {result.strategy}")
    return path


def test_out_folder_holding_user_files_is_refused_unless_force(tmp_path: Path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "metrics.json").write_text('{"my": "numbers"}')
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(UserInputError) as refused:
        write_run(make_result(periods=60), out, tearsheet=False)
    message = str(refused.value)
    assert str(out) in message and "--force" in message and "\n" not in message
    assert (out / "metrics.json").read_text() == '{"my": "numbers"}'  # untouched
    write_run(make_result(periods=60), out, tearsheet=False, force=True)
    assert {p.name for p in out.iterdir()} == RUN_FILES  # replaced whole: notes.txt is gone


def test_rewriting_our_run_replaces_all_of_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A run without a tearsheet into a folder that held one: no stale tearsheet beside the new run."""
    monkeypatch.setattr(tearsheet, "write_tearsheet", _fake_tearsheet)
    out = tmp_path / "run"
    first = write_run(make_result(periods=60), out, tearsheet=True)
    assert first["tearsheet"] == out / "tearsheet.html" and first["tearsheet"].exists()
    write_run(make_result(periods=90), out, tearsheet=False)
    assert {p.name for p in out.iterdir()} == RUN_FILES
    assert len(pd.read_csv(out / "returns.csv")) == 90
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_tearsheet_benchmark_is_passed_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    seen = {}

    def spy(result, path, *, top_html="", **kwargs):
        seen.update(kwargs)
        return _fake_tearsheet(result, path)

    monkeypatch.setattr(tearsheet, "write_tearsheet", spy)
    write_run(make_result(periods=60), tmp_path / "a", tearsheet=True)
    assert seen == {"benchmark": None}  # the spec's benchmark
    other = pd.Series(0.001, index=pd.bdate_range("2018-01-02", periods=60), name="ACWI")
    write_run(make_result(periods=60), tmp_path / "b", tearsheet=True, tearsheet_benchmark=other)
    assert seen["benchmark"] is other


def test_leftovers_of_killed_runs_are_removed_but_live_ones_and_user_files_kept(tmp_path: Path):
    import fcntl

    parent = tmp_path / "reports" / "strat"
    stale = parent / ".20251128T093000Z-abcdef.geohedge-dead0001.tmp"  # a killed run's staging folder
    (stale / "sub").mkdir(parents=True)
    (stale / ".tearsheet.html.template.html").write_text("template")
    live = parent / ".20251128T093100Z-abcdef.geohedge-a11e0002.tmp"  # another process is writing it
    live.mkdir()
    user_dir, user_file = parent / ".mydata.abcdefgh.tmp", parent / "draft.tmp"  # not our names
    user_dir.mkdir()
    user_file.write_text("mine")
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        write_run(make_result(periods=60), parent / "new", tearsheet=False)
    finally:
        os.close(fd)
    assert not stale.exists()
    assert live.exists() and user_dir.exists() and user_file.read_text() == "mine"
    assert {p.name for p in (parent / "new").iterdir()} == RUN_FILES


def test_index_rebuild_removes_its_own_temporary_leftovers_only():
    root = reports_dir()
    root.mkdir(parents=True)
    leftover = root / ".index.html.a1b2c3d4.tmp"  # atomic_write's name for a killed rebuild
    leftover.write_text("half an index")
    other = root / ".compare.html.a1b2c3d4.tmp"
    other.write_text("not the index's")
    rebuild_index(root)
    assert not leftover.exists() and other.exists()


def _file_in_the_way(tmp_path: Path) -> Path:
    blocker = tmp_path / "blocker"
    blocker.write_text("a regular file")
    return blocker


def test_unwritable_targets_are_user_problems_named_in_one_line(tmp_path: Path):
    blocker = _file_in_the_way(tmp_path)
    cases = [
        (lambda: check_out_folder(blocker / "run", kind="run"), f"{blocker} is a file"),
        (lambda: check_out_folder(blocker, kind="run"), "it is a file, not a folder"),
        (lambda: check_writable_folder(blocker, what="reports folder"), "it is a file"),
        (lambda: check_writable_folder(blocker / "r", what="reports folder"), f"{blocker} is a file"),
        (lambda: check_writable_file(blocker / "best.toml", what="--save-best"), "is a file"),
        (lambda: check_writable_file(tmp_path, what="--save-best"), "is a folder, not a file"),
        (lambda: new_run_dir("s", blocker), f"{blocker} is a file"),
        (lambda: write_run(make_result(periods=60), blocker / "x", tearsheet=False), "is a file"),
    ]
    for call, reason in cases:
        with pytest.raises(BacktestError) as failed:
            call()
        assert failed.value.exit_code == 1 and not isinstance(failed.value, UserInputError)
        assert reason in str(failed.value) and "\n" not in str(failed.value)


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root writes into read-only folders; the file-in-the-way case covers this"
)
def test_read_only_folder_is_reported(tmp_path: Path):
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(BacktestError, match=r"is not writable \(Permission denied\)"):
            check_out_folder(locked / "run", kind="run")
    finally:
        locked.chmod(0o755)


def test_writable_targets_pass_and_are_not_created(tmp_path: Path):
    check_out_folder(tmp_path / "a" / "b" / "run", kind="run")
    check_writable_folder(tmp_path / "reports", what="reports folder")
    check_writable_file(tmp_path / "x" / "best.toml", what="--save-best")
    assert list(tmp_path.iterdir()) == []  # checks leave nothing behind


# --- incomplete runs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("manifest", "metrics"),
    [("{}", None), ("[1, 2]", None), ("not json", None), (None, None), ("ours", "{truncated")],
)
def test_incomplete_or_corrupt_run_folders_are_counted_not_listed(manifest, metrics):
    root = reports_dir()
    good = new_run_dir("s", spec_toml="a")
    write_run(make_result(periods=60), good, tearsheet=False)
    bad = root / "s" / "20251128T000000Z-000000"
    bad.mkdir()
    (bad / "returns.csv").write_text("date,strategy\n")
    if manifest == "ours":
        (bad / "manifest.json").write_text((good / "manifest.json").read_text())
    elif manifest is not None:
        (bad / "manifest.json").write_text(manifest)
    if metrics is not None:
        (bad / "metrics.json").write_text(metrics)
    (root / "s" / "20251128T000001Z-000000").mkdir()  # empty: reserved by a run still computing
    found = scan(root)
    assert [r.path for r in found.runs] == [good] and found.incomplete == [bad]
    page = rebuild_index(root).read_text()
    assert "1 finished run." in page and "1 incomplete folder not listed" in page
    assert "s/20251128T000000Z-000000" in page
    message = f"run folder {bad} is incomplete (no valid manifest.json)"
    for ref in (str(bad), bad.name, f"s/{bad.name}"):
        with pytest.raises(BacktestError) as failed:
            resolve_run(ref, root)
        assert str(failed.value) == message and failed.value.exit_code == 1


# --- the index page ----------------------------------------------------------------------------


def test_index_links_both_pages_names_benchmark_and_shows_the_hedge(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(tearsheet, "write_tearsheet", _fake_tearsheet)
    root = reports_dir()
    result = make_result(periods=60, strategy="hedged")
    metrics = {
        **result.metrics,
        "hedge": {"excess_cagr": 0.0123, "time_hedged": 0.25},
    }
    result = dataclasses.replace(result, metrics=metrics, benchmark="ACWI")
    folder = new_run_dir(result.strategy, spec_toml="x")
    write_run(result, folder, tearsheet=True)
    old = new_run_dir("old-run", spec_toml="y")  # a run folder written before attribution
    write_run(make_result(periods=60, strategy="old-run"), old, tearsheet=False)
    metrics_file = old / "metrics.json"
    metrics_file.write_text(json.dumps({"strategy": {"cagr": 0.05}, "benchmark": {}}))
    page = rebuild_index(root).read_text()
    row = page[page.index(folder.name) :].split("</tr>")[0]
    assert f'href="hedged/{folder.name}/tearsheet.html">tearsheet</a>' in row
    assert f'href="hedged/{folder.name}/events.html">events</a>' in row
    assert "<td>ACWI</td>" in row
    assert 'data-sort="0.25">25.0%<' in row and 'data-sort="0.0123">1.23%<' in row
    old_row = page[page.index(old.name) :].split("</tr>")[0]
    assert f'href="old-run/{old.name}/events.html"' in old_row and "tearsheet.html" not in old_row
    assert 'data-sort="0.05">5.00%<' in old_row  # no hedge block: blank cells, no error


def test_compare_page_rows_links_and_short_legends(tmp_path: Path):
    root = reports_dir()
    folders = []
    for name in ("alpha", "alpha", "beta"):  # the same seed: the same SPY series in all three
        result = make_result(periods=80, strategy=name, seed=3)
        folder = new_run_dir(name, spec_toml=str(len(folders)))
        write_run(result, folder, tearsheet=False)
        folders.append(folder)
    for folder in folders[:2]:  # runs saved before returns.csv had a base column
        frame = pd.read_csv(folder / "returns.csv", index_col="date")
        frame.drop(columns="base").to_csv(folder / "returns.csv")
    runs = [load_run(f) for f in folders]
    page = compare_html(runs, index_href="../index.html", folder=root / "compare")
    assert short_names(runs) == ["alpha #1", "alpha #2", "beta"]
    metrics = page[page.index('id="compare-metrics"') :].split("</table>")[0]
    assert metrics.count("<td>strategy</td>") == 3 and metrics.count("base (unhedged)") == 3
    assert metrics.count("benchmark of alpha #1, alpha #2, beta") == 1  # shared: one row
    assert [(r["run"], r["series"]) for r in metric_rows(runs)][-1] == ("all runs", "SPY (benchmark)")
    for folder in folders:
        assert f'href="../alpha/{folder.name}/events.html"' in page or folder.parent.name == "beta"
    assert f'href="../beta/{folders[2].name}/events.html"' in page
    equity = page[page.index('id="compare-equity"') :].split("</div>")[0]
    for legend in (">alpha #1<", ">alpha #2<", ">beta<", ">SPY<"):
        assert legend in equity
    assert " @ " not in equity  # no run ids in legends
    versus = page[page.index('id="compare-vs-base"') :].split("</div>")[0]
    assert "<svg" in versus and ">beta<" in versus and "alpha" not in versus
    assert json.loads(
        page.split(f'id="{COMPARE_META}">')[1].split("</script>")[0]
    ) == [f"{f.parent.name}/{f.name}" for f in folders]


def test_check_writable_target_tells_the_reports_root_from_an_out_folder(tmp_path: Path):
    root = reports_dir()
    write_run(make_result(periods=60), new_run_dir("s", spec_toml="x"), tearsheet=False)
    check_writable_target(root)  # the root holds runs: fine, it is only written into
    check_writable_target(root / "s" / next((root / "s").iterdir()).name)  # a run of ours
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "sweep.csv").write_text("x")
    with pytest.raises(UserInputError, match="not a run or sweep folder written by geohedge"):
        check_writable_target(tmp_path / "theirs")
    check_writable_target(tmp_path / "theirs", force=True)
    with pytest.raises(UserInputError, match="contains the current folder"):
        check_writable_target(Path.cwd().parent, force=True)
    blocker = _file_in_the_way(tmp_path)
    with pytest.raises(BacktestError, match=f"{blocker} is a file"):
        check_writable_target(blocker / "out")
    with pytest.raises(BacktestError, match="output file .* is a folder, not a file"):
        check_writable_file(tmp_path)

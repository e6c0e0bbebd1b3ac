"""The tearsheet worker (``backtests.reports.worker``): the same bytes as in-process, its errors
surfaced as they are, nothing half-written, and no process left behind; a page drawn early
(``prepare``) kept only for the same job; the tearsheet's speed shortcuts
(``tearsheet.swapped``, ``reports.quantstats_fast``) change no byte.

Honest comparisons: the in-process page is written by ``write_tearsheet`` in this process,
the other by a spawned worker from the same ``RunResult``; nothing is normalised before the
byte comparison (the tearsheet is deterministic: fixed SVG hash salt, no drawing time).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from helpers_runresult import make_result

from backtests.cli import cli
from backtests.data import loader
from backtests.reports import tearsheet
from backtests.reports.artifacts import write_run
from backtests.reports.folders import leftover_files
from backtests.reports.tearsheet import write_tearsheet
from backtests.reports.worker import TearsheetWorker


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _run_files(folder: Path) -> dict[str, bytes]:
    """Every file of a run folder but the manifest (it holds the creation time)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != "manifest.json"}


def test_run_folder_with_a_worker_equals_the_one_written_in_process(tmp_path: Path) -> None:
    result = make_result(periods=130)
    write_run(result, tmp_path / "here", tearsheet=True, tearsheet_benchmark="base")
    with TearsheetWorker() as worker:
        paths = write_run(
            result, tmp_path / "there", tearsheet=True, tearsheet_benchmark="base", renderer=worker
        )
    assert paths["tearsheet"] == tmp_path / "there" / "tearsheet.html"
    assert list(paths)[-2:] == ["tearsheet", "manifest"]
    here, there = _run_files(tmp_path / "here"), _run_files(tmp_path / "there")
    assert "tearsheet.html" in there and b"Compared with the unhedged portfolio" in there["tearsheet.html"]
    assert there == here  # every byte, the tearsheet's included


@pytest.mark.parametrize("autolayout", [False, True], ids=["default rc", "figure.autolayout in the rc"])
def test_the_speed_shortcuts_change_no_byte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, autolayout: bool) -> None:
    result = make_result(periods=130)
    _qs, style = tearsheet._quantstats()
    monkeypatch.setitem(style, "figure.autolayout", autolayout)  # a user's matplotlibrc may ask for it
    fast = write_tearsheet(result, tmp_path / "fast.html").read_bytes()

    @contextmanager
    def unswapped(_module, _name, _replacement) -> Iterator[None]:
        yield  # quantstats draws its own EOY chart and redraws every chart after saving it

    monkeypatch.setattr(tearsheet, "swapped", unswapped)
    monkeypatch.setattr(tearsheet, "stand_ins", lambda _qs: nullcontext())  # quantstats' own helpers
    slow = write_tearsheet(result, tmp_path / "slow.html").read_bytes()
    assert slow == fast


def test_an_error_in_the_worker_surfaces_as_is_and_nothing_is_left(tmp_path: Path) -> None:
    # Three days are too few for quantstats (a singular covariance in its distribution
    # plot): an error raised inside quantstats, after our own checks and charts passed.
    result = make_result(periods=3)
    with pytest.raises(Exception) as in_process:
        write_tearsheet(result, tmp_path / "here.html")
    assert isinstance(in_process.value, np.linalg.LinAlgError)  # the premise of this test
    with TearsheetWorker() as worker:
        [pid] = worker.pids()
        with pytest.raises(type(in_process.value)) as in_worker:
            write_run(result, tmp_path / "run", tearsheet=True, renderer=worker)
        assert str(in_worker.value) == str(in_process.value)
        assert not (tmp_path / "run").exists()
        assert leftover_files(tmp_path, "run") == []
    assert _gone(pid)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # the failed page left nothing either


def test_a_failure_here_stops_the_worker_before_the_stage_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The events page fails while the worker draws into the stage: the worker is stopped
    first, so it cannot recreate the removed stage or leave a file in it."""
    from backtests.reports import artifacts

    def broken_page(*_args, **_kwargs):
        raise RuntimeError("events page broke")

    monkeypatch.setattr(artifacts, "events_page", broken_page)
    with TearsheetWorker() as worker:
        [pid] = worker.pids()
        with pytest.raises(RuntimeError, match="events page broke"):
            write_run(make_result(periods=130), tmp_path / "run", tearsheet=True, renderer=worker)
        assert _gone(pid)  # terminated by the abort, not only when the `with` ends
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_dead_worker_falls_back_to_rendering_here(tmp_path: Path) -> None:
    result = make_result(periods=130)
    with TearsheetWorker() as worker:
        [pid] = worker.pids()
        os.kill(pid, 9)  # killed from outside (out of memory, say)
        page = worker.render(result, tmp_path / "there.html").result()
    assert page.read_bytes() == write_tearsheet(result, tmp_path / "here.html").read_bytes()


def test_a_worker_killed_mid_render_leaves_nothing_behind(tmp_path: Path) -> None:
    import time

    result = make_result(periods=130)
    folder = tmp_path / "run"
    folder.mkdir()
    with TearsheetWorker() as worker:
        [pid] = worker.pids()
        workdir = worker._workdir
        assert workdir is not None and workdir.is_dir()
        pending = worker.render(result, folder / "tearsheet.html")
        deadline = time.monotonic() + 120
        while not (workdir / "template.html").exists():  # the worker has begun drawing
            assert time.monotonic() < deadline, "the worker never started the page"
            time.sleep(0.005)
        os.kill(pid, 9)
        page = pending.result()
        assert sorted(p.name for p in folder.iterdir()) == ["tearsheet.html"]  # only the finished page
    assert not workdir.exists()  # the worker's private folder went with it
    assert page.read_bytes() == write_tearsheet(result, tmp_path / "here.html").read_bytes()


def _count_submissions(worker: TearsheetWorker, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    jobs: list[object] = []
    submit = worker._submit

    def counting(job):
        jobs.append(job)
        return submit(job)

    monkeypatch.setattr(worker, "_submit", counting)
    return jobs


def test_a_page_prepared_for_the_same_job_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = make_result(periods=130)
    early = make_result(periods=130)  # another object, equal bit for bit (as the fast executor's)
    with TearsheetWorker() as worker:
        jobs = _count_submissions(worker, monkeypatch)
        worker.prepare(early, top_html="<nav>x</nav>", benchmark="base")
        page = worker.render(result, tmp_path / "there.html", top_html="<nav>x</nav>", benchmark="base").result()
    assert len(jobs) == 1  # drawn once, early
    expected = tearsheet.render_tearsheet(
        tearsheet.tearsheet_job(result, top_html="<nav>x</nav>", benchmark="base"), tmp_path / "here.html"
    )
    assert page.read_bytes() == expected.read_bytes()


@pytest.mark.parametrize("change", ["returns", "nav", "benchmark"])
def test_a_page_prepared_for_another_job_is_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    result = make_result(periods=130)
    early = make_result(periods=130)
    if change == "returns":  # one day off by one ulp: the page must be drawn again
        bumped = early.returns.copy()
        bumped.iloc[40] = np.nextafter(bumped.iloc[40], 1.0)
        early = dataclasses.replace(early, returns=bumped)
    nav, benchmark = "<nav>x</nav>", None
    with TearsheetWorker() as worker:
        jobs = _count_submissions(worker, monkeypatch)
        worker.prepare(
            early, top_html="<nav>y</nav>" if change == "nav" else nav, benchmark="base" if change == "benchmark" else benchmark
        )
        page = worker.render(result, tmp_path / "there.html", top_html=nav, benchmark=benchmark).result()
    assert len(jobs) == 2
    assert page.read_bytes() == write_tearsheet(result, tmp_path / "here.html", top_html=nav).read_bytes()


def test_close_ends_the_worker_even_mid_import(tmp_path: Path) -> None:
    worker = TearsheetWorker().start()
    [pid] = worker.pids()
    worker.close()
    assert _gone(pid) and worker.pids() == []
    worker.close()  # twice is harmless


class _Offline:
    def __init__(self, *args, **kwargs):
        from backtests.data.yahoo import YahooUnavailableError

        raise YahooUnavailableError("offline")


def test_backtest_run_renders_in_a_worker_and_leaves_no_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "YahooSource", _Offline)
    pids: list[int] = []
    original = TearsheetWorker.start

    def spy(self: TearsheetWorker) -> TearsheetWorker:
        original(self)
        pids.extend(self.pids())
        return self

    monkeypatch.setattr(TearsheetWorker, "start", spy)
    out = tmp_path / "run"
    args = ["run", "tariff-shock-hedge", "--source", "demo", "--start", "2019-01-02"]
    result = CliRunner().invoke(cli, [*args, "--end", "2019-12-31", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert pids, "the command must have used a worker"
    assert all(_gone(pid) for pid in pids)
    assert (out / "tearsheet.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no staging leftovers


@pytest.mark.parametrize("first", ["", "import quantstats; "], ids=["alone", "quantstats-imported-first"])
def test_a_users_matplotlibrc_never_reaches_the_tearsheet(tmp_path: Path, first: str) -> None:
    """The tearsheet's style is matplotlib's defaults, quantstats' theme and ours: a ``matplotlibrc``
    in the working folder (or named by ``$MATPLOTLIBRC``) changed every glyph of the page before;
    and quantstats imported earlier by something else (its theme leaks into the process) changes
    nothing either: the page drawn in a test process equals the worker's."""
    import json
    import subprocess
    import sys

    code = (
        f"import json, matplotlib; {first}from backtests.reports.tearsheet import _quantstats; "
        "style = _quantstats()[1]; print(json.dumps({k: repr(v) for k, v in sorted(style.items())}))"
    )
    (tmp_path / "user").mkdir()
    (tmp_path / "user" / "matplotlibrc").write_text("svg.fonttype: none\nlines.linewidth: 7.5\naxes.grid: True\n")
    (tmp_path / "plain").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "MATPLOTLIBRC"}

    def style(where: str) -> dict[str, str]:
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=tmp_path / where, env=env, check=True, capture_output=True, text=True
        )
        return json.loads(done.stdout)

    styles = [style("plain"), style("user")]
    assert styles[0]["svg.fonttype"] == "'path'" and styles[0]["lines.linewidth"] == "1.5"  # quantstats' theme
    assert styles[1] == styles[0]

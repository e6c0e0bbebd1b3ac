"""Sharing a tearsheet's charts with a fork (``backtests.reports.shared_charts``): the same page,
byte for byte, whichever process draws which chart; the fork's errors surfaced as they are; a
lost fork redrawn here; no fork left behind, even when the process that made it is killed.

Honest comparisons: the reference page is drawn by ``tearsheet_html`` in one process
(``share_charts=False``); nothing is normalised before comparing bytes.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers_runresult import make_result

from backtests.reports import shared_charts
from backtests.reports.shared_charts import SharedCharts, can_share
from backtests.reports.tearsheet import _quantstats, tearsheet_html
from backtests.reports.tearsheet_job import TearsheetJob, tearsheet_job
from backtests.reports.worker import TearsheetWorker

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork") or len(os.sched_getaffinity(0)) < 2,
    reason="charts are shared only on a system with fork and two usable cores",
)


@pytest.fixture(scope="module")
def job() -> TearsheetJob:
    return tearsheet_job(make_result(periods=130), top_html="<nav>x</nav>")


@pytest.fixture(scope="module")
def alone(job: TearsheetJob, tmp_path_factory: pytest.TempPathFactory) -> str:
    return tearsheet_html(job, tmp_path_factory.mktemp("alone"))


def _draws(monkeypatch: pytest.MonkeyPatch, rule: Callable[[int, bool], bool]) -> list[tuple[int, bool]]:
    """Charts go by ``rule(index, in_fork)`` instead of the first claim; returns the claims made here."""
    claims: list[tuple[int, bool]] = []

    def claim(self: SharedCharts, index: int) -> bool:
        mine = rule(index, self.in_fork)
        if mine and not self.in_fork:
            claims.append((index, self.in_fork))
        return mine

    monkeypatch.setattr(SharedCharts, "_claim", claim)
    monkeypatch.setattr(shared_charts, "can_share", lambda: True)  # the test runner has threads of its own
    return claims


def _render(job: TearsheetJob, folder: Path) -> str:
    folder.mkdir()
    page = tearsheet_html(job, folder, share_charts=True)
    assert sorted(p.name for p in folder.iterdir()) == ["tearsheet.html", "template.html"]  # claims removed
    return page


@pytest.mark.parametrize(
    "name, rule",
    [
        ("all here", lambda index, in_fork: not in_fork),
        ("all in the fork", lambda index, in_fork: in_fork),
        ("alternating", lambda index, in_fork: (index % 2 == 1) == in_fork),
        ("first three in the fork", lambda index, in_fork: (index < 3) == in_fork),
    ],
)
def test_the_page_is_the_same_whoever_draws_which_chart(
    job: TearsheetJob, alone: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, rule
) -> None:
    here = _draws(monkeypatch, rule)
    page = _render(job, tmp_path / "shared")
    assert page == alone
    if name == "all in the fork":
        assert here == []
    else:
        assert here  # this process drew some itself
    assert "geohedge-chart-" not in page


def test_the_live_race_gives_the_same_page(
    job: TearsheetJob, alone: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shared_charts, "can_share", lambda: True)
    for attempt in range(3):
        assert _render(job, tmp_path / f"race{attempt}") == alone


def test_an_error_in_a_chart_the_fork_draws_is_raised_here(
    job: TearsheetJob, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _draws(monkeypatch, lambda index, in_fork: in_fork)
    qs, _style = _quantstats()
    histogram = qs.plots.histogram

    def failing(*args, **kwargs):
        if os.getpid() != parent:
            raise ValueError("no bins for these returns")
        return histogram(*args, **kwargs)

    parent = os.getpid()
    monkeypatch.setattr(qs.plots, "histogram", failing)
    forks: list[int] = []
    close = SharedCharts.close

    def closing(self: SharedCharts) -> None:
        forks.append(self._child)
        close(self)

    monkeypatch.setattr(SharedCharts, "close", closing)
    (tmp_path / "page").mkdir()
    with pytest.raises(ValueError, match="^no bins for these returns$"):
        tearsheet_html(job, tmp_path / "page", share_charts=True)
    assert not list((tmp_path / "page").glob("charts-*"))  # the claims are removed
    [fork] = forks
    with pytest.raises(ChildProcessError):
        os.waitpid(fork, os.WNOHANG)  # the fork was reaped


def test_a_fork_that_dies_is_replaced_by_drawing_here(
    job: TearsheetJob, alone: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _draws(monkeypatch, lambda index, in_fork: in_fork)
    qs, _style = _quantstats()
    drawdown = qs.plots.drawdown
    parent = os.getpid()

    def dying(*args, **kwargs):
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return drawdown(*args, **kwargs)

    monkeypatch.setattr(qs.plots, "drawdown", dying)
    monkeypatch.setattr(SharedCharts, "_claim", lambda self, index: True)  # redrawn here: every chart is its own
    assert _render(job, tmp_path / "page") == alone


def test_a_process_with_threads_does_not_fork() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not can_share()
    finally:
        stop.set()
        thread.join()


def _children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return children


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to find the fork")
def test_the_worker_shares_its_charts(tmp_path: Path) -> None:
    with TearsheetWorker() as worker:
        [pid] = worker.pids()
        workdir = worker._workdir
        assert workdir is not None
        pending = worker.render(make_result(periods=500), tmp_path / "tearsheet.html")
        deadline = time.monotonic() + 120
        while not list(workdir.glob("charts-*/chart-0")):  # the first chart is claimed: the fork exists
            assert time.monotonic() < deadline, "the worker never began its charts"
            time.sleep(0.005)
        assert len(_children(pid)) == 1
        assert b"geohedge-chart-" not in pending.result().read_bytes()


_HANGING_FORK = """
import os, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from helpers_runresult import make_result
from backtests.reports.shared_charts import SharedCharts
from backtests.reports.tearsheet import _quantstats, tearsheet_html
from backtests.reports.tearsheet_job import tearsheet_job

qs, _style = _quantstats()
parent, drawdown = os.getpid(), qs.plots.drawdown

def hang(*args, **kwargs):
    if os.getpid() != parent:
        print(os.getpid(), flush=True)
        time.sleep(600)
    return drawdown(*args, **kwargs)

qs.plots.drawdown = hang
SharedCharts._claim = lambda self, index: self.in_fork
tearsheet_html(tearsheet_job(make_result(periods=130)), Path(sys.argv[1]), share_charts=True)
"""


def test_the_fork_dies_with_the_process_that_made_it(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = subprocess.Popen(
        [sys.executable, "-c", _HANGING_FORK, str(tmp_path), str(Path(__file__).parent)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        fork = int(script.stdout.readline())  # printed by the fork, from the chart it hangs in
        assert Path(f"/proc/{fork}").exists()
    finally:
        script.kill()
        script.wait()
    deadline = time.monotonic() + 10
    while _alive(fork):
        assert time.monotonic() < deadline, "the fork outlived the process that made it"
        time.sleep(0.01)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False

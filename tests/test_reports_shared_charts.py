"""Sharing a tearsheet's charts with a fork (``backtests.reports.shared_charts``): the same page,
byte for byte, whichever process draws which chart; the error one process would raise; the
page drawn anyway when sharing fails; no fork left behind, even when the process that made it
is killed.

Honest comparisons: the reference page is drawn by ``tearsheet_html`` in one process
(``share_charts=False``); nothing is normalised before comparing bytes. Every shared render
asserts that a fork was made (``_forks``), so a test cannot pass by drawing alone.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers_runresult import make_result

from backtests.reports import shared_charts, tearsheet
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


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sharing allowed in this (threaded) test process; the pid of every fork made."""
    made: list[int] = []
    fork = SharedCharts._fork

    def spying(self: SharedCharts) -> None:
        fork(self)
        if not self.in_fork and self._child is not None:
            made.append(self._child)

    monkeypatch.setattr(SharedCharts, "_fork", spying)
    monkeypatch.setattr(tearsheet, "can_share", lambda: True)
    return made


def _by_rule(monkeypatch: pytest.MonkeyPatch, rule: Callable[[int, bool], bool]) -> list[int]:
    """Charts go by ``rule(index, in_fork)`` instead of the first claim; returns those drawn here."""
    here: list[int] = []

    def claim(self: SharedCharts, index: int) -> bool:
        mine = rule(index, self.in_fork)
        if mine and not self.in_fork:
            here.append(index)
        return mine

    monkeypatch.setattr(SharedCharts, "_claim", claim)
    return here


def _render(job: TearsheetJob, folder: Path) -> str:
    folder.mkdir()
    page = tearsheet_html(job, folder, share_charts=True)
    assert sorted(p.name for p in folder.iterdir()) == ["tearsheet.html", "template.html"]  # claims removed
    return page


def _in_fork_only(name: str, monkeypatch: pytest.MonkeyPatch, act: Callable[[], object]) -> None:
    """quantstats' chart ``name`` runs ``act()`` first when drawn in a fork, then draws as usual."""
    qs, _style = _quantstats()
    draw, parent = getattr(qs.plots, name), os.getpid()

    @functools.wraps(draw)  # a quantstats function still: ``shared_charts`` wraps it
    def acting(*args, **kwargs):
        if os.getpid() != parent:
            act()
        return draw(*args, **kwargs)

    monkeypatch.setattr(qs.plots, name, acting)


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param(lambda index, in_fork: not in_fork, id="all here"),
        pytest.param(lambda index, in_fork: in_fork, id="all in the fork"),
        pytest.param(lambda index, in_fork: (index % 2 == 1) == in_fork, id="alternating"),
        pytest.param(lambda index, in_fork: (index < 3) == in_fork, id="first three in the fork"),
    ],
)
def test_the_page_is_the_same_whoever_draws_which_chart(
    job: TearsheetJob, alone: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int], rule
) -> None:
    here = _by_rule(monkeypatch, rule)
    assert _render(job, tmp_path / "shared") == alone
    assert len(forks) == 1
    assert all(rule(index, False) for index in here)  # the rest were the fork's


def test_the_live_race_gives_the_same_page(
    job: TearsheetJob, alone: str, tmp_path: Path, forks: list[int]
) -> None:
    for attempt in range(3):
        assert _render(job, tmp_path / f"race{attempt}") == alone
    assert len(forks) == 3


def test_a_name_with_double_braces_gives_the_same_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks) -> None:
    # quantstats deletes every {{...}} left in its page: a chart drawn by the fork is pasted in after that
    braced = tearsheet_job(make_result(periods=130, strategy="hedge-{{dd_plot}}"))
    (tmp_path / "alone").mkdir()
    one = tearsheet_html(braced, tmp_path / "alone")
    _by_rule(monkeypatch, lambda index, in_fork: (index % 2 == 1) == in_fork)
    assert _render(braced, tmp_path / "shared") == one
    assert "hedge-{ {dd_plot} }" in one and forks


def test_no_fork_to_be_had_draws_every_chart_here(
    job: TearsheetJob, alone: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tearsheet, "can_share", lambda: True)
    attempts: list[int] = []

    def no_fork() -> int:
        attempts.append(1)
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    assert _render(job, tmp_path / "page") == alone
    assert attempts == [1]  # tried once, at the first chart; then every chart drawn here


class _Unpicklable(Exception):
    """Pickles, but cannot be rebuilt from its pickle (its ``__init__`` wants two arguments)."""

    def __init__(self, low: float, high: float) -> None:
        super().__init__(f"bins from {low} to {high}")


@pytest.mark.parametrize(
    "error, expected",
    [
        (ValueError("no bins for these returns"), (ValueError, "no bins for these returns")),
        (_Unpicklable(0.5, 0.25), (RuntimeError, "_Unpicklable: bins from 0.5 to 0.25")),
    ],
)
def test_an_error_in_a_chart_the_fork_draws_is_raised_here(
    job: TearsheetJob, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int], error, expected
) -> None:
    _by_rule(monkeypatch, lambda index, in_fork: in_fork)

    def fail() -> None:
        raise error

    _in_fork_only("histogram", monkeypatch, fail)
    (tmp_path / "page").mkdir()
    with pytest.raises(expected[0]) as raised:
        tearsheet_html(job, tmp_path / "page", share_charts=True)
    assert str(raised.value) == expected[1]
    assert not list((tmp_path / "page").glob("charts-*"))  # the claims are removed
    [fork] = forks
    with pytest.raises(ChildProcessError):
        os.waitpid(fork, os.WNOHANG)  # the fork was reaped


def _failing(name: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    qs, _style = _quantstats()

    @functools.wraps(getattr(qs.plots, name))
    def failing(*args, **kwargs):
        raise ValueError(message)

    monkeypatch.setattr(qs.plots, name, failing)


@pytest.mark.parametrize("fork_draws", ["odd charts", "even charts"])
def test_two_failing_charts_raise_the_error_one_process_raises(
    job: TearsheetJob, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int], fork_draws: str
) -> None:
    _failing("histogram", "the histogram failed", monkeypatch)
    _failing("drawdown", "the drawdown chart failed", monkeypatch)  # an even place, the histogram an odd one
    (tmp_path / "alone").mkdir()
    with pytest.raises(ValueError) as one:
        tearsheet_html(job, tmp_path / "alone")
    odd = fork_draws == "odd charts"
    _by_rule(monkeypatch, lambda index, in_fork: (index % 2 == 1) == (in_fork == odd))
    (tmp_path / "shared").mkdir()
    with pytest.raises(ValueError) as shared:
        tearsheet_html(job, tmp_path / "shared", share_charts=True)
    assert str(one.value) == "the histogram failed" and str(shared.value) == str(one.value)
    assert forks


def test_a_fork_that_dies_is_replaced_by_drawing_here(
    job: TearsheetJob, alone: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    _by_rule(monkeypatch, lambda index, in_fork: in_fork)  # this process's page is all markers
    _in_fork_only("drawdown", monkeypatch, lambda: os.kill(os.getpid(), signal.SIGKILL))
    assert _render(job, tmp_path / "page") == alone
    assert len(forks) == 1  # the second render, alone, made none


def test_a_fork_silent_too_long_is_replaced_by_drawing_here(
    job: TearsheetJob, alone: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    monkeypatch.setattr(shared_charts, "ANSWER_TIMEOUT", 1.0)
    _by_rule(monkeypatch, lambda index, in_fork: in_fork)
    _in_fork_only("drawdown", monkeypatch, lambda: time.sleep(600))
    assert _render(job, tmp_path / "page") == alone
    [fork] = forks
    with pytest.raises(ChildProcessError):
        os.waitpid(fork, os.WNOHANG)  # killed and reaped


def test_a_quantstats_that_writes_its_page_otherwise_is_drawn_alone(
    job: TearsheetJob, alone: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    fork = SharedCharts._fork  # the spying one

    def without_open(self: SharedCharts) -> None:
        fork(self)
        if self.in_fork:  # as if quantstats wrote its page some other way than through ``open``
            del self._qs.reports.open

    monkeypatch.setattr(SharedCharts, "_fork", without_open)
    _by_rule(monkeypatch, lambda index, in_fork: in_fork)
    lost = _answers(monkeypatch)
    assert _render(job, tmp_path / "page") == alone
    assert lost == [("lost", None, "quantstats wrote no page")] and forks


def _answers(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Every answer this process reads from a fork."""
    answers: list[tuple] = []
    read = SharedCharts._read_answer

    def reading(self: SharedCharts) -> tuple:
        answers.append(read(self))
        return answers[-1]

    monkeypatch.setattr(SharedCharts, "_read_answer", reading)
    return answers


def test_after_an_error_here_the_fork_draws_no_further(
    job: TearsheetJob, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    _by_rule(monkeypatch, lambda index, in_fork: (index % 2 == 1) == in_fork)  # chart 0 is drawn here
    _failing("returns", "the first chart failed", monkeypatch)
    answers = _answers(monkeypatch)
    (tmp_path / "page").mkdir()
    with pytest.raises(ValueError, match="^the first chart failed$"):
        tearsheet_html(job, tmp_path / "page", share_charts=True)
    assert answers == [("charts", None, {})]  # the fork stopped at its first chart: it drew none


def test_an_error_between_charts_is_ordered_with_the_charts_errors(
    job: TearsheetJob, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    qs, _style = _quantstats()
    embed, calls = qs.reports._embed_figure, [0]

    def embed_failing(*args, **kwargs):  # html() embeds each chart after drawing it: a step between charts
        calls[0] += 1
        if calls[0] == 7:
            raise ValueError("the seventh embed failed")
        return embed(*args, **kwargs)

    monkeypatch.setattr(qs.reports, "_embed_figure", embed_failing)
    (tmp_path / "alone").mkdir()
    with pytest.raises(ValueError, match="^the seventh embed failed$"):
        tearsheet_html(job, tmp_path / "alone")
    _failing("rolling_beta", "the beta chart failed", monkeypatch)  # drawn just before that embed
    for folder, fork_draws in (("alone2", None), ("odd", 1), ("even", 0)):
        calls[0] = 0
        if fork_draws is not None:
            _by_rule(monkeypatch, lambda index, in_fork, parity=fork_draws: (index % 2 == parity) == in_fork)
        (tmp_path / folder).mkdir()
        with pytest.raises(ValueError, match="^the beta chart failed$"):  # what one process raises first
            tearsheet_html(job, tmp_path / folder, share_charts=fork_draws is not None)
    assert len(forks) == 2


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

hang.__module__ = drawdown.__module__
qs.plots.drawdown = hang
SharedCharts._claim = lambda self, index: self.in_fork
tearsheet_html(tearsheet_job(make_result(periods=130)), Path(sys.argv[1]), share_charts=True)
"""


def test_the_fork_dies_with_the_process_that_made_it(tmp_path: Path) -> None:
    script = subprocess.Popen(
        [sys.executable, "-c", _HANGING_FORK, str(tmp_path), str(Path(__file__).parent)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        fork = int(script.stdout.readline())  # printed by the fork, from the chart it hangs in
        assert _alive(fork)
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

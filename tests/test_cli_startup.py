"""``backtest --help`` stays light: subcommands load on demand, and the listed help is each command's own."""

from __future__ import annotations

import os
import subprocess
import sys

import click
import pytest

from backtests.cli import COMMANDS, cli


def test_listed_help_is_each_commands_own_short_help() -> None:
    ctx = click.Context(cli)
    for name, (_, _, listed) in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(limit=300) == listed, name


def test_root_help_imports_no_heavy_library() -> None:
    code = (
        "import sys\n"
        "from backtests.cli import cli\n"  # main() would end the process before the check
        "try:\n    cli(['--help'], prog_name='backtest')\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('pandas', 'numpy', 'matplotlib', 'numba', 'backtrader', 'quantstats') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out, out
    assert "sweep" in out and "Example:" in out


def test_run_starts_the_tearsheet_worker_before_pandas_and_the_page_before_matplotlib(tmp_path) -> None:
    """The worker's imports overlap this process's, and the early page's job is handed over (the
    first ``_submit``) as soon as pandas is loaded: both are on the critical path. This process never
    loads matplotlib, quantstats or scipy.stats (the worker draws; here they would only take a core
    from it)."""
    code = (
        "import sys\n"
        "from backtests.reports import worker\n"
        "seen = {}\n"
        "def spy(name):\n"
        "    original = getattr(worker.TearsheetWorker, name)\n"
        "    def wrapped(self, *args, **kwargs):\n"
        "        seen.setdefault(name, sorted(m for m in ('pandas', 'matplotlib') if m in sys.modules))\n"
        "        return original(self, *args, **kwargs)\n"
        "    setattr(worker.TearsheetWorker, name, wrapped)\n"
        "spy('start'); spy('_submit')\n"
        "from backtests.cli import cli\n"
        "try:\n"
        f"    cli(['run', 'tariff-shock-hedge', '--source', 'demo', '--start', '2019-01-02', '--end', '2019-03-29',"
        f" '--out', {str(tmp_path / 'run')!r}], prog_name='backtest')\n"
        "except SystemExit:\n    pass\n"
        "print('SEEN', seen)\n"
        "print('DRAWING', sorted(m for m in ('matplotlib', 'quantstats', 'scipy.stats') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "SEEN {'start': [], '_submit': ['pandas']}" in out, out
    assert (tmp_path / "run" / "tearsheet.html").is_file()
    assert "DRAWING []" in out, out


def test_the_tearsheet_worker_imports_yfinance_only_when_something_uses_it() -> None:
    """In the tearsheet worker: quantstats imports yfinance for downloads a tearsheet never makes; the
    stand-in defers it, and the first real use gets the real module (then every ``import yfinance`` does)."""
    code = (
        "import sys\n"
        "from backtests.reports.worker import _warm_up\n"
        "_warm_up()  # what the tearsheet worker runs first\n"
        "print('LOADED', [m for m in ('yfinance.multi', 'requests', 'curl_cffi', 'peewee') if m in sys.modules])\n"
        "import quantstats._compat\n"
        "download = quantstats._compat.yf.download\n"
        "import yfinance\n"
        "print('REAL', download is yfinance.download, yfinance.__file__.endswith('__init__.py'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "LOADED []" in out and "REAL True True" in out, out


@pytest.mark.parametrize(("jobs", "started"), [("1", "[[]]"), ("2", "[['pandas']]")])
def test_sweep_workers_start_before_pandas_with_one_job_and_numba_never_loads_here(
    tmp_path, jobs: str, started: str
) -> None:
    """With one job the sweep worker starts before this process imports pandas (numba loads there
    while the data load here); with more jobs their processes start once the sweep runs. Either
    way every compiled call (chunks, references, PBO) runs there: this process never loads numba
    (``backtests.jit``)."""
    code = (
        "import sys\n"
        "from backtests import warm_process\n"
        "from backtests.sweeps.worker import SweepWorker\n"
        "seen = []\n"
        "original = warm_process.WarmProcess.start\n"
        "def spy(self):\n"
        "    if isinstance(self, SweepWorker) and self._pool is None:\n"
        "        seen.append(sorted(m for m in ('pandas', 'numba') if m in sys.modules))\n"
        "    return original(self)\n"
        "warm_process.WarmProcess.start = spy\n"
        "from backtests.cli import cli\n"
        "try:\n"
        "    cli(['sweep', 'tariff-shock-hedge', '--source', 'demo', '--start', '2019-01-02', '--end', '2019-12-31',"
        " '--grid', 'response.hold_days=5,10', '--train-until', '2019-06-28',"
        f" '--jobs', '{jobs}', '--out', {str(tmp_path / 'sweep')!r}], prog_name='backtest')\n"
        "except SystemExit:\n    pass\n"
        "print('STARTED', seen)\n"
        "print('NUMBA', 'numba.core' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    if jobs == "2" and (os.cpu_count() or 1) < 2:
        started = "[[]]"  # capped to one job on one core
    assert f"STARTED {started}" in out, out
    assert "NUMBA False" in out, out
    assert (tmp_path / "sweep" / "sweep.csv").is_file()


def test_a_run_without_its_tearsheet_loads_no_matplotlib(tmp_path) -> None:
    """The events page's charts are drawn by hand: the run folder's pages need no plotting library;
    its kernels run without scipy.linalg (``backtests.jit``)."""
    code = (
        "import sys\n"
        "from backtests.cli import cli\n"
        "try:\n"
        "    cli(['run', 'tariff-shock-hedge', '--source', 'demo', '--start', '2019-01-02', '--end', '2019-12-31',"
        f" '--no-tearsheet', '--out', {str(tmp_path / 'run')!r}], prog_name='backtest')\n"
        "except SystemExit as done:\n    print('EXIT', done.code)\n"
        "print('LOADED', [m for m in ('matplotlib', 'quantstats', 'scipy.linalg') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "EXIT 0" in out and "LOADED []" in out, out
    assert 'class="event-marker"' in (tmp_path / "run" / "events.html").read_text()

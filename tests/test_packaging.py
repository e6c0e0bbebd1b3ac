"""The distribution carries the strategy specs and curated data, so a plain `pip install .` works."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from backtests import __version__
from backtests.paths import curated_events_dir, strategies_dir

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    if importlib.util.find_spec("setuptools") is None:
        pytest.skip("setuptools is not installed in this environment; cannot build a wheel offline")
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        cwd=build,
    )
    (path,) = out.glob("geohedge-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_ships_every_strategy_and_curated_file(wheel: zipfile.ZipFile):
    names = set(wheel.namelist())
    for spec in sorted(strategies_dir().glob("*.toml")):
        assert f"backtests/shipped/strategies/{spec.name}" in names
    for csv in sorted(curated_events_dir().glob("*.csv")):
        assert f"backtests/shipped/data/events/{csv.name}" in names
    assert "backtests/data/demo_calibration.csv" in names


def test_wheel_declares_the_console_script(wheel: zipfile.ZipFile):
    entry_points = next(n for n in wheel.namelist() if n.endswith("entry_points.txt"))
    assert "backtest = backtests.cli:main" in wheel.read(entry_points).decode()


def test_version_flag():
    from click.testing import CliRunner

    from backtests.cli import cli

    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_every_command_help_has_an_example():
    import click
    from click.testing import CliRunner

    from backtests.cli import cli

    def walk(group: click.Group, prefix: list[str]):
        for name, command in group.commands.items():
            yield prefix + [name], command
            if isinstance(command, click.Group):
                yield from walk(command, prefix + [name])

    for path, command in walk(cli, []):
        if isinstance(command, click.Group):
            continue
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Example:" in result.output, f"backtest {' '.join(path)} --help has no Example block"

"""``backtest --help`` stays light: subcommands load on demand, and the listed help is each command's own."""

from __future__ import annotations

import subprocess
import sys

import click

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

"""Usage errors end in one line with a pointer to the command's help, exit 2."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from backtests.cli import cli


@pytest.mark.parametrize(
    "args, line",
    [
        (
            ["run", "tariff-shock-hedge", "--source", "web"],
            "Error: Invalid value for '--source': 'web' is not one of 'auto', 'cache', 'yahoo', 'demo'. "
            "(see 'cli run --help')",
        ),
        (["frobnicate"], "Error: No such command 'frobnicate'. (see 'cli --help')"),
        (["sweep", "tariff-shock-hedge"], "Error: Missing option '--grid'. (see 'cli sweep --help')"),
    ],
)
def test_usage_errors_are_one_line(args, line):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [line]

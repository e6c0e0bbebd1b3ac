"""``backtest list`` and ``backtest show`` through the real command line (exit codes, stdout, stderr)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from backtests.strategy import load_spec
from backtests.strategy.schema import SECTIONS, TOP_LEVEL

SHIPPED = [
    "buy-and-hold",
    "gpr-regime-hedge",
    "green-infra-tilt",
    "rare-earth-diversify",
    "static-60-40",
    "tariff-shock-hedge",
]


@pytest.fixture(scope="module")
def cli():
    from backtests.cli import cli as root

    return root


def run(cli, *args: str):
    return CliRunner().invoke(cli, list(args))


def test_list_json_is_only_json_with_all_six(cli) -> None:
    result = run(cli, "list", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["name"] for row in rows] == SHIPPED
    for row in rows:
        assert set(row) == {"name", "description", "path"}
        assert row["description"] == load_spec(row["name"]).description
        assert Path(row["path"]).name == f"{row['name']}.toml"


def test_list_table_has_a_line_per_strategy(cli) -> None:
    result = run(cli, "list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["name", "description"]
    assert [line.split()[0] for line in lines[1:]] == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_show_prints_the_resolved_spec_with_every_default(cli, name: str) -> None:
    result = run(cli, "show", name)
    assert result.exit_code == 0, result.output
    shown = tomllib.loads(result.stdout)
    assert set(TOP_LEVEL) <= set(shown)
    for section, params in SECTIONS.items():
        assert set(shown[section]) == set(params)
    assert result.stdout == load_spec(name).to_toml()


def test_show_applies_overrides(cli) -> None:
    result = run(
        cli, "show", "tariff-shock-hedge", "--set", "response.hedge_fraction=0.3", "--set", "response.hold_days=10"
    )
    assert result.exit_code == 0
    shown = tomllib.loads(result.stdout)
    assert shown["response"]["hedge_fraction"] == 0.3 and shown["response"]["hold_days"] == 10


def test_show_reads_a_path(cli, tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text("[universe]\nSPY = 1.0\n")
    result = run(cli, "show", str(path))
    assert result.exit_code == 0
    assert tomllib.loads(result.stdout)["name"] == "mine"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["show", "nope"],
            "unknown strategy 'nope'; choose one of: "
            + ", ".join(SHIPPED)
            + " (backtest list), or give a path to a .toml file",
        ),
        (
            ["show", "tariff-shock-hedge", "--set", "response.hedge_fractoin=0.3"],
            "--set response.hedge_fractoin: unknown key (did you mean response.hedge_fraction?)",
        ),
        (
            ["show", "tariff-shock-hedge", "--set", "response.hedge_fraction=2"],
            "--set: response.hedge_fraction = '2' is out of range; expected a float >= 0 and <= 1",
        ),
        (
            ["show", "tariff-shock-hedge", "--set", "hedge_fraction"],
            "--set 'hedge_fraction': expected KEY=VALUE, e.g. response.hedge_fraction=0.5",
        ),
    ],
)
def test_show_errors_are_one_line_with_exit_code_2(cli, args: list[str], message: str) -> None:
    result = run(cli, *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"Error: {message}\n"


def test_show_file_errors_name_the_file(cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[universe]\nSPY = 1.0\n[response]\nhedge_fractoin = 0.5\n")
    result = run(cli, "show", str(path))
    assert result.exit_code == 2
    assert (
        result.stderr == f"Error: {path}: unknown key response.hedge_fractoin (did you mean response.hedge_fraction?)\n"
    )
    path.write_text("[universe]\nSPY = 0.5\nAGG = 0.4\n")
    assert run(cli, "show", str(path)).stderr == (
        f"Error: {path}: universe weights sum to 0.9; they must sum to 1 (tolerance 1e-09)\n"
    )


def test_help_has_an_example_block(cli) -> None:
    for command in ("list", "show"):
        assert "Example:\n" in run(cli, command, "--help").stdout

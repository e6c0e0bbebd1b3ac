"""``backtest list`` (the shipped strategies) and ``backtest show`` (a resolved spec as TOML)."""

from __future__ import annotations

import click

from backtests.cli.common import echo_json, echo_table, json_option, set_option
from backtests.strategy import load_spec, shipped_strategies


@click.command(name="list")
@json_option
def list_command(as_json: bool) -> None:
    """List the shipped strategies with their one-line descriptions.

    \b
    Example:
        backtest list
        backtest list --json
    """
    infos = shipped_strategies()
    if as_json:
        echo_json([{"name": i.name, "description": i.description, "path": str(i.path)} for i in infos])
        return
    echo_table([{"name": i.name, "description": i.description} for i in infos], ["name", "description"])


@click.command(name="show")
@click.argument("strategy")
@set_option
def show_command(strategy: str, overrides: tuple[str, ...]) -> None:
    """Print STRATEGY (a name from `backtest list` or a .toml path) as TOML, every default filled in.

    The output is a complete spec: save it, edit it and run it as a file.

    \b
    Example:
        backtest show tariff-shock-hedge
        backtest show tariff-shock-hedge --set response.hedge_fraction=0.3 --set response.hold_days=10
        backtest show my-strategy.toml > resolved.toml
    """
    click.echo(load_spec(strategy, overrides).to_toml(), nl=False)

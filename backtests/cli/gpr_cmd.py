"""Placeholder: `backtest data fetch-gpr` and `backtest data import-gpr`."""

import click


@click.command(name="fetch-gpr")
def fetch_gpr_command() -> None:
    """(not yet implemented)"""


@click.command(name="import-gpr")
def import_gpr_command() -> None:
    """(not yet implemented)"""

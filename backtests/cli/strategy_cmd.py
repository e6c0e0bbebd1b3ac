"""Placeholder: `backtest list` and `backtest show`."""

import click


@click.command(name="list")
def list_command() -> None:
    """(not yet implemented)"""


@click.command(name="show")
def show_command() -> None:
    """(not yet implemented)"""

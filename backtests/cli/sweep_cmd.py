"""Placeholder: `backtest sweep` (to be filled in)."""

import click


@click.command(name="sweep")
def sweep_command() -> None:
    """(not yet implemented)"""

"""Placeholder: `backtest triggers` (to be filled in)."""

import click


@click.command(name="triggers")
def triggers_command() -> None:
    """(not yet implemented)"""

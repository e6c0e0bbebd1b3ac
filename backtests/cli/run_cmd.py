"""Placeholder: `backtest run` (to be filled in)."""

import click


@click.command(name="run")
def run_command() -> None:
    """(not yet implemented)"""

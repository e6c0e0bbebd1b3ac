"""Placeholder: the `backtest data` command group (to be filled in)."""

import click


@click.group(name="data")
def data_group() -> None:
    """(not yet implemented)"""

"""Placeholder: the `backtest report` command group (to be filled in)."""

import click


@click.group(name="report")
def report_group() -> None:
    """(not yet implemented)"""

"""Placeholder: the `backtest events` command group (to be filled in)."""

import click


@click.group(name="events")
def events_group() -> None:
    """(not yet implemented)"""

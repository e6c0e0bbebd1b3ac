"""`backtest triggers STRATEGY`: when each trigger fired and which events were behind it."""

from __future__ import annotations

import click

from backtests.cli.common import (
    DataChoice,
    data_options,
    echo_json,
    json_option,
    note,
)


@click.command(name="triggers")
@click.argument("strategy")
@data_options
@json_option
def triggers_command(
    strategy: str,
    data: DataChoice,
    as_json: bool,
) -> None:
    """List every firing of STRATEGY's triggers, with the events behind each.

    Dates are the days the trigger is in force (after its lag), so a firing on
    D changes holdings at the close of D. Use it to tune triggers before a
    backtest.

    \b
    Example:
        backtest triggers tariff-shock-hedge --prices ../shared/data/prices --start 2018-01-01 --end 2019-12-31
        backtest triggers tariff-shock-hedge --set triggers.tariffs.min_severity=4 --json
    """
    from backtests.assembly import compile_run
    from backtests.cli.run_cmd import announce_inputs
    from backtests.triggers.context import FIRING_COLUMNS, split_events

    spec = data.spec(strategy)
    inputs = data.load(spec)
    announce_inputs(inputs)
    compiled = compile_run(inputs)
    outputs = compiled.outputs
    firings = compiled.firings()
    rows = [
        {col: (f"{row[col]:%Y-%m-%d}" if col in ("date", "raw_date") else str(row[col])) for col in FIRING_COLUMNS}
        for _, row in firings.iterrows()
    ]
    if as_json:
        echo_json(rows)
        return
    note(f"{spec.name}: {len(rows)} firings, {inputs.start:%Y-%m-%d} to {inputs.end:%Y-%m-%d}")
    for name, out in outputs.items():
        on_days = int((out.signal.loc[inputs.start : inputs.end] > 0).sum())
        click.echo(f"[{name}] {on_days} trading days on")
    for row in rows:
        click.echo(f"{row['date']}  {row['trigger']:<14} {row['reason']}")
        for title in split_events(row["event_titles"]):
            click.echo(f"{'':14}- {title.strip()}")

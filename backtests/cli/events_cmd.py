"""``backtest events``: list, show, validate and add geopolitical events."""

from __future__ import annotations

from typing import Any

import click
import pandas as pd

from backtests.cli.common import echo_json, echo_table, events_option, json_option, note
from backtests.dates import parse_date
from backtests.events.calendar import append_event, filter_events, load_events, validate_file
from backtests.events.schema import CATEGORIES, DIRECTIONS, SEVERITY_MAX, SEVERITY_MIN

_TABLE_COLUMNS = ("date", "category", "direction", "severity", "title")
no_curated_option = click.option(
    "--no-curated", is_flag=True, help="Leave out the curated calendar shipped with the project."
)


def _event_record(row: pd.Series) -> dict[str, Any]:
    """One event as plain JSON-able values: date as YYYY-MM-DD, lists for countries/assets."""
    record = {column: row[column] for column in row.index}
    record["date"] = row["date"].strftime("%Y-%m-%d")
    record["severity"] = int(row["severity"])
    record["countries"] = list(row["countries"])
    record["assets"] = list(row["assets"])
    return record


def _records(events: pd.DataFrame) -> list[dict[str, Any]]:
    return [_event_record(row) for _, row in events.iterrows()]


def _split_categories(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[str]:
    """``--category a,b --category c`` -> [a, b, c], each checked against the allowed categories."""
    out = [part.strip() for value in values for part in value.split(",") if part.strip()]
    for category in out:
        if category not in CATEGORIES:
            raise click.BadParameter(f"unknown category {category!r}; use one of {', '.join(CATEGORIES)}")
    return out


@click.group(name="events")
def events_group() -> None:
    """Geopolitical event calendars: the curated one and your own CSV files.

    \b
    Example:
        backtest events list --category tariff --min-severity 4
        backtest events show 2019-05-10
        backtest events validate my_events.csv
        backtest events add my_events.csv --date 2025-04-02 --title "Reciprocal tariffs" \\
            --category tariff --direction escalation --severity 5 --countries US
    """


@events_group.command(name="list")
@click.option("--category", "categories", multiple=True, callback=_split_categories,
              help=f"Keep these categories (repeatable or comma-separated): {', '.join(CATEGORIES)}.")
@click.option("--direction", type=click.Choice(DIRECTIONS), help="Keep one direction.")
@click.option("--min-severity", type=click.IntRange(SEVERITY_MIN, SEVERITY_MAX), help="Keep severity >= N.")
@click.option("--since", metavar="DATE", help="First date, YYYY-MM-DD (inclusive).")
@click.option("--until", metavar="DATE", help="Last date, YYYY-MM-DD (inclusive).")
@events_option
@no_curated_option
@json_option
def list_events_command(
    categories: list[str],
    direction: str | None,
    min_severity: int | None,
    since: str | None,
    until: str | None,
    events_files: tuple[str, ...],
    no_curated: bool,
    as_json: bool,
) -> None:
    """List events (curated calendar plus --events files), oldest first.

    \b
    Example:
        backtest events list --category tariff,export_control --since 2018-01-01
        backtest events list --no-curated --events my_events.csv --json
    """
    events = load_events(events_files, include_curated=not no_curated)
    chosen = filter_events(
        events,
        categories=categories,
        directions=[direction] if direction else None,
        min_severity=min_severity,
        since=parse_date(since, what="--since"),
        until=parse_date(until, what="--until"),
    )
    if as_json:
        echo_json(_records(chosen))
        return
    if not chosen.empty:
        echo_table(_records(chosen), _TABLE_COLUMNS)
    note(f"{len(chosen)} of {len(events)} events match")


@events_group.command(name="show")
@click.argument("date")
@events_option
@no_curated_option
@json_option
def show_events_command(date: str, events_files: tuple[str, ...], no_curated: bool, as_json: bool) -> None:
    """Show every event on DATE (YYYY-MM-DD) with all its fields.

    With no event on that date, says so and shows the nearest events before and after.

    \b
    Example:
        backtest events show 2019-05-10
        backtest events show 2019-05-10 --events my_events.csv
    """
    day = parse_date(date, what="DATE")
    events = load_events(events_files, include_curated=not no_curated)
    on_day = events[events["date"] == day]
    if as_json:
        echo_json(_records(on_day))
        return
    if on_day.empty:
        _show_nearest(events, day)
        return
    for index, (_, row) in enumerate(on_day.iterrows()):
        if index:
            click.echo("")
        record = _event_record(row)
        for column, value in record.items():
            shown = ";".join(value) if isinstance(value, list) else value
            click.echo(f"{column + ':':<11}{shown}".rstrip())


def _show_nearest(events: pd.DataFrame, day: pd.Timestamp) -> None:
    click.echo(f"No events on {day:%Y-%m-%d}.")
    before = events[events["date"] < day].tail(1)
    after = events[events["date"] > day].head(1)
    for label, nearest in (("before", before), ("after", after)):
        for _, row in nearest.iterrows():
            click.echo(f"Nearest {label}: {row['date']:%Y-%m-%d}  {row['category']}  {row['direction']}  "
                       f"{row['severity']}  {row['title']}")


@events_group.command(name="validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.pass_context
def validate_events_command(ctx: click.Context, files: tuple[str, ...]) -> None:
    """Check event files; print every problem as FILE:LINE:COLUMN: message (exit 2 if any).

    \b
    Example:
        backtest events validate my_events.csv
        backtest events validate data/events/*.csv
    """
    invalid = False
    for path in files:
        problems = validate_file(path)
        for problem in problems:
            click.echo(problem, err=True)
        if problems:
            invalid = True
        else:
            click.echo(f"{path}: {len(load_events([path], include_curated=False))} events, valid")
    if invalid:
        ctx.exit(2)


@events_group.command(name="add")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--date", required=True, metavar="DATE", help="Day the news became public (US Eastern), YYYY-MM-DD.")
@click.option("--title", required=True, help="Short headline.")
@click.option("--category", required=True, type=click.Choice(CATEGORIES), help="Event category.")
@click.option("--direction", required=True, type=click.Choice(DIRECTIONS), help="Escalation or de-escalation.")
@click.option("--severity", required=True, type=click.IntRange(SEVERITY_MIN, SEVERITY_MAX),
              help="1 (minor) to 5 (major).")
@click.option("--countries", default="", metavar="US;CN", help="Countries involved, ';'-separated.")
@click.option("--assets", default="", metavar="A;B", help="Sectors or tickers affected, ';'-separated.")
@click.option("--source", default="", metavar="URL", help="http(s) link to the news.")
@click.option("--notes", default="", help="Free text.")
@no_curated_option
def add_event_command(file: str, no_curated: bool, **fields: Any) -> None:
    """Append one validated event to FILE (created with a header if missing).

    Refuses an invalid event or a duplicate (same date, title and category) of
    an event in FILE or in the curated calendar; the file is left untouched then.

    \b
    Example:
        backtest events add my_events.csv --date 2025-04-02 --title "Reciprocal tariffs" \\
            --category tariff --direction escalation --severity 5 --countries "US;CN"
    """
    curated = None if no_curated else load_events(include_curated=True)
    event = append_event(file, also_unique_in=curated, **fields)
    line = event["origin"].rsplit(":", 1)[1]
    note(f"Added {event['date']:%Y-%m-%d} {event['category']} event to {file} (line {line}).")

"""``backtest events``: list, show, validate, add and check geopolitical events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pandas as pd

from backtests.cli.common import echo_json, echo_table, events_option, json_option, note
from backtests.dates import parse_date
from backtests.errors import UserInputError
from backtests.events.calendar import append_event, curated_files, load_events, validate_file
from backtests.events.select import filter_events
from backtests.events.schema import CATEGORIES, DIRECTIONS, SEVERITY_MAX, SEVERITY_MIN, STAGES, format_public_at

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
    record["public_at"] = None if pd.isna(row["public_at"]) else format_public_at(row["public_at"])
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
        backtest events check --prices ../shared/data/prices
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
    first, last = parse_date(since, what="--since"), parse_date(until, what="--until")
    if first is not None and last is not None and first > last:
        raise UserInputError(
            f"--since {first:%Y-%m-%d} is after --until {last:%Y-%m-%d}; give a --since on or before the --until"
        )
    events = load_events(events_files, include_curated=not no_curated)
    chosen = filter_events(
        events,
        categories=categories,
        directions=[direction] if direction else None,
        min_severity=min_severity,
        since=first,
        until=last,
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
            shown = ";".join(value) if isinstance(value, list) else ("" if value is None else value)
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
@click.option("--alone", is_flag=True,
              help="Check each file alone, not for duplicates of the curated calendar it is combined with.")
@click.pass_context
def validate_events_command(ctx: click.Context, files: tuple[str, ...], alone: bool) -> None:
    """Check event files; print every problem as FILE:LINE:COLUMN: message (exit 2 if any).

    Each file is checked as every other command uses it: combined with the
    curated calendar, so an event that duplicates a curated one (same date,
    title and category) is a problem. --alone checks the file by itself.

    \b
    Example:
        backtest events validate my_events.csv
        backtest events validate data/events/*.csv
        backtest events validate my_copy_of_curated.csv --alone
    """
    combined_with = [] if alone else curated_files()
    invalid = False
    for path in files:
        problems = validate_file(path, combined_with=combined_with)
        for problem in problems:
            click.echo(problem, err=True)
        if problems:
            invalid = True
        else:
            click.echo(f"{path}: {len(load_events([path], include_curated=False))} events, valid")
    if invalid:
        ctx.exit(2)


@events_group.command(name="add")
@click.argument("file", type=click.Path())
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
@click.option("--chain", default="", metavar="ID",
              help="Id linking the steps of one action (threat -> announcement -> signing -> effective).")
@click.option("--stage", type=click.Choice(STAGES),
              help=f"Which step this is: {', '.join(STAGES)} (default announced).")
@click.option("--public-at", default="", metavar="TIME",
              help="When the news became public, ISO 8601 with offset, e.g. 2019-05-05T14:08-04:00; "
                   "--date must be its US-Eastern day.")
@no_curated_option
def add_event_command(file: str, no_curated: bool, **fields: Any) -> None:
    """Append one validated event to FILE (created with a header if missing).

    Refuses an invalid event or a duplicate (same date, title and category) of
    an event in FILE or in the curated calendar; the file is left untouched then.

    \b
    Example:
        backtest events add my_events.csv --date 2025-04-02 --title "Reciprocal tariffs" \\
            --category tariff --direction escalation --severity 5 --countries "US;CN" \\
            --chain us-reciprocal-2025 --public-at 2025-04-02T16:00-04:00
    """
    from backtests.reports.folders import check_writable_file

    check_writable_file(Path(file), what="events file")
    curated = None if no_curated else load_events(include_curated=True)
    event = append_event(file, also_unique_in=curated, **fields)
    line = event["origin"].rsplit(":", 1)[1]
    note(f"Added {event['date']:%Y-%m-%d} {event['category']} event to {file} (line {line}).")


@events_group.command(name="check")
@click.option("--prices", "prices_dir", type=click.Path(exists=True, file_okay=False),
              help="Folder of TICKER.csv closes: first dates of the tickers, and each event's reaction.")
@events_option
@no_curated_option
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object (errors, warnings, unknown_tickers, reactions, correlations) on stdout.")
@click.pass_context
def check_events_command(
    ctx: click.Context, prices_dir: str | None, events_files: tuple[str, ...], no_curated: bool, as_json: bool
) -> None:
    """Check the calendar's chains, tickers and severities (exit 2 on errors; warnings do not fail).

    \b
    Errors (as FILE:LINE:COLUMN: message):
    - inside one chain, dates must not decrease from announced to official to
      effective (an effective row before the chain's announced row, or an
      announced row after one of its effective rows);
    - a row marked announced whose title says the measure takes effect: it
      contains, ignoring case, "take(s)/took/taking effect", "go(es)/went/going
      into effect", "come(s)/came/coming into force|effect", "enter(s)/entered/
      entering into force" or "kick(s)/kicked in", and not "immediately".
    Warnings: assets written like tickers (upper case, e.g. FXI; sector tags
    such as rare_earths are not) that had no price yet on the event date: first
    dates from --prices, else the funds' real inception dates the demo market
    knows. Tickers with no known first date are listed once, unchecked.

    \b
    With --prices, each event's reaction on its first tradable session (the
    close at least 30 minutes after public_at, else the session after the
    event's date): the return of the equal-weight basket of its ticker assets
    (SPY when it has none priced) divided by the basket's volatility over the
    60 trading days before, with the market's sign (escalations are expected
    negative); then the Spearman rank correlation of severity with |reaction|,
    per category and overall.

    This is a check on the severity rubric (data/events/README.md), never an
    input to a trigger: a reaction is known only after the event, so trading on
    it would look ahead.

    \b
    Example:
        backtest events check
        backtest events check --prices ../shared/data/prices --events my_events.csv
        backtest events check --prices ../shared/data/prices --json
    """
    from backtests.data.csvfile import CsvSource
    from backtests.events.check import check_events, first_price_dates, tickers_to_price

    events = load_events(events_files, include_curated=not no_curated)
    closes = first_dates = None
    if prices_dir is not None:
        every = CsvSource(prices_dir).read()
        closes = {t: every[t] for t in tickers_to_price(events) if t in every}
        first_dates = first_price_dates(every)
    report = check_events(events, closes=closes, first_dates=first_dates)
    if as_json:
        echo_json(_check_record(report))
    else:
        _print_check(report)
    if report.errors:
        ctx.exit(2)


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 6)


def _check_record(report: Any) -> dict[str, Any]:
    """The report as JSON-able values: findings as text, reactions and correlations as records."""
    reactions = [
        {
            **{k: row[k] for k in ("origin", "category", "direction", "stage", "basis")},
            "date": f"{row['date']:%Y-%m-%d}",
            "severity": int(row["severity"]),
            "session": None if pd.isna(row["session"]) else f"{row['session']:%Y-%m-%d}",
            "return": _number(row["return"]),
            "reaction": _number(row["reaction"]),
        }
        for _, row in report.reactions.iterrows()
    ]
    correlations = [
        {"category": row["category"], "n": int(row["n"]), "spearman": _number(row["spearman"])}
        for _, row in report.correlations.iterrows()
    ]
    return {
        "errors": [str(f) for f in report.errors],
        "warnings": [str(f) for f in report.warnings],
        "unknown_tickers": list(report.unknown_tickers),
        "reactions": reactions,
        "correlations": correlations,
    }


def _print_check(report: Any) -> None:
    for finding in report.errors:
        click.echo(f"error: {finding}", err=True)
    for finding in report.warnings:
        click.echo(f"warning: {finding}", err=True)
    record = _check_record(report)
    if record["reactions"]:
        rows = [
            {**r, "reaction": "" if r["reaction"] is None else f"{r['reaction']:+.2f}"} for r in record["reactions"]
        ]
        echo_table(rows, ("date", "category", "direction", "stage", "severity", "session", "basis", "reaction"))
        click.echo("")
        shown = [{**c, "spearman": "" if c["spearman"] is None else f"{c['spearman']:+.3f}"}
                 for c in record["correlations"]]
        click.echo("Spearman rank correlation of severity with |reaction|:")
        echo_table(shown, ("category", "n", "spearman"))
    if report.unknown_tickers:
        note(f"not checked (no known first price): {', '.join(report.unknown_tickers)}")
    note(f"{len(report.errors)} errors, {len(report.warnings)} warnings")

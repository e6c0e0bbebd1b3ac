"""Options and output helpers shared by several commands (one definition each)."""

from __future__ import annotations

import functools
import json
import os
import sys
import webbrowser
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import click

events_option = click.option(
    "--events",
    "events_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="An extra events CSV to combine with the curated calendar (repeatable).",
)
set_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a spec key, e.g. --set response.hedge_fraction=0.5 (repeatable).",
)
start_option = click.option("--start", metavar="DATE", help="First date, YYYY-MM-DD.")
end_option = click.option("--end", metavar="DATE", help="Last date, YYYY-MM-DD (inclusive).")
data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    envvar="BACKTEST_DATA_DIR",
    help="Cache folder (default: $BACKTEST_DATA_DIR, else ~/.cache/geohedge).",
)
prices_option = click.option(
    "--prices",
    "prices_dir",
    type=click.Path(exists=True),
    help="Read TICKER.csv files from this folder directly (no import needed).",
)
source_option = click.option(
    "--source",
    type=click.Choice(["auto", "cache", "yahoo", "demo"]),
    default="auto",
    show_default=True,
    help="Price source; auto = cache, then Yahoo, else the synthetic demo market.",
)

extreme_moves_option = click.option(
    "--allow-extreme-moves",
    is_flag=True,
    help="Accept one-day price moves beyond 10x or below 0.1x (refused by default as likely data errors).",
)


@dataclass(frozen=True)
class DataChoice:
    """What the user chose with the data options: period, ``--set`` overrides, events and price source."""

    start: str | None
    end: str | None
    overrides: tuple[str, ...]
    events_files: tuple[str, ...]
    prices_dir: str | None
    source: str
    data_dir: str | None
    allow_extreme_moves: bool

    def spec(self, strategy: str, extra: Sequence[str] = ()):
        """The strategy with the ``--set`` overrides (and ``extra`` ones) applied."""
        from backtests.strategy import load_spec

        return load_spec(strategy, [*self.overrides, *extra])

    def arguments(self) -> dict[str, Any]:
        """These choices as keyword arguments of ``backtests.run`` / ``sweep`` / ``inputs.load_inputs``."""
        return {
            "prices": self.prices_dir,
            "events": list(self.events_files) or None,
            "start": self.start,
            "end": self.end,
            "source": self.source,
            "data_dir": self.data_dir,
            "allow_extreme_moves": self.allow_extreme_moves,
        }

    def load(self, spec, on_loading_prices=None):
        """``inputs.load_inputs`` for ``spec`` with these choices."""
        from backtests.inputs import load_inputs

        return load_inputs(spec, **self.arguments(), on_loading_prices=on_loading_prices)


_DATA_FIELDS = tuple(f.name for f in fields(DataChoice))


def data_options(command):
    """Add --start, --end, --set, --events, --prices, --source, --data-dir, --allow-extreme-moves (in this order)
    and hand them to the command as one ``data: DataChoice`` argument."""

    @functools.wraps(command)
    def collect(*args, **kwargs):
        choice = DataChoice(**{name: kwargs.pop(name) for name in _DATA_FIELDS})
        return command(*args, data=choice, **kwargs)

    for option in reversed(
        (
            start_option,
            end_option,
            set_option,
            events_option,
            prices_option,
            source_option,
            data_dir_option,
            extreme_moves_option,
        )
    ):
        collect = option(collect)
    return collect


json_option = click.option("--json", "as_json", is_flag=True, help="Print a JSON array on stdout and nothing else.")


def echo_json(payload: Any) -> None:
    """Print ``payload`` as indented, key-sorted JSON on stdout."""
    click.echo(json.dumps(payload, indent=2, sort_keys=True, default=str))


def echo_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *, floatfmt: str = "{:.4f}") -> None:
    """Print rows as an aligned plain-text table with the given column order."""
    def fmt(value: Any) -> str:
        if isinstance(value, float):
            return floatfmt.format(value)
        return "" if value is None else str(value)

    cells = [[fmt(row.get(col)) for col in columns] for row in rows]
    widths = [max([len(col)] + [len(r[i]) for r in cells]) for i, col in enumerate(columns)]
    click.echo("  ".join(col.ljust(w) for col, w in zip(columns, widths)).rstrip())
    for r in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def note(message: str) -> None:
    """A progress or status line on stderr, so stdout stays clean for --json."""
    click.echo(message, err=True)


def open_in_browser(page: Path) -> bool:
    """Open ``page`` in a browser where one can plausibly run (macOS, Windows, an X/Wayland display).

    Returns False, without trying (and without the noise of a failing
    ``xdg-open``), on a headless machine.
    """
    if sys.platform not in ("darwin", "win32") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    return webbrowser.open(page.resolve().as_uri())

"""The ``event`` trigger: a signal from the geopolitical event calendar.

Matching escalation events are stamped on the trading calendar (see
``backtests.triggers.timing``); each trading day with accepted events *fires*.
A firing keeps the signal on for ``hold_days`` trading days (its own day
included); its intensity is 1 (``flat``) or ``max severity / 5``
(``severity``), decaying by half every ``decay_half_life`` trading days if
that is > 0. Overlapping firings combine by maximum. Once the signal is off,
events in the next ``cooldown_days`` trading days are ignored. Events dated
before the first trading day of the calendar are ignored.

Matching de-escalation events (same categories and countries) set ``release``
on their day when ``release_on_deescalation`` is on and ``direction`` is
``escalation``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from backtests.events.calendar import filter_events
from backtests.events.schema import CATEGORIES, DIRECTIONS, SEVERITY_MAX, SEVERITY_MIN
from backtests.errors import UserInputError
from backtests.params import ParamSpec, suggest
from backtests.triggers.context import MarketContext, TriggerOutput, join_events
from backtests.triggers.timing import (
    RawFiring,
    hold_param,
    lag_param,
    lagged_output,
    stamp_positions,
)

ANY_DIRECTION = "any"

EVENT_PARAMS: dict[str, ParamSpec] = {
    "categories": ParamSpec(
        "str_list", [], help=f"event categories to match ({', '.join(CATEGORIES)}); empty = all"
    ),
    "direction": ParamSpec(
        "str", "escalation", help="event direction to match", choices=DIRECTIONS + (ANY_DIRECTION,)
    ),
    "min_severity": ParamSpec(
        "int",
        SEVERITY_MIN,
        help="lowest event severity (1-5) that counts",
        min=SEVERITY_MIN,
        max=SEVERITY_MAX,
    ),
    "countries": ParamSpec(
        "str_list",
        [],
        help="country codes; an event matches if it names any of them (empty = any country)",
    ),
    "keywords": ParamSpec(
        "str_list",
        [],
        help="words the event title must contain one of, case-insensitive (empty = no filter)",
    ),
    "hold_days": hold_param(
        "trading days the signal stays on after a firing, its day included (1 = one-day pulse)"
    ),
    "cooldown_days": ParamSpec(
        "int",
        0,
        help="after the signal turns off, ignore new events for this many trading days",
        min=0,
    ),
    "decay_half_life": ParamSpec(
        "float",
        0.0,
        help="trading days for the intensity to halve while held (0 = no decay)",
        min=0.0,
    ),
    "intensity": ParamSpec(
        "str",
        "flat",
        help="signal level of a firing: flat = 1.0, severity = max severity / 5",
        choices=("flat", "severity"),
    ),
    "release_on_deescalation": ParamSpec(
        "bool",
        True,
        help="de-escalation events of the same categories/countries set release on their day",
    ),
    "lag": lag_param(),
}


def select_events(events: pd.DataFrame, params: dict[str, Any], direction: str) -> pd.DataFrame:
    """The events matching the trigger's filters in ``direction`` (``any``: both directions)."""
    if events.empty:
        return events
    return filter_events(
        events,
        categories=params["categories"],
        directions=None if direction == ANY_DIRECTION else [direction],
        min_severity=params["min_severity"],
        countries=params["countries"],
        keywords=params["keywords"],
    )


def _stamped_groups(
    events: pd.DataFrame, calendar: pd.DatetimeIndex
) -> list[tuple[int, pd.DataFrame]]:
    """Events grouped by calendar position, skipping those before the calendar or after its end."""
    if events.empty or calendar.empty:
        return []
    inside = events[events["date"] >= calendar[0]]
    grouped = inside.assign(_pos=stamp_positions(inside["date"], calendar))
    grouped = grouped[grouped["_pos"] < len(calendar)]
    return [(int(pos), rows.drop(columns="_pos")) for pos, rows in grouped.groupby("_pos")]


def _pulses(
    groups: list[tuple[int, pd.DataFrame]], n: int, params: dict[str, Any]
) -> tuple[np.ndarray, list[RawFiring]]:
    """Raw signal and firings from event groups, applying hold, cooldown, intensity and decay."""
    hold, cooldown = params["hold_days"], params["cooldown_days"]
    half_life = params["decay_half_life"]
    signal = np.zeros(n)
    firings: list[RawFiring] = []
    last_on: int | None = None  # last raw position of the signal's current or latest on-spell
    for pos, group in groups:
        if last_on is not None and last_on < pos <= last_on + cooldown:
            continue
        top = int(group["severity"].max())
        level = top / SEVERITY_MAX if params["intensity"] == "severity" else 1.0
        end = min(pos + hold, n)
        ages = np.arange(end - pos)
        contribution = level * 0.5 ** (ages / half_life) if half_life > 0 else level
        signal[pos:end] = np.maximum(signal[pos:end], contribution)
        last_on = pos + hold - 1 if last_on is None else max(last_on, pos + hold - 1)
        count = f"{len(group)} event" + ("s" if len(group) > 1 else "")
        firings.append(RawFiring(pos, f"{count}, max severity {top}", join_events(group)))
    return signal, firings


def _releases(ctx: MarketContext, params: dict[str, Any]) -> np.ndarray:
    """Raw release: days on which a matching de-escalation event is stamped."""
    release = np.zeros(len(ctx.calendar), dtype=bool)
    if not params["release_on_deescalation"] or params["direction"] != "escalation":
        return release
    # Release matches categories and countries only: a truce rarely repeats the escalation's words.
    calming = select_events(
        ctx.events, {**params, "min_severity": SEVERITY_MIN, "keywords": []}, "de-escalation"
    )
    for pos, _ in _stamped_groups(calming, ctx.calendar):
        release[pos] = True
    return release


def event_trigger(name: str, params: dict[str, Any], ctx: MarketContext) -> TriggerOutput:
    """Evaluate an ``event`` trigger (``params`` validated and defaulted, see ``EVENT_PARAMS``)."""
    matching = select_events(ctx.events, params, params["direction"])
    signal, firings = _pulses(_stamped_groups(matching, ctx.calendar), len(ctx.calendar), params)
    return lagged_output(name, ctx.calendar, signal, _releases(ctx, params), firings, params["lag"])


def resolve_event_params(params: dict[str, Any], key: str) -> dict[str, Any]:
    """Check each category is known and upper-case the country codes."""
    for category in params["categories"]:
        if category not in CATEGORIES:
            raise UserInputError(
                f"{key}.categories: unknown category {category!r}"
                f"{suggest(category, CATEGORIES, n=1)}; "
                f"use any of {', '.join(CATEGORIES)}"
            )
    return {**params, "countries": [c.upper() for c in params["countries"]]}

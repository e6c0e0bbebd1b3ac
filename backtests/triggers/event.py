"""The ``event`` trigger: a signal from the geopolitical event calendar.

Matching escalation events at the chosen ``stages`` (default: ``announced``
only, so a pre-announced signing or effective date does not fire again) are
placed on their effective trading day by the event timing rule
(``backtests.triggers.timing``: ``public_at`` when known, else the date, then
``lag``); each trading day with accepted events *fires*. Hold, cooldown and
decay count trading days from the effective day.
A firing keeps the signal on for ``hold_days`` trading days (its own day
included); its intensity is 1 (``flat``) or ``max severity / 5``
(``severity``), decaying by half every ``decay_half_life`` trading days if
that is > 0. Overlapping firings combine by maximum. Once the signal is off,
events in the next ``cooldown_days`` trading days are ignored. Events dated
before the first trading day of the calendar are ignored.

Matching de-escalation events (same categories, countries and stages) set
``release`` on their effective day when ``release_on_deescalation`` is on and
``direction`` is ``escalation``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from backtests import portable_math
from backtests.errors import UserInputError
from backtests.events.schema import CATEGORIES, DEFAULT_STAGE, DIRECTIONS, SEVERITY_MAX, SEVERITY_MIN, STAGES
from backtests.events.select import filter_events
from backtests.params import ParamSpec, suggest
from backtests.triggers.context import MarketContext, TriggerOutput, join_events
from backtests.triggers.timing import (
    RawFiring,
    event_positions,
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
    "stages": ParamSpec(
        "str_list",
        [DEFAULT_STAGE],
        help=f"event stages that fire ({', '.join(STAGES)}); default announced only, "
        "so a pre-announced signing or effective date does not fire again; empty = every stage",
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
        stages=params["stages"],
    )


def _placed_groups(
    events: pd.DataFrame, calendar: pd.DatetimeIndex, lag: int
) -> list[tuple[int, int, np.ndarray]]:
    """(effective position, stamp position, row positions in ``events``) per effective day, in calendar
    order (rows in their order in ``events``).

    Skips events dated before the calendar and those effective after its end.
    """
    if events.empty or calendar.empty:
        return []
    rows = np.flatnonzero((events["date"] >= calendar[0]).to_numpy())
    inside = events.iloc[rows]
    pos = np.asarray(event_positions(inside["date"], inside["public_at"], calendar, lag), dtype=np.int64)
    stamp = np.asarray(stamp_positions(inside["date"], calendar), dtype=np.int64)
    kept = pos < len(calendar)
    rows, pos, stamp = rows[kept], pos[kept], stamp[kept]
    if not len(rows):
        return []
    order = np.argsort(pos, kind="stable")
    days, starts = np.unique(pos[order], return_index=True)
    return [
        (int(day), int(stamp[members].min()), rows[members])
        for day, members in zip(days, np.split(order, starts[1:]), strict=True)
    ]


def _pulses(
    events: pd.DataFrame, groups: list[tuple[int, int, np.ndarray]], n: int, params: dict[str, Any]
) -> tuple[np.ndarray, list[RawFiring]]:
    """Effective signal and firings from placed event groups (rows of ``events``): hold, cooldown,
    intensity and decay."""
    hold, cooldown = params["hold_days"], params["cooldown_days"]
    half_life = params["decay_half_life"]
    severity = events["severity"].to_numpy()
    signal = np.zeros(n)
    firings: list[RawFiring] = []
    last_on: int | None = None  # last raw position of the signal's current or latest on-spell
    for pos, stamp, rows in groups:
        if last_on is not None and last_on < pos <= last_on + cooldown:
            continue
        top = int(severity[rows].max())
        level = top / SEVERITY_MAX if params["intensity"] == "severity" else 1.0
        end = min(pos + hold, n)
        ages = np.arange(end - pos)
        contribution = level * portable_math.exp2(-(ages / half_life)) if half_life > 0 else level
        signal[pos:end] = np.maximum(signal[pos:end], contribution)
        last_on = pos + hold - 1 if last_on is None else max(last_on, pos + hold - 1)
        count = f"{len(rows)} event" + ("s" if len(rows) > 1 else "")
        firings.append(RawFiring(pos, f"{count}, max severity {top}", join_events(events.iloc[rows]), raw_pos=stamp))
    return signal, firings


def _releases(ctx: MarketContext, params: dict[str, Any]) -> np.ndarray:
    """Effective release: days on which a matching de-escalation event becomes effective."""
    release = np.zeros(len(ctx.calendar), dtype=bool)
    if not params["release_on_deescalation"] or params["direction"] != "escalation":
        return release
    # Release matches categories and countries only: a truce rarely repeats the escalation's words.
    calming = select_events(
        ctx.events, {**params, "min_severity": SEVERITY_MIN, "keywords": []}, "de-escalation"
    )
    for pos, _, _ in _placed_groups(calming, ctx.calendar, params["lag"]):
        release[pos] = True
    return release


def event_trigger(name: str, params: dict[str, Any], ctx: MarketContext) -> TriggerOutput:
    """Evaluate an ``event`` trigger (``params`` validated and defaulted, see ``EVENT_PARAMS``)."""
    matching = select_events(ctx.events, params, params["direction"])
    groups = _placed_groups(matching, ctx.calendar, params["lag"])
    signal, firings = _pulses(matching, groups, len(ctx.calendar), params)
    # Already placed on effective days (the lag is part of the event timing rule): no further shift.
    return lagged_output(name, ctx.calendar, signal, _releases(ctx, params), firings, 0)


def resolve_event_params(params: dict[str, Any], key: str) -> dict[str, Any]:
    """Check each category and stage is known and upper-case the country codes."""
    for stage in params["stages"]:
        if stage not in STAGES:
            raise UserInputError(
                f"{key}.stages: unknown stage {stage!r}{suggest(stage, STAGES, n=1)}; use any of {', '.join(STAGES)}"
            )
    for category in params["categories"]:
        if category not in CATEGORIES:
            raise UserInputError(
                f"{key}.categories: unknown category {category!r}"
                f"{suggest(category, CATEGORIES, n=1)}; "
                f"use any of {', '.join(CATEGORIES)}"
            )
    return {**params, "countries": [c.upper() for c in params["countries"]]}

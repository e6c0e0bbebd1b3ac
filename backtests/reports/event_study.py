"""Event study: how strategy and benchmark moved around each event that fired a trigger (pure).

Conventions (documented on the events page too):

- **Anchor.** An event is stamped on the first trading day on or after its date
  (day 0). Events dated before the first or after the last trading day of the
  run have no anchor and are left out.
- **Window a→b.** The compound return from the close of trading day ``a`` to the
  close of trading day ``b``, both counted from the anchor:
  ``W[k+b] / W[k+a] - 1`` with ``W`` the cumulative wealth ``prod(1 + r)``.
  So −5→0 is the five days leading into the event close, 0→+5 the five days
  after it.
- **Past the data.** A window reaching before the first or past the last
  trading day is NaN and is excluded from every average and hit rate
  (``n`` counts the events that do have the window).
- **Hit.** The strategy beat the benchmark over the window by more than
  ``HIT_TOLERANCE`` (so a window where both held the same assets, equal up to
  float rounding, is not a hit).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from backtests.triggers.context import EVENT_FIELDS, split_events

Window = tuple[int, int]
DEFAULT_WINDOWS: tuple[Window, ...] = ((-5, 0), (0, 5), (0, 20), (0, 60))
EVENT_COLUMNS: tuple[str, ...] = ("date", "title", "category", "direction")
HIT_TOLERANCE = 1e-12


def window_label(window: Window) -> str:
    """``(-5, 0)`` -> ``"-5→0"``, ``(0, 20)`` -> ``"0→+20"``."""
    a, b = window
    return f"{a:+d}→{b:+d}".replace("+0→", "0→").replace("→+0", "→0")


def direction_lookup(events: pd.DataFrame) -> dict[tuple[pd.Timestamp, str], str]:
    """``(date, title) -> direction`` of the events in use (empty without those columns)."""
    if events.empty or not {"date", "title", "direction"} <= set(events.columns):
        return {}
    return {
        (pd.Timestamp(d), str(t)): str(v)
        for d, t, v in zip(events["date"], events["title"], events["direction"], strict=True)
    }


def firing_events(firing: pd.Series) -> list[dict[str, str]]:
    """The events behind one firing: ``date, title, category, source`` each.

    Unpacked from its ``event_*`` fields (joined by ``EVENT_SEPARATOR``, split by
    ``split_events``); a field whose item count does not match the dates is left blank.
    """
    fields = {column: split_events(firing.get(field)) for field, column in EVENT_FIELDS.items()}
    dates = fields["date"]
    return [
        {key: values[i] if len(values) == len(dates) else "" for key, values in fields.items()}
        for i in range(len(dates))
    ]


def fired_events(firings: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """The distinct events (by date and title) behind ``firings``, with category and direction.

    Direction comes from ``events`` (``"unknown"`` when the event is not found there).
    Market triggers (no events) contribute nothing.
    """
    rows: dict[tuple[pd.Timestamp, str], dict[str, object]] = {}
    for _, firing in firings.iterrows():
        for event in firing_events(firing):
            key = (pd.Timestamp(event["date"]), event["title"])
            rows.setdefault(key, {"date": key[0], "title": key[1], "category": event["category"]})
    out = pd.DataFrame(list(rows.values()), columns=["date", "title", "category"])
    directions = direction_lookup(events)
    out["direction"] = [
        directions.get((d, t), "unknown") for d, t in zip(out["date"], out["title"], strict=True)
    ]
    return out.sort_values(["date", "title"], kind="stable").reset_index(drop=True)


def event_windows(
    strategy: pd.Series,
    benchmark: pd.Series,
    events: pd.DataFrame,
    windows: Sequence[Window] = DEFAULT_WINDOWS,
) -> pd.DataFrame:
    """One row per (event, window).

    Columns: ``date, anchor, title, category, direction, window, strategy, benchmark, hit``.

    ``strategy``/``benchmark``: daily simple returns on the same trading calendar.
    ``events``: columns ``EVENT_COLUMNS``. ``hit`` is NaN where the window is.
    """
    calendar = pd.DatetimeIndex(strategy.index)
    wealth = {
        "strategy": np.cumprod(1.0 + strategy.to_numpy(dtype=float)),
        "benchmark": np.cumprod(1.0 + benchmark.reindex(calendar).to_numpy(dtype=float)),
    }
    n = len(calendar)
    rows = []
    for _, ev in events.iterrows():
        day = pd.Timestamp(ev["date"])
        k = int(calendar.searchsorted(day, side="left"))
        if n == 0 or k >= n or day < calendar[0]:
            continue
        for a, b in windows:
            inside = 0 <= k + a and k + b < n
            values = {
                name: (w[k + b] / w[k + a] - 1.0) if inside else np.nan
                for name, w in wealth.items()
            }
            hit = (
                float(values["strategy"] > values["benchmark"] + HIT_TOLERANCE)
                if inside
                else np.nan
            )
            rows.append(
                {
                    **{c: ev[c] for c in EVENT_COLUMNS},
                    "anchor": calendar[k],
                    "window": window_label((a, b)),
                    **values,
                    "hit": hit,
                }
            )
    columns = [*EVENT_COLUMNS, "anchor", "window", "strategy", "benchmark", "hit"]
    return pd.DataFrame(rows, columns=columns)


def summarize(per_event: pd.DataFrame) -> pd.DataFrame:
    """Averages by category and direction (plus an ``all``/``all`` row) per window.

    Columns: ``category, direction, window, n, strategy, benchmark, excess, hit_rate``.
    NaN windows (past the data) are dropped before averaging; ``n`` counts what is left.
    """
    valid = per_event.dropna(subset=["strategy", "benchmark"])
    overall = valid.assign(category="all", direction="all")
    both = pd.concat([valid, overall], ignore_index=True)
    order = {label: i for i, label in enumerate(dict.fromkeys(per_event["window"]))}
    grouped = (
        both.groupby(["category", "direction", "window"], sort=False)
        .agg(
            n=("strategy", "size"),
            strategy=("strategy", "mean"),
            benchmark=("benchmark", "mean"),
            hit_rate=("hit", "mean"),
        )
        .reset_index()
    )
    grouped["excess"] = grouped["strategy"] - grouped["benchmark"]
    grouped["_w"] = grouped["window"].map(order)
    grouped["_all"] = grouped["category"] == "all"
    grouped = grouped.sort_values(["_all", "category", "direction", "_w"], kind="stable")
    columns = [
        "category",
        "direction",
        "window",
        "n",
        "strategy",
        "benchmark",
        "excess",
        "hit_rate",
    ]
    return grouped[columns].reset_index(drop=True)

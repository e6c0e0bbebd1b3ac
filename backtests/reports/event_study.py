"""Event study: how the strategy moved around each event that fired a trigger (pure).

The strategy is measured against its counterfactual base first (the same
portfolio with the response switched off, ``RunResult.base_returns``) and the
benchmark second. Conventions (documented on the events page too):

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
- **Excess.** Over a window, ``(1 + strategy) / (1 + comparator) - 1``: the
  change of the relative wealth, the definition of ``backtests.attribution``.
- **Hit.** The excess is above ``HIT_TOLERANCE`` (so a window where both held
  the same assets, equal up to float rounding, is not a hit).
- **Uncertainty.** Each average excess carries a 95% bootstrap percentile
  interval of the mean: ``BOOTSTRAP_RESAMPLES`` resamples of the group's events
  with replacement, from ``numpy.random.default_rng(BOOTSTRAP_SEED)`` afresh for
  each group (so an interval does not depend on the other groups); none when
  fewer than ``MIN_BOOTSTRAP_N`` events.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from backtests.triggers.context import EVENT_FIELDS, split_events

Window = tuple[int, int]
DEFAULT_WINDOWS: tuple[Window, ...] = ((-5, 0), (0, 5), (0, 20), (0, 60))
EVENT_COLUMNS: tuple[str, ...] = ("date", "title", "category", "direction")
COMPARATORS: tuple[str, ...] = ("base", "benchmark")
HIT_TOLERANCE = 1e-12
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
MIN_BOOTSTRAP_N = 5
CONFIDENCE = 0.95
WINDOW_COLUMNS: tuple[str, ...] = (
    *EVENT_COLUMNS,
    "anchor",
    "window",
    "strategy",
    "base",
    "benchmark",
    *(f"{kind}_{c}" for c in COMPARATORS for kind in ("excess", "hit")),
)
SUMMARY_COLUMNS: tuple[str, ...] = (
    "category",
    "direction",
    "window",
    "n",
    "strategy",
    "base",
    "benchmark",
    *(
        f"{kind}_{c}"
        for c in COMPARATORS
        for kind in ("excess", "excess_low", "excess_high", "hit_rate")
    ),
)


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
    base: pd.Series,
    benchmark: pd.Series,
    events: pd.DataFrame,
    windows: Sequence[Window] = DEFAULT_WINDOWS,
) -> pd.DataFrame:
    """One row per (event, window).

    Columns: ``date, title, category, direction, anchor, window, strategy, base, benchmark``,
    then per comparator ``c`` in ``COMPARATORS``: ``excess_c`` and ``hit_c``.

    ``strategy``/``base``/``benchmark``: daily simple returns on the same trading calendar.
    ``events``: columns ``EVENT_COLUMNS``. Window values are NaN past the data, hits too.
    """
    calendar = pd.DatetimeIndex(strategy.index)
    series = {"strategy": strategy, "base": base, "benchmark": benchmark}
    wealth = {
        name: np.cumprod(1.0 + s.reindex(calendar).to_numpy(dtype=float))
        for name, s in series.items()
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
            for c in COMPARATORS:
                excess = (1.0 + values["strategy"]) / (1.0 + values[c]) - 1.0
                values[f"excess_{c}"] = excess
                values[f"hit_{c}"] = float(excess > HIT_TOLERANCE) if inside else np.nan
            rows.append(
                {
                    **{col: ev[col] for col in EVENT_COLUMNS},
                    "anchor": calendar[k],
                    "window": window_label((a, b)),
                    **values,
                }
            )
    return pd.DataFrame(rows, columns=list(WINDOW_COLUMNS))


def bootstrap_interval(values: np.ndarray) -> tuple[float, float]:
    """95% bootstrap percentile interval of the mean of ``values`` (NaN if too few)."""
    values = np.asarray(values, dtype=float)
    if len(values) < MIN_BOOTSTRAP_N:
        return np.nan, np.nan
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    picks = rng.integers(0, len(values), size=(BOOTSTRAP_RESAMPLES, len(values)))
    means = values[picks].mean(axis=1)
    tail = (1.0 - CONFIDENCE) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def summarize(per_event: pd.DataFrame) -> pd.DataFrame:
    """Averages by category and direction (plus an ``all``/``all`` group) per window.

    Columns ``SUMMARY_COLUMNS``: ``n`` events, the mean window return of strategy, base
    and benchmark, and per comparator the mean excess, its bootstrap interval
    (``excess_low``/``excess_high``) and the hit rate. NaN windows (past the data) are
    dropped before averaging; ``n`` counts what is left. Groups sort by category and
    direction, ``all`` last, windows in their given order.
    """
    valid = per_event.dropna(subset=["strategy", "base", "benchmark"])
    both = pd.concat([valid, valid.assign(category="all", direction="all")], ignore_index=True)
    order = {label: i for i, label in enumerate(dict.fromkeys(per_event["window"]))}
    rows = []
    for (category, direction, window), group in both.groupby(
        ["category", "direction", "window"], sort=False
    ):
        row = {
            "category": category,
            "direction": direction,
            "window": window,
            "n": len(group),
            **{name: group[name].mean() for name in ("strategy", "base", "benchmark")},
        }
        for c in COMPARATORS:
            excess = group[f"excess_{c}"].to_numpy(dtype=float)
            low, high = bootstrap_interval(excess)
            row.update(
                {
                    f"excess_{c}": excess.mean(),
                    f"excess_low_{c}": low,
                    f"excess_high_{c}": high,
                    f"hit_rate_{c}": group[f"hit_{c}"].mean(),
                }
            )
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    keys = pd.DataFrame(
        {"_all": out["category"] == "all", "_w": out["window"].map(order)}, index=out.index
    )
    ordered = pd.concat([out, keys], axis=1).sort_values(
        ["_all", "category", "direction", "_w"], kind="stable"
    )
    return ordered[list(SUMMARY_COLUMNS)].reset_index(drop=True)

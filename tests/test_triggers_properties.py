"""Invariants on random data: cutting off the future never changes the past; signals in [0, 1].

Half the random events carry a ``public_at``; the cut keeps those only when they were
public 30 minutes before the cut day's close, so a timed event acted on too early shows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal, assert_series_equal

from backtests.triggers import MarketContext, evaluate
from backtests.events.calendar import events_frame
from test_triggers_support import event, weekdays

START = pd.Timestamp("2024-01-01")
# Mostly lag = 0 (raw signals): a default lag of 1 would hide a one-day look-ahead from the check.
TABLES = {
    "ev": {
        "type": "event",
        "hold_days": 3,
        "cooldown_days": 2,
        "decay_half_life": 2,
        "intensity": "severity",
        "lag": 0,
    },
    "ev_talks": {"type": "event", "categories": ["trade_talks"], "direction": "any", "lag": 0},
    "gz": {
        "type": "gpr",
        "lookback_days": 20,
        "smooth_days": 3,
        "consecutive_days": 2,
        "threshold": 0.5,
        "hold_days": 2,
        "lag": 0,
    },
    "gp": {
        "type": "gpr",
        "measure": "percentile",
        "lookback_days": 20,
        "threshold": 0.8,
        "series": "gpr_acts",
        "lag": 0,
    },
    "gl": {
        "type": "gpr",
        "measure": "level",
        "threshold": 250,
        "smooth_days": 2,
        "consecutive_days": 1,
        "lag": 0,
    },
    "dd": {"type": "drawdown", "threshold": 0.05, "window_days": 10, "hold_days": 2, "lag": 0},
    "vol": {"type": "volatility", "window_days": 5, "threshold": 0.5, "lag": 0},
    "volr": {
        "type": "volatility",
        "measure": "ratio",
        "window_days": 3,
        "long_window_days": 10,
        "threshold": 1.2,
        "lag": 0,
    },
    "ma": {"type": "ma_cross", "fast_days": 3, "slow_days": 8, "lag": 0},
    "either": {"type": "any", "inputs": ["ev", "gz", "dd"]},
    "both": {"type": "all", "inputs": ["ev", "vol"], "lag": 2},
    "neither": {"type": "not", "inputs": ["either"], "lag": 1},
}

event_rows = st.lists(
    st.tuples(
        st.integers(-5, 120),
        st.sampled_from(["tariff", "trade_talks", "sanctions"]),
        st.sampled_from(["escalation", "de-escalation"]),
        st.integers(1, 5),
        # public_at: minute of the US-Eastern day (often near the 16:00 close), or none (date-only).
        st.none() | st.sampled_from([15 * 60, 15 * 60 + 30, 15 * 60 + 31, 16 * 60 + 5, 20 * 60]) | st.integers(0, 1439),
    ),
    max_size=25,
)


def _public_at(day: pd.Timestamp, minute: int | None) -> pd.Timestamp | None:
    if minute is None:
        return None
    return (day + pd.Timedelta(minutes=minute)).tz_localize("America/New_York")


@st.composite
def markets(draw) -> tuple[MarketContext, int]:
    """A random context (random-walk closes, GPR, events) and a cut position inside its calendar."""
    n = draw(st.integers(25, 70))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    calendar = weekdays("2024-01-01", n)
    closes = pd.DataFrame({"SPY": 100 * np.cumprod(1 + rng.normal(0, 0.03, n))}, index=calendar)
    gpr_days = pd.date_range(
        "2023-11-01", calendar[-1] + pd.Timedelta(days=10), freq="D", name="date"
    )
    gpr = pd.DataFrame(
        rng.lognormal(5, 0.4, (len(gpr_days), 3)),
        index=gpr_days,
        columns=["gpr", "gpr_acts", "gpr_threats"],
    )
    rows = [
        {
            **event(
                f"{START + pd.Timedelta(days=offset):%Y-%m-%d}",
                category=cat,
                direction=direction,
                severity=sev,
            ),
            "public_at": _public_at(START + pd.Timedelta(days=offset), minute),
        }
        for offset, cat, direction, sev, minute in draw(event_rows)
    ]
    events = events_frame(rows).sort_values("date", kind="stable").reset_index(drop=True)
    # Half the time cut on an event's trading day or its eve: where a look-ahead would show.
    stamped = calendar.searchsorted(events["date"])
    eves = sorted({int(p) - 1 for p in stamped if 1 <= p < n} | {int(p) for p in stamped if p < n - 1})
    if eves and draw(st.booleans()):
        return MarketContext(calendar, closes, events, gpr), draw(st.sampled_from(eves))
    return MarketContext(calendar, closes, events, gpr), draw(st.integers(0, n - 2))


def _cut(ctx: MarketContext, pos: int) -> MarketContext:
    """What was known at the close of ``pos``: a timed event only if public 30 minutes before it."""
    end = ctx.calendar[pos]
    close = (end + pd.Timedelta(hours=16)).tz_localize("America/New_York")
    public = ctx.events["public_at"]
    known = (ctx.events["date"] <= end) & (public.isna() | (public + pd.Timedelta(minutes=30) <= close))
    return MarketContext(
        calendar=ctx.calendar[: pos + 1],
        closes=ctx.closes.loc[:end],
        events=ctx.events[known],
        gpr=ctx.gpr.loc[:end],
    )


def _check_shape(ctx: MarketContext, name: str, out) -> None:
    """Signal in [0, 1] on the calendar; each turn-on is a firing (event triggers have more)."""
    assert out.signal.between(0.0, 1.0).all(), name
    assert out.signal.index.equals(ctx.calendar) and out.release.dtype == bool
    on = out.signal > 0
    turn_ons = on.index[on & ~on.shift(1, fill_value=False)].tolist()
    if name.startswith("ev"):  # an event trigger also fires when an event refreshes its hold
        assert set(turn_ons) <= set(out.firings["date"]), name
    else:
        assert out.firings["date"].tolist() == turn_ons, name


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markets())
def test_cutting_the_future_never_changes_the_past(case):
    ctx, pos = case
    end = ctx.calendar[pos]
    full, cut = evaluate(TABLES, ctx), evaluate(TABLES, _cut(ctx, pos))
    for name in TABLES:
        _check_shape(ctx, name, full[name])
        assert_series_equal(full[name].signal.loc[:end], cut[name].signal, obj=f"{name}.signal")
        assert_series_equal(full[name].release.loc[:end], cut[name].release, obj=f"{name}.release")
        past = full[name].firings[full[name].firings["date"] <= end].reset_index(drop=True)
        assert_frame_equal(past, cut[name].firings, obj=f"{name}.firings")

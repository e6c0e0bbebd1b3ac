"""The hedge level state machine: hand-computed paths, a scalar reference, bounds and no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from backtests.portfolio.response import (
    driving_signal,
    hedge_level,
    hedge_levels,
    resting_until,
    strategy_hedge_level,
)
from backtests.triggers.context import TriggerOutput, firings_frame


def one(signal, release=None, hold=1, step_in=1.0, step_out=1.0, exit_on_release=True) -> list[float]:
    signal = np.asarray(signal, dtype=float)
    release = np.zeros(len(signal), bool) if release is None else np.asarray(release, bool)
    out = hedge_levels(
        signal, release, np.array([hold]), np.array([step_in]), np.array([step_out]), np.array([exit_on_release])
    )
    assert out.shape == (1, len(signal))
    return out[0].tolist()


# ---- hand-computed paths (see the module docstring of backtests.portfolio.response) ----


def test_hold_keeps_the_hedge_on_hold_days_after_the_last_signal() -> None:
    assert one([0, 1, 0, 0, 0, 0], hold=2) == [0, 1, 1, 1, 0, 0]
    assert one([0, 1, 0, 0, 0, 0], hold=1) == [0, 1, 1, 0, 0, 0]


def test_a_new_signal_restarts_the_hold() -> None:
    assert one([1, 0, 1, 0, 0, 0, 0], hold=2) == [1, 1, 1, 1, 1, 0, 0]


def test_steps_limit_the_daily_move_in_and_out() -> None:
    assert one([1, 1, 0, 0, 0, 0, 0, 0], hold=1, step_in=0.5, step_out=0.25) == [0.5, 1, 1, 0.75, 0.5, 0.25, 0, 0]


def test_step_lands_exactly_on_zero_despite_float_rounding() -> None:
    path = one([0.3, 0, 0, 0, 0, 0], hold=1, step_out=0.1)
    assert path[:2] == [0.3, 0.3]
    assert path[2:] == pytest.approx([0.2, 0.1, 0.0, 0.0], abs=1e-15)
    assert path[4] == 0.0


def test_intensity_is_the_maximum_while_held_and_resets_after() -> None:
    signal = [0.4, 0, 0.8, 0.2, 0, 0, 0, 0.3]
    assert one(signal, hold=2) == [0.4, 0.4, 0.8, 0.8, 0.8, 0.8, 0.0, 0.3]


def test_release_exits_early_when_exit_and_is_ignored_when_hold() -> None:
    signal, release = [1, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0]
    assert one(signal, release, hold=10, step_out=0.5, exit_on_release=True) == [1, 1, 0.5, 0, 0, 0]
    assert one(signal, release, hold=10, step_out=0.5, exit_on_release=False) == [1, 1, 1, 1, 1, 1]


def test_release_on_the_signal_day_wins_and_a_later_signal_restarts() -> None:
    assert one([0, 1, 0, 1, 0], [0, 1, 0, 0, 0], hold=10, exit_on_release=True) == [0, 0, 0, 1, 1]
    assert one([0, 1, 0, 1, 0], [0, 1, 0, 0, 0], hold=10, exit_on_release=False) == [0, 1, 1, 1, 1]


def test_release_without_a_hedge_does_nothing() -> None:
    assert one([0, 0, 1, 0], [1, 0, 0, 0], hold=1) == [0, 0, 1, 1]


def test_configurations_are_independent_columns() -> None:
    signal = np.array([1.0, 0, 0, 0])
    release = np.array([False, False, True, False])
    out = hedge_levels(
        signal,
        release,
        np.array([1, 3, 3]),
        np.array([1.0, 1.0, 0.5]),
        np.array([1.0, 0.5, 1.0]),
        np.array([True, True, False]),
    )
    assert out.tolist() == [[1, 1, 0, 0], [1, 1, 0.5, 0], [0.5, 1, 1, 1]]


def test_rejects_signals_outside_unit_interval() -> None:
    with pytest.raises(ValueError, match="signal must lie in"):
        one([0, 1.5])
    with pytest.raises(ValueError, match="signal must lie in"):
        one([0, np.nan])


# ---- an independent scalar reference, compared on random inputs ----


def reference(signal, release, hold, step_in, step_out, exit_on_release) -> list[float]:
    """Plain-Python state machine: hedge on through (last signal day + hold) unless released."""
    out, level, last_on, intensity, released_since = [], 0.0, None, 0.0, False
    for t, (s, rel) in enumerate(zip(signal, release, strict=True)):
        still_on = last_on is not None and t - last_on <= hold and not released_since
        if s > 0:
            intensity = max(intensity, s) if still_on else s
            last_on, released_since = t, False
        if rel and exit_on_release:
            released_since = True
        on = last_on is not None and t - last_on <= hold and not released_since
        target = intensity if on else 0.0
        if target > level:
            level = min(target, level + step_in)
        else:
            level = max(target, level - step_out)
        out.append(level)
    return out


signals = st.integers(1, 60).flatmap(
    lambda n: st.tuples(
        arrays(float, n, elements=st.sampled_from([0.0, 0.0, 0.0, 0.25, 0.5, 1.0])),
        arrays(bool, n, elements=st.booleans()),
    )
)
configs = st.lists(
    st.tuples(st.integers(1, 8), st.sampled_from([0.25, 0.5, 1.0]), st.sampled_from([0.25, 0.5, 1.0]), st.booleans()),
    min_size=1,
    max_size=6,
)


@settings(max_examples=100, deadline=None)
@given(signals, configs)
def test_vectorised_equals_the_scalar_reference(data, params) -> None:
    signal, release = data
    hold, up, down, exits = (np.array(column) for column in zip(*params, strict=True))
    out = hedge_levels(signal, release, hold, up, down, exits)
    for c, (h, u, d, e) in enumerate(params):
        assert out[c] == pytest.approx(reference(signal, release, h, u, d, e), abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(signals, configs, st.data())
def test_level_is_bounded_and_never_looks_ahead(data, params, draw) -> None:
    signal, release = data
    hold, up, down, exits = (np.array(column) for column in zip(*params, strict=True))
    full = hedge_levels(signal, release, hold, up, down, exits)
    assert ((full >= 0) & (full <= 1)).all()
    cut = draw.draw(st.integers(1, len(signal)))
    past = hedge_levels(signal[:cut], release[:cut], hold, up, down, exits)
    np.testing.assert_array_equal(past, full[:, :cut])


@settings(max_examples=100, deadline=None)
@given(signals, configs, st.integers(0, 20))
def test_days_before_the_first_signal_leave_every_level_at_rest(data, params, quiet) -> None:
    """``resting_until``: levels are 0 before the first positive signal, whatever the releases,
    and starting the machine there gives the same levels afterwards."""
    signal, release = data
    signal = np.concatenate([np.zeros(quiet), signal])
    release = np.concatenate([np.random.default_rng(quiet).random(quiet) < 0.5, release])
    hold, up, down, exits = (np.array(column) for column in zip(*params, strict=True))
    full = hedge_levels(signal, release, hold, up, down, exits)
    start = resting_until(signal)
    assert start >= quiet and (start == len(signal) or signal[start] > 0)
    assert (full[:, :start] == 0.0).all()
    np.testing.assert_array_equal(hedge_levels(signal[start:], release[start:], hold, up, down, exits), full[:, start:])


# ---- the Series wrapper and the choice of driving trigger ----

CALENDAR = pd.DatetimeIndex(pd.bdate_range("2024-01-01", periods=5), name="date")


def output(name: str, signal: list[float], release: list[bool]) -> TriggerOutput:
    return TriggerOutput(
        name, pd.Series(signal, index=CALENDAR, dtype=float), pd.Series(release, index=CALENDAR), firings_frame([])
    )


RESPONSE = {"hold_days": 1, "step_in": 1.0, "step_out": 1.0, "on_deescalation": "exit"}


def test_hedge_level_series_wrapper() -> None:
    signal = pd.Series([0, 1, 0, 0, 0], index=CALENDAR, dtype=float)
    release = pd.Series([False] * 5, index=CALENDAR)
    level = hedge_level(signal, release, RESPONSE)
    assert level.index.equals(CALENDAR)
    assert level.tolist() == [0, 1, 1, 0, 0]
    assert hedge_level(signal, release, {**RESPONSE, "hold_days": 3}).tolist() == [0, 1, 1, 1, 1]


def test_driving_signal_any_of_all_triggers_or_one_by_name() -> None:
    from backtests.strategy import load_spec

    outputs = {
        "a": output("a", [0, 0.5, 0, 0, 0], [False, False, False, True, False]),
        "b": output("b", [0, 0, 1, 0, 0], [False] * 5),
    }
    spec = load_spec("green-infra-tilt", ["response.trigger="])
    signal, release = driving_signal(spec, outputs, CALENDAR)
    assert signal.tolist() == [0, 0.5, 1, 0, 0]
    assert release.tolist() == [False, False, False, True, False]
    spec = load_spec("green-infra-tilt", ["response.trigger=gpr_high"])
    signal, release = driving_signal(spec, {**outputs, "gpr_high": outputs["b"]}, CALENDAR)
    assert signal.tolist() == [0, 0, 1, 0, 0] and not release.any()


def test_strategy_hedge_level_is_zero_without_triggers() -> None:
    from backtests.strategy import load_spec

    level = strategy_hedge_level(load_spec("static-60-40"), {}, CALENDAR)
    assert level.index.equals(CALENDAR) and (level == 0).all()


def test_strategy_hedge_level_uses_the_response_section() -> None:
    from backtests.strategy import load_spec

    spec = load_spec("tariff-shock-hedge", ["response.hold_days=1", "response.step_out=0.5"])
    outputs = {"tariffs": output("tariffs", [1, 0, 0, 0, 0], [False] * 5)}
    assert strategy_hedge_level(spec, outputs, CALENDAR).tolist() == [1, 1, 0.5, 0, 0]

"""Grids: parsing value lists and inclusive ranges, checking keys and values once, enumerating and sampling."""

from __future__ import annotations

import pytest

from backtests.errors import UserInputError, flag_wording
from backtests.strategy import load_spec
from backtests.sweeps.grid import MAX_CONFIGURATIONS, Grid, parse_grid_option

FLAGS = {"grid": "--grid", "random": "--random", "seed": "--seed"}


def test_range_includes_stop_on_grid():
    key, values = parse_grid_option("response.hedge_fraction=0.05:1.0:0.05")
    assert key == "response.hedge_fraction"
    assert len(values) == 20
    assert values[0] == "0.05" and values[2] == "0.15" and values[-1] == "1"


def test_integer_range_has_fifty_values():
    assert parse_grid_option("response.hold_days=1:50:1")[1] == [str(i) for i in range(1, 51)]


def test_range_excludes_stop_off_grid():
    assert parse_grid_option("k=1:10:4")[1] == ["1", "5", "9"]


def test_value_list():
    assert parse_grid_option("triggers.tariffs.min_severity=2,3,4") == (
        "triggers.tariffs.min_severity",
        ["2", "3", "4"],
    )


@pytest.mark.parametrize(
    "option, message",
    [
        ("nokey", "--grid 'nokey': expected KEY=V1,V2,... or KEY=START:STOP:STEP"),
        ("k=1:2", "--grid k=1:2: a range is START:STOP:STEP, e.g. 0.05:1.0:0.05"),
        ("k=a:2:1", "--grid k=a:2:1: START, STOP and STEP must be numbers"),
        ("k=5:1:1", "--grid k=5:1:1: need STEP > 0 and STOP >= START"),
        ("k=1,1", "--grid k: values repeat; list each value once"),
    ],
)
def test_malformed_grid_options(option, message):
    with pytest.raises(UserInputError) as err:
        parse_grid_option(option)
    assert flag_wording(str(err.value), FLAGS) == message


@pytest.fixture(scope="module")
def spec():
    return load_spec("tariff-shock-hedge")


def test_enumerate_in_grid_order_with_typed_values(spec):
    grid = Grid.build(spec, {"response.hold_days": ["1", "2", "3"], "response.on_deescalation": ["exit", "hold"]})
    configs = list(grid.configurations())
    assert len(grid) == 6
    assert configs[0] == {"response.hold_days": 1, "response.on_deescalation": "exit"}
    assert configs[-1] == {"response.hold_days": 3, "response.on_deescalation": "hold"}
    assert [c["response.hold_days"] for c in configs] == [1, 1, 2, 2, 3, 3]


def test_values_are_checked_like_overrides(spec):
    with pytest.raises(UserInputError) as err:
        Grid.build(spec, {"response.hedge_fraction": ["0.5", "1.3"]})
    assert flag_wording(str(err.value), FLAGS) == (
        "--grid: response.hedge_fraction = '1.3' is out of range; expected a float >= 0 and <= 1"
    )


@pytest.mark.parametrize("key", ["name", "start", "end", "benchmark", "events", "calendar"])
def test_keys_that_change_the_data_or_identity_cannot_be_swept(spec, key):
    with pytest.raises(UserInputError, match=rf"`grid` {key}: cannot be swept"):
        Grid.build(spec, {key: ["a", "b"]})


def test_random_sampling_is_seeded_sorted_and_works_beyond_the_cap(spec):
    axes = {
        "response.hedge_fraction": [round(0.001 * i, 3) for i in range(1, 1001)],
        "response.hold_days": list(range(1, 2001)),
    }  # 2,000,000 configurations: more than the cap
    with pytest.raises(UserInputError, match="too many"):
        Grid.build(spec, axes)
    first = Grid.build(spec, axes, random=1000, seed=3)
    again = Grid.build(spec, axes, random=1000, seed=3)
    assert len(first) == 1000 and (first.picks == again.picks).all()
    flat = first.picks[:, 0] * 2000 + first.picks[:, 1]
    assert (flat[1:] > flat[:-1]).all()  # distinct, in grid order
    assert 2 * MAX_CONFIGURATIONS > 1000


def test_random_asks_for_a_positive_count_and_a_non_negative_seed(spec):
    with pytest.raises(UserInputError, match="`random` N: N must be a positive whole number"):
        Grid.build(spec, {"response.hold_days": [1, 2]}, random=0)
    with pytest.raises(UserInputError, match="`seed` -5: use a whole number >= 0"):
        Grid.build(spec, {"response.hold_days": [1, 2]}, random=1, seed=-5)


def test_edge_note_when_the_winner_is_at_an_end_of_a_numeric_axis(spec):
    grid = Grid.build(spec, {"response.hold_days": [5, 10, 20]})
    assert grid.edge_notes({"response.hold_days": 20}) == [
        "the winner sits on the edge of the grid (response.hold_days = 20); widen the range to see past it"
    ]
    assert grid.edge_notes({"response.hold_days": 10}) == []

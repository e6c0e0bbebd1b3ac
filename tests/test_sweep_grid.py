"""Grid parsing: value lists, inclusive ranges, errors."""

from __future__ import annotations

import pytest

from backtests.errors import UserInputError
from backtests.sweep.grid import enumerate_grid, parse_grid_option, sample_grid


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
    assert str(err.value) == message


def test_enumerate_and_sample_are_stable():
    configs = enumerate_grid([("a", ["1", "2"]), ("b", ["x", "y", "z"])])
    assert configs[0] == {"a": "1", "b": "x"} and configs[-1] == {"a": "2", "b": "z"} and len(configs) == 6
    assert sample_grid(configs, 3, seed=1) == sample_grid(configs, 3, seed=1)
    assert len(sample_grid(configs, 3, seed=1)) == 3
    assert sample_grid(configs, 10, seed=1) == configs

"""Validating [triggers.NAME] tables: defaults, coercion and the exact one-line errors."""

from __future__ import annotations

import tomllib

import pytest

from backtests.errors import UserInputError
from backtests.triggers import TRIGGER_TYPES, validate_trigger_table, validate_triggers


def error(call, *args) -> str:
    with pytest.raises(UserInputError) as err:
        call(*args)
    return str(err.value)


def test_every_parameter_has_help_and_every_type_has_lag():
    for trigger_type in TRIGGER_TYPES.values():
        assert "lag" in trigger_type.params
        for name, spec in trigger_type.params.items():
            assert spec.help, f"{trigger_type.name}.{name} has no help"


def test_defaults_are_filled_and_values_coerced():
    params = validate_trigger_table(
        "tariffs", {"type": "event", "categories": "tariff, sanctions", "lag": "0"}
    )
    assert params["categories"] == ["tariff", "sanctions"]
    assert (params["lag"], params["hold_days"], params["direction"], params["min_severity"]) == (
        0,
        1,
        "escalation",
        1,
    )
    assert validate_trigger_table("t", {"type": "event"})["countries"] == []


def test_measure_dependent_thresholds():
    assert validate_trigger_table("g", {"type": "gpr"})["threshold"] == 2.0
    assert (
        validate_trigger_table("g", {"type": "gpr", "measure": "percentile"})["threshold"] == 0.95
    )
    assert validate_trigger_table("g", {"type": "gpr", "measure": "level"})["threshold"] == 200.0
    assert (
        validate_trigger_table("v", {"type": "volatility", "measure": "ratio"})["threshold"] == 1.5
    )
    assert validate_trigger_table("v", {"type": "volatility"})["threshold"] == 0.25


def test_combinator_lag_defaults_to_zero():
    assert validate_trigger_table("x", {"type": "any", "inputs": ["a"]})["lag"] == 0


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"type": "evnt"},
            "triggers.t.type = 'evnt' is not a trigger type (did you mean event?); "
            "use one of event, gpr, drawdown, volatility, ma_cross, any, all, not",
        ),
        (
            {"min_severity": 2},
            "triggers.t.type: missing; set type to one of "
            "event, gpr, drawdown, volatility, ma_cross, any, all, not",
        ),
        (
            {"type": "event", "min_severty": 2},
            "triggers.t.min_severty: unknown key (did you mean min_severity?)",
        ),
        (
            {"type": "event", "min_severity": 7},
            "triggers.t.min_severity = 7 is out of range; expected a int >= 1 and <= 5",
        ),
        (
            {"type": "event", "hold_days": "two"},
            "triggers.t.hold_days = 'two' is not valid; expected a int >= 1",
        ),
        (
            {"type": "event", "direction": "up"},
            "triggers.t.direction = 'up' is not allowed; "
            "expected one of escalation, de-escalation, any",
        ),
        (
            {"type": "event", "categories": ["tarif"]},
            "triggers.t.categories: unknown category 'tarif' (did you mean "
            "tariff?); use any of tariff, export_control, sanctions, trade_talks, military, policy",
        ),
        (
            {"type": "gpr", "measure": "percentile", "threshold": 2.0},
            "triggers.t.threshold = 2.0 is out of range for measure = percentile; "
            "use a value in (0, 1), e.g. 0.95",
        ),
        (
            {"type": "ma_cross", "fast_days": 200, "slow_days": 50},
            "triggers.t.fast_days = 200 must be less than slow_days = 50; swap or change them",
        ),
        (
            {"type": "volatility", "measure": "ratio", "window_days": 30, "long_window_days": 21},
            "triggers.t.long_window_days = 21 must be greater than window_days = 30 "
            "for measure = ratio",
        ),
        (
            {"type": "not", "inputs": ["a", "b"]},
            "triggers.t.inputs: 'not' takes exactly one input, got 2; " 'e.g. inputs = ["tariffs"]',
        ),
        (
            {"type": "any"},
            "triggers.t.inputs: missing; set it to a list of strings: "
            "names of the triggers to combine, "
            'e.g. ["tariffs", "gpr"] (not: exactly one)',
        ),
        (
            {"type": "drawdown", "window": 3},
            "triggers.t.window: unknown key (did you mean window_days?)",
        ),
        (
            {"type": "drawdown", "zzz": 3},
            "triggers.t.zzz: unknown key; "
            "valid keys: type, ticker, threshold, window_days, hold_days, lag",
        ),
    ],
)
def test_bad_tables_fail_with_one_line(table, message):
    assert error(validate_trigger_table, "t", table) == message


def test_where_prefixes_the_message():
    assert error(validate_trigger_table, "t", {"type": "event", "lag": -1}, "spec.toml") == (
        "spec.toml: triggers.t.lag = -1 is out of range; expected a int >= 0"
    )
    assert error(validate_trigger_table, "t", {"type": "not", "inputs": []}, "spec.toml") == (
        "spec.toml: triggers.t.inputs: 'not' takes exactly one input, got 0; "
        'e.g. inputs = ["tariffs"]'
    )


def test_combinator_referencing_a_missing_trigger():
    tables = {"tariffs": {"type": "event"}, "hedge": {"type": "any", "inputs": ["tarifs"]}}
    assert error(validate_triggers, tables) == (
        "triggers.hedge.inputs: 'tarifs' is not a defined trigger (did you mean tariffs?); "
        "define [triggers.tarifs] or fix the name"
    )


def test_cycles_are_rejected():
    tables = {
        "a": {"type": "any", "inputs": ["b"]},
        "b": {"type": "all", "inputs": ["c", "a"]},
        "c": {"type": "event"},
    }
    assert error(validate_triggers, tables) == (
        "triggers.a.inputs: cycle a -> b -> a; a trigger cannot depend on itself"
    )
    assert error(validate_triggers, {"x": {"type": "not", "inputs": ["x"]}}) == (
        "triggers.x.inputs: cycle x -> x; a trigger cannot depend on itself"
    )


def test_validation_is_idempotent():
    tables = {"a": {"type": "gpr", "measure": "percentile"}, "b": {"type": "not", "inputs": ["a"]}}
    once = validate_triggers(tables)
    assert validate_triggers(once) == once


README_EXAMPLE = """
[triggers.tariffs]
type = "event"
categories = ["tariff", "export_control"]
countries = ["CN"]
min_severity = 3
hold_days = 20
cooldown_days = 5
intensity = "severity"

[triggers.gpr_spike]
type = "gpr"
measure = "zscore"
threshold = 2.0

[triggers.stress]
type = "drawdown"
ticker = "SPY"
threshold = 0.10

[triggers.hedge]
type = "any"
inputs = ["tariffs", "gpr_spike"]

[triggers.hedge_unless_stress]
type = "all"
inputs = ["hedge", "calm_market"]

[triggers.calm_market]
type = "not"
inputs = ["stress"]
"""


def test_the_readme_example_validates():
    tables = validate_triggers(tomllib.loads(README_EXAMPLE)["triggers"])
    assert tables["tariffs"]["hold_days"] == 20 and tables["tariffs"]["lag"] == 1
    assert tables["hedge_unless_stress"]["lag"] == 0
    assert tables["gpr_spike"]["lookback_days"] == 252

"""``--set KEY=VALUE`` overrides: parsing by each key's schema, re-validation, exact error lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from backtests.cli import FLAGS
from backtests.errors import UserInputError, flag_wording
from backtests.strategy import apply_overrides, load_spec
from backtests.strategy.overrides import parse_assignment

SPEC = "tariff-shock-hedge"


def shipped_path() -> Path:
    return load_spec(SPEC).source_path


def set_error(*overrides: str) -> str:
    """The error as the CLI prints it (library arguments shown as flags)."""
    with pytest.raises(UserInputError) as info:
        load_spec(SPEC, overrides)
    return flag_wording(str(info.value), FLAGS)


def test_scalar_list_date_and_trigger_overrides_are_typed() -> None:
    spec = load_spec(
        SPEC,
        [
            "response.hedge_fraction=0.25",
            "response.hold_days=5",
            "response.fund_from=SPY, QQQ",
            "rebalance.schedule=weekly",
            "start=2018-03-01",
            "end=",
            "triggers.tariffs.min_severity=4",
            "triggers.tariffs.release_on_deescalation=false",
        ],
    )
    assert spec.response["hedge_fraction"] == 0.25
    assert spec.response["hold_days"] == 5 and isinstance(spec.response["hold_days"], int)
    assert spec.response["fund_from"] == ["SPY", "QQQ"]
    assert spec.rebalance["schedule"] == "weekly"
    assert spec.data["start"] == "2018-03-01" and spec.end is None
    assert spec.triggers["tariffs"]["min_severity"] == 4
    assert spec.triggers["tariffs"]["release_on_deescalation"] is False


def test_last_override_of_a_key_wins() -> None:
    spec = load_spec(SPEC, ["response.hold_days=5", "response.hold_days=7"])
    assert spec.response["hold_days"] == 7


def test_weights_are_rechecked_after_all_overrides() -> None:
    spec = load_spec(SPEC, ["universe.SPY=0.3", "universe.XLE=0.1"])
    assert spec.universe["XLE"] == 0.1 and spec.universe["SPY"] == 0.3
    assert abs(sum(spec.universe.values()) - 1.0) < 1e-12


def test_default_fund_from_follows_an_overridden_universe(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("[universe]\nSPY = 1.0\n[hedge]\nGLD = 1.0\n")
    spec = load_spec(str(path), ["universe.SPY=0.5", "universe.QQQ=0.5"])
    assert spec.response["fund_from"] == ["SPY", "QQQ"]


def test_weights_not_summing_after_overrides_name_the_file_and_set() -> None:
    assert set_error("universe.XLE=0.1") == (
        f"{shipped_path()} with --set: universe weights sum to 1.1; they must sum to 1 (tolerance 1e-09)"
    )


def test_unknown_key_suggests_the_nearest() -> None:
    assert (
        set_error("response.hedge_fractoin=0.3")
        == "--set response.hedge_fractoin: unknown key (did you mean response.hedge_fraction?)"
    )
    assert set_error("triggers.tariffs.min_sev=2") == (
        "--set triggers.tariffs.min_sev: unknown key (did you mean triggers.tariffs.min_severity?)"
    )


def test_trigger_type_and_undefined_triggers_are_not_overridable() -> None:
    assert set_error("triggers.tariffs.type=gpr").startswith("--set triggers.tariffs.type: unknown key")
    assert set_error("triggers.other.lag=2").startswith("--set triggers.other.lag: unknown key")


def test_bad_value_names_the_allowed_values() -> None:
    assert (
        set_error("response.hedge_fraction=2")
        == "--set: response.hedge_fraction = '2' is out of range; expected a float >= 0 and <= 1"
    )
    assert set_error("response.hold_days=1.5") == "--set: response.hold_days = '1.5' is not valid; expected a int >= 1"
    assert set_error("rebalance.schedule=yearly") == (
        "--set: rebalance.schedule = 'yearly' is not allowed; expected one of none, daily, weekly, monthly, quarterly"
    )


def test_missing_equals_sign() -> None:
    assert set_error("response.hedge_fraction") == (
        "--set 'response.hedge_fraction': expected KEY=VALUE, e.g. response.hedge_fraction=0.5"
    )


def test_value_may_contain_equals_and_key_is_stripped() -> None:
    assert parse_assignment(" description = a=b ") == ("description", "a=b")
    with pytest.raises(UserInputError, match="^`overrides` '=1': expected KEY=VALUE"):
        parse_assignment("=1")


def test_apply_overrides_leaves_its_input_untouched() -> None:
    data = load_spec(SPEC).data
    before = repr(data)
    out = apply_overrides(data, ["response.hold_days=3", "hedge.IAU=0.1"])
    assert out["response"]["hold_days"] == 3 and out["hedge"]["IAU"] == 0.1
    assert repr(data) == before


def test_new_weight_keys_need_a_valid_ticker() -> None:
    assert set_error("universe.x e=0.1").startswith("--set universe.X E: unknown key")

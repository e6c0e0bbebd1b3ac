"""Loading specs: the shipped strategies, defaults, round trips through TOML and every user error."""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path

import pytest

from backtests.errors import UserInputError
from backtests.strategy import StrategySpec, load_spec, shipped_strategies
from backtests.strategy.schema import SECTIONS, TOP_LEVEL

SHIPPED = (
    "buy-and-hold",
    "gpr-regime-hedge",
    "green-infra-tilt",
    "rare-earth-diversify",
    "static-60-40",
    "tariff-shock-hedge",
)
SHARED_TICKERS = set(
    "SPY QQQ ACWI VT EFA EEM IWM FXI MCHI KWEB GLD IAU SLV TLT IEF SHY BIL AGG TIP UUP FXY FXF HEDJ USMV "
    "XLU XLP XLE DBA DBC ICLN TAN QCLN PBW LIT GRID PAVE REMX MP SOXX SMH ITA XLK XLI".split()
)
MINIMAL = """
[universe]
SPY = 0.6
AGG = 0.4
"""


def write_spec(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_of(name_or_path: str | Path, overrides: tuple[str, ...] = ()) -> str:
    with pytest.raises(UserInputError) as info:
        load_spec(str(name_or_path), overrides)
    return str(info.value)


def test_shipped_strategies_are_the_six_sorted_by_name() -> None:
    assert [info.name for info in shipped_strategies()] == list(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_spec_loads_with_its_own_name_and_real_tickers(name: str) -> None:
    spec = load_spec(name)
    assert spec.name == name
    assert spec.description and spec.data["thesis"].strip()
    assert set(spec.tickers()) <= SHARED_TICKERS
    assert len(spec.universe) <= 10


@pytest.mark.parametrize("name", SHIPPED)
def test_to_toml_round_trips(name: str, tmp_path: Path) -> None:
    spec = load_spec(name)
    reloaded = load_spec(str(write_spec(tmp_path, spec.to_toml(), "copy.toml")))
    assert reloaded == spec
    assert reloaded.to_toml() == spec.to_toml()


@pytest.mark.parametrize("name", SHIPPED)
def test_to_toml_writes_every_key(name: str) -> None:
    spec = load_spec(name)
    written = tomllib.loads(spec.to_toml())
    assert set(TOP_LEVEL) <= set(written)
    for section, params in SECTIONS.items():
        assert set(written[section]) == set(params)
    for trigger, params in spec.triggers.items():
        assert written["triggers"][trigger] == {k: v for k, v in params.items() if v is not None}


def test_minimal_spec_gets_every_default(tmp_path: Path) -> None:
    spec = load_spec(str(write_spec(tmp_path, MINIMAL)))
    assert spec.name == "mine"
    assert spec.data["benchmark"] == "SPY" and spec.cash == 100000.0
    assert spec.start is None and spec.end is None
    assert spec.hedge == {} and spec.triggers == {}
    assert spec.response == {
        "trigger": "",
        "kind": "hedge",
        "hedge_fraction": 0.5,
        "fund_from": ["SPY", "AGG"],
        "hold_days": 20,
        "step_in": 1.0,
        "step_out": 1.0,
        "on_deescalation": "exit",
    }
    assert spec.rebalance == {"schedule": "monthly", "drift_threshold": 0.0}
    assert spec.costs == {"commission_bps": 5.0, "slippage_bps": 2.0}


def test_fund_from_defaults_to_universe_minus_hedge(tmp_path: Path) -> None:
    text = MINIMAL.replace("AGG = 0.4", "AGG = 0.3\nGLD = 0.1") + "[hedge]\nGLD = 1.0\n"
    assert load_spec(str(write_spec(tmp_path, text))).response["fund_from"] == ["SPY", "AGG"]


def test_accessors_and_dotted_get() -> None:
    spec = load_spec("tariff-shock-hedge")
    assert spec.get("response.hedge_fraction") == 0.5
    assert spec.get("universe.SPY") == 0.40
    assert spec.get("triggers.tariffs.min_severity") == 3
    assert spec.start.isoformat() == "2015-01-01T00:00:00"
    assert spec.traded_tickers() == ["EEM", "FXI", "GLD", "IEF", "QQQ", "SPY", "TLT", "UUP"]
    with pytest.raises(
        UserInputError,
        match=r"^tariff-shock-hedge: unknown key response.hold_day \(did you mean response.hold_days\?\)$",
    ):
        spec.get("response.hold_day")


def test_tickers_include_benchmark_and_market_trigger_tickers(tmp_path: Path) -> None:
    text = (
        MINIMAL
        + """
    [hedge]
    GLD = 1.0
    [triggers.crash]
    type = "drawdown"
    ticker = "QQQ"
    """
    )
    spec = load_spec(
        str(
            write_spec(
                tmp_path, text.replace("SPY = 0.6", "SPY = 0.6").replace("[universe]", 'benchmark = "ACWI"\n[universe]')
            )
        )
    )
    assert spec.tickers() == ["ACWI", "AGG", "GLD", "QQQ", "SPY"]
    assert spec.traded_tickers() == ["AGG", "GLD", "SPY"]


def test_keys_list_weights_sections_and_trigger_params() -> None:
    keys = load_spec("tariff-shock-hedge").keys()
    assert {
        "universe.SPY",
        "hedge.GLD",
        "response.hedge_fraction",
        "rebalance.schedule",
        "costs.slippage_bps",
        "start",
    } <= set(keys)
    assert "triggers.tariffs.min_severity" in keys and "triggers.tariffs.type" not in keys
    assert keys["response.hold_days"].min == 1


def test_spec_equality_ignores_source_path() -> None:
    spec = load_spec("buy-and-hold")
    assert StrategySpec(spec.name, spec.data, source_path=None) == spec


# ---- user errors: one line, naming the file, the key and what is allowed ----


def test_unknown_strategy_lists_the_shipped_ones() -> None:
    assert error_of("nope") == (
        "unknown strategy 'nope'; choose one of: "
        + ", ".join(SHIPPED)
        + " (backtest list), or give a path to a .toml file"
    )


def test_missing_file_path(tmp_path: Path) -> None:
    path = tmp_path / "gone.toml"
    assert error_of(path) == f"{path}: no such strategy file; give an existing .toml file or a name (backtest list)"


def test_toml_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    path = write_spec(tmp_path, 'name = "x"\ncash = \n')
    assert error_of(path) == f"{path}:2:8: invalid TOML: Invalid value"


def test_toml_error_without_position_keeps_tomllib_text(tmp_path: Path) -> None:
    path = write_spec(tmp_path, 'name = "x')
    assert error_of(path) == f"{path}: invalid TOML: Unterminated string (at end of document)"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "[response]\nhedge_fractoin = 0.5\n",
            "unknown key response.hedge_fractoin (did you mean response.hedge_fraction?)",
        ),
        ("[rebalance]\nschedul = 'monthly'\n", "unknown key rebalance.schedul (did you mean rebalance.schedule?)"),
        ("[respons]\nhold_days = 3\n", "unknown key respons (did you mean response, description?)"),
    ],
)
def test_unknown_key_suggests_the_nearest(tmp_path: Path, extra: str, message: str) -> None:
    path = write_spec(tmp_path, MINIMAL + extra)
    assert error_of(path) == f"{path}: {message}"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "[response]\non_deescalation = 'leave'\n",
            "response.on_deescalation = 'leave' is not allowed; expected one of exit, hold",
        ),
        (
            "[response]\nhedge_fraction = 1.5\n",
            "response.hedge_fraction = 1.5 is out of range; expected a float >= 0 and <= 1",
        ),
        ("[response]\nhold_days = 0\n", "response.hold_days = 0 is out of range; expected a int >= 1"),
        ("[response]\nhold_days = 'ten'\n", "response.hold_days = 'ten' is not valid; expected a int >= 1"),
        (
            "[rebalance]\nschedule = 'yearly'\n",
            "rebalance.schedule = 'yearly' is not allowed; expected one of none, daily, weekly, monthly, quarterly",
        ),
        (
            "[costs]\ncommission_bps = -1\n",
            "costs.commission_bps = -1 is out of range; expected a float >= 0 and <= 1000",
        ),
    ],
)
def test_bad_value_names_key_and_allowed_values(tmp_path: Path, extra: str, message: str) -> None:
    path = write_spec(tmp_path, MINIMAL + extra)
    assert error_of(path) == f"{path}: {message}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[universe]\nSPY = 0.6\nAGG = 0.3\n", "universe weights sum to 0.9; they must sum to 1 (tolerance 1e-09)"),
        (MINIMAL + "[hedge]\nGLD = 0.5\nTLT = 0.6\n", "hedge weights sum to 1.1; they must sum to 1 (tolerance 1e-09)"),
        (
            "[universe]\n's p' = 1.0\n",
            "universe.s p is not a ticker; use upper-case letters, digits and . ^ = - (e.g. SPY, BRK-B, ^VIX)",
        ),
        ("[universe]\nSPY = 1.2\nAGG = -0.2\n", "universe.SPY = 1.2 is out of range; expected a float >= 0 and <= 1"),
        (
            'benchmark = "s p y"\n' + MINIMAL,
            "benchmark = 's p y' is not a ticker; use upper-case letters, digits and . ^ = - (e.g. SPY, BRK-B, ^VIX)",
        ),
        ("universe = 3\n", "universe must be a table; write it as a [universe] section"),
        ('description = "x"\n', "universe is empty; add a [universe] table of TICKER = weight summing to 1"),
        ('start = "2015-13-01"\n' + MINIMAL, "start = '2015-13-01' is not valid; expected a date"),
        (
            'start = "2020-01-01"\nend = "2019-01-01"\n' + MINIMAL,
            "start = '2020-01-01' is not before end = '2019-01-01'; swap or fix them",
        ),
        (
            MINIMAL + "[response]\nfund_from = ['SPY', 'QQQ']\n",
            "response.fund_from names QQQ, not in universe; expected tickers of [universe]: SPY, AGG",
        ),
        (
            MINIMAL + "[response]\ntrigger = 'tarifs'\n",
            "response.trigger = 'tarifs' is not a defined trigger; "
            'expected "" (any trigger) or one of: (none defined)',
        ),
    ],
)
def test_invalid_spec_messages(tmp_path: Path, text: str, message: str) -> None:
    path = write_spec(tmp_path, text)
    assert error_of(path) == f"{path}: {message}"


def test_response_trigger_must_name_a_defined_trigger(tmp_path: Path) -> None:
    text = MINIMAL + "[hedge]\nGLD = 1.0\n[triggers.tariffs]\ntype = 'event'\n[response]\ntrigger = 'tarifs'\n"
    path = write_spec(tmp_path, text)
    assert error_of(path) == (
        f"{path}: response.trigger = 'tarifs' is not a defined trigger (did you mean tariffs?); "
        'expected "" (any trigger) or one of: tariffs'
    )


def test_triggers_need_a_hedge_basket(tmp_path: Path) -> None:
    path = write_spec(tmp_path, MINIMAL + "[triggers.tariffs]\ntype = 'event'\n")
    assert (
        error_of(path)
        == f"{path}: hedge is empty but triggers are set; add a [hedge] table of TICKER = weight summing to 1"
    )


def test_trigger_table_errors_come_from_the_trigger_layer_with_the_file(tmp_path: Path) -> None:
    path = write_spec(tmp_path, MINIMAL + "[hedge]\nGLD = 1.0\n[triggers.tariffs]\ntype = 'event'\nmin_severity = 7\n")
    message = error_of(path)
    assert message.startswith(f"{path}: triggers.tariffs.min_severity = 7 is out of range")


def test_trigger_names_must_be_dotted_key_safe(tmp_path: Path) -> None:
    path = write_spec(tmp_path, MINIMAL + "[hedge]\nGLD = 1.0\n[triggers.'a.b']\ntype = 'event'\n")
    assert (
        error_of(path) == f"{path}: triggers.a.b: trigger names use letters, digits, _ and - (e.g. tariffs, gpr_high)"
    )

"""The schema of a strategy spec: a ``ParamSpec`` for every key outside ``[triggers]``.

Layout of a spec (TOML): top-level scalars (``TOP_LEVEL``), two weight tables
(``[universe]`` and ``[hedge]``: ``TICKER = weight``, open keys), the
``[triggers.NAME]`` tables (schemas in ``backtests.triggers.registry``) and the
fixed sections of ``SECTIONS``. ``spec_keys`` lists every dotted key a user may
override with ``--set``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from backtests.conventions import MAX_COST_BPS, SCHEDULES
from backtests.params import ParamSpec, suggest

TICKER_PATTERN = re.compile(r"[A-Z0-9.^=-]+")
TICKER_RULE = "upper-case letters, digits and . ^ = - (e.g. SPY, BRK-B, ^VIX)"
TRIGGER_NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
STRATEGY_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
WEIGHT_TOLERANCE = 1e-9
WEIGHT_SECTIONS: tuple[str, ...] = ("universe", "hedge")
TRIGGERS = "triggers"
DEESCALATION_CHOICES: tuple[str, ...] = ("exit", "hold")
RESPONSE_KINDS: tuple[str, ...] = ("hedge", "tilt")
# A date key whose value is "" means "not set" (earliest / latest common data).
UNSET_DATE = ""

WEIGHT = ParamSpec("float", 0.0, help="weight within its sleeve; the sleeve sums to 1", min=0.0, max=1.0)


class CalendarParam(ParamSpec):
    """An exchange calendar: any ``exchange_calendars`` name (case-insensitive), nearest names on a typo."""

    def describe(self) -> str:
        return "an exchange calendar name such as XNYS, XLON, XHKG"

    def coerce(self, value: Any, key: str, *, where: str = "") -> Any:
        from backtests.data.calendars import check_calendar  # lazy: loads exchange_calendars

        text = super().coerce(value, key, where=where)
        return check_calendar(text, what=f"{where}: {key}" if where else key)


TOP_LEVEL: dict[str, ParamSpec] = {
    "name": ParamSpec("str", "", help="strategy name (default: the file stem)"),
    "description": ParamSpec("str", "", help="one line, shown by backtest list"),
    "thesis": ParamSpec("str", "", help="what the strategy bets on, and when it would fail"),
    "benchmark": ParamSpec("str", "SPY", help="ticker the strategy is compared with"),
    "cash": ParamSpec("float", 100000.0, help="starting capital", min=1.0, max=1e12),
    "calendar": CalendarParam(
        "str", "XNYS", help="exchange whose sessions are the trading days (exchange_calendars name)"
    ),
    "start": ParamSpec("date", UNSET_DATE, help='first date, YYYY-MM-DD ("" = earliest common data)'),
    "end": ParamSpec("date", UNSET_DATE, help='last date, YYYY-MM-DD ("" = latest common data)'),
    "events": ParamSpec(
        "str_list", [], help="event CSV files used with the curated calendar, besides any --events"
    ),
}

SECTIONS: dict[str, dict[str, ParamSpec]] = {
    "response": {
        "trigger": ParamSpec("str", "", help='trigger that drives the hedge ("" = any of all triggers)'),
        "kind": ParamSpec(
            "str",
            "hedge",
            help='"hedge" (compared with the unhedged base) or "tilt" (compared with the untilted base)',
            choices=RESPONSE_KINDS,
        ),
        "hedge_fraction": ParamSpec(
            "float", 0.5, help="share of the fund_from sleeve moved into [hedge] at full intensity", min=0.0, max=1.0
        ),
        "fund_from": ParamSpec(
            "str_list", [], help="universe tickers that give up weight, pro rata (default: universe minus [hedge])"
        ),
        "hold_days": ParamSpec("int", 20, help="trading days the hedge stays on after the trigger was last on", min=1),
        "step_in": ParamSpec(
            "float", 1.0, help="max daily rise of the hedge level (1 = all at once)", min=0.01, max=1.0
        ),
        "step_out": ParamSpec(
            "float", 1.0, help="max daily fall of the hedge level (0.25 = over 4 days)", min=0.01, max=1.0
        ),
        "on_deescalation": ParamSpec(
            "str",
            "exit",
            help="exit = a release ends the hedge early; hold = ignore releases",
            choices=DEESCALATION_CHOICES,
        ),
    },
    "rebalance": {
        "schedule": ParamSpec(
            "str", "monthly", help="rebalance on the first trading day of each period", choices=SCHEDULES
        ),
        "drift_threshold": ParamSpec(
            "float",
            0.0,
            help="also rebalance when a weight drifts more than this from target (0 = off)",
            min=0.0,
            max=1.0,
        ),
    },
    "costs": {
        "commission_bps": ParamSpec("float", 5.0, help="commission, basis points of traded value", min=0.0, max=MAX_COST_BPS),
        "slippage_bps": ParamSpec("float", 2.0, help="slippage, basis points of the price", min=0.0, max=MAX_COST_BPS),
    },
}


def coerce_value(param: ParamSpec, value: Any, key: str, *, where: str) -> Any:
    """``param.coerce``, except that a date key also accepts ``""`` (not set)."""
    if param.type == "date" and isinstance(value, str) and value.strip() == UNSET_DATE:
        return UNSET_DATE
    return param.coerce(value, key, where=where)


def is_ticker(text: str) -> bool:
    """Whether ``text`` is a well-formed ticker (see ``TICKER_RULE``)."""
    return TICKER_PATTERN.fullmatch(text) is not None


def trigger_param_specs(table: Mapping[str, Any]) -> dict[str, ParamSpec]:
    """The parameter schema of a trigger table's ``type`` (empty for a missing or unknown type)."""
    from backtests.triggers.registry import TRIGGER_TYPES  # lazy: keeps the spec importable on its own

    trigger_type = TRIGGER_TYPES.get(table.get("type")) if isinstance(table, Mapping) else None
    return dict(trigger_type.params) if trigger_type else {}


def spec_keys(data: Mapping[str, Any]) -> dict[str, ParamSpec]:
    """Every overridable dotted key of ``data`` and its schema.

    Includes the weights present (``universe.SPY``) and ``triggers.NAME.PARAM``
    for each trigger's type (``type`` itself is not overridable). New weight keys
    are accepted by ``overrides.apply_overrides`` rather than listed here.
    """
    keys: dict[str, ParamSpec] = dict(TOP_LEVEL)
    for section in WEIGHT_SECTIONS:
        keys.update({join_key((section, ticker)): WEIGHT for ticker in data.get(section) or {}})
    for name, table in (data.get(TRIGGERS) or {}).items():
        keys.update({f"{TRIGGERS}.{name}.{param}": spec for param, spec in trigger_param_specs(table).items()})
    for section, params in SECTIONS.items():
        keys.update({f"{section}.{param}": spec for param, spec in params.items()})
    return keys


def join_key(parts: Sequence[str]) -> str:
    """The dotted key of ``parts``, quoting a part that contains a dot (``universe."0700.HK"``)."""
    return ".".join(f'"{p}"' if "." in p else p for p in parts)


def suggest_key(key: str, valid: Iterable[str]) -> str:
    """``suggest`` for dotted keys: compare the last part among keys of the same parent when it exists.

    ``response.hedge_fractoin`` suggests only ``response.hedge_fraction``, not
    every ``response.*`` key that shares the long prefix.
    """
    valid = list(valid)
    parent, dot, leaf = key.rpartition(".")
    prefix = parent + dot
    siblings = [v[len(prefix) :] for v in valid if dot and v.startswith(prefix) and "." not in v[len(prefix) :]]
    if not siblings:
        return suggest(key, valid)
    close = difflib.get_close_matches(leaf, siblings, n=3, cutoff=0.5)
    return f" (did you mean {', '.join(prefix + c for c in close)}?)" if close else ""

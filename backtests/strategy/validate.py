"""Validation of a parsed spec: every key known and well-typed, weights summing to 1, defaults filled.

``resolve(raw, where, default_name)`` returns the fully resolved nested dict
(the ``data`` of a ``StrategySpec``). Every error is a one-line
``UserInputError`` starting with ``where`` (the file) and naming the dotted key.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from backtests.errors import UserInputError
from backtests.params import suggest
from backtests.strategy.schema import (
    SECTIONS,
    TICKER_RULE,
    TOP_LEVEL,
    TRIGGER_NAME_PATTERN,
    TRIGGERS,
    WEIGHT,
    WEIGHT_SECTIONS,
    WEIGHT_TOLERANCE,
    STRATEGY_NAME_PATTERN,
    coerce_value,
    is_ticker,
    suggest_key,
)


def resolve(raw: Mapping[str, Any], where: str, default_name: str) -> dict[str, Any]:
    """Validate ``raw`` (a parsed TOML document) and fill every default."""
    _reject_unknown(raw, list(TOP_LEVEL) + list(WEIGHT_SECTIONS) + [TRIGGERS] + list(SECTIONS), "", where)
    data: dict[str, Any] = {
        key: coerce_value(param, raw[key], key, where=where) if key in raw else copy.deepcopy(param.default)
        for key, param in TOP_LEVEL.items()
    }
    data["name"] = data["name"] or default_name
    if not STRATEGY_NAME_PATTERN.fullmatch(data["name"]):
        raise UserInputError(
            f"{where}: name = {data['name']!r}: strategy names use letters, digits, '.', '_' and '-' "
            "(they name the report folder)"
        )
    _check_ticker(data["benchmark"], "benchmark", where)
    data["benchmark"] = data["benchmark"].upper()
    for section in WEIGHT_SECTIONS:
        data[section] = _weights(_table(raw, section, where), section, where)
    data[TRIGGERS] = _triggers(_table(raw, TRIGGERS, where), where)
    for section, params in SECTIONS.items():
        data[section] = _section(_table(raw, section, where), section, params, where)
    _check_universe(data, where)
    _resolve_response(data, where)
    _check_period(data, where)
    return data


def _reject_unknown(table: Mapping[str, Any], valid: list[str], prefix: str, where: str) -> None:
    for key in table:
        if key not in valid:
            dotted = [prefix + v for v in valid]
            raise UserInputError(f"{where}: unknown key {prefix}{key}{suggest_key(prefix + key, dotted)}")


def _table(raw: Mapping[str, Any], section: str, where: str) -> Mapping[str, Any]:
    value = raw.get(section, {})
    if not isinstance(value, Mapping):
        raise UserInputError(f"{where}: {section} must be a table; write it as a [{section}] section")
    return value


def _check_ticker(ticker: str, key: str, where: str) -> None:
    if not is_ticker(ticker.upper()):
        raise UserInputError(f"{where}: {key} = {ticker!r} is not a ticker; use {TICKER_RULE}")


def _weights(table: Mapping[str, Any], section: str, where: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for name, value in table.items():
        ticker = str(name).upper()
        if not is_ticker(ticker):
            raise UserInputError(f"{where}: {section}.{name} is not a ticker; use {TICKER_RULE}")
        if ticker in weights:
            raise UserInputError(f"{where}: {section}.{ticker} is given twice (tickers are case-insensitive)")
        weights[ticker] = WEIGHT.coerce(value, f"{section}.{ticker}", where=where)
    total = sum(weights.values())
    if weights and abs(total - 1.0) > WEIGHT_TOLERANCE:
        raise UserInputError(
            f"{where}: {section} weights sum to {total:.10g}; they must sum to 1 (tolerance {WEIGHT_TOLERANCE:g})"
        )
    return weights


def _triggers(tables: Mapping[str, Any], where: str) -> dict[str, dict[str, Any]]:
    from backtests.triggers.validation import validate_triggers  # lazy: the trigger layer loads on demand

    for name in tables:
        if not TRIGGER_NAME_PATTERN.fullmatch(name):
            raise UserInputError(
                f"{where}: {TRIGGERS}.{name}: trigger names use letters, digits, _ and - (e.g. tariffs, gpr_high)"
            )
    return validate_triggers(tables, where) if tables else {}


def _section(table: Mapping[str, Any], section: str, params: Mapping[str, Any], where: str) -> dict[str, Any]:
    _reject_unknown(table, list(params), f"{section}.", where)
    return {
        key: coerce_value(param, table[key], f"{section}.{key}", where=where)
        if key in table
        else copy.deepcopy(param.default)
        for key, param in params.items()
    }


def _check_universe(data: dict[str, Any], where: str) -> None:
    if not data["universe"]:
        raise UserInputError(f"{where}: universe is empty; add a [universe] table of TICKER = weight summing to 1")
    if data[TRIGGERS] and not data["hedge"]:
        raise UserInputError(
            f"{where}: hedge is empty but triggers are set; add a [hedge] table of TICKER = weight summing to 1"
        )


def _resolve_response(data: dict[str, Any], where: str) -> None:
    """Check response.trigger and response.fund_from; an empty fund_from becomes the universe minus [hedge]."""
    response = data["response"]
    trigger = response["trigger"]
    if trigger and trigger not in data[TRIGGERS]:
        names = ", ".join(data[TRIGGERS]) or "(none defined)"
        raise UserInputError(
            f"{where}: response.trigger = {trigger!r} is not a defined trigger{suggest(trigger, data[TRIGGERS])}; "
            f'expected "" (any trigger) or one of: {names}'
        )
    universe = data["universe"]
    response["fund_from"] = list(dict.fromkeys(t.upper() for t in response["fund_from"]))
    outside = [t for t in response["fund_from"] if t not in universe]
    if outside:
        raise UserInputError(
            f"{where}: response.fund_from names {', '.join(outside)}, not in universe; "
            f"expected tickers of [universe]: {', '.join(universe)}"
        )
    if not response["fund_from"]:
        response["fund_from"] = [t for t in universe if t not in data["hedge"]]


def _check_period(data: dict[str, Any], where: str) -> None:
    if data["start"] and data["end"] and data["start"] >= data["end"]:
        raise UserInputError(
            f"{where}: start = {data['start']!r} is not before end = {data['end']!r}; swap or fix them"
        )

"""Checking ``[triggers.NAME]`` tables: known type and parameters, good values, inputs, no cycles.

Every error is a one-line ``UserInputError`` naming the dotted key
(``triggers.NAME.PARAM``), prefixed by ``where`` (e.g. the spec file) if given.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from backtests.errors import UserInputError
from backtests.params import suggest
from backtests.triggers.registry import TRIGGER_TYPES


def _prefix(where: str) -> str:
    return f"{where}: " if where else ""


def _check_known_keys(table: Mapping[str, Any], params: Mapping[str, Any], key: str) -> None:
    for param in table:
        if param != "type" and param not in params:
            hint = suggest(param, params, n=1) or f"; valid keys: type, {', '.join(params)}"
            raise UserInputError(f"{key}.{param}: unknown key{hint}")


def validate_trigger_table(name: str, table: Mapping[str, Any], where: str = "") -> dict[str, Any]:
    """The table's ``type`` plus every parameter of that type, coerced and defaulted.

    Raises ``UserInputError`` for a missing or unknown type, an unknown key (with
    the nearest valid keys), a value of the wrong type or out of range, or a
    missing required parameter (``inputs`` of a combinator).
    """
    key, prefix = f"triggers.{name}", _prefix(where)
    types = ", ".join(TRIGGER_TYPES)
    if not isinstance(table, Mapping):
        raise UserInputError(
            f'{prefix}{key}: must be a table with a type, e.g. [triggers.{name}] type = "event"'
        )
    kind = table.get("type")
    if kind is None:
        raise UserInputError(f"{prefix}{key}.type: missing; set type to one of {types}")
    if not isinstance(kind, str) or kind not in TRIGGER_TYPES:
        raise UserInputError(
            f"{prefix}{key}.type = {kind!r} is not a trigger type"
            f"{suggest(str(kind), TRIGGER_TYPES, n=1)}; use one of {types}"
        )
    trigger_type = TRIGGER_TYPES[kind]
    _check_known_keys(table, trigger_type.params, f"{prefix}{key}")
    params: dict[str, Any] = {"type": kind}
    for param, spec in trigger_type.params.items():
        if param in table:
            params[param] = spec.coerce(table[param], f"{key}.{param}", where=where)
        elif spec.default is None and not spec.optional:
            raise UserInputError(
                f"{prefix}{key}.{param}: missing; set it to {spec.describe()}: {spec.help}"
            )
        else:
            params[param] = copy.deepcopy(spec.default)
    if trigger_type.resolve is None:
        return params
    try:
        return trigger_type.resolve(params, key)
    except UserInputError as exc:
        raise UserInputError(f"{prefix}{exc}") from None


def validate_triggers(
    tables: Mapping[str, Mapping[str, Any]], where: str = ""
) -> dict[str, dict[str, Any]]:
    """Validate every table and check combinator inputs name defined triggers, without cycles."""
    validated = {name: validate_trigger_table(name, table, where) for name, table in tables.items()}
    evaluation_order(validated, where)
    return validated


def _inputs(params: Mapping[str, Any]) -> list[str]:
    return list(params["inputs"]) if TRIGGER_TYPES[params["type"]].combinator else []


def evaluation_order(triggers: Mapping[str, Mapping[str, Any]], where: str = "") -> list[str]:
    """Names ordered so each combinator comes after its inputs (declaration order otherwise)."""
    prefix = f"{_prefix(where)}triggers"
    order: list[str] = []
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            cycle = " -> ".join(visiting[visiting.index(name) :] + [name])
            raise UserInputError(
                f"{prefix}.{name}.inputs: cycle {cycle}; a trigger cannot depend on itself"
            )
        visiting.append(name)
        for ref in _inputs(triggers[name]):
            if ref not in triggers:
                raise UserInputError(
                    f"{prefix}.{name}.inputs: {ref!r} is not a defined trigger"
                    f"{suggest(ref, triggers, n=1)}; "
                    f"define [triggers.{ref}] or fix the name"
                )
            visit(ref)
        visiting.pop()
        order.append(name)

    for name in triggers:
        visit(name)
    return order

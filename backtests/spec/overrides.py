"""``--set KEY=VALUE``: dotted-key overrides of a spec, each value parsed by its key's ``ParamSpec``.

Keys are those of ``schema.spec_keys`` plus new weights (``universe.XLE=0.1``
adds XLE). Values are CLI strings: ``str_list`` values are comma-separated
(``response.fund_from=SPY,QQQ``), an empty date (``start=``) means not set.
Cross-key checks (weights summing to 1, fund_from within the universe) are
left to the validation that follows once every override is applied.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from backtests.errors import UserInputError
from backtests.spec.schema import coerce_value, spec_keys, suggest_key, weight_key


def parse_assignment(item: str, where: str = "--set") -> tuple[str, str]:
    """Split ``KEY=VALUE`` (the value may itself contain ``=``); raise on a missing ``=`` or key."""
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise UserInputError(f"{where} {item!r}: expected KEY=VALUE, e.g. {where} response.hedge_fraction=0.5")
    return key.strip(), value.strip()


def apply_overrides(data: Mapping[str, Any], overrides: Sequence[str], where: str = "--set") -> dict[str, Any]:
    """A deep copy of ``data`` with each ``KEY=VALUE`` of ``overrides`` set, in order."""
    out = copy.deepcopy(dict(data))
    for item in overrides:
        key, text = parse_assignment(item, where)
        keys = spec_keys(out)
        param = keys.get(key) or weight_key(key)
        if param is None:
            raise UserInputError(f"{where} {key}: unknown key{suggest_key(key, keys)}")
        _assign(out, key, coerce_value(param, text, key, where=where))
    return out


def _assign(data: dict[str, Any], key: str, value: Any) -> None:
    *parents, leaf = key.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value

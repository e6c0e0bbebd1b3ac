"""Overrides of a spec by dotted key: typed values from Python, ``KEY=VALUE`` strings from the CLI.

A key is dotted (``response.hedge_fraction``, ``triggers.tariffs.lag``). A
ticker that contains a dot is written quoted, as in TOML (``universe."0700.HK"``);
in the weight sections the unquoted form works too, since everything after
``universe.`` or ``hedge.`` is the ticker (``universe.0700.HK``). Tickers are
upper-cased (``universe.spy`` is ``universe.SPY``).

Values are checked by their key's ``ParamSpec``: Python values as given
(``0.3``, ``["SPY", "QQQ"]``), CLI strings parsed (``str_list`` values are
comma-separated, an empty date means not set). Weight keys not in the spec add a
ticker (``universe.XLE=0.1``). Cross-key checks (weights summing to 1, fund_from
within the universe) are left to the validation that follows once every
override is applied.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from backtests.errors import UserInputError
from backtests.strategy.schema import (
    WEIGHT,
    WEIGHT_SECTIONS,
    coerce_value,
    is_ticker,
    join_key,
    spec_keys,
    suggest_key,
)

#: The argument the Python API takes overrides in (the CLI shows it as ``--set``).
OVERRIDES = "`overrides`"


def split_key(key: str) -> tuple[str, ...]:
    """The parts of a dotted key; ``"..."`` quotes a part that contains dots; weight tickers are upper-cased."""
    parts: list[str] = []
    rest = key.strip()
    while rest:
        if rest.startswith('"'):
            end = rest.find('"', 1)
            if end < 0:
                raise UserInputError(f"{OVERRIDES} {key}: unbalanced quote; write a dotted ticker as universe.\"0700.HK\"")
            parts.append(rest[1:end])
            rest = rest[end + 1 :]
            if rest and not rest.startswith("."):
                raise UserInputError(f"{OVERRIDES} {key}: expected '.' after the quoted part")
            rest = rest[1:]
        elif parts and parts[0] in WEIGHT_SECTIONS and len(parts) == 1:
            parts.append(rest)
            rest = ""
        else:
            part, _, rest = rest.partition(".")
            parts.append(part)
    if not parts or any(not p.strip() for p in parts):
        raise UserInputError(f"{OVERRIDES} {key!r}: empty key part; use a dotted key such as response.hedge_fraction")
    if parts[0] in WEIGHT_SECTIONS and len(parts) == 2:
        parts[1] = parts[1].strip().upper()
    return tuple(parts)


def parse_assignment(item: str) -> tuple[str, str]:
    """Split ``KEY=VALUE`` (the value may itself contain ``=``); raise on a missing ``=`` or key."""
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise UserInputError(f"{OVERRIDES} {item!r}: expected KEY=VALUE, e.g. response.hedge_fraction=0.5")
    return key.strip(), value.strip()


def apply_overrides(
    data: Mapping[str, Any], overrides: Mapping[str, Any] | Sequence[str], where: str = OVERRIDES
) -> dict[str, Any]:
    """A deep copy of ``data`` with each override set, in order.

    ``overrides``: a mapping of dotted key -> typed value, or a sequence of ``KEY=VALUE`` strings.
    """
    pairs = overrides.items() if isinstance(overrides, Mapping) else (parse_assignment(o) for o in overrides)
    out = copy.deepcopy(dict(data))
    for key, value in pairs:
        parts = split_key(key)
        canonical = join_key(parts)
        keys = spec_keys(out)
        param = keys.get(canonical)
        if param is None and parts[0] in WEIGHT_SECTIONS and len(parts) == 2 and is_ticker(parts[1]):
            param = WEIGHT
        if param is None:
            raise UserInputError(f"{where} {canonical}: unknown key{suggest_key(canonical, keys)}")
        _assign(out, parts, coerce_value(param, value, canonical, where=where))
    return out


def _assign(data: dict[str, Any], parts: Sequence[str], value: Any) -> None:
    *parents, leaf = parts
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    if parts[0] in WEIGHT_SECTIONS:  # the same ticker written in another case is replaced, not doubled
        for other in [k for k in node if k != leaf and str(k).upper() == leaf]:
            del node[other]
    node[leaf] = value

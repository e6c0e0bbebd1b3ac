"""A resolved spec back to TOML text: deterministic, every key written, each with its help as a comment.

Written by hand (no TOML writer dependency): the spec holds only strings,
numbers, booleans, lists of those and flat tables. Reading the text back with
``tomllib`` gives the same values. A ``None`` (an unset optional trigger
parameter) is left out, which reads back as the same default.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from backtests.params import ParamSpec
from backtests.strategy.schema import SECTIONS, TOP_LEVEL, TRIGGERS, WEIGHT_SECTIONS, trigger_param_specs

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\f": "\\f", "\r": "\\r"}


def render_toml(data: Mapping[str, Any]) -> str:
    """The TOML text of a resolved spec (``StrategySpec.data``)."""
    lines = [_line(key, data[key], TOP_LEVEL[key]) for key in TOP_LEVEL]
    for section in WEIGHT_SECTIONS:
        lines += ["", f"[{section}]"] + [_line(t, w) for t, w in data[section].items()]
    for name, table in data[TRIGGERS].items():
        params = trigger_param_specs(table)
        lines += ["", f"[{TRIGGERS}.{_key(name)}]"]
        lines += [_line(p, v, params.get(p)) for p, v in table.items() if v is not None]
    for section, params in SECTIONS.items():
        lines += ["", f"[{section}]"] + [_line(key, data[section][key], params[key]) for key in params]
    return "\n".join(lines) + "\n"


def _line(key: str, value: Any, param: ParamSpec | None = None) -> str:
    text = f"{_key(key)} = {_value(value)}"
    if param is not None and param.help and "\n" not in text:
        text += f"  # {param.help}"
    return text


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(str(k))} = {_value(v)}" for k, v in value.items()) + " }" if value else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as TOML")


def _string(text: str) -> str:
    """A basic string; a multi-line basic string when ``text`` has newlines."""
    multiline = "\n" in text
    out = []
    for char in text:
        if char == "\n" and multiline:
            out.append(char)
        elif char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    body = "".join(out)
    return f'"""\n{body}"""' if multiline else f'"{body}"'

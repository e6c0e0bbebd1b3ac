"""Typed, validated parameters: the one schema type used by spec keys and trigger parameters.

A ``ParamSpec`` says what a key accepts; ``coerce`` turns a TOML value or a
``--set`` string into that type or raises a one-line ``UserInputError`` that
names the key and the allowed values.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from backtests.errors import UserInputError

_TYPES = ("int", "float", "bool", "str", "date", "str_list")
# Numbers beyond this are never meaningful here and overflow int64 or float arithmetic downstream.
_LARGEST = 2.0**53


@dataclass(frozen=True)
class ParamSpec:
    """What one key accepts: ``type`` is one of int, float, bool, str, date, str_list."""

    type: str
    default: Any = None
    help: str = ""
    choices: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    optional: bool = False

    def __post_init__(self) -> None:
        if self.type not in _TYPES:
            raise ValueError(f"unknown param type {self.type!r}")

    def describe(self) -> str:
        """Allowed values in words, for error messages and help."""
        if self.choices is not None:
            return "one of " + ", ".join(str(c) for c in self.choices)
        bounds = []
        if self.min is not None:
            bounds.append(f">= {self.min:g}")
        if self.max is not None:
            bounds.append(f"<= {self.max:g}")
        kind = "a list of strings" if self.type == "str_list" else f"a {self.type}"
        return kind + (" " + " and ".join(bounds) if bounds else "")

    def coerce(self, value: Any, key: str, *, where: str = "") -> Any:
        """Convert ``value`` (TOML value or CLI string) to this type, checking choices and bounds."""
        prefix = f"{where}: " if where else ""
        if value is None and self.optional:
            return None
        try:
            out = _convert(self.type, value)
        except (TypeError, ValueError):
            raise UserInputError(f"{prefix}{key} = {value!r} is not valid; expected {self.describe()}") from None
        if self.choices is not None and out not in self.choices:
            raise UserInputError(f"{prefix}{key} = {value!r} is not allowed; expected {self.describe()}")
        if self.type in ("int", "float"):
            if abs(out) > _LARGEST or (self.min is not None and out < self.min) or (self.max is not None and out > self.max):
                raise UserInputError(f"{prefix}{key} = {value!r} is out of range; expected {self.describe()}")
        return out


def _convert(kind: str, value: Any) -> Any:
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise ValueError(value)
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError(value)
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(value)
        return int(str(value).strip()) if isinstance(value, str) else int(value)
    if kind == "float":
        if isinstance(value, bool):
            raise ValueError(value)
        out = float(value)
        if out != out or out in (float("inf"), float("-inf")):
            raise ValueError(value)
        return out
    if kind == "str":
        if not isinstance(value, str):
            raise TypeError(value)
        return value
    if kind == "date":
        import datetime as dt

        return dt.date.fromisoformat(str(value).strip()).isoformat()
    if kind == "str_list":
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, Sequence):
            return [str(v) for v in value]
        raise TypeError(value)
    raise ValueError(kind)  # pragma: no cover - guarded by ParamSpec.__post_init__


def suggest(key: str, valid: Iterable[str], n: int = 3) -> str:
    """`` (did you mean a, b?)`` with the nearest valid keys, or an empty string."""
    close = difflib.get_close_matches(key, list(valid), n=n, cutoff=0.5)
    return f" (did you mean {', '.join(close)}?)" if close else ""

"""Finding a spec by name or path, parsing its TOML, applying ``--set`` overrides and validating it.

A name (``tariff-shock-hedge``) is looked up as ``NAME.toml`` in the shipped
strategies folder; anything containing ``/`` or ending in ``.toml`` is a path.
The file is validated on its own first (errors name the file), then again with
the overrides applied (errors name ``FILE with --set``), so that defaults such
as ``response.fund_from`` follow an overridden universe.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backtests.errors import UserInputError
from backtests.paths import strategies_dir
from backtests.strategy.model import StrategySpec
from backtests.strategy.validate import resolve

# Longer names cannot be files on common file systems (NAME_MAX, PATH_MAX): say so instead of an OSError.
_MAX_NAME, _MAX_PATH = 255, 4096
_TOML_POSITION = re.compile(r"^(?P<message>.*?) \(at line (?P<line>\d+), column (?P<column>\d+)\)$")


@dataclass(frozen=True)
class StrategyInfo:
    """A shipped strategy as listed by ``backtest list``."""

    name: str
    description: str
    path: Path


def shipped_strategies() -> list[StrategyInfo]:
    """The shipped specs, sorted by name (the file stem, which is what ``load_spec`` takes)."""
    infos = []
    for path in sorted(strategies_dir().glob("*.toml")):
        description = _parse(path).get("description", "")
        infos.append(StrategyInfo(path.stem, description if isinstance(description, str) else "", path))
    return infos


def find_spec(name_or_path: str | os.PathLike[str]) -> Path:
    """The spec file for a strategy name or a path; UserInputError if there is none."""
    name_or_path = os.fspath(name_or_path)
    if len(name_or_path) > _MAX_PATH or any(len(part) > _MAX_NAME for part in Path(name_or_path).parts):
        raise UserInputError(
            f"strategy {name_or_path[:40]!r}... is too long for a file name; give a shipped name or a real .toml path"
        )
    if "/" in name_or_path or name_or_path.endswith(".toml"):
        path = Path(name_or_path).expanduser()
        if not path.is_file():
            raise UserInputError(
                f"{name_or_path}: no such strategy file; give an existing .toml file or a name (backtest list)"
            )
        return path
    path = strategies_dir() / f"{name_or_path}.toml"
    if not path.is_file():
        names = ", ".join(p.stem for p in sorted(strategies_dir().glob("*.toml")))
        raise UserInputError(
            f"unknown strategy {name_or_path!r}; choose one of: {names} (backtest list), or give a path to a .toml file"
        )
    return path


def load_spec(
    name_or_path: str | os.PathLike[str], overrides: Mapping[str, Any] | Sequence[str] = ()
) -> StrategySpec:
    """Load, validate and default a spec, then apply overrides (typed mapping or ``KEY=VALUE`` strings)."""
    path = find_spec(name_or_path)
    raw = _parse(path)
    data = resolve(raw, str(path), path.stem)
    spec = StrategySpec(name=data["name"], data=data, source_path=path, raw=raw)
    return spec.with_overrides(overrides) if overrides else spec


def _parse(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_POSITION.match(str(exc))
        if match is None:
            raise UserInputError(f"{path}: invalid TOML: {exc}") from None
        raise UserInputError(f"{path}:{match['line']}:{match['column']}: invalid TOML: {match['message']}") from None
    except UnicodeDecodeError:
        raise UserInputError(f"{path}: not a UTF-8 text file; save the spec as UTF-8 TOML") from None
    except OSError as exc:
        raise UserInputError(f"{path}: cannot read the file: {exc.strerror}") from None

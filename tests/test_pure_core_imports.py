"""The pure core (triggers, hedge level, target weights) never reaches the file layer, the CLI or an engine.

A static walk of the import statements, lazy ones inside functions included
(only ``if TYPE_CHECKING:`` blocks are skipped): starting from the pure core's
modules, follow every ``backtests`` import transitively and fail if any module
on the way is an adapter, a report, the CLI, or imports backtrader, yfinance,
quantstats or click.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

import backtests

PACKAGE = Path(backtests.__file__).parent
PURE_CORE = (
    "backtests.triggers",
    "backtests.portfolio.response",
    "backtests.portfolio.weights",
    "backtests.events.select",
    "backtests.assembly",
)
FORBIDDEN_PREFIXES = (
    "backtests.data",
    "backtests.events.calendar",
    "backtests.cli",
    "backtests.reports",
    "backtests.inputs",
    "backtests.api",
    "backtests.pipeline",
    "backtests.paths",
    "backtests.atomic",
    "backtests.strategy.load",
    "backtests.execution.backtrader_exec",
    "backtrader",
    "yfinance",
    "quantstats",
    "click",
)


def _module_file(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    return Path(spec.origin) if spec and spec.origin and spec.origin.endswith(".py") else None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(name: str) -> set[str]:
    """Every module named by an import statement of ``name``'s source (outside TYPE_CHECKING blocks)."""
    path = _module_file(name)
    if path is None:
        return set()
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - child.level + 1] + ([base] if base else []))
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in child.names if _module_file_safe(f"{base}.{alias.name}"))
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def _module_file_safe(name: str) -> bool:
    try:
        return _module_file(name) is not None
    except (ImportError, ValueError):
        return False


def reachable(start: str) -> dict[str, str]:
    """Modules reachable from ``start``: module -> the module that imported it first."""
    seen = {start: ""}
    queue = [start]
    while queue:
        current = queue.pop()
        for name in sorted(imports_of(current)):
            if name in seen:
                continue
            seen[name] = current
            if name.startswith("backtests"):
                queue.append(name)
    return seen


def chain(seen: dict[str, str], name: str) -> str:
    links = [name]
    while seen[links[-1]]:
        links.append(seen[links[-1]])
    return " <- ".join(links)


@pytest.mark.parametrize("module", PURE_CORE)
def test_pure_core_never_reaches_io_cli_or_engines(module: str) -> None:
    seen = reachable(module)
    bad = [chain(seen, m) for m in seen if m.startswith(FORBIDDEN_PREFIXES)]
    assert not bad, "pure core reaches the file layer, the CLI or an engine:\n" + "\n".join(bad)


def test_the_walk_sees_lazy_imports_inside_functions() -> None:
    # pipeline imports the attribution lazily, inside run_strategy: the walk must see it,
    # or the test above could pass by not looking.
    assert "backtests.attribution" in imports_of("backtests.pipeline")
    assert "backtests.events.calendar" in reachable("backtests.inputs")

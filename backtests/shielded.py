"""Functions a Ctrl-C must not cut short: those that stop this process's worker processes.

Cut short, such a function leaves a worker running after the command (it keeps the
terminal's pipes open) or the pool's semaphores behind. Python raises KeyboardInterrupt at
any line, so a ``try`` inside the function cannot protect its first lines; the ``backtest``
process's SIGINT handler (``cli.interrupts``) instead holds a Ctrl-C while a shielded
function's frame is on the main thread's stack, and raises it once the function returned.

Contract: ``shielded(function)`` registers the function's code and returns it unchanged;
``is_shielded(code)`` says whether a code object is a registered function's (the handler
asks it of every frame on the stack). Without that handler (the library in a script of
your own) a shielded function is a plain function.
"""

from __future__ import annotations

from collections.abc import Callable
from types import CodeType
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])

_CODES: set[CodeType] = set()


def shielded(function: F) -> F:
    """Register ``function`` (a plain function or method) as one a Ctrl-C must not cut short."""
    _CODES.add(function.__code__)  # type: ignore[attr-defined]
    return function


def is_shielded(code: CodeType) -> bool:
    """Whether ``code`` is a shielded function's."""
    return code in _CODES

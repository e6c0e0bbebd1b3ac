"""Ctrl-C in the ``backtest`` process: KeyboardInterrupt at once, or just after an import in progress.

Python raises KeyboardInterrupt at whatever line the main thread runs when SIGINT arrives.
Inside the import machinery that is not safe, because what happens to the exception there
is decided by C code, not by us: CPython drops it silently when it lands in the module
lock's weakref callback (the command then runs to the end as if never interrupted), and
compiled modules that import others while they initialise turn it into an ImportError
(pandas: "PyCapsule_Import could not import module", numpy: "Unable to import required
dependency"), which would be reported as an internal error.

Contract:

- ``install()``, from the main thread, replaces Python's default SIGINT handler. A handler
  the process was given otherwise is left alone: SIG_IGN (a shell's background job) or a
  caller's own.
- Ctrl-C while no import is in progress in the main thread raises KeyboardInterrupt there
  at once, as Python's default handler does.
- Ctrl-C during an import is held: every ``RETRY_SECONDS`` (SIGALRM, with system calls
  restarted rather than interrupted) the check is repeated, and KeyboardInterrupt is raised
  at the first one that finds no import in progress. An import thus completes (a fraction of
  a second here) before the command stops. SIGALRM's previous handler is restored first.
- Ctrl-C is also held while the main thread blocks SIGINT, as the signal itself would be
  (``WarmProcess.start`` blocks it while it spawns its worker: interrupted then, the worker
  would find its start-up data cut short and print a traceback). A SIGINT another thread
  caught, or the retry's SIGALRM, would otherwise reach the handler meanwhile.
- Where there is no SIGALRM (Windows), ``install()`` does nothing.
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

RETRY_SECONDS = 0.02
_IMPORT_MACHINERY = frozenset({"importlib._bootstrap", "importlib._bootstrap_external"})


def install() -> None:
    """Handle SIGINT as the module docstring says, unless the process was given another handler."""
    if hasattr(signal, "SIGALRM") and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _Interrupt().handle)


def importing(frame: FrameType | None) -> bool:
    """Whether ``frame`` or any frame that called it belongs to Python's import machinery."""
    while frame is not None:
        if frame.f_globals.get("__name__") in _IMPORT_MACHINERY:
            return True
        frame = frame.f_back
    return False


class _Interrupt:
    """The SIGINT handler, and the SIGALRM handler while a Ctrl-C is held."""

    def __init__(self) -> None:
        self._held = False
        self._alarm_handler: Any = None  # SIGALRM's handler before one was held

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if importing(frame) or signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, ()):
            if not self._held:
                self._held, self._alarm_handler = True, signal.signal(signal.SIGALRM, self.handle)
                signal.siginterrupt(signal.SIGALRM, False)
            signal.setitimer(signal.ITIMER_REAL, RETRY_SECONDS)
            return
        if self._held:
            signal.setitimer(signal.ITIMER_REAL, 0)
            # None: that handler was set outside Python, and cannot be put back from here
            signal.signal(signal.SIGALRM, signal.SIG_DFL if self._alarm_handler is None else self._alarm_handler)
            self._held = False
        raise KeyboardInterrupt

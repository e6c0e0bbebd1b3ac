"""Ctrl-C in the ``backtest`` process: KeyboardInterrupt only where a command can stop cleanly.

Python raises KeyboardInterrupt at whatever line the main thread runs when SIGINT arrives.
Not every line is safe:

- Inside the import machinery, what happens to the exception is decided by C code: CPython
  drops it silently in the module lock's weakref callback (the command then runs to its end
  as if never interrupted), and compiled modules that import others while they initialise
  turn it into an ImportError (pandas: "PyCapsule_Import could not import module"; numpy:
  "Unable to import required dependency"), reported as an internal error.
- While the main thread blocks SIGINT (``WarmProcess.start`` spawning its worker), the
  signal can still reach Python through another thread (numpy's start threads that leave
  it unblocked); interrupted then, the worker finds its start-up data cut short.
- Inside a ``shielded`` function (stopping a worker process), cut short, a worker would
  outlive the command.
- Inside llvmlite's object-cache callbacks (numba loading or saving a kernel), which LLVM's
  C code calls through ctypes, an exception is printed and dropped; so it is in a weakref
  callback or ``__del__`` (numba's ``on_disposal``). Wherever Python can only print a
  KeyboardInterrupt ("Exception ignored ..."), ``sys.unraisablehook`` holds it again instead.
- Outside the command itself (click parsing the arguments, or after the command returned)
  nothing would report it as "Interrupted.": click prints "Aborted!" (exit 1), or the exit
  code is the command's.

Contract:

- ``install()``, from the main thread, replaces Python's default SIGINT handler. A handler
  the process was given otherwise is left alone: SIG_IGN (a shell's background job) or a
  caller's own. Where there is no SIGALRM (Windows) it does nothing.
- A Ctrl-C raises KeyboardInterrupt only inside ``interruptible()`` (the command's body:
  ``BacktestGroup.invoke``), while no import is in progress in the main thread, no
  llvmlite callback or ``shielded`` function runs there and SIGINT is not blocked there. One
  that ends up unraisable all the same is held again. Otherwise it is held:
  - inside the block, the check is repeated every ``RETRY_SECONDS`` (SIGALRM, system calls
    restarted rather than interrupted) and KeyboardInterrupt is raised at the first that
    passes: an import completes first (a fraction of a second here);
  - a Ctrl-C held when the block is entered is raised as it is entered;
  - leaving the block stops the retry (SIGALRM's handler and timer are put back) and keeps
    the Ctrl-C held; ``settle()`` says whether one is still held as the process ends.
- Without ``install()`` (the library, the tests' in-process runs) ``interruptible()`` and
  ``settle()`` do nothing.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from backtests.shielded import is_shielded

RETRY_SECONDS = 0.02
_IMPORT_MACHINERY = frozenset(
    {"importlib._bootstrap", "importlib._bootstrap_external", "_frozen_importlib", "_frozen_importlib_external"}
)
_LLVM_CALLBACKS = frozenset({"_raw_object_cache_notify", "_raw_object_cache_getbuffer"})


class _Interrupt:
    """The SIGINT handler, and the SIGALRM handler while a held Ctrl-C is retried."""

    def __init__(self) -> None:
        self.armed = False  # inside ``interruptible()``
        self.held = False  # a Ctrl-C not raised yet
        self._alarm_handler: Any = None  # SIGALRM's own handler while the retry is set
        self._retrying = False

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGINT:
            self.held = True
        if not (self.held and self.armed):
            return
        if _on_stack(frame, _unsafe) or signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, ()):
            self.retry()
            return
        self.held = False
        self.stop_retrying()
        raise KeyboardInterrupt

    def held_again(self, unraisable: Any) -> bool:
        """For ``sys.unraisablehook``: a KeyboardInterrupt Python could only print is held again
        (and retried inside the command); anything else is not this handler's."""
        if not issubclass(unraisable.exc_type, KeyboardInterrupt):
            return False
        self.held = True
        if self.armed:
            self.retry()
        return True

    def retry(self) -> None:
        """Run ``handle`` again in ``RETRY_SECONDS``."""
        if not self._retrying:
            self._retrying, self._alarm_handler = True, signal.signal(signal.SIGALRM, self.handle)
            signal.siginterrupt(signal.SIGALRM, False)
        signal.setitimer(signal.ITIMER_REAL, RETRY_SECONDS)

    def stop_retrying(self) -> None:
        if self._retrying:
            signal.setitimer(signal.ITIMER_REAL, 0)
            # None: that handler was set outside Python and cannot be put back from here
            signal.signal(signal.SIGALRM, signal.SIG_DFL if self._alarm_handler is None else self._alarm_handler)
            self._retrying = False


_installed: list[_Interrupt] = []  # the process's handler, once installed (signal handlers are per process)


def install() -> None:
    """Handle SIGINT as the module docstring says, unless the process was given another handler."""
    if hasattr(signal, "SIGALRM") and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        handler = _Interrupt()
        signal.signal(signal.SIGINT, handler.handle)
        previous = sys.unraisablehook

        def unraisable_hook(unraisable: Any) -> None:
            if not handler.held_again(unraisable):
                previous(unraisable)

        sys.unraisablehook = unraisable_hook
        _installed[:] = [handler]


@contextmanager
def interruptible() -> Iterator[None]:
    """The block in which a Ctrl-C raises KeyboardInterrupt (at once if one is held on entry)."""
    if not _installed or _installed[0].armed:
        yield
        return
    handler = _installed[0]
    handler.armed = True
    try:
        if handler.held:
            handler.held = False
            raise KeyboardInterrupt
        yield
    finally:
        handler.armed = False
        handler.stop_retrying()


def settle() -> bool:
    """Whether a Ctrl-C is held (it arrived outside ``interruptible()`` and was never raised); it
    is dropped either way."""
    if not _installed:
        return False
    handler = _installed[0]
    held, handler.held = handler.held, False
    return held


def importing(frame: FrameType | None) -> bool:
    """Whether ``frame`` or any frame that called it belongs to Python's import machinery."""
    return _on_stack(frame, _in_import_machinery)


def _in_import_machinery(frame: FrameType) -> bool:
    return frame.f_globals.get("__name__") in _IMPORT_MACHINERY


def _unsafe(frame: FrameType) -> bool:
    """A frame a KeyboardInterrupt must not be raised under: the import machinery's, an llvmlite
    object-cache callback's or a ``shielded`` function's."""
    return (
        _in_import_machinery(frame)
        or (
            frame.f_code.co_name in _LLVM_CALLBACKS
            and frame.f_globals.get("__name__") == "llvmlite.binding.executionengine"
        )
        or is_shielded(frame.f_code)
    )


def _on_stack(frame: FrameType | None, test: Callable[[FrameType], bool]) -> bool:
    """Whether ``test`` holds for ``frame`` or any frame that called it."""
    while frame is not None:
        if test(frame):
            return True
        frame = frame.f_back
    return False

"""Ctrl-C in the ``backtest`` process (``backtests.cli.interrupts``): raised inside the command, never
inside an import, and reported when held to the end.

Each case runs in its own Python process (signal handlers belong to a process), which
sends itself SIGINT at a chosen moment and prints what happened; the expected lines are
the contract's, written by hand. Every body runs in the same frame, after ``install()``;
reaching its end prints "went on", a KeyboardInterrupt prints "interrupted" and whether
SIGALRM's handler and timer were put back, and the last line is what ``settle()`` says.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from backtests.cli.interrupts import importing

_PRELUDE = """
import os, signal, sys, time
from backtests.cli.interrupts import install, interruptible, settle
signal.signal(signal.SIGINT, signal.default_int_handler)  # as from a terminal, even if the tests run in the background
install()
try:
"""
_AFTER = """
    print("went on")
except KeyboardInterrupt:
    print("interrupted")
    print("alarm restored", signal.getsignal(signal.SIGALRM) == signal.SIG_DFL)
    print("timer off", signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0))
print("held", settle())
"""
_INTERRUPTED = ["interrupted", "alarm restored True", "timer off True", "held False"]


def _run(tmp_path: Path, body: str) -> list[str]:
    """Run ``body`` (inside the prelude's ``try``) in a fresh interpreter with ``tmp_path`` on its path:
    its stdout lines."""
    script = _PRELUDE + textwrap.indent(textwrap.dedent(body), "    ") + _AFTER
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": f"{tmp_path}:{Path(__file__).resolve().parents[1]}", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return done.stdout.splitlines()


def test_importing_sees_the_import_machinery_on_the_stack(tmp_path, monkeypatch):
    (tmp_path / "probe_importing.py").write_text(
        "import sys\nfrom backtests.cli.interrupts import importing\nINSIDE = importing(sys._getframe())\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "probe_importing", raising=False)
    import probe_importing  # noqa: PLC0415

    assert probe_importing.INSIDE is True
    assert importing(sys._getframe()) is False
    assert importing(None) is False


def test_ctrl_c_in_the_command_outside_an_import_raises_at_once(tmp_path):
    body = """
    with interruptible():
        os.kill(os.getpid(), signal.SIGINT)
        print("after the kill")
    """
    assert _run(tmp_path, body) == _INTERRUPTED


def test_ctrl_c_in_a_module_body_is_raised_once_the_import_is_complete(tmp_path):
    (tmp_path / "slow_module.py").write_text(
        "import os, signal, time\nos.kill(os.getpid(), signal.SIGINT)\ntime.sleep(0.2)\nDONE = True\n"
    )
    body = """
    with interruptible():
        import slow_module
        print("imported", slow_module.DONE)
        time.sleep(1)
    """
    assert _run(tmp_path, body) == ["imported True", *_INTERRUPTED]


def test_ctrl_c_in_the_module_locks_weakref_callback_still_interrupts(tmp_path):
    """CPython (3.11) drops an exception raised in the import lock's weakref callback (``cb``):
    with Python's default handler this process would print "Exception ignored" and go on.
    The tracer sends SIGINT as that callback starts: the signal lands inside it."""
    (tmp_path / "plain_module.py").write_text("VALUE = 1\n")
    body = """
    def tracer(frame, event, arg):
        if frame.f_code.co_name == "cb" and frame.f_globals.get("__name__") == "importlib._bootstrap":
            sys.settrace(None)
            os.kill(os.getpid(), signal.SIGINT)
    with interruptible():
        sys.settrace(tracer)
        import plain_module
        sys.settrace(None)
        print("imported", plain_module.VALUE)
        time.sleep(1)
    """
    assert _run(tmp_path, body) == ["imported 1", *_INTERRUPTED]


def test_ctrl_c_while_the_main_thread_blocks_sigint_waits_until_it_is_unblocked(tmp_path):
    """As the signal itself would (a worker being spawned); interrupt_main stands for a SIGINT
    another thread caught, or for the retry's SIGALRM, which the mask does not hold back."""
    body = """
    import _thread
    with interruptible():
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        _thread.interrupt_main()
        time.sleep(0.2)
        print("held while blocked")
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        time.sleep(1)
    """
    assert _run(tmp_path, body) == ["held while blocked", *_INTERRUPTED]


def test_ctrl_c_in_a_shielded_function_is_raised_once_it_returned(tmp_path):
    """A function that stops worker processes runs to its end (its first line is where a plain
    ``try`` could not protect it)."""
    body = """
    from backtests.shielded import shielded

    @shielded
    def stop():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)
        print("stopped")

    with interruptible():
        stop()
        time.sleep(1)
    """
    assert _run(tmp_path, body) == ["stopped", *_INTERRUPTED]


def test_ctrl_c_before_the_command_is_raised_as_it_starts(tmp_path):
    """Before the command (Python importing click, click parsing the arguments) the Ctrl-C
    is held; entering the command raises it, so ``invoke`` reports it."""
    body = """
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.2)
    print("held before")
    with interruptible():
        print("entered")
    """
    assert _run(tmp_path, body) == ["held before", *_INTERRUPTED]


def test_ctrl_c_held_as_the_command_ends_is_left_to_settle(tmp_path):
    """Held in the command's last import, then the command returned before the retry: no
    KeyboardInterrupt escapes the block, no retry is left set, and ``settle()`` reports it."""
    (tmp_path / "last_module.py").write_text("import os, signal\nos.kill(os.getpid(), signal.SIGINT)\n")
    body = """
    with interruptible():
        import last_module
    print("alarm restored", signal.getsignal(signal.SIGALRM) == signal.SIG_DFL)
    print("timer off", signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0))
    time.sleep(0.2)
    """
    assert _run(tmp_path, body) == ["alarm restored True", "timer off True", "went on", "held True"]


def test_a_handler_the_process_was_given_is_left_alone(tmp_path):
    body = """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a shell's background job
    install()
    print(signal.getsignal(signal.SIGINT) == signal.SIG_IGN)
    own = lambda signum, frame: print("own handler")
    signal.signal(signal.SIGINT, own)
    install()
    with interruptible():
        os.kill(os.getpid(), signal.SIGINT)
    """
    assert _run(tmp_path, body) == ["True", "own handler", "went on", "held False"]


def test_ctrl_c_in_llvms_object_cache_callback_is_raised_once_it_returned(tmp_path):
    """numba loads a kernel through llvmlite, whose C code calls back into Python (its object cache,
    through ctypes): a KeyboardInterrupt raised in such a callback was printed and dropped, and the
    command ran on. A ctypes callback named and placed as llvmlite's stands in here; it completes."""
    package = tmp_path / "llvmlite" / "binding"
    package.mkdir(parents=True)
    (tmp_path / "llvmlite" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "executionengine.py").write_text(
        textwrap.dedent(
            """
            import ctypes, os, signal, time

            def _raw_object_cache_notify():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.2)
                print("callback done", flush=True)

            def call_back():
                ctypes.CFUNCTYPE(None)(_raw_object_cache_notify)()  # through ctypes' C thunk, back into Python
            """
        )
    )
    body = """
    from llvmlite.binding.executionengine import call_back

    with interruptible():
        call_back()
        time.sleep(1)
    """
    assert _run(tmp_path, body) == ["callback done", *_INTERRUPTED]


def test_ctrl_c_python_could_only_print_is_held_again(tmp_path):
    """Raised in a weakref callback (numba's ``on_disposal``) or any callback Python cannot raise
    from, a KeyboardInterrupt was printed ("Exception ignored") and the command ran on to exit 0:
    ``sys.unraisablehook`` holds it again, and it is raised at the next check."""
    body = """
    import weakref

    class Kernel:
        pass

    def on_disposal(_reference):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)
        print("callback cut short")

    with interruptible():
        kernel = Kernel()
        reference = weakref.ref(kernel, on_disposal)
        del kernel
        time.sleep(1)
    """
    assert _run(tmp_path, body) == _INTERRUPTED

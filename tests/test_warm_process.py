"""``WarmProcess``: a Ctrl-C while the worker is being stopped takes effect once it is gone.

Each case runs a script in its own process (signals belong to a process): the worker runs a
task, then ``close`` is interrupted (SIGINT sent to the process itself) as it enters the
given step. Cut short there, the pool's queues stayed alive and multiprocessing's resource
tracker reported "leaked semaphore objects" after the command had printed its last line.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

_SCRIPT = """
import os, signal, sys
from backtests.warm_process import WarmProcess

if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as from a terminal, even in a background job
    step = sys.argv[1]
    worker = WarmProcess(os.getpid).start()
    print("task ran", worker.submit(os.getpid).result() == worker.pids()[0])

    def tracer(frame, event, arg):
        if frame.f_code.co_name == step:
            sys.settrace(None)
            os.kill(os.getpid(), signal.SIGINT)

    try:
        sys.settrace(tracer)
        worker.close()
        sys.settrace(None)
        print("went on")
    except KeyboardInterrupt:
        print("interrupted, workers left:", worker.pids())
    sys.stdout.flush()
    os._exit(130)  # as ``backtest`` ends: no interpreter teardown to tidy up after close
"""


@pytest.mark.parametrize("step", ["terminate", "join", "shutdown"])
def test_ctrl_c_while_the_worker_stops_leaves_nothing_behind(tmp_path: Path, step: str) -> None:
    script = tmp_path / "close_interrupted.py"
    script.write_text(_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), step],
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,  # the signal stays in this process group
    )
    assert done.stdout.splitlines() == ["task ran True", "interrupted, workers left: []"], done.stderr
    assert done.stderr == "", done.stderr

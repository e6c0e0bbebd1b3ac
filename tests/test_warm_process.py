"""``WarmProcess``: a Ctrl-C while the worker is being stopped takes effect once it is gone.

Each case runs a script in its own process (signals belong to a process; numpy is imported
first, as in ``backtest``, and its threads can take the signal): the worker runs a task,
then ``close`` is interrupted (SIGINT sent to the process) as it enters the given step. Cut
short there, ``close`` left the pool's queues alive, and multiprocessing's resource tracker
reported "leaked semaphore objects" after the command had printed its last line.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

_SCRIPT = """
import os, signal, sys
import numpy
from backtests.warm_process import WarmProcess

if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as from a terminal, even in a background job
    step = sys.argv[1]
    worker = WarmProcess(os.getpid).start()
    pid = worker.submit(os.getpid).result()
    print("worker", pid, flush=True)

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
        print("interrupted")
    sys.stdout.flush()
    os._exit(130)  # as ``backtest`` ends: no interpreter teardown to tidy up after close
"""


@pytest.mark.parametrize("step", ["terminate", "join", "shutdown"])
def test_ctrl_c_while_the_worker_stops_leaves_nothing_behind(tmp_path: Path, step: str) -> None:
    script = tmp_path / "close_interrupted.py"
    script.write_text(_SCRIPT)
    process = subprocess.Popen(
        [sys.executable, str(script), step], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    first = process.stdout.readline()  # "worker PID"
    worker = Path(f"/proc/{first.split()[1]}") if first.startswith("worker ") else None
    try:
        out, err = process.communicate(timeout=60)
        assert worker is not None and out == "interrupted\n", (first, out, err)
        assert not worker.exists(), "the worker outlived close"
        assert err == "", err
    finally:
        process.kill()
        if worker is not None and worker.exists():  # left behind, it would run on
            os.kill(int(worker.name), signal.SIGKILL)

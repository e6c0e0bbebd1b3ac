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


_CANCELLED_SCRIPT = """
import sys, time
from backtests.warm_process import WarmProcess

if __name__ == "__main__":
    worker = WarmProcess(int).start()
    busy = worker.submit(time.sleep, 30)
    queued = [worker.submit(time.sleep, 30) for _ in range(4)]  # the first in the pool's call queue
    time.sleep(0.5)
    print("cancelled", [future.cancel() for future in queued][-2:], flush=True)
    worker.close()
    print("closed", busy.done(), [future.cancelled() for future in queued][-2:], flush=True)
"""


def test_closing_with_a_cancelled_task_queued_is_quiet(tmp_path: Path) -> None:
    """A sweep stopped by Ctrl-C cancels its queued chunks, then closes the worker: on Python 3.11
    the pool's manager thread raised InvalidStateError on a cancelled future, printed a traceback
    and left 3 semaphores behind (the Ctrl-C test of a sweep mid-simulation caught it)."""
    script = tmp_path / "cancelled.py"
    script.write_text(_CANCELLED_SCRIPT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["cancelled [True, True]", "closed True [True, True]"]
    assert done.stderr == ""


_HALF_SENT_SCRIPT = """
import os, struct, sys, time
from backtests.warm_process import WarmProcess


def half_sent_result(marker):
    # What a worker killed halfway through sending a large result leaves: a header that promises
    # a megabyte, then ten bytes of it (written straight to the result pipe this worker was given).
    frame = sys._getframe()
    while frame.f_code.co_name != "_process_worker":
        frame = frame.f_back
    os.write(frame.f_locals["result_queue"]._writer.fileno(), struct.pack("!i", 1_000_000) + bytes(10))
    open(marker, "w").close()
    time.sleep(60)


if __name__ == "__main__":
    worker = WarmProcess(int).start()
    worker.submit(half_sent_result, sys.argv[1])
    while not os.path.exists(sys.argv[1]):
        time.sleep(0.01)
    time.sleep(0.3)  # the pool's thread now waits for the rest of the message
    worker.close()
    print("closed", flush=True)
"""


def test_closing_while_a_result_is_half_sent_returns(tmp_path: Path) -> None:
    """A --jobs 2 sweep stopped by Ctrl-C hung in ``close``: a worker killed while it sent a chunk's
    result left half a message in the pipe, and the pool's thread waited for the rest forever (the
    write end this process holds never closed)."""
    script = tmp_path / "half_sent.py"
    script.write_text(_HALF_SENT_SCRIPT)
    try:
        command = [sys.executable, str(script), str(tmp_path / "sent")]
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("close waited forever for the rest of a result")
    assert (done.returncode, done.stdout, done.stderr) == (0, "closed\n", "")

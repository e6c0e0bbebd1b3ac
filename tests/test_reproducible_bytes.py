"""Same inputs, same bytes on any CPU. Whole commands run twice: as this machine is, and with its
optional CPU features masked, as on an older machine: numpy's SIMD code (which gave other last bits
for exp, log and ** on AVX-512), glibc's FMA and AVX code paths, OpenBLAS's kernels (its Cholesky
changed the demo market) and numba's target CPU. Every result file must have the same bytes; the
manifests differ only in their time and command line (the output folder). A probe first shows the
mask does change numpy's exp where this CPU has AVX-512 (elsewhere numpy's part masks less, and
glibc's, OpenBLAS's and numba's parts remain)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

#: numpy's run-time dispatch targets this CPU has (masking one it lacks is an error for numpy)
try:
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
except ImportError:  # numpy 1.x
    from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__

NUMPY_TARGETS = [name for name in __cpu_dispatch__ if __cpu_features__.get(name)]
OLDER_CPU = {
    "NPY_DISABLE_CPU_FEATURES": " ".join(NUMPY_TARGETS),
    "GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX512F,-AVX2,-FMA,-AVX",
    "OPENBLAS_CORETYPE": "Prescott",
    "NUMBA_CPU_NAME": "generic",
}
PROBE = "import hashlib, numpy as np; print(hashlib.sha256(np.exp(np.linspace(-5, 5, 100001)).tobytes()).hexdigest())"


def _backtest(args: list[str], env: dict[str, str]) -> None:
    code = "import sys; sys.argv[0] = 'backtest'; from backtests.cli import main; main()"
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _files(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != "manifest.json"
    }


def test_results_have_the_same_bytes_on_an_older_cpu(shared_data: Path, tmp_path: Path) -> None:
    env = {**os.environ, "BACKTEST_REPORTS_DIR": str(tmp_path / "reports"), "BACKTEST_DATA_DIR": str(tmp_path)}
    older = {**env, **OLDER_CPU}
    if {"X86_V4", "AVX512F", "AVX512_SKX"} & set(NUMPY_TARGETS):  # the masking does make numpy another CPU
        probe = [sys.executable, "-c", PROBE]
        probes = [subprocess.run(probe, env=e, capture_output=True, text=True).stdout for e in (env, older)]
        assert probes[0] != probes[1], "the mask did not change numpy's exp: nothing is being compared"
    sweep = ["sweep", "tariff-shock-hedge", "--prices", str(shared_data / "prices"), "--start", "2016-01-01"]
    sweep += ["--end", "2021-12-31", "--grid", "response.hold_days=1:40:1"]
    sweep += ["--grid", "response.hedge_fraction=0.05:1.0:0.05"]
    sweep += ["--train-until", "2019-12-31", "--walk-forward", "3", "--set", "triggers.tariffs.decay_half_life=7"]
    sweep += ["--set", "triggers.tariffs.intensity=severity"]
    demo = ["run", "tariff-shock-hedge", "--source", "demo", "--start", "2018-01-01", "--end", "2020-12-31"]
    real = ["run", "tariff-shock-hedge", "--prices", str(shared_data / "prices"), "--no-tearsheet"]
    for where, environment in (("here", env), ("older", older)):
        for name, args in (("sweep", sweep), ("demo", demo), ("real", real)):
            _backtest([*args, "--out", str(tmp_path / where / name)], environment)
    for name in ("sweep", "demo", "real"):
        here, older_files = _files(tmp_path / "here" / name), _files(tmp_path / "older" / name)
        assert len(here) >= 4 and here == older_files, name
    for name in ("demo", "real"):
        manifests = [json.loads((tmp_path / where / name / "manifest.json").read_text()) for where in ("here", "older")]
        changed = {key for key in manifests[0] if manifests[0][key] != manifests[1][key]}
        assert changed <= {"created", "command_line", "run_id"}, changed

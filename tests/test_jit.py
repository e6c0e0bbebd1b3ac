"""``backtests.jit``: kernels compiled on first use; numba loads only in a process that runs one."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap

import numpy as np

from backtests.jit import Kernel, njit, numba


@njit(cache=False)
def _twice(x):
    return 2.0 * x


@njit(cache=False, parallel=True)
def _sum_of_twice(values):
    total = 0.0
    for i in numba.prange(values.shape[0]):  # a reduction numba parallelises
        total += _twice(values[i])
    return total


def test_importing_the_kernel_modules_loads_no_numba_and_the_first_call_does() -> None:
    code = textwrap.dedent(
        """
        import sys
        from backtests.execution import fast_exec, rules
        from backtests import metrics
        from backtests.portfolio import response
        from backtests.sweeps import stats
        print('IMPORTED', 'numba.core' in sys.modules)
        print('CASH', rules.book_buy(100.0, 2.0, 10.0, 0.001))
        print('LOADED', 'numba.core' in sys.modules, type(rules.book_buy.dispatcher).__name__)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "IMPORTED False" in out, out
    assert "CASH 79.98" in out, out  # (100 - 2 x 10) - 2 x 0.001 x 10, by hand
    assert "LOADED True CPUDispatcher" in out, out


def test_a_kernel_calls_kernels_and_prange_inside_compiled_code() -> None:
    assert isinstance(_sum_of_twice, Kernel) and isinstance(_twice, Kernel)
    values = np.arange(5.0)
    assert _sum_of_twice(values) == 20.0  # 2 x (0 + 1 + 2 + 3 + 4)
    assert _sum_of_twice.py_func(values) == 20.0  # the plain function, calling the kernel from Python
    assert len(_sum_of_twice.signatures) == 1 and len(_twice.signatures) == 1  # both compiled, once
    assert _sum_of_twice.__name__ == "_sum_of_twice" and _sum_of_twice.__doc__ is None


def test_numba_and_its_submodules_import_as_usual_beside_the_kernels() -> None:
    """``jit.numba`` is not in ``sys.modules``: a script that imports numba's submodules itself (to
    filter its warnings, say) gets the one real numba, and the kernels still compile."""
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        from backtests import metrics
        from numba.core.errors import NumbaPerformanceWarning
        import numba
        out = np.empty(9)
        metrics.row_stats(np.array([0.01, -0.02, 0.03]), out)
        print('REAL', numba.__file__.endswith('__init__.py'), sys.modules['numba'] is numba)
        print('RAN', bool(np.isfinite(out).any()))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "REAL True True" in done.stdout and "RAN True" in done.stdout, done.stdout


def test_a_kernel_pickles_as_the_module_attribute_it_is() -> None:
    from backtests.execution import rules

    assert pickle.loads(pickle.dumps(rules.book_buy)) is rules.book_buy

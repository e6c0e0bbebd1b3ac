"""``lazy_imports.import_on_first_use`` and its use in ``backtests.jit``: deferred, never wrong."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from backtests.lazy_imports import import_on_first_use


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """``lazypkg.heavy.sub`` as ``scipy.linalg.cython_blas``: a light top level, a heavy middle
    package whose import is recorded, a submodule."""
    heavy = tmp_path / "lazypkg" / "heavy"
    heavy.mkdir(parents=True)
    (heavy.parent / "__init__.py").write_text("")
    count = "builtins.LAZYPKG_IMPORTS = getattr(builtins, 'LAZYPKG_IMPORTS', 0) + 1"
    (heavy / "__init__.py").write_text(f"import builtins\n{count}\n")
    (heavy / "sub.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "lazypkg"
    for name in ("lazypkg", "lazypkg.heavy", "lazypkg.heavy.sub"):
        sys.modules.pop(name, None)
    import builtins

    if hasattr(builtins, "LAZYPKG_IMPORTS"):
        del builtins.LAZYPKG_IMPORTS


def _imports() -> int:
    import builtins

    return getattr(builtins, "LAZYPKG_IMPORTS", 0)


def test_a_submodule_stand_in_imports_no_parent_until_read_then_is_the_real_module(package: str) -> None:
    import_on_first_use("lazypkg.heavy.sub")
    stand_in = sys.modules["lazypkg.heavy.sub"]
    assert _imports() == 0 and "lazypkg" not in sys.modules
    import lazypkg.heavy.sub  # noqa: F401  (finds the stand-in; only the top level is imported, as Python does)

    assert _imports() == 0 and "lazypkg.heavy" not in sys.modules
    assert stand_in.VALUE == 42  # the first read imports the middle package and the real submodule
    assert _imports() == 1
    real = sys.modules["lazypkg.heavy.sub"]
    assert real is not stand_in and real.__file__.endswith("sub.py")
    assert stand_in.VALUE == 42 and _imports() == 1  # a kept reference still answers, nothing re-imported


def test_nothing_is_done_for_a_module_already_imported_or_not_installed(package: str) -> None:
    import lazypkg.heavy.sub

    import_on_first_use("lazypkg.heavy.sub")
    assert sys.modules["lazypkg.heavy.sub"] is lazypkg.heavy.sub
    import_on_first_use("no_such_package_anywhere.sub")
    assert "no_such_package_anywhere.sub" not in sys.modules


def test_kernels_run_without_scipy_linalg_and_blas_still_works_after() -> None:
    """numba's BLAS probe finds the stand-in; a kernel runs without scipy.linalg; code that uses BLAS
    (numba's np.dot, scipy.linalg itself) gets the real module and right answers."""
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        from backtests.execution.rules import equity_of
        print('KERNEL', equity_of(np.array([2.0, 3.0]), np.array([10.0, 1.0]), 5.0))
        print('LINALG', 'scipy.linalg' in sys.modules)
        from backtests.jit import numba

        @numba.njit
        def dot(a, b):
            return np.dot(a, b)

        print('DOT', dot(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0])).tolist())
        import scipy.linalg
        import scipy.linalg.cython_blas as blas
        print('REAL', sys.modules['scipy.linalg.cython_blas'].__file__.endswith('.so'), len(blas.__pyx_capi__) > 0)
        print('SOLVE', scipy.linalg.solve(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([2.0, 2.0])).tolist())
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "KERNEL 28.0" in out and "LINALG False" in out, out
    assert "DOT [3.0, 7.0]" in out and "REAL True True" in out and "SOLVE [1.0, 0.5]" in out, out

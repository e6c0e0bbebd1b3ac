"""numba for this package's compiled kernels, without the scipy.linalg import numba makes to probe for BLAS.

When numba's CPU target first compiles or loads a cached function, it runs
``import scipy.linalg.cython_blas`` only to learn whether functions such as ``np.dot`` can be
compiled; that import loads all of scipy.linalg (about 0.45 s, in every process that runs a
kernel: ``backtest run``, a sweep and each of its workers). No kernel here calls BLAS.
Every module with kernels imports ``numba`` from here, which first puts a stand-in for
``scipy.linalg.cython_blas`` in ``sys.modules`` (``lazy_imports.import_on_first_use``):
numba's probe finds it without reading it, and any code that does use BLAS (numba's own
linear algebra, scipy.linalg, the caller's code) reads it and gets the real module then.
"""

from backtests.lazy_imports import import_on_first_use

import_on_first_use("scipy.linalg.cython_blas")

import numba  # noqa: E402  (after the stand-in, by design)

__all__ = ["numba"]

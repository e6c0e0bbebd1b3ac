"""numba for this package's compiled kernels, loaded by the first kernel a process calls.

``njit(**options)`` is ``numba.njit(**options)``, made when the kernel is first used, not
when its module is imported. numba itself (about 0.35 s to import) loads then too:
``numba`` here is a module object (``lazy_imports.lazy_module``, not in ``sys.modules``:
``import numba`` and ``import numba.core...`` elsewhere work as usual) whose first
attribute read imports it. So a process that imports the kernels' modules for their plain
Python parts (cost models, response arrays, the Deflated Sharpe Ratio), such as a sweep's
main process whose kernels run in a worker, never loads numba.

Contract:

- A ``Kernel`` behaves as the numba dispatcher it stands for. Calling it, or reading any
  of its attributes (``py_func``, ``signatures``...), makes the dispatcher (numba compiles,
  or loads from its on-disk cache, per signature on the first call with it). Inside other
  kernels numba types it as that dispatcher (``_numba_type_``), so kernels call kernels as
  usual. The compiled code, its cache and its results are those of
  ``numba.njit(**options)(function)``. It pickles by reference, as the module attribute
  it is (a process that unpickles it imports its module).
- Inside a kernel, ``numba.prange`` reads the lazy module, which answers with the real
  ``numba.prange`` (numba resolves it at compile time, when numba is loaded).
- When numba's CPU target first compiles or loads a cached function, it runs
  ``import scipy.linalg.cython_blas`` only to learn whether functions such as ``np.dot``
  can be compiled; that import loads all of scipy.linalg (about 0.45 s, in every process that
  runs a kernel). No kernel here calls BLAS, so a stand-in for it is put in ``sys.modules``
  first: numba's probe finds it without reading it, and any code that does use BLAS (numba's
  own linear algebra, scipy.linalg, the caller's code) reads it and gets the real module then.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from backtests.lazy_imports import import_on_first_use, lazy_module

import_on_first_use("scipy.linalg.cython_blas")
numba = lazy_module("numba")

__all__ = ["Kernel", "njit", "numba"]


class Kernel:
    """``numba.njit(**options)(function)``, made on first use (see the module docstring)."""

    def __init__(self, function: Callable[..., Any], options: dict[str, Any]) -> None:
        functools.update_wrapper(self, function)
        self._function = function
        self._options = options
        self._dispatcher: Any = None

    @property
    def dispatcher(self) -> Any:
        """The numba dispatcher (compiled or loaded from the cache on first use of each signature)."""
        if self._dispatcher is None:
            self._dispatcher = numba.njit(**self._options)(self._function)
        return self._dispatcher

    @property
    def _numba_type_(self) -> Any:  # how numba types this object where a kernel refers to it
        return self.dispatcher._numba_type_

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.dispatcher(*args, **kwargs)

    def __reduce__(self) -> str:
        return self.__qualname__  # pickled as the global it is: ``__module__.__qualname__``

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_function", "_options", "_dispatcher"):
            raise AttributeError(name)
        return getattr(self.dispatcher, name)


def njit(**options: Any) -> Callable[[Callable[..., Any]], Kernel]:
    """Decorator: ``numba.njit(**options)`` applied on the kernel's first use."""
    return lambda function: Kernel(function, options)

"""Stand-ins for modules a process imports without needing them: the real module loads on first use.

``import_on_first_use(name)`` puts a module object in ``sys.modules[name]`` whose first
attribute read imports the real module and answers from it; from then on ``sys.modules``
holds the real one, so every later ``import name`` gets it. The stand-in itself forwards
every attribute read to the real module, so a reference taken before the swap keeps
working. Nothing is done if ``name`` is imported already or its top-level package is not
installed. A stand-in for a submodule (``"a.b.c"``) imports none of its parents: the
top-level package is looked up, not imported, and ``import a.b.c`` then imports only ``a``
(which Python does for any such statement), not ``a.b``.

Used where an import is paid for a feature the process never uses: yfinance in the
tearsheet worker (quantstats imports it for downloads; ``reports.worker``), and
scipy.linalg in every process that runs numba kernels (numba's probe for BLAS; ``jit``).

``lazy_module(name)`` is the same module object without the ``sys.modules`` entry: a
reference for this package's own code (``jit.numba``), while every ``import name`` (and
``import name.sub``: a package's submodules) elsewhere imports the real module as usual.
A stand-in in ``sys.modules`` would be wrong for a package imported submodule by
submodule: Python would load the package through the stand-in and bind a second copy
of the submodule.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

_SWAP = threading.RLock()  # one import per stand-in across threads; reentrant, as an import may read another stand-in


def import_on_first_use(name: str) -> None:
    """Put a stand-in for module ``name`` in ``sys.modules`` (see the module docstring)."""
    if name in sys.modules or importlib.util.find_spec(name.partition(".")[0]) is None:
        return
    sys.modules[name] = _stand_in(name, registered=True)


def lazy_module(name: str) -> types.ModuleType:
    """A module object whose first attribute read imports module ``name`` and answers from it; not
    put in ``sys.modules`` (see the module docstring)."""
    return _stand_in(name, registered=False)


def _stand_in(name: str, *, registered: bool) -> types.ModuleType:
    stand_in = types.ModuleType(name, f"{name}, imported on first use")

    def __getattr__(attribute: str) -> Any:
        with _SWAP:
            if registered and sys.modules.get(name) is stand_in:
                del sys.modules[name]
            module = importlib.import_module(name)
        return getattr(module, attribute)

    stand_in.__getattr__ = __getattr__  # type: ignore[method-assign]
    return stand_in

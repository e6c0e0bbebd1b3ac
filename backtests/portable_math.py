"""``exp``, ``log`` and ``power`` with the same bits on every CPU, for every result that needs them.

Same inputs must give the same bytes on any machine (README, "Reproducible results"). numpy's
own ``exp``, ``log`` and ``**`` run SIMD code picked for the CPU at run time: on a machine with
AVX-512 about 5% of ``exp`` and ``**`` results (22% of ``log10``'s) differ in the last bit from a
machine without it. The C
library's (``math.exp``) differ between CPUs with and without FMA (about 0.07%). Here each
function uses only ``+ - * /``, ``floor``, ``frexp`` and ``ldexp``, which IEEE 754 defines to
the bit on every CPU, in a fixed order, so no CPU feature can change a result. Its constants
are written out (hex or decimal literals, parsed), never computed with the C library.

Accuracy (tested against exact values): ``exp``, ``exp2`` and ``log`` within 1 ulp; ``power``
adds the error of ``y * log(x)`` carried through ``exp``, at most ``3 |y log x|`` ulp more
(a CAGR's ``|y log x|`` is well below 1; ``power(10, 2)`` is 3 ulp off).

- ``exp(x)``: ``x = k ln2 + hi - lo`` with ``|hi - lo| <= ln2 / 2`` (``ln2`` in two parts so
  that ``hi = x - k LN2_HI`` is exact), ``exp(hi - lo)`` from its Taylor series to
  ``r**13 / 13!``, summed with ``hi`` and ``lo`` apart (as fdlibm does), scaled by ``2**k``.
- ``exp2(x)``: ``x = n + f`` with ``n`` an integer and ``|f| <= 1/2``; ``f ln2 = hi - lo`` with
  ``hi`` exact (``f`` cut to 20 bits times ``LN2_HI``), then as ``exp``; exact when ``x`` is an
  integer (``0.5 ** t`` is ``exp2(-t)``).
- ``log(x)``: ``x = m 2**e`` with ``m`` in ``[sqrt(1/2), sqrt(2))``; ``log(m) = 2 atanh(s)`` with
  ``s = (m - 1) / (m + 1)``, from its series to ``s**21``.
- ``power(x, y) = exp(y log(x))`` for ``x >= 0``.

Special values as numpy gives them: NaN in, NaN out; ``exp(inf) = inf``, ``exp(-inf) = 0``,
overflow to ``inf``, underflow to 0; ``log(0) = -inf``, ``log(inf) = inf``, ``log(x < 0) = NaN``;
``power(x, 0) = power(1, y) = 1`` for any ``x`` and ``y``, NaN included; otherwise
``power(x < 0, y) = NaN`` (numpy's only for a ``y`` that is not an integer). Inputs are arrays or
scalars; outputs are float64 arrays of their shape.

``decade(x)`` is the ``e`` with ``10**e <= |x| < 10**(e + 1)``, looked up in ``POWERS_OF_TEN``
(each parsed from its decimal literal), not taken from ``log10``, whose last bit, and so the
decade of a value next to a power of ten, could vary with the CPU.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

#: ln 2 = LN2_HI + LN2_LO (to 1e-26); LN2_HI's last 21 bits are 0, so k * LN2_HI is exact for |k| < 2**21
LN2_HI = float.fromhex("0x1.62e42fee00000p-1")
LN2_LO = float.fromhex("0x1.a39ef35793c76p-33")
_INV_LN2 = float.fromhex("0x1.71547652b82fep0")  # 1 / ln 2; only picks k, any rounding is absorbed by r
# Series cut where the next term is below 2**-56 of the result: |r| <= 0.347, |s| <= 0.172
_EXP_TERMS = tuple(1.0 / math.factorial(n) for n in range(13, 1, -1))  # 1/13! ... 1/2!
_ATANH_TERMS = tuple(2.0 / (2 * n + 1) for n in range(10, 0, -1))  # 2/21 ... 2/3
_SQRT_HALF = float.fromhex("0x1.6a09e667f3bcdp-1")  # sqrt(1/2) as a double: only splits the range of m
_EXP_MAX, _EXP_MIN = 709.8, -745.2  # beyond them exp is inf or 0 (k then stays an exact int)
#: 10**e for e = POWERS_OF_TEN_FROM..308: every power of ten a double can hold, parsed from "1eE"
POWERS_OF_TEN_FROM = -323
POWERS_OF_TEN = np.array([float(f"1e{e}") for e in range(POWERS_OF_TEN_FROM, 309)])


def exp(x: npt.ArrayLike) -> np.ndarray:
    """``e ** x``, elementwise, the same bits on every CPU."""
    x = np.asarray(x, dtype=float)
    finite = np.isfinite(x)
    clipped = np.clip(np.where(finite, x, 0.0), _EXP_MIN - 1.0, _EXP_MAX + 1.0)
    k = np.floor(clipped * _INV_LN2 + 0.5)
    value = _scaled_exp(clipped - k * LN2_HI, k * LN2_LO, k)
    value = np.where(clipped > _EXP_MAX, np.inf, np.where(clipped < _EXP_MIN, 0.0, value))
    return _non_finite(x, finite, value)


def exp2(x: npt.ArrayLike) -> np.ndarray:
    """``2 ** x``, elementwise, the same bits on every CPU; exact for integers."""
    x = np.asarray(x, dtype=float)
    finite = np.isfinite(x)
    clipped = np.clip(np.where(finite, x, 0.0), -1100.0, 1100.0)  # beyond: 0 or inf either way
    n = np.floor(clipped + 0.5)
    f = clipped - n  # exact
    f_hi = np.round(f * 2.0**20) * 2.0**-20  # 20 bits: f_hi * LN2_HI (32 bits) is exact
    lo = -((f - f_hi) * LN2_HI + f * LN2_LO)
    return _non_finite(x, finite, _scaled_exp(f_hi * LN2_HI, lo, n))


def log(x: npt.ArrayLike) -> np.ndarray:
    """The natural logarithm, elementwise, the same bits on every CPU."""
    x = np.asarray(x, dtype=float)
    usable = np.isfinite(x) & (x > 0)
    m, e = np.frexp(np.where(usable, x, 1.0))
    low = m < _SQRT_HALF
    m = np.where(low, m * 2.0, m)  # exact
    e = (e - low).astype(float)
    f = m - 1.0  # exact: m is within a factor 2 of 1
    s = f / (2.0 + f)
    z = s * s
    q = np.full(z.shape, _ATANH_TERMS[0])
    for term in _ATANH_TERMS[1:]:
        q = q * z + term
    half_square = 0.5 * f * f
    # log(m) = f - f**2/2 + s (f**2/2 + z q): the small correction is added last
    value = e * LN2_HI + (f - (half_square - (s * (half_square + z * q) + e * LN2_LO)))
    special = np.where(x == 0.0, -np.inf, np.where(x == np.inf, np.inf, np.nan))
    return np.where(usable, value, special)


def power(x: npt.ArrayLike, y: npt.ArrayLike) -> np.ndarray:
    """``x ** y``, elementwise, the same bits on every CPU (NaN for ``x < 0``: see the module docstring)."""
    x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    with np.errstate(invalid="ignore"):
        value = np.where(x < 0, np.nan, exp(y * log(x)))
    return np.where((y == 0.0) | (x == 1.0), 1.0, value)


def decade(x: npt.ArrayLike) -> np.ndarray:
    """The integer ``e`` with ``10**e <= |x| < 10**(e + 1)`` (as ``POWERS_OF_TEN`` holds them);
    ``POWERS_OF_TEN_FROM`` for 0 and values below ``1e-323``."""
    size = np.abs(np.asarray(x, dtype=float))
    position = np.searchsorted(POWERS_OF_TEN, size, side="right") - 1
    return np.maximum(position, 0) + POWERS_OF_TEN_FROM


def power_of_ten(e: npt.ArrayLike) -> np.ndarray:
    """``10**e`` for integers ``e`` from ``POWERS_OF_TEN_FROM`` to 308, from ``POWERS_OF_TEN``."""
    return POWERS_OF_TEN[np.asarray(e) - POWERS_OF_TEN_FROM]


def _scaled_exp(hi: np.ndarray, lo: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``exp(hi - lo) * 2**k`` for ``|hi - lo| <= ln2 / 2``, ``hi`` and ``lo`` kept apart in the last sum."""
    r = hi - lo
    q = np.full(r.shape, _EXP_TERMS[0])
    for term in _EXP_TERMS[1:]:
        q = q * r + term
    with np.errstate(over="ignore", under="ignore"):
        return np.ldexp(1.0 - ((lo - (r * r) * q) - hi), k.astype(np.int64))


def _non_finite(x: np.ndarray, finite: np.ndarray, value: np.ndarray) -> np.ndarray:
    """``value`` where ``x`` is finite; exp's limits elsewhere: inf for inf, 0 for -inf, NaN for NaN."""
    return np.where(finite, value, np.where(x > 0, np.inf, np.where(x < 0, 0.0, x)))

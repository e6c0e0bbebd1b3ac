"""``exp``, ``log`` and ``power`` with the same bits on every CPU, for every result that needs them.

Same inputs must give the same bytes on any machine (README, "Reproducible results"). numpy's
own ``exp``, ``log`` and ``**`` run SIMD code picked for the CPU at run time: on a machine with
AVX-512 about 5% of their results differ in the last bit from a machine without it. The C
library's (``math.exp``) differ between CPUs with and without FMA (about 0.07%). Here each
function uses only ``+ - * /``, ``floor``, ``frexp`` and ``ldexp``, which IEEE 754 defines to
the bit on every CPU, in a fixed order, so no CPU feature can change a result.

Accuracy (tested against exact values): ``exp``, ``exp2`` and ``log`` within 1 ulp; ``power``
adds the error of ``y * log(x)`` carried through ``exp``, at most ``3 |y log x|`` ulp more
(a CAGR's ``|y log x|`` is well below 1).

- ``exp(x)``: ``x = k ln2 + r`` with ``|r| <= ln2 / 2`` (``ln2`` in two parts so that ``k ln2``
  is exact), ``exp(r)`` from its Taylor series to ``r**13 / 13!``, scaled by ``2**k``.
- ``exp2(x)``: ``x = n + f`` with ``n`` an integer and ``|f| <= 1/2``: ``exp(f ln2)`` scaled by
  ``2**n``, exact when ``x`` is an integer (``0.5 ** t`` is ``exp2(-t)``).
- ``log(x)``: ``x = m 2**e`` with ``m`` in ``[sqrt(1/2), sqrt(2))``; ``log(m) = 2 atanh(s)`` with
  ``s = (m - 1) / (m + 1)``, from its series to ``s**21``.
- ``power(x, y) = exp(y log(x))`` for ``x >= 0``.

Special values as numpy gives them: NaN in, NaN out; ``exp(inf) = inf``, ``exp(-inf) = 0``,
overflow to ``inf``, underflow to 0; ``log(0) = -inf``, ``log(inf) = inf``, ``log(x < 0) = NaN``;
``power(x < 0, y) = NaN``. Inputs are float arrays or scalars; outputs are float64 arrays of
their shape.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

#: ln 2 = LN2_HI + LN2_LO; LN2_HI's last 21 bits are 0, so k * LN2_HI is exact for |k| < 2**21.
LN2_HI = float.fromhex("0x1.62e42fee00000p-1")
LN2_LO = float.fromhex("0x1.a39ef35793c76p-33")
_INV_LN2 = 1.0 / math.log(2.0)  # only picks k: any rounding of it is absorbed by r
# Series cut where the next term is below 2**-56 of the result: |r| <= 0.347, |s| <= 0.172
_EXP_TERMS = tuple(1.0 / math.factorial(n) for n in range(13, 1, -1))  # 1/13! ... 1/2!
_ATANH_TERMS = tuple(2.0 / (2 * n + 1) for n in range(10, 0, -1))  # 2/21 ... 2/3
_SQRT_HALF = math.sqrt(0.5)
_EXP_MAX, _EXP_MIN = 709.8, -745.2  # beyond them exp is inf or 0 (k then stays an exact int)


def exp(x: npt.ArrayLike) -> np.ndarray:
    """``e ** x``, elementwise, the same bits on every CPU."""
    x = np.asarray(x, dtype=float)
    finite = np.isfinite(x)
    clipped = np.clip(np.where(finite, x, 0.0), _EXP_MIN - 1.0, _EXP_MAX + 1.0)
    k = np.floor(clipped * _INV_LN2 + 0.5)
    r = (clipped - k * LN2_HI) - k * LN2_LO
    q = np.full(r.shape, _EXP_TERMS[0])
    for term in _EXP_TERMS[1:]:
        q = q * r + term
    with np.errstate(over="ignore"):
        value = np.ldexp(1.0 + (r + (r * r) * q), k.astype(np.int64))
    value = np.where(clipped > _EXP_MAX, np.inf, np.where(clipped < _EXP_MIN, 0.0, value))
    return np.where(finite, value, np.where(x > 0, np.inf, np.where(x < 0, 0.0, x)))


def exp2(x: npt.ArrayLike) -> np.ndarray:
    """``2 ** x``, elementwise, the same bits on every CPU; exact for integers."""
    x = np.asarray(x, dtype=float)
    finite = np.isfinite(x)
    clipped = np.clip(np.where(finite, x, 0.0), -1100.0, 1100.0)  # beyond: 0 or inf either way
    n = np.floor(clipped + 0.5)
    with np.errstate(over="ignore"):
        value = np.ldexp(exp((clipped - n) * math.log(2.0)), n.astype(np.int64))
    return np.where(finite, value, np.where(x > 0, np.inf, np.where(x < 0, 0.0, x)))


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
    """``x ** y`` for ``x >= 0`` (NaN for ``x < 0``), elementwise, the same bits on every CPU."""
    x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    with np.errstate(invalid="ignore"):
        product = np.where(y == 0.0, 0.0, y * log(x))  # x ** 0 = 1, even for 0 and inf
    return np.where(x < 0, np.nan, exp(product))

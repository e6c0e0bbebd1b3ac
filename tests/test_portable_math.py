"""``backtests.portable_math`` against exact values (``decimal`` at 50 digits, correctly rounded to
a double), its special values, and the property it exists for: a result's bytes do not depend on
the CPU (``test_reproducible_bytes.py`` runs whole commands with CPU features masked)."""

from __future__ import annotations

import math
import struct
from decimal import Decimal, localcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtests import portable_math as pm


def _exact(function, *args: float) -> float:
    with localcontext() as context:
        context.prec = 50
        return float(function(*(Decimal(a) for a in args)))


def _ulps(value: float, exact: float) -> float:
    if math.isinf(exact):
        return 0.0 if value == exact else math.inf
    return abs(value - exact) / math.ulp(exact) if exact != 0.0 else abs(value) / math.ulp(0.0)


def test_ln2_is_split_exactly_enough() -> None:
    with localcontext() as context:
        context.prec = 50
        error = Decimal(pm.LN2_HI) + Decimal(pm.LN2_LO) - Decimal(2).ln()
    assert abs(error) < Decimal("1e-25")
    bits = struct.unpack("<Q", struct.pack("<d", pm.LN2_HI))[0]
    assert bits & (2**21 - 1) == 0  # k * LN2_HI is exact for |k| < 2**21


@settings(max_examples=400, deadline=None)
@given(st.floats(min_value=-745.2, max_value=709.8))
def test_exp_is_within_one_ulp(x: float) -> None:
    assert _ulps(float(pm.exp(x)), _exact(Decimal.exp, x)) <= 1.0


@pytest.mark.parametrize("threshold", [709.782712893384, -745.1332191019412, -708.3964185322641])
def test_exp_at_overflow_underflow_and_subnormal_edges(threshold: float) -> None:
    """40 doubles each side of where exp overflows, underflows to 0, and turns subnormal."""
    x = threshold
    for _ in range(40):
        x = math.nextafter(x, -math.inf)
    for _ in range(80):
        assert _ulps(float(pm.exp(x)), _exact(Decimal.exp, x)) <= 1.0, x
        x = math.nextafter(x, math.inf)


@settings(max_examples=400, deadline=None)
@given(st.floats(min_value=1e-300, max_value=1e300))
def test_log_is_within_one_ulp(x: float) -> None:
    assert _ulps(float(pm.log(x)), _exact(Decimal.ln, x)) <= 1.0


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-1000.0, max_value=1000.0))
def test_exp2_is_within_one_ulp(x: float) -> None:
    assert _ulps(float(pm.exp2(x)), _exact(lambda a: Decimal(2) ** a, x)) <= 1.0


def test_exp2_is_exact_on_integers_as_a_half_life_decay_needs() -> None:
    ages = np.arange(0.0, 60.0)
    assert (pm.exp2(-ages) == 0.5**ages).all()  # powers of two: numpy's are exact on any CPU
    assert pm.exp2(-np.array([1.0, 2.0])).tolist() == [0.5, 0.25]


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=0.05, max_value=20.0), st.floats(min_value=0.02, max_value=1.0))
def test_power_is_within_its_stated_error_for_a_cagr(growth: float, inverse_years: float) -> None:
    """exp(y log x): 1 ulp of exp plus the error of y log x carried through it, at most 3 |y log x| ulp."""
    exact = _exact(lambda a, b: a**b, growth, inverse_years)
    assert _ulps(float(pm.power(growth, inverse_years)), exact) <= 1.0 + 3.0 * abs(inverse_years * math.log(growth))


def test_special_values_follow_numpy() -> None:
    with np.errstate(all="ignore"):
        x = np.array([np.nan, np.inf, -np.inf, 710.0, -746.0, 0.0])
        np.testing.assert_array_equal(pm.exp(x), np.exp(x))
        x = np.array([np.nan, np.inf, -np.inf, 0.0, -1.0, 1.0, 5e-324])
        np.testing.assert_array_equal(pm.log(x), np.log(x))
        x = np.array([np.nan, np.inf, -np.inf, 1100.0, -1100.0, 0.0, -1074.0, 1023.0, 1024.0])
        np.testing.assert_array_equal(pm.exp2(x), np.exp2(x))
        base = np.array([0.0, 0.0, 2.0, 1.0, np.inf, 1.0, 1.0, -1.0, np.nan, 0.5, 2.0, -2.0])
        exponent = np.array([2.0, -1.0, 0.0, 7.5, 0.5, np.nan, np.inf, 0.0, 0.0, np.inf, -np.inf, 0.5])
        np.testing.assert_array_equal(pm.power(base, exponent), np.power(base, exponent))
    assert np.isnan(pm.power(-2.0, 3.0))  # numpy's -8: a negative base is not a growth factor


def test_decade_and_powers_of_ten() -> None:
    x = np.array([1.0, 0.9999999999999999, 10.0, 9.999999999999998, 0.1, 0.09999999999999999, -250.0, 1e-323, 1e308])
    assert pm.decade(x).tolist() == [0, -1, 1, 0, -1, -2, 2, -323, 308]
    assert pm.decade(np.array([0.0, 5e-324])).tolist() == [pm.POWERS_OF_TEN_FROM] * 2
    assert pm.power_of_ten(np.array([-11, 0, 3, 308])).tolist() == [1e-11, 1.0, 1000.0, 1e308]


def test_shapes_are_kept() -> None:
    grid = np.linspace(-2.0, 2.0, 12).reshape(3, 4)
    assert pm.exp(grid).shape == (3, 4) and pm.log(np.exp(grid)).shape == (3, 4)
    np.testing.assert_allclose(pm.log(pm.exp(grid)), grid, rtol=0, atol=1e-15)
    assert pm.power(np.array([4.0, 9.0]), 0.5).tolist() == [2.0, 3.0]


@pytest.mark.parametrize("x", [0.1, 1.0, 7.25, -3.5, 1e-8])
def test_agrees_with_the_c_library_to_one_ulp(x: float) -> None:
    assert _ulps(float(pm.exp(x)), math.exp(x)) <= 1.0
    assert _ulps(float(pm.log(abs(x))), math.log(abs(x))) <= 1.0

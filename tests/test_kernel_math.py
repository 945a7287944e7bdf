"""The kernel's own exp against libm."""

import math

from hypothesis import given, strategies as st

from twin._core import exp as twin_exp


@given(st.floats(min_value=-700, max_value=700))
def test_exp_matches_libm(x):
    assert math.isclose(twin_exp(x), math.exp(x), rel_tol=1e-14)


def test_exp_exact_points():
    assert twin_exp(0.0) == 1.0
    assert twin_exp(-0.0) == 1.0
    assert twin_exp(-1e6) >= 0.0 and twin_exp(-1e6) < 1e-300

"""The inputs of chapter 7's step exercises: Values holding a grad, numbers, upstream gradients."""
from __future__ import annotations

import hypothesis.strategies as st

from kit.drivers import Held, SameAsA
from kit.strategies import positive, reals, upstream


def held(data: st.SearchStrategy) -> st.SearchStrategy[Held]:
    """A Value with a gradient already in it, never 0, so `=` instead of `+=` is seen."""
    return st.builds(Held, data, reals(-3.0, 3.0).filter(lambda g: abs(g) >= 0.1))


def binary_inputs() -> st.SearchStrategy[tuple]:
    """(a, b, out_grad): two Values, one Value twice, or a Value and a number on either side."""
    data, number = reals(), st.one_of(reals(), st.integers(-5, 5))
    return st.one_of(
        st.tuples(held(data), held(data), upstream()),
        st.tuples(held(data), st.just(SameAsA()), upstream()),
        st.tuples(held(data), number, upstream()),
        st.tuples(number, held(data), upstream()),
    )


def power_inputs() -> st.SearchStrategy[tuple]:
    """(a, n, out_grad): an integer n for any a away from 0, a real n for a > 0."""
    away_from_0 = reals(-3.0, 3.0).filter(lambda x: abs(x) >= 0.1)
    return st.one_of(
        st.tuples(held(away_from_0), st.integers(-3, 4), upstream()),
        st.tuples(held(positive(0.1, 5.0)), reals(-3.0, 3.0), upstream()),
    )


def unary_inputs(data: st.SearchStrategy) -> st.SearchStrategy[tuple]:
    return st.tuples(held(data), upstream())

"""Hypothesis strategies for every exercise's inputs, with their domains in one place.

Each exercise in `kit/chapters/` draws its arguments from these. Reals are finite float64;
tensors are float64 (indices int64) built with `torch.tensor(..., dtype=torch.float64)`.
"""
from __future__ import annotations

from functools import lru_cache

import hypothesis.strategies as st
import numpy as np
import torch
from hypothesis.extra import numpy as hnp

from kit.drivers import Curve  # noqa: F401 (input data: a grading child rebuilds it)


def reals(low: float = -10.0, high: float = 10.0) -> st.SearchStrategy[float]:
    """Finite floats in [low, high]; hypothesis also tries 0, the ends and small integers."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def positive(low: float = 1e-3, high: float = 1e3) -> st.SearchStrategy[float]:
    """Floats in [low, high] with low > 0, spread over the orders of magnitude between them."""
    return st.one_of(reals(low, high), st.floats(np.log(low), np.log(high)).map(np.exp).map(float)
                     .filter(lambda v: low <= v <= high))


def finite() -> st.SearchStrategy[float]:
    """Any finite float64, up to ±1.8e308: for functions that must never overflow."""
    return st.floats(allow_nan=False, allow_infinity=False)


def upstream() -> st.SearchStrategy[float]:
    """An upstream gradient: random and away from 1, so a forgotten factor is seen."""
    return reals(-5.0, 5.0).filter(lambda g: abs(g - 1.0) > 1e-3)


def shapes(min_dims: int = 1, max_dims: int = 3, min_side: int = 1, max_side: int = 5):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def tensors(shape, low: float = -5.0, high: float = 5.0) -> st.SearchStrategy[torch.Tensor]:
    """float64 tensors of `shape` (a tuple or a strategy of tuples) with elements in [low, high]."""
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    arrays = hnp.arrays(np.float64, shape, elements=elements)
    return arrays.map(lambda a: torch.tensor(a, dtype=torch.float64))


def curves() -> st.SearchStrategy[Curve]:
    """Cubics with coefficients in [-3, 3] and sines a·sin(w·x) with a, w in [-3, 3]."""
    c = reals(-3.0, 3.0)
    return st.one_of(st.builds(Curve, st.just("cubic"), c, c, c, c), st.builds(Curve, st.just("sine"), c, c))


def upstream_tensors(shape, low: float = -5.0, high: float = 5.0) -> st.SearchStrategy[torch.Tensor]:
    """An upstream gradient of `shape` (a tuple): every element drawn on its own, never all near 1.

    `tensors` often fills most of an array with one value; an upstream gradient should vary
    from element to element, so that a forgotten or misplaced upstream factor is seen.
    """
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    arrays = hnp.arrays(np.float64, shape, elements=elements, fill=st.nothing())
    return arrays.filter(lambda a: a.size == 0 or bool((np.abs(a - 1.0) > 1e-3).any())).map(
        lambda a: torch.tensor(a, dtype=torch.float64))


def index_tensors(shape, high: int) -> st.SearchStrategy[torch.Tensor]:
    """int64 tensors of `shape` (a tuple) with entries in [0, high): class targets, embedding rows.

    Entries repeat often when there are more of them than `high`.
    """
    arrays = hnp.arrays(np.int64, shape, elements=st.integers(0, high - 1), fill=st.nothing())
    return arrays.map(lambda a: torch.tensor(a, dtype=torch.int64))


# one strategy per shape, built once and shared by the chapters: building a strategy costs more
# than drawing from it
floats, upstreams, indices_of = (lru_cache(None)(tensors), lru_cache(None)(upstream_tensors),
                                 lru_cache(None)(index_tensors))


def t(values) -> torch.Tensor:
    """A worked example's float64 tensor."""
    return torch.tensor(values, dtype=torch.float64)


def ix(values) -> torch.Tensor:
    """A worked example's int64 index tensor."""
    return torch.tensor(values, dtype=torch.int64)

"""Chapter 8's inputs: the strategies that draw them, and the tensors of the worked examples.

Sides are small (1 to 5). At least half of the drawn shapes have all their sizes different, so
that a transposed answer comes out with the wrong shape instead of passing by luck.
"""
from functools import lru_cache

import hypothesis.strategies as st

from kit.strategies import floats, indices_of, shapes, t, upstreams

GRID = t([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
CUBE = t([[[1.0, -2.0, 0.5, 3.0], [2.0, 0.0, -1.0, 1.5], [-3.0, 1.0, 2.5, -0.5]],
          [[0.5, 4.0, -2.0, 1.0], [-1.0, 2.0, 3.0, -4.0], [1.0, -1.5, 0.5, 2.0]]])  # (2, 3, 4)


@lru_cache(None)
def sizes(*smallest: int, largest: int = 5):
    """One size per entry of `smallest`, each in [smallest, largest]; half of the draws have all
    their sizes different (a transposed answer then has the wrong shape)."""
    different = st.permutations(range(1, largest + 1)).map(lambda p: tuple(p[:len(smallest)])).filter(
        lambda drawn: all(size >= low for size, low in zip(drawn, smallest)))
    return st.one_of(different, st.tuples(*(st.integers(low, largest) for low in smallest)))


ANY_SHAPE = shapes(min_dims=0, max_dims=3)  # 0-d to 3-d, sides 1 to 5
ONE_TO_THREE_DIMS = shapes(min_dims=1, max_dims=3)
LOOKUP_SHAPES = st.one_of(st.tuples(st.integers(1, 6)), st.tuples(st.integers(1, 3), st.integers(1, 3)))


@st.composite
def broadcasts(draw):
    """(grad, shape): a tensor of `shape` broadcast to grad.shape (1-d to 3-d) in one of four
    ways, each drawn as often: dims added in front (all of them: shape ()), 1s stretched to
    2..5, both, or nothing to undo. A 0-d grad is among the examples."""
    grad_shape = list(draw(ONE_TO_THREE_DIMS))
    add_dims, stretch = draw(st.sampled_from([(True, False), (False, True), (True, True), (False, False)]))
    most = len(grad_shape) - 1 if stretch and len(grad_shape) > 1 else len(grad_shape)  # leave a dim to stretch
    added = draw(st.integers(1, most)) if add_dims else 0
    shape = grad_shape[added:]
    if stretch and shape:
        for dim in draw(st.sets(st.integers(0, len(shape) - 1), min_size=1)):
            shape[dim], grad_shape[added + dim] = 1, draw(st.integers(2, 5))
    return draw(upstreams(tuple(grad_shape))), tuple(shape)


@st.composite
def matmuls(draw):
    n, k, m = draw(sizes(1, 1, 1))
    return draw(floats((n, k))), draw(floats((k, m))), draw(upstreams((n, m)))


@st.composite
def linears(draw):
    n, inputs, outputs = draw(sizes(1, 1, 1))
    return (draw(floats((n, inputs))), draw(floats((outputs, inputs))), draw(floats((outputs,))),
            draw(upstreams((n, outputs))))


@st.composite
def elementwise(draw):
    shape = draw(ANY_SHAPE)
    return draw(floats(shape)), draw(upstreams(shape))


@st.composite
def softmaxes(draw):
    rows, classes = draw(sizes(1, 1))
    shape = draw(st.sampled_from([(classes,), (rows, classes)]))
    return draw(floats(shape)), draw(upstreams(shape))


@st.composite
def mse_pairs(draw):
    shape = draw(ONE_TO_THREE_DIMS)
    return draw(floats(shape)), draw(floats(shape))


@st.composite
def classifications(draw):
    n, classes = draw(sizes(1, 2))
    return draw(floats((n, classes))), draw(indices_of((n,), classes))


@st.composite
def batchnorms(draw):
    n, features = draw(sizes(2, 1))
    x, gamma, beta = draw(floats((n, features))), draw(floats((features,))), draw(floats((features,)))
    upstream = draw(upstreams((n, features)))
    eps = draw(st.sampled_from([None, 1e-5, 1e-3, 0.1, 1.0]))  # None: the default
    return (x, gamma, beta, upstream) if eps is None else (x, gamma, beta, upstream, eps)


@st.composite
def lookups(draw):
    """(indices, num_embeddings, upstream): few rows and up to six lookups, so rows repeat often."""
    num_embeddings, dim = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    shape = draw(LOOKUP_SHAPES)
    indices = draw(indices_of(shape, num_embeddings))
    return indices, num_embeddings, draw(upstreams((*shape, dim)))


@st.composite
def mlps(draw):
    """(x, W1, b1, W2, b2, targets): N rows of `inputs` features, `hidden` units, 2..4 classes;
    sides up to 4, as the network has five tensors to draw."""
    n, inputs, hidden, classes = draw(sizes(1, 1, 1, 2, largest=4))
    return (draw(floats((n, inputs), -2.0, 2.0)),
            draw(floats((hidden, inputs), -1.0, 1.0)), draw(floats((hidden,), -1.0, 1.0)),
            draw(floats((classes, hidden), -1.0, 1.0)), draw(floats((classes,), -1.0, 1.0)),
            draw(indices_of((n,), classes)))

"""Chapter 11's inputs: the strategies that draw them, and the tensors of the worked examples.

Sizes are small, to keep the chapter cheap: T from 1 to 5 steps, N from 1 to 3 rows, D and H
from 1 to 4, and D ≠ H in half of the draws (a w_ih used where w_hh belongs, or a transposed
weight, then comes out with the wrong shape). Inputs lie in [-2, 2], weights, biases and states
in [-1, 1] (c_prev in [-2, 2]), so that tanh and σ are neither flat nor straight; upstream
gradients vary element by element (kit.strategies.upstream_tensors), and so does dc.
"""
import hypothesis.strategies as st
import torch

from kit.chapters.ch8_tensors.inputs import sizes
from kit.strategies import floats, t, upstreams

STEPS, ROWS, SIDE = 5, 3, 4


@st.composite
def shapes(draw):
    """(T, N, D, H): D and H all different in half of the draws."""
    inputs, hidden = draw(sizes(1, 1, largest=SIDE))
    return draw(st.integers(1, STEPS)), draw(st.integers(1, ROWS)), inputs, hidden


def weights(draw, inputs, hidden, gates=1):
    return (draw(floats((gates * hidden, inputs), -1.0, 1.0)), draw(floats((gates * hidden, hidden), -1.0, 1.0)),
            draw(floats((gates * hidden,), -1.0, 1.0)))


@st.composite
def rnn_steps(draw):
    """(x, h_prev, w_ih, w_hh, b, upstream)."""
    _, n, inputs, hidden = draw(shapes())
    return (draw(floats((n, inputs), -2.0, 2.0)), draw(floats((n, hidden), -1.0, 1.0)),
            *weights(draw, inputs, hidden), draw(upstreams((n, hidden), -3.0, 3.0)))


@st.composite
def rnns(draw):
    """(xs, h0, w_ih, w_hh, b, upstream)."""
    steps, n, inputs, hidden = draw(shapes())
    return (draw(floats((steps, n, inputs), -2.0, 2.0)), draw(floats((n, hidden), -1.0, 1.0)),
            *weights(draw, inputs, hidden), draw(upstreams((steps, n, hidden), -3.0, 3.0)))


@st.composite
def lstm_steps(draw):
    """(x, h_prev, c_prev, w_ih, w_hh, b, dh, dc)."""
    _, n, inputs, hidden = draw(shapes())
    return (draw(floats((n, inputs), -2.0, 2.0)), draw(floats((n, hidden), -1.0, 1.0)),
            draw(floats((n, hidden), -2.0, 2.0)), *weights(draw, inputs, hidden, gates=4),
            draw(upstreams((n, hidden), -3.0, 3.0)), draw(upstreams((n, hidden), -3.0, 3.0)))


@st.composite
def lstms(draw):
    """(xs, h0, c0, w_ih, w_hh, b, upstream)."""
    steps, n, inputs, hidden = draw(shapes())
    return (draw(floats((steps, n, inputs), -2.0, 2.0)), draw(floats((n, hidden), -1.0, 1.0)),
            draw(floats((n, hidden), -2.0, 2.0)), *weights(draw, inputs, hidden, gates=4),
            draw(upstreams((steps, n, hidden), -3.0, 3.0)))


GRAD_SHAPES = st.one_of(st.just(()), st.tuples(st.integers(1, SIDE)),
                        st.tuples(st.integers(1, SIDE), st.integers(1, SIDE)))
# max_norm as a share of the gradients' total: well below it (clipped), just at it, just above
# it (clipped only by the 1e-6), or above it (left alone)
RATIOS = st.one_of(st.floats(0.05, 3.0), st.sampled_from([1.0, 1.0 - 1e-9, 1.0 + 1e-9, 1.0 + 1e-4]))


def total_norm(grads) -> float:
    return float(torch.cat([g.reshape(-1) for g in grads]).norm()) if grads else 0.0


@st.composite
def clips(draw):
    """(grads, max_norm): 0 to 4 tensors, 0-d to 2-d, and max_norm drawn relative to their total,
    so that totals below, at and above max_norm all come; a zero total gets max_norm = the ratio."""
    grads = [draw(floats(shape, -3.0, 3.0)) for shape in draw(st.lists(GRAD_SHAPES, max_size=4))]
    ratio, total = draw(RATIOS), total_norm(grads)
    return grads, ratio * total if total > 0 else ratio


# ---- the worked examples ----------------------------------------------------------------------

ONE = t([[1.0]])
RNN_STEP_WORKED = (t([[1.0]]), t([[0.5]]), t([[0.5]]), t([[-1.0]]), t([0.0]), t([[2.0]]))  # a = 0, h = 0
RNN_STEP_EXAMPLES = (
    RNN_STEP_WORKED,
    (t([[1.0]]), t([[0.0]]), ONE, t([[2.0]]), t([0.0]), t([[-1.5]])),  # a = 1
    (t([[1.0, -1.0, 0.5], [0.0, 2.0, -0.5]]), t([[0.5, -0.5], [0.25, 0.75]]),
     t([[0.5, -0.25, 1.0], [0.0, 0.75, -0.5]]), t([[0.5, -1.0], [0.25, 0.0]]), t([0.1, -0.2]),
     t([[1.0, -2.0], [0.5, 3.0]])),
)
# T = 2, one row, one input, one hidden unit: every number a scalar
RNN_WORKED = (t([[[1.0]], [[0.0]]]), t([[0.0]]), ONE, t([[0.5]]), t([0.0]), t([[[1.0]], [[2.0]]]))
RNN_EXAMPLES = (
    RNN_WORKED,
    (t([[[1.0]]]), t([[0.5]]), t([[0.5]]), t([[-1.0]]), t([0.0]), t([[[2.0]]])),  # one step
    (t([[[1.0, -1.0], [0.5, 0.0]], [[0.0, 2.0], [-1.0, 1.0]], [[0.5, 0.5], [1.5, -0.5]]]),
     t([[0.5, -0.5, 0.0], [0.25, 0.0, -0.75]]),
     t([[0.5, -0.25], [0.0, 0.75], [-0.5, 1.0]]), t([[0.5, -1.0, 0.25], [0.25, 0.0, -0.5], [-0.75, 0.5, 0.5]]),
     t([0.1, -0.2, 0.3]), t([[[1.0, -2.0, 0.5], [0.5, 3.0, -1.0]], [[-1.0, 0.5, 2.0], [1.5, -0.5, 0.0]],
                             [[2.0, 1.0, -1.5], [0.0, -2.0, 1.0]]])),
)
ZERO4 = t([[0.0], [0.0], [0.0], [0.0]])
# every weight 0: each gate's pre-activation is 0, so σ = 1/2 and tanh(g) = 0
LSTM_STEP_WORKED = (ONE, t([[0.0]]), t([[2.0]]), ZERO4, ZERO4, t([0.0, 0.0, 0.0, 0.0]), t([[2.0]]), t([[0.5]]))
GATE_WEIGHTS_IH = t([[0.5, -0.5], [0.25, 1.0], [-1.0, 0.5], [0.75, 0.0], [0.0, -0.25], [1.0, 0.5],
                     [-0.5, 0.75], [0.25, -1.0]])  # 4H = 8 rows for H = 2, D = 2
GATE_WEIGHTS_HH = t([[0.5, 0.0], [-0.25, 0.5], [0.0, 1.0], [0.75, -0.5], [-1.0, 0.25], [0.5, 0.5],
                     [0.25, -0.75], [-0.5, 0.0]])
GATE_BIAS = t([0.1, -0.2, 0.3, 0.0, -0.1, 0.2, 0.5, -0.4])
LSTM_STEP_EXAMPLES = (
    LSTM_STEP_WORKED,
    (t([[1.0, -1.0], [0.5, 2.0]]), t([[0.5, -0.5], [0.0, 0.75]]), t([[1.0, -2.0], [0.5, 0.25]]),
     GATE_WEIGHTS_IH, GATE_WEIGHTS_HH, GATE_BIAS, t([[1.0, -2.0], [0.5, 3.0]]), t([[-0.5, 1.5], [2.0, -1.0]])),
)
LSTM_WORKED = (t([[[1.0]], [[0.0]]]), t([[0.0]]), t([[2.0]]), ZERO4, ZERO4, t([0.0, 0.0, 0.0, 0.0]),
               t([[[1.0]], [[2.0]]]))
LSTM_EXAMPLES = (
    LSTM_WORKED,
    (t([[[1.0, -1.0], [0.5, 2.0]], [[0.0, 1.0], [-1.5, 0.5]], [[2.0, 0.5], [1.0, -1.0]]]),
     t([[0.5, -0.5], [0.0, 0.75]]), t([[1.0, -2.0], [0.5, 0.25]]), GATE_WEIGHTS_IH, GATE_WEIGHTS_HH, GATE_BIAS,
     t([[[1.0, -2.0], [0.5, 3.0]], [[-0.5, 1.5], [2.0, -1.0]], [[0.0, 2.5], [-1.0, 0.5]]])),
)
CLIP_EXAMPLES = (
    ([t([3.0, 4.0])], 1.0),  # total 5: scaled by 1 / (5 + 1e-6)
    ([t([3.0, 4.0])], 10.0),  # total 5: left as they are
    ([t([[1.0, 2.0]]), t(2.0)], 1.0),  # two tensors, total 3 together
    ([t([0.003, 0.004]), t([[0.0]])], 0.001),  # a small total, where the 1e-6 shows most
    ([t([0.03, 0.04])], 0.05),  # max_norm at the total: the 1e-6 still scales a little
    ([], 1.0),  # no gradients at all
    ([t([[0.0, 0.0], [0.0, 0.0]])], 0.5),  # a zero total
)

# the pictures' sequence: 16 steps of one row, with the outside gradient at the last step only,
# so that the size of what reaches each earlier step shows how the gradient vanishes going back
_noise = torch.Generator().manual_seed(11)


def _uniform(*shape, bound=1.0):
    return bound * (2 * torch.rand(shape, generator=_noise, dtype=torch.float64) - 1)


PICTURE_STEPS, PICTURE_INPUTS, PICTURE_HIDDEN = 16, 2, 3
PICTURE_XS = _uniform(PICTURE_STEPS, 1, PICTURE_INPUTS)
PICTURE_H0 = _uniform(1, PICTURE_HIDDEN, bound=0.5)
PICTURE_C0 = _uniform(1, PICTURE_HIDDEN, bound=0.5)
PICTURE_RNN_WEIGHTS = (_uniform(PICTURE_HIDDEN, PICTURE_INPUTS), _uniform(PICTURE_HIDDEN, PICTURE_HIDDEN, bound=0.6),
                       _uniform(PICTURE_HIDDEN, bound=0.2))
PICTURE_LSTM_WEIGHTS = (_uniform(4 * PICTURE_HIDDEN, PICTURE_INPUTS),
                        _uniform(4 * PICTURE_HIDDEN, PICTURE_HIDDEN, bound=0.6),
                        _uniform(4 * PICTURE_HIDDEN, bound=0.2))
PICTURE_UPSTREAM = torch.zeros(PICTURE_STEPS, 1, PICTURE_HIDDEN, dtype=torch.float64)
PICTURE_UPSTREAM[-1] = t([[1.0, -0.5, 0.75]])

"""Chapter 10's inputs: the strategies that draw them, and the tensors of the worked examples.

Sides are small (images up to 7 × 7, kernels up to 4, channels up to 3, batches up to 3), so
that a learner's loops stay quick. Every shape is built from a few drawn integers, so shrinking
keeps every promise: a kernel never larger than the padded image, N·H·W ≥ 2 for batch norm,
no two equal values in a max-pooling window (a permutation of distinct values), an even H and
W for the network.
"""
import hypothesis.strategies as st
import torch

from kit.strategies import floats, ix, t, upstreams


def out_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """torch's floor mode: the number of windows that fit along one side."""
    return (size + 2 * padding - kernel) // stride + 1


@st.composite
def conv1ds(draw):
    """(x, w, b, upstream): x (N, C, L), w (F, C, K), K ≤ L."""
    n, c, f = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k = draw(st.integers(1, 4))
    length = draw(st.integers(k, 7))
    return (draw(floats((n, c, length))), draw(floats((f, c, k))), draw(floats((f,))),
            draw(upstreams((n, f, length - k + 1))))


@st.composite
def conv2ds(draw):
    """(x, w, b, upstream[, stride, padding]): kernels often not square, images often not square,
    stride 1 or 2, padding 0 to 2 (wider than a kernel of 1); with stride 2, a last row or column
    that no window reaches (floor mode) comes about half of the time. Stride and padding are
    left out (their defaults, 1 and 0) on some draws."""
    n, c, f = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, padding = draw(st.integers(1, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, kh - 2 * padding), 6))
    w = draw(st.integers(max(1, kw - 2 * padding), 7))
    ho, wo = out_size(h, kh, stride, padding), out_size(w, kw, stride, padding)
    args = (draw(floats((n, c, h, w))), draw(floats((f, c, kh, kw))), draw(floats((f,))),
            draw(upstreams((n, f, ho, wo))))
    if stride == 1 and padding == 0 and draw(st.booleans()):
        return args
    return (*args, stride, padding)


# (kernel_size, stride): windows that overlap (stride < kernel), that tile, that leave gaps
# (stride > kernel), and the trivial window of one
POOLINGS = ((2, 1), (3, 1), (3, 2), (2, 2), (3, 3), (2, 3), (1, 2), (1, 1))


@st.composite
def pool_shapes(draw):
    kernel, stride = draw(st.sampled_from(POOLINGS))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h, w = draw(st.integers(kernel, 6)), draw(st.integers(kernel, 7))
    return (n, c, h, w), kernel, stride


@st.composite
def distinct_values(draw, shape):
    """A tensor of `shape` whose values are all different: a permutation of 0..numel-1, centred
    and scaled. Shrinking a permutation leaves a permutation, so the promise holds."""
    count = int(torch.tensor(shape).prod())
    order = draw(st.permutations(range(count)))
    scale = draw(st.sampled_from([0.25, 0.5, 1.5]))
    return (t(order).reshape(shape) - (count - 1) / 2) * scale


@st.composite
def max_pools(draw):
    """(x, upstream, kernel_size, stride) with no two equal values anywhere in x."""
    shape, kernel, stride = draw(pool_shapes())
    n, c, h, w = shape
    return (draw(distinct_values(shape)), draw(upstreams((n, c, out_size(h, kernel, stride),
                                                           out_size(w, kernel, stride)))), kernel, stride)


@st.composite
def avg_pools(draw):
    shape, kernel, stride = draw(pool_shapes())
    n, c, h, w = shape
    return (draw(floats(shape)), draw(upstreams((n, c, out_size(h, kernel, stride), out_size(w, kernel, stride)))),
            kernel, stride)


@st.composite
def batchnorm2ds(draw):
    """(x, gamma, beta, upstream[, eps]): x (N, C, H, W) with N·H·W ≥ 2 (W raised to 2 when the
    other two are 1); eps the default or one of 1e-5, 1e-3, 0.1, 1."""
    n, c, h, w = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    if n * h * w < 2:
        w = 2
    shape = (n, c, h, w)
    args = (draw(floats(shape)), draw(floats((c,))), draw(floats((c,))), draw(upstreams(shape)))
    eps = draw(st.sampled_from([None, 1e-5, 1e-3, 0.1, 1.0]))  # None: the default
    return args if eps is None else (*args, eps)


@st.composite
def cnns(draw):
    """(x, w_conv, b_conv, w_fc, b_fc, targets): N 1..2, C 1..2, F 1..3, H and W in {2, 4, 6},
    2 or 3 classes. The tensors are uniform random from a seed hypothesis draws: hypothesis'
    favourite numbers (0, equal values) would make near-ties in a pooling window, which the last
    bit of rounding decides differently in two right answers. The exact ties, and relu's input
    at exactly 0, are in the worked examples, where every way of summing gives the same numbers."""
    n, c, f = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
    h, w = 2 * draw(st.integers(1, 3)), 2 * draw(st.integers(1, 3))
    classes = draw(st.integers(2, 3))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**32 - 1)))

    def uniform(shape, bound):
        return bound * (2 * torch.rand(shape, generator=generator, dtype=torch.float64) - 1)

    features = f * (h // 2) * (w // 2)
    return (uniform((n, c, h, w), 2.0), uniform((f, c, 3, 3), 1.0), uniform((f,), 0.5),
            uniform((classes, features), 1.0), uniform((classes,), 0.5),
            torch.randint(classes, (n,), generator=generator, dtype=torch.int64))


# ---- the worked examples --------------------------------------------------------------------

def ramp(*shape, start=1.0):
    """1, 2, 3, ... in row-major order, of `shape`."""
    count = int(torch.tensor(shape).prod())
    return torch.arange(start, start + count, dtype=torch.float64).reshape(shape)


CONV1D_EXAMPLES = (
    # the learner's page: y[i] = x[i] - x[i+1] + 0.5
    (t([[[1.0, 2.0, 3.0, 4.0]]]), t([[[1.0, -1.0]]]), t([0.5]), t([[[1.0, 2.0, 3.0]]])),
    # a kernel as long as the signal: one position only
    (t([[[1.0, -2.0, 0.5]]]), t([[[2.0, 0.0, -1.0]]]), t([0.0]), t([[[3.0]]])),
    # two samples, two channels, three filters of three
    (ramp(2, 2, 5) / 4, t([[[1.0, 0.0, -1.0], [0.5, 2.0, 0.0]], [[0.0, 1.0, 0.0], [-1.0, 0.5, 1.0]],
                           [[2.0, -1.0, 0.5], [0.0, 0.0, 3.0]]]),
     t([0.1, -0.2, 0.3]), t([[[1.0, -2.0, 0.5], [2.0, 1.0, -1.0], [0.5, 3.0, -0.5]],
                             [[-1.0, 0.0, 2.0], [1.5, -0.5, 1.0], [-2.0, 1.0, 0.25]]])),
)

W22 = t([[[[1.0, 0.0], [0.0, -1.0]]]])
CONV2D_EXAMPLES = (
    # the learner's page: a 3 × 3 image, a 2 × 2 kernel, four positions
    (ramp(1, 1, 3, 3), W22, t([0.0]), t([[[[1.0, 2.0], [3.0, 4.0]]]])),
    # stride 2 on 5 × 5: row 4 and column 4 are reached by no window
    (ramp(1, 1, 5, 5), W22, t([1.0]), t([[[[1.0, -1.0], [2.0, 0.5]]]]), 2, 0),
    # padding 1, stride 1: the border windows hang over the edge
    (ramp(1, 1, 2, 3), W22, t([0.0]), ramp(1, 1, 3, 4) / 2, 1, 1),
    # a 1 × 1 kernel with padding 2: the padding is wider than the kernel; stride 2
    (ramp(1, 2, 3, 2), t([[[[2.0]], [[-1.0]]]]), t([0.5]), ramp(1, 1, 4, 3) - 5, 2, 2),
    # two samples, a non-square 2 × 3 kernel, two filters, stride 2 and padding 1
    (ramp(2, 1, 4, 5) / 10, t([[[[1.0, -1.0, 0.5], [0.0, 2.0, -0.5]]], [[[0.5, 0.5, 0.5], [-1.0, 0.0, 1.0]]]]),
     t([0.0, -1.0]), ramp(2, 2, 3, 3) - 9, 2, 1),
)

MAX_POOL_EXAMPLES = (
    # the learner's page: two 2 × 2 windows side by side
    (t([[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 8.0, 6.0]]]]), t([[[[10.0, 20.0]]]]), 2, 2),
    # overlapping windows (stride 1) that share their largest value, 6: its gradients add up
    (t([[[[1.0, 6.0, 2.0], [3.0, 4.0, 5.0]]]]), t([[[[4.0, 8.0]]]]), 2, 1),
    # stride 3 > kernel 2 on 5 × 5: the gaps between windows and the last rows get nothing
    ((ramp(1, 1, 5, 5) * 7) % 25 - 12, ramp(1, 1, 2, 2) * 1.5, 2, 3),
    # two channels, a 3 × 3 window with stride 2 on 5 × 6: overlaps and an unreached column
    (((ramp(1, 2, 5, 6) * 37) % 60 - 30) / 4, ramp(1, 2, 2, 2) - 4.5, 3, 2),
)

AVG_POOL_EXAMPLES = (
    # the learner's page: one 2 × 2 window
    (t([[[[1.0, 2.0], [3.0, 4.0]]]]), t([[[[8.0]]]]), 2, 2),
    # overlapping windows (stride 1): the middle column is in both
    (t([[[[1.0, 6.0, 2.0], [3.0, 4.0, 5.0]]]]), t([[[[4.0, 8.0]]]]), 2, 1),
    # stride 3 > kernel 2 on 5 × 5
    (ramp(1, 1, 5, 5), ramp(1, 1, 2, 2) * 1.5, 2, 3),
    # two samples, a 3 × 3 window with stride 2 on 5 × 6
    (ramp(2, 1, 5, 6) / 3, ramp(2, 1, 2, 2) - 4.5, 3, 2),
)

BATCHNORM2D_EXAMPLES = (
    # the learner's page: one sample, one channel, 2 × 2 (mean 0, variance 1)
    (t([[[[-1.0, -1.0], [1.0, 1.0]]]]), t([2.0]), t([0.5]), t([[[[1.0, 0.0], [0.0, 0.0]]]])),
    # two samples of one pixel each: the statistics run over the batch
    (t([[[[1.0]], [[2.0]]], [[[3.0]], [[-2.0]]]]), t([1.0, -0.5]), t([0.0, 1.0]),
     t([[[[1.0]], [[-1.0]]], [[[2.0]], [[0.5]]]])),
    # two samples, two channels, 2 × 3, eps 0.1
    (ramp(2, 2, 2, 3) % 5 - 2, t([1.5, -1.0]), t([0.0, 0.5]), (ramp(2, 2, 2, 3) * 7) % 11 - 5, 0.1),
)


def cnn_args(x, w_conv, b_conv, w_fc, b_fc, targets):
    return t(x), t(w_conv), t(b_conv), t(w_fc), t(b_fc), ix(targets)


IDENTITY = [[[[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]]]
CNN_EXAMPLES = (
    # the learner's page: the identity kernel, one window, two classes
    cnn_args([[[[1.0, 2.0], [3.0, 4.0]]]], IDENTITY, [0.0], [[0.25], [-0.25]], [0.0, 0.0], [0]),
    # an input of zeros with a positive bias: every window holds four equal values (a tie; torch
    # sends the gradient to the first of them), and a zero bias: relu's input is exactly 0 (slope 0)
    cnn_args([[[[0.0] * 4] * 4]], [IDENTITY[0], [[[1.0, 0.5, 0.0], [0.0, -1.0, 0.5], [0.25, 0.0, 1.0]]]],
             [0.5, 0.0], [[1.0, -0.5, 0.5, 0.25, 0.0, 1.0, -1.0, 0.5], [-0.5, 1.0, 0.0, 0.5, 1.0, -1.0, 0.25, 0.0]],
             [0.1, -0.1], [1]),
    # two samples, two channels, 4 × 2: one sample all zeros (ties), the other not
    (torch.stack([torch.zeros(2, 4, 2, dtype=torch.float64), (ramp(2, 4, 2) % 5 - 2) / 2]),
     (ramp(2, 2, 3, 3) % 7 - 3) / 4, t([0.25, 0.5]), (ramp(3, 4) % 5 - 2) / 2, t([0.0, 0.1, -0.1]), ix([2, 0])),
)

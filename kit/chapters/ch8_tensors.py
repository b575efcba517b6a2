"""Chapter 8, tensors: the backward steps of a small network's layers, on whole tensors at once.

The references are torch.autograd on the contract's torch expressions (torch.nn.functional),
in float64. Sides are small (1 to 5). At least half of the drawn shapes have all their sizes
different, so that a transposed answer comes out with the wrong shape instead of passing by
luck; the others may repeat sizes (square matrices), where a transposed answer has the wrong
values.
Upstream gradients vary element by element (kit.strategies.upstream_tensors).

Decisions the contract leaves open, stated on the learner's pages too:
- batchnorm_backward draws N >= 2: with one row the variance is 0, x̂ is 0 whatever x is, and
  torch.nn.functional.batch_norm refuses a batch of one in training mode. eps is the default
  or passed in (1e-5, 1e-3, 0.1, 1), so an answer that ignores its eps is caught.
- embedding_backward takes indices of any shape, as W[indices] does: 1-D (N,) or 2-D (B, T)
  here, with upstream of shape indices.shape + (D,).
- mlp_backward follows torch at relu's kink: no gradient where h = x @ W1.T + b1 is exactly 0
  (an example puts a whole row there, so a mask h >= 0 is caught). It has no nudged estimate:
  a nudge straddles the kink.

Mistakes of shape, dtype or keys are named by kit.diagnosis itself; the misconceptions here
name the mistakes of value, each computed from torch's reference bent the way the mistake bends
it (or, for the network, by hand).
"""
import math
from functools import lru_cache

import hypothesis.strategies as st
import torch
import torch.nn.functional as F

from kit.diagnosis import Misconception, sign_flipped, without_upstream
from kit.exercise import Exercise
from kit.reference import gradients, nudged
from kit.strategies import index_tensors, shapes, tensors, upstream_tensors

# one strategy per shape, built once: building a strategy costs more than drawing from it
floats, upstreams, indices_of = lru_cache(None)(tensors), lru_cache(None)(upstream_tensors), lru_cache(None)(index_tensors)

MLP_KEYS = ("x", "W1", "b1", "W2", "b2")


def t(values):
    return torch.tensor(values, dtype=torch.float64)


def ix(values):
    return torch.tensor(values, dtype=torch.int64)


# ---- references: torch.autograd on the curriculum's expressions -----------------------------

def unbroadcast(grad, shape):
    return gradients(lambda x: x.expand(grad.shape), torch.zeros(shape, dtype=torch.float64), upstream=grad)[0]


def matmul_backward(A, B, upstream):
    return gradients(torch.matmul, A, B, upstream=upstream)


def linear_backward(x, W, b, upstream):
    return gradients(F.linear, x, W, b, upstream=upstream)


def tanh_backward(x, upstream):
    return gradients(torch.tanh, x, upstream=upstream)[0]


def softmax_backward(x, upstream):
    return gradients(softmax, x, upstream=upstream)[0]


def mse_backward(pred, target):
    return gradients(lambda pred: F.mse_loss(pred, target), pred)[0]


def cross_entropy_backward(logits, targets):
    return gradients(lambda logits: F.cross_entropy(logits, targets), logits)[0]


def batchnorm_backward(x, gamma, beta, upstream, eps=1e-5):
    return gradients(lambda x, gamma, beta: batchnorm(x, gamma, beta, eps), x, gamma, beta, upstream=upstream)


def embedding_backward(indices, num_embeddings, upstream):
    return gradients(lambda W: F.embedding(indices, W), table(num_embeddings, upstream), upstream=upstream)[0]


def mlp_backward(x, W1, b1, W2, b2, targets):
    return dict(zip(MLP_KEYS, gradients(lambda *params: mlp_loss(*params, targets), x, W1, b1, W2, b2)))


def softmax(x):
    return torch.softmax(x, dim=-1)


def batchnorm(x, gamma, beta, eps=1e-5):
    return F.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)


def table(num_embeddings, upstream):
    """A zero table W (num_embeddings, D) for W[indices]: its gradient does not depend on W."""
    return torch.zeros(num_embeddings, upstream.shape[-1], dtype=torch.float64)


def mlp_loss(x, W1, b1, W2, b2, targets):
    return F.cross_entropy(F.linear(F.relu(F.linear(x, W1, b1)), W2, b2), targets)


# ---- misconceptions: the answers of classic mistakes, from torch's reference bent ------------

def summed_as_mean(grad, shape):
    """Each entry of `shape` has grad.numel() / numel(shape) copies; their mean, not their sum."""
    return unbroadcast(grad, shape) * math.prod(shape) / grad.numel()


def replaced(answer, index, value):
    """The tuple `answer` with item `index` replaced by `value`."""
    return tuple(value if i == index else item for i, item in enumerate(answer))


def per_row_mean(reference, index):
    """The reference with item `index` divided by the batch size N = args[0].shape[0]."""
    def answer(*args):
        found = reference(*args)
        return replaced(found, index, found[index] / args[0].shape[0])
    return answer


def softmax_diagonal(x, upstream):
    s = softmax(x)
    return upstream * s * (1 - s)


def softmax_sum_down_columns(x, upstream):
    s = softmax(x)
    return s * (upstream - (upstream * s).sum(dim=0, keepdim=True))


def softmax_of_everything(x, upstream):
    return gradients(lambda x: torch.softmax(x.reshape(-1), dim=0).reshape(x.shape), x, upstream=upstream)[0]


def one_hot(targets, classes):
    return F.one_hot(targets, classes).to(torch.float64)


def cross_entropy_down_columns(logits, targets):
    return (torch.softmax(logits, dim=0) - one_hot(targets, logits.shape[1])) / logits.shape[0]


def cross_entropy_without_softmax(logits, targets):
    return (logits - one_hot(targets, logits.shape[1])) / logits.shape[0]


def batchnorm_constant_statistics(x, gamma, beta, upstream, eps=1e-5):
    inv_std = 1 / torch.sqrt(x.var(dim=0, unbiased=False) + eps)
    dx = upstream * gamma * inv_std
    return (dx, *batchnorm_backward(x, gamma, beta, upstream, eps)[1:])


def batchnorm_unbiased(x, gamma, beta, upstream, eps=1e-5):
    """Batch norm's gradient with torch.var's default, the unbiased variance, all the way through."""
    def normalise(x, gamma, beta):
        return gamma * (x - x.mean(dim=0)) / torch.sqrt(x.var(dim=0) + eps) + beta
    return gradients(normalise, x, gamma, beta, upstream=upstream)


def batchnorm_unbiased_in_formula(x, gamma, beta, upstream, eps=1e-5):
    """The compact formula of the biased form, fed torch.var's default, the unbiased variance."""
    n = x.shape[0]
    inv_std = 1 / torch.sqrt(x.var(dim=0) + eps)
    x_hat = (x - x.mean(dim=0)) * inv_std
    dgamma, dbeta = (upstream * x_hat).sum(dim=0), upstream.sum(dim=0)
    return gamma * inv_std / n * (n * upstream - dbeta - x_hat * dgamma), dgamma, dbeta


def batchnorm_dgamma_as_dbeta(x, gamma, beta, upstream, eps=1e-5):
    dx, _, dbeta = batchnorm_backward(x, gamma, beta, upstream, eps)
    return dx, dbeta, dbeta


def embedding_overwritten(indices, num_embeddings, upstream):
    dW = table(num_embeddings, upstream)
    dW[indices] = upstream
    return dW


def mlp_by_hand(passes, mean=True):
    """The network's gradients with relu's gate `passes(h)` and, or without, the mean over N."""
    def answer(x, W1, b1, W2, b2, targets):
        h = x @ W1.T + b1
        a = torch.relu(h)
        dlogits = softmax(a @ W2.T + b2) - one_hot(targets, W2.shape[0])
        dlogits = dlogits / x.shape[0] if mean else dlogits
        dh = (dlogits @ W2) * passes(h).to(torch.float64)
        return {"x": dh @ W1, "W1": dh.T @ x, "b1": dh.sum(dim=0), "W2": dlogits.T @ a, "b2": dlogits.sum(dim=0)}
    return answer


# ---- estimates: the slopes measured by nudging, as in chapter 1 -------------------------------

def nudges(loss, *wrt):
    """estimate(*args): the slope of the number loss(*args) with respect to args[i] for each i in
    wrt, measured by nudging every element; one tensor, or a tuple of them."""
    def estimate(*args):
        found = tuple(nudged(loss, args, i) for i in wrt)
        return found[0] if len(found) == 1 else found
    return estimate


def summed(f):
    """loss(*inputs, upstream) = Σ upstream·f(*inputs): the number whose slopes a backward step gives."""
    return lambda *args: (args[-1] * f(*args[:-1])).sum()


def unbroadcast_estimate(grad, shape):
    return nudged(lambda x: (grad * x.expand(grad.shape)).sum(), (torch.zeros(shape, dtype=torch.float64),), 0)


def embedding_estimate(indices, num_embeddings, upstream):
    return nudged(lambda W: (upstream * F.embedding(indices, W)).sum(), (table(num_embeddings, upstream),), 0)


def batchnorm_estimate(x, gamma, beta, upstream, eps=1e-5):
    return nudges(lambda x, gamma, beta: (upstream * batchnorm(x, gamma, beta, eps)).sum(), 0, 1, 2)(x, gamma, beta)


# ---- inputs ---------------------------------------------------------------------------------

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


# ---- worked numbers and edge cases ---------------------------------------------------------

GRID = t([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
CUBE = t([[[1.0, -2.0, 0.5, 3.0], [2.0, 0.0, -1.0, 1.5], [-3.0, 1.0, 2.5, -0.5]],
          [[0.5, 4.0, -2.0, 1.0], [-1.0, 2.0, 3.0, -4.0], [1.0, -1.5, 0.5, 2.0]]])  # (2, 3, 4)


UNBIASED = ("You used the unbiased variance (÷ (N - 1), torch.var's default); batch norm in training "
            "divides by N: x.var(dim=0, unbiased=False).")


def _exercise(name, inputs, examples, **more):
    return Exercise("ch8_tensors", name, inputs=inputs, reference=globals()[name], examples=examples, **more)


EXERCISES = [
    _exercise(
        "unbroadcast", broadcasts(),
        ((GRID, (3,)), (GRID, (2, 1)), (GRID, (1, 3)), (GRID, ()), (GRID, (2, 3)),
         (CUBE, (3, 1)), (CUBE, (2, 1, 4)), (CUBE, (1, 1, 1)), (CUBE, (4,)), (t(2.5), ())),
        domain="grad 0-d to 3-d with sides 1 to 5, elements in [-5, 5]; shape any shape that "
               "broadcasts to grad.shape: fewer leading dims, 1s where grad is longer, both, neither, or ()",
        hint="Every dim broadcasting added in front, and every dim where shape has a 1 and grad does "
             "not, copied your value many times: add those copies' gradients back up, and keep the 1s.",
        more="Sum grad over its first grad.dim() - len(shape) dims; then, for every dim where shape "
             "has a 1, sum over that dim with keepdim=True.",
        misconceptions=(
            Misconception("You averaged the copies; every copy of a value sends its gradient back to "
                          "the same place, where they add up: sum, do not average.", summed_as_mean),
        ),
        estimate=unbroadcast_estimate,
        tolerance="accumulated"),
    _exercise(
        "matmul_backward", matmuls(),
        ((GRID, t([[1.0], [0.0], [-1.0]]), t([[1.0], [2.0]])),
         (t([[1.0, 2.0], [3.0, 4.0]]), t([[0.5, -1.0], [2.0, 1.5]]), t([[1.0, -2.0], [0.5, 3.0]])),
         (t([[2.0]]), t([[3.0]]), t([[-0.5]]))),
        domain="A (n, k) and B (k, m) with n, k, m from 1 to 5, elements in [-5, 5]; upstream (n, m)",
        hint="Write one entry, C[i, j] = Σₚ A[i, p]·B[p, j]: like an hourly wage, A[i, p] is paid at the "
             "rate B[p, j] in every C[i, j] it feeds, so it collects upstream × rate from each of them; "
             "then find the matrix product that does those sums, with dA of A's shape.",
        more="dA = upstream @ B.T and dB = A.T @ upstream.",
        misconceptions=(without_upstream(matmul_backward),),
        estimate=nudges(summed(torch.matmul), 0, 1),
        tolerance="accumulated"),
    _exercise(
        "linear_backward", linears(),
        ((t([[1.0, 2.0]]), t([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), t([0.0, 0.0, 0.0]), t([[1.0, -1.0, 2.0]])),
         (t([[1.0, -1.0], [2.0, 0.5], [0.0, 3.0]]), t([[2.0, 1.0], [-1.0, 0.5]]), t([0.5, -0.5]),
          t([[1.0, 2.0], [-3.0, 0.5], [2.0, -1.0]]))),
        domain="x (N, in), W (out, in), b (out,), N, in, out from 1 to 5, elements in [-5, 5]; "
               "upstream (N, out)",
        hint="y = x @ W.T + b is matmul_backward's product with B = W.T, plus b copied to every row: "
             "reuse that rule, give dW the layout of W, and add b's copies up over the batch.",
        more="dx = upstream @ W, dW = upstream.T @ x, db = upstream.sum(dim=0).",
        misconceptions=(
            Misconception("db is the mean of upstream's rows; b is added to every row of the batch, so "
                          "the rows' gradients add up: db is their sum.", per_row_mean(linear_backward, 2)),
            Misconception("dW is divided by the batch size; every sample adds its own share to dW, and "
                          "the shares add up (any mean is the loss's business).", per_row_mean(linear_backward, 1)),
            without_upstream(linear_backward),
        ),
        estimate=nudges(summed(F.linear), 0, 1, 2),
        tolerance="accumulated"),
    _exercise(
        "tanh_backward", elementwise(),
        ((t([0.0, 1.0]), t([2.0, 3.0])), (t([[-5.0, 0.5], [2.0, -0.25]]), t([[1.5, -2.0], [0.5, 4.0]]))),
        domain="x any shape (0-d to 3-d, sides 1 to 5), elements in [-5, 5]; upstream of x's shape",
        hint="Each output element depends on its own input only: upstream times tanh's local slope, "
             "which can be written with tanh(x) itself.",
        more="upstream * (1 - torch.tanh(x) ** 2).",
        misconceptions=(
            without_upstream(tanh_backward),
            Misconception("You used 1 - x²; tanh's slope is 1 - tanh(x)², with tanh(x) in place of x.",
                          lambda x, upstream: upstream * (1 - x ** 2)),
            Misconception("The square is missing: tanh's slope is 1 - tanh(x)², not 1 - tanh(x).",
                          lambda x, upstream: upstream * (1 - torch.tanh(x))),
            Misconception("You multiplied upstream by tanh(x), the forward value; the local derivative "
                          "is tanh's slope.", lambda x, upstream: upstream * torch.tanh(x)),
        ),
        estimate=nudges(summed(torch.tanh), 0),
        tolerance="derivative"),
    _exercise(
        "softmax_backward", softmaxes(),
        ((t([0.0, 0.0]), t([1.0, 0.0])), (t([1.0, 2.0, 3.0]), t([0.5, -1.0, 2.0])),
         (t([[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]]), t([[1.0, 0.0, -1.0], [2.0, 0.5, -3.0]]))),
        domain="x 1-D (C,) or 2-D (N, C), C and N from 1 to 5, elements in [-5, 5]; upstream of x's shape",
        hint="Every output of a row depends on every input of that row, so each input collects "
             "upstream × local from the whole row, not just from its own position.",
        more="With s = softmax(x): s * (upstream - (upstream * s).sum(dim=-1, keepdim=True)).",
        misconceptions=(
            Misconception("You kept only the diagonal of softmax's Jacobian, s·(1 - s)·upstream; each "
                          "x_j also lowers every other s_i of its row (∂s_i/∂x_j = -s_i·s_j), and those "
                          "paths add up too.", softmax_diagonal),
            Misconception("You summed upstream·s down the columns (dim 0); each row is its own softmax, "
                          "so sum along the row (dim=-1, keepdim=True).", softmax_sum_down_columns),
            Misconception("You took one softmax over the whole tensor; softmax works on each row (the "
                          "last dim) separately.", softmax_of_everything),
        ),
        estimate=nudges(summed(softmax), 0),
        tolerance="derivative"),
    _exercise(
        "mse_backward", mse_pairs(),
        ((t([1.0, 2.0, 3.0]), t([1.0, 0.0, 0.0])),
         (t([[1.0, 2.0, 3.0], [0.0, -1.0, 2.0]]), t([[0.0, 0.0, 1.0], [1.0, 1.0, 1.0]]))),
        domain="pred and target of one shape (1-D to 3-D, sides 1 to 5), elements in [-5, 5]",
        hint="The mean divides by the number of elements; each element's own square contributes a "
             "chapter 3 slope.",
        more="2 * (pred - target) / pred.numel().",
        misconceptions=(
            Misconception("The 2 of the square's slope is missing: d(e²)/de = 2e.",
                          lambda pred, target: mse_backward(pred, target) / 2),
            Misconception("You divided by the number of rows; the mean is over every element, "
                          "pred.numel() of them.", lambda pred, target: 2 * (pred - target) / pred.shape[0]),
            Misconception("You differentiated the sum of the squares; the loss is their mean, so divide "
                          "by the number of elements.", lambda pred, target: 2 * (pred - target)),
            sign_flipped(mse_backward),
        ),
        estimate=nudges(F.mse_loss, 0),
        tolerance="derivative"),
    _exercise(
        "cross_entropy_backward", classifications(),
        ((t([[0.0, 0.0], [0.0, 0.0]]), ix([0, 1])), (t([[1.0, 2.0, 0.5]]), ix([2])),
         (t([[1.0, -1.0, 0.0, 2.0], [0.5, 0.5, 3.0, -2.0], [2.0, 1.0, 0.0, -1.0]]), ix([3, 0, 0]))),
        domain="logits (N, C) with N from 1 to 5 and C from 2 to 5, elements in [-5, 5]; targets "
               "int64 (N,) in [0, C)",
        hint="The loss is the mean over the rows of -log softmax(row)[target]; work out one row, then "
             "remember the mean.",
        more="softmax of each row, minus 1 at the row's target, all divided by N.",
        misconceptions=(
            Misconception("You left out the mean: the loss averages the N rows' losses, so every row's "
                          "gradient is divided by N.",
                          lambda logits, targets: cross_entropy_backward(logits, targets) * logits.shape[0]),
            Misconception("You took the softmax down the batch (dim 0); each row's probabilities are a "
                          "softmax over its own classes (dim 1).", cross_entropy_down_columns),
            Misconception("You used the logits where the probabilities belong: the slope of "
                          "ln Σ_j e^(x_j) is softmax(x).", cross_entropy_without_softmax),
            sign_flipped(cross_entropy_backward),
        ),
        estimate=nudges(F.cross_entropy, 0),
        tolerance="derivative"),
    _exercise(
        "batchnorm_backward", batchnorms(),
        ((t([[-1.0], [-1.0], [1.0], [1.0]]), t([2.0]), t([0.5]), t([[1.0], [0.0], [0.0], [0.0]])),
         (t([[1.0, 2.0, 3.0], [2.0, 0.0, -1.0], [4.0, 1.0, 0.5]]), t([1.0, -2.0, 0.5]), t([0.0, 1.0, 2.0]),
          t([[1.0, -1.0, 2.0], [0.5, 3.0, -2.0], [-1.5, 0.0, 1.0]])),
         (t([[1.0, 3.0], [3.0, 3.0]]), t([1.5, 2.0]), t([0.0, 0.0]), t([[1.0, -2.0], [0.0, 0.5]])),
         (t([[0.0, 1.0], [0.5, -1.0], [1.0, 2.0]]), t([1.0, 1.0]), t([0.0, 0.0]),
          t([[1.0, 2.0], [-1.0, 0.0], [3.0, -2.0]]), 0.1)),
        domain="x (N, D) with N from 2 to 5 (one row has no spread) and D from 1 to 5, elements in "
               "[-5, 5]; gamma, beta (D,); upstream (N, D); eps the default 1e-5 or one of 1e-5, "
               "1e-3, 0.1, 1",
        hint="The batch mean and variance are made from every row of x, so each x also moves the "
             "output of every other row: follow the gradient through them as well, not only through "
             "its own row.",
        more="dbeta = Σ upstream and dgamma = Σ upstream·x̂ over dim 0; "
             "dx = gamma / (N·√(σ² + eps)) · (N·upstream - dbeta - x̂·dgamma).",
        misconceptions=(
            Misconception("You treated the batch mean and variance as constants (dx = upstream·gamma / "
                          "√(σ² + eps)); they are computed from x, so x also reaches the output through "
                          "them, and those paths add to dx.", batchnorm_constant_statistics),
            Misconception(UNBIASED, batchnorm_unbiased),
            Misconception(UNBIASED, batchnorm_unbiased_in_formula),
            Misconception("You used eps = 1e-5 whatever eps was passed in; use the eps you are given.",
                          lambda x, gamma, beta, upstream, eps=1e-5: batchnorm_backward(x, gamma, beta, upstream)),
            Misconception("dgamma is the plain sum of upstream; gamma multiplies x̂, so its local "
                          "derivative is x̂: dgamma = Σ upstream·x̂.", batchnorm_dgamma_as_dbeta),
        ),
        estimate=batchnorm_estimate,
        tolerance="accumulated"),
    _exercise(
        "embedding_backward", lookups(),
        ((ix([0, 2, 0]), 4, t([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])),
         (ix([1, 1, 1]), 2, t([[1.0], [-2.0], [0.5]])),
         (ix([[0, 1], [1, 1]]), 3, t([[[1.0, 0.5], [2.0, -1.0]], [[-3.0, 4.0], [0.5, 0.5]]]))),
        domain="indices int64, 1-D (up to 6) or 2-D (up to 3 × 3), entries in [0, num_embeddings); "
               "num_embeddings from 1 to 5; upstream of shape indices.shape + (D,), D from 1 to 5",
        hint="A lookup copies a row of W once per time its index appears, so every copy sends its "
             "upstream row back to the same row of dW, where they add up.",
        more="torch.zeros(num_embeddings, D, dtype=torch.float64).index_add(0, indices.reshape(-1), "
             "upstream.reshape(-1, D)).",
        misconceptions=(
            Misconception("A repeated index kept only one of its upstream rows: dW[indices] = upstream, "
                          "and dW[indices] += upstream too, write each row once; add the repeats up "
                          "(index_add, or a loop).", embedding_overwritten),
        ),
        estimate=embedding_estimate,
        tolerance="accumulated"),
    _exercise(
        "mlp_backward", mlps(),
        ((t([[1.0]]), t([[2.0]]), t([0.0]), t([[1.0], [-1.0]]), t([0.0, 0.0]), ix([0])),
         (t([[1.0, 2.0], [-1.0, 0.5], [2.0, -1.0]]), t([[0.5, -1.0], [1.0, 0.25], [-0.5, 0.5]]),
          t([0.1, -0.2, 0.0]), t([[1.0, -0.5, 0.5], [0.0, 0.5, -1.0]]), t([0.0, 0.1]), ix([1, 0, 1])),
         # a row of zeros with zero biases: every hidden unit sits exactly at relu's kink
         (t([[0.0, 0.0], [1.0, -1.0]]), t([[1.0, 0.5], [-0.5, 1.0], [0.25, -1.0]]), t([0.0, 0.0, 0.0]),
          t([[1.0, -1.0, 0.5], [0.5, 0.5, -1.0], [-1.0, 0.0, 1.0]]), t([0.0, 0.5, -0.5]), ix([2, 0]))),
        domain="x (N, in), W1 (hidden, in), b1 (hidden,), W2 (C, hidden), b2 (C,): N, in, hidden "
               "from 1 to 4 and C from 2 to 4; x in [-2, 2], weights and biases in [-1, 1]; targets "
               "int64 (N,)",
        hint="Go backwards one machine at a time, reusing your cross-entropy, relu and linear steps; "
             "at a pre-activation of exactly 0 relu passes no gradient, as in torch.",
        more="dlogits = cross_entropy_backward(logits, targets); da, dW2, db2 = linear_backward(a, W2, "
             "b2, dlogits); dh = da where h > 0, else 0; dx, dW1, db1 = linear_backward(x, W1, b1, dh).",
        misconceptions=(
            Misconception("At h = 0 exactly you let the gradient through relu; torch's relu passes "
                          "nothing there: the gate is h > 0, not h >= 0.", mlp_by_hand(lambda h: h >= 0)),
            Misconception("The gradient went through relu everywhere; relu blocks it where h <= 0 "
                          "(multiply by the mask h > 0).", mlp_by_hand(lambda h: torch.ones_like(h, dtype=torch.bool))),
            Misconception("You left out the mean: the loss averages over the N rows, so dlogits is "
                          "divided by N, and every gradient after it too.", mlp_by_hand(lambda h: h > 0, mean=False)),
        ),
        tolerance="accumulated"),
]

"""Chapter 8's exercises: each torch reference, followed by its declaration.

The references are torch.autograd on the contract's torch expressions (torch.nn.functional and
kit/chapters/ch8_tensors/expressions.py), in float64.
"""
import torch
import torch.nn.functional as F

from kit.chapters.ch8_tensors.estimates import (
    batchnorm_estimate,
    embedding_estimate,
    nudges,
    summed,
    unbroadcast_estimate,
)
from kit.chapters.ch8_tensors.expressions import batchnorm, mlp_loss, softmax, table
from kit.chapters.ch8_tensors.inputs import (
    CUBE,
    GRID,
    batchnorms,
    broadcasts,
    classifications,
    elementwise,
    linears,
    lookups,
    matmuls,
    mlps,
    mse_pairs,
    softmaxes,
)
from kit.chapters.ch8_tensors.mistakes import (
    batchnorm_constant_statistics,
    batchnorm_dgamma_as_dbeta,
    batchnorm_unbiased,
    batchnorm_unbiased_in_formula,
    cross_entropy_down_columns,
    cross_entropy_without_softmax,
    embedding_overwritten,
    mlp_by_hand,
    per_row_mean,
    softmax_diagonal,
    softmax_of_everything,
    softmax_sum_down_columns,
    summed_as_mean,
)
from kit.diagnosis import Misconception, sign_flipped, without_upstream
from kit.exercise import Exercise
from kit.messages.diagnosis import EPS_IGNORED
from kit.reference import gradients
from kit.strategies import ix, t

UNBIASED = ("You used the unbiased variance (÷ (N - 1), torch.var's default); batch norm in training "
            "divides by N: x.var(dim=0, unbiased=False).")
MLP_KEYS = ("x", "W1", "b1", "W2", "b2")

EXERCISES: list[Exercise] = []


def unbroadcast(grad, shape):
    return gradients(lambda x: x.expand(grad.shape), torch.zeros(shape, dtype=torch.float64), upstream=grad)[0]


EXERCISES.append(Exercise(
    module="ch8_tensors", name="unbroadcast", reference=unbroadcast,
    inputs=broadcasts(),
    examples=((GRID, (3,)), (GRID, (2, 1)), (GRID, (1, 3)), (GRID, ()), (GRID, (2, 3)),
              (CUBE, (3, 1)), (CUBE, (2, 1, 4)), (CUBE, (1, 1, 1)), (CUBE, (4,)), (t(2.5), ())),
    domain="grad 0-d to 3-d with sides 1 to 5, elements in [-5, 5]; shape any shape that "
           "broadcasts to grad.shape: fewer leading dims, 1s where grad is longer, both, neither, or ()",
    hint="Every dim broadcasting added in front, and every dim where shape has a 1 and grad does "
         "not, copied your value many times: add those copies' gradients back up, and keep the 1s.",
    more="Sum grad over its first grad.dim() - len(shape) dims; then, for every dim where shape "
         "has a 1, sum over that dim with keepdim=True.",
    misconceptions=(
        Misconception("You averaged the copies; every copy of a value sends its gradient back to "
                      "the same place, where they add up: sum, do not average.", summed_as_mean(unbroadcast)),
    ),
    estimate=unbroadcast_estimate,
    tolerance="accumulated",
))


def matmul_backward(A, B, upstream):
    return gradients(torch.matmul, A, B, upstream=upstream)


EXERCISES.append(Exercise(
    module="ch8_tensors", name="matmul_backward", reference=matmul_backward,
    inputs=matmuls(),
    examples=((GRID, t([[1.0], [0.0], [-1.0]]), t([[1.0], [2.0]])),
              (t([[1.0, 2.0], [3.0, 4.0]]), t([[0.5, -1.0], [2.0, 1.5]]), t([[1.0, -2.0], [0.5, 3.0]])),
              (t([[2.0]]), t([[3.0]]), t([[-0.5]]))),
    domain="A (n, k) and B (k, m) with n, k, m from 1 to 5, elements in [-5, 5]; upstream (n, m)",
    hint="Write one entry, C[i, j] = Σₚ A[i, p]·B[p, j]: like an hourly wage, A[i, p] is paid at the "
         "rate B[p, j] in every C[i, j] it feeds, so it collects upstream × rate from each of them; "
         "then find the matrix product that does those sums, with dA of A's shape.",
    more="dA = upstream @ B.T and dB = A.T @ upstream.",
    misconceptions=(without_upstream(matmul_backward),),
    estimate=nudges(summed(torch.matmul), 0, 1),
    tolerance="accumulated",
    answer_names=("dA", "dB"),
))


def linear_backward(x, W, b, upstream):
    return gradients(F.linear, x, W, b, upstream=upstream)


EXERCISES.append(Exercise(
    module="ch8_tensors", name="linear_backward", reference=linear_backward,
    inputs=linears(),
    examples=((t([[1.0, 2.0]]), t([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), t([0.0, 0.0, 0.0]), t([[1.0, -1.0, 2.0]])),
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
    tolerance="accumulated",
    answer_names=("dx", "dW", "db"),
))


def tanh_backward(x, upstream):
    return gradients(torch.tanh, x, upstream=upstream)[0]


EXERCISES.append(Exercise(
    module="ch8_tensors", name="tanh_backward", reference=tanh_backward,
    inputs=elementwise(),
    examples=((t([0.0, 1.0]), t([2.0, 3.0])), (t([[-5.0, 0.5], [2.0, -0.25]]), t([[1.5, -2.0], [0.5, 4.0]]))),
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
    tolerance="derivative",
))


def softmax_backward(x, upstream):
    return gradients(softmax, x, upstream=upstream)[0]


EXERCISES.append(Exercise(
    module="ch8_tensors", name="softmax_backward", reference=softmax_backward,
    inputs=softmaxes(),
    examples=((t([0.0, 0.0]), t([1.0, 0.0])), (t([1.0, 2.0, 3.0]), t([0.5, -1.0, 2.0])),
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
    tolerance="derivative",
))


def mse_backward(pred, target):
    return gradients(lambda pred: F.mse_loss(pred, target), pred)[0]


EXERCISES.append(Exercise(
    module="ch8_tensors", name="mse_backward", reference=mse_backward,
    inputs=mse_pairs(),
    examples=((t([1.0, 2.0, 3.0]), t([1.0, 0.0, 0.0])),
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
    tolerance="derivative",
))


def cross_entropy_backward(logits, targets):
    return gradients(lambda logits: F.cross_entropy(logits, targets), logits)[0]


EXERCISES.append(Exercise(
    module="ch8_tensors", name="cross_entropy_backward", reference=cross_entropy_backward,
    inputs=classifications(),
    examples=((t([[0.0, 0.0], [0.0, 0.0]]), ix([0, 1])), (t([[1.0, 2.0, 0.5]]), ix([2])),
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
    tolerance="derivative",
))


def batchnorm_backward(x, gamma, beta, upstream, eps=1e-5):
    return gradients(lambda x, gamma, beta: batchnorm(x, gamma, beta, eps), x, gamma, beta, upstream=upstream)


EXERCISES.append(Exercise(
    module="ch8_tensors", name="batchnorm_backward", reference=batchnorm_backward,
    inputs=batchnorms(),
    examples=((t([[-1.0], [-1.0], [1.0], [1.0]]), t([2.0]), t([0.5]), t([[1.0], [0.0], [0.0], [0.0]])),
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
                      "them, and those paths add to dx.", batchnorm_constant_statistics(batchnorm_backward)),
        Misconception(UNBIASED, batchnorm_unbiased),
        Misconception(UNBIASED, batchnorm_unbiased_in_formula),
        Misconception(EPS_IGNORED,
                      lambda x, gamma, beta, upstream, eps=1e-5: batchnorm_backward(x, gamma, beta, upstream)),
        Misconception("dgamma is the plain sum of upstream; gamma multiplies x̂, so its local "
                      "derivative is x̂: dgamma = Σ upstream·x̂.", batchnorm_dgamma_as_dbeta(batchnorm_backward)),
    ),
    estimate=batchnorm_estimate,
    tolerance="accumulated",
    answer_names=("dx", "dgamma", "dbeta"),
))


def embedding_backward(indices, num_embeddings, upstream):
    return gradients(lambda W: F.embedding(indices, W), table(num_embeddings, upstream), upstream=upstream)[0]


EXERCISES.append(Exercise(
    module="ch8_tensors", name="embedding_backward", reference=embedding_backward,
    inputs=lookups(),
    examples=((ix([0, 2, 0]), 4, t([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])),
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
    tolerance="accumulated",
))


def mlp_backward(x, W1, b1, W2, b2, targets):
    return dict(zip(MLP_KEYS, gradients(lambda *params: mlp_loss(*params, targets), x, W1, b1, W2, b2)))


EXERCISES.append(Exercise(
    module="ch8_tensors", name="mlp_backward", reference=mlp_backward,
    inputs=mlps(),
    examples=((t([[1.0]]), t([[2.0]]), t([0.0]), t([[1.0], [-1.0]]), t([0.0, 0.0]), ix([0])),
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
    tolerance="accumulated",
))

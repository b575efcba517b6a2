"""Chapter 8: tensors.

A network does not move one number at a time: each layer takes whole tensors in and puts whole
tensors out. Backpropagation stays the rule you already know, applied to every element at once:

    gradient of an input = Σ over everything it feeds of (upstream gradient × local derivative)

Three habits make it work on tensors:

- The gradient of a tensor has the shape of that tensor: dW looks like W, db looks like b.
  When your shapes do not line up, the formula is wrong; when they line up by luck (square
  matrices), check a single entry by hand.
- A value that feeds several outputs collects a gradient from each of them, and those add up:
  a bias copied to every row of a batch, a broadcast tensor, a table row looked up twice.
  Sums, not means (unless the forward pass itself took a mean).
- Write one entry of the output as a sum of scalar products, take the chapter 4 derivative of
  one product (the hourly wage), then find the tensor operation that does all the sums at once.

Tensors are torch.float64 (indices torch.int64). Return new float64 tensors of the right
shapes, a tuple when several gradients are asked for, and leave the tensors you are given
unchanged. Use plain tensor operations only (no .backward(), no torch.autograd): autograd is
what the tests compare you with.

Run `pytest tests/test_ch8_tensors.py` to check your answers against torch.autograd.
"""
import torch
from torch import Tensor


def unbroadcast(grad: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum a gradient back down to the shape of a tensor that broadcasting had stretched.

    When torch adds b of shape (3,) to x of shape (2, 3), it quietly uses b once for each row:
    broadcasting. One entry of b then feeds two outputs, so its gradient is the sum of what
    comes back from both. unbroadcast is that backward step: `grad` is the gradient of the
    broadcast result, and the answer is the gradient of the original tensor, of shape `shape`.

    Broadcasting lines the shapes up from the right; it may
      - add dims in front:           (3,)   -> (2, 3)
      - stretch dims of size 1:      (2, 1) -> (2, 3)
      - both:                        (3, 1) -> (2, 3, 4)
      - copy a 0-d tensor everywhere: ()    -> any shape.
    Derive: which entries of grad are copies of the same entry of the original? Add those up,
    and keep each size-1 dim of `shape` as a dim of size 1 in your answer.
    Domain: grad is 0-d to 3-d with sides 1 to 5, elements in [-5, 5]; shape is a tuple of ints
    that broadcasts to grad.shape: fewer dims, 1s where grad is longer, both, or neither (then
    the answer is grad itself), including ().
    Worked numbers: for grad = [[1, 2, 3], [4, 5, 6]], shape (3,) gives [5, 7, 9], shape (2, 1)
    gives [[6], [15]], shape (1, 3) gives [[5, 7, 9]], and shape () gives 21 (a 0-d tensor).
    """
    raise NotImplementedError("ch8_tensors.unbroadcast")


def matmul_backward(A: Tensor, B: Tensor, upstream: Tensor) -> tuple[Tensor, Tensor]:
    """The backward step of a matrix product C = A @ B, for a 2-D A (n, k) and B (k, m).

    Each entry is a sum of products, C[i, j] = Σₚ A[i, p]·B[p, j]. In one product, A[i, p] is
    the hours and B[p, j] the hourly wage: one more hour adds B[p, j] to the pay. A[i, p] is
    paid in every column j of row i of C, so it collects upstream[i, j] × B[p, j] from each.
    Derive: write that sum for dA[i, p], and the matching one for dB[p, j]; then recognise each
    sum as a matrix product of upstream with B or A, one of them transposed. The shapes guide
    you: dA must come out (n, k) like A, dB (k, m) like B.
    Domain: n, k and m from 1 to 5 (often all different, sometimes equal), elements in [-5, 5];
    upstream (n, m) is the gradient of C. Return the tuple (dA, dB).
    Worked number: A = [[1, 2, 3], [4, 5, 6]], B = [[1], [0], [-1]], upstream = [[1], [2]]
    give dA = [[1, 0, -1], [2, 0, -2]] and dB = [[9], [12], [15]].
    """
    raise NotImplementedError("ch8_tensors.matmul_backward")


def linear_backward(x: Tensor, W: Tensor, b: Tensor, upstream: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The backward step of a linear layer y = x @ W.T + b, in torch's layout.

    x (N, in) holds a batch of N samples, one per row. W (out, in) holds one row of weights per
    output, and b (out,) is added to every row of the product: broadcast, as in unbroadcast.
    upstream (N, out) is the gradient of y.
    Derive: x @ W.T is matmul_backward's product with A = x and B = W.T, so that step gives you
    dx and the gradient of W.T; dW must come back in W's own layout, (out, in). b was copied
    into all N rows, so its gradient gathers the N rows of upstream. Every sample of the batch
    adds its share to dW and db: sums over the batch, not means.
    Domain: N, in and out from 1 to 5 (N = 1 included, sizes often all different), elements in
    [-5, 5]. Return the tuple (dx, dW, db), of the shapes of x, W and b.
    Worked number: x = [[1, 2]], W = [[1, 0], [0, 1], [1, 1]], b = [0, 0, 0] and
    upstream = [[1, -1, 2]] give dx = [[3, 1]], dW = [[1, 2], [-1, -2], [2, 4]], db = [1, -1, 2].
    """
    raise NotImplementedError("ch8_tensors.linear_backward")


def tanh_backward(x: Tensor, upstream: Tensor) -> Tensor:
    """The backward step of tanh, elementwise: the gradient w.r.t. x of Σ upstream·tanh(x).

    tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ) squashes any number into (−1, 1); it is a sigmoid
    centred on 0, and a favourite squashing function of older networks.
    Derive: tanh'(x), with the quotient rule (or from tanh(x) = 2σ(2x) − 1 and chapter 6's σ'),
    then write it with tanh(x) itself. Each element of the answer is chapter 6's rule: upstream
    × local slope, at the same position.
    Domain: x any shape (0-d to 3-d, sides 1 to 5), elements in [-5, 5]; upstream of x's shape.
    Worked number: tanh_backward([0.0, 1.0], [2.0, 3.0]) ≈ [2.0, 1.25992]
    (tanh'(0) = 1 and tanh'(1) ≈ 0.419974).
    """
    raise NotImplementedError("ch8_tensors.tanh_backward")


def softmax_backward(x: Tensor, upstream: Tensor) -> Tensor:
    """The backward step of softmax over the last dimension: the gradient w.r.t. x of
    Σ upstream·softmax(x).

    softmax turns a row of scores into probabilities, s_i = e^(x_i) / Σ_j e^(x_j). Unlike tanh
    it is not elementwise: the probabilities of a row always add up to 1, so raising one score
    lowers every other probability of its row. Each input x_j feeds every output s_i of its
    row, and collects upstream_i × ∂s_i/∂x_j from each of them.
    Derive: ∂s_i/∂x_j with the quotient rule, once for i = j and once for i ≠ j; both can be
    written with s alone. Then sum upstream_i·∂s_i/∂x_j over i: it simplifies to a short
    expression in s and upstream. Rows do not talk to each other.
    Compute s stably: subtract each row's largest score before exp (softmax does not change).
    Domain: x is 1-D (C,) or 2-D (N, C), one softmax per row, with C and N from 1 to 5 and
    elements in [-5, 5]; upstream of x's shape.
    Worked number: softmax_backward([0.0, 0.0], [1.0, 0.0]) == [0.25, -0.25]
    (s = [0.5, 0.5]).
    """
    raise NotImplementedError("ch8_tensors.softmax_backward")


def mse_backward(pred: Tensor, target: Tensor) -> Tensor:
    """The gradient of the mean squared error, mean((pred − target)²), with respect to pred.

    There is no upstream argument: the loss is the end of the graph, and its gradient with
    respect to itself is 1.
    Derive: one element's squared error (pred_k − target_k)² has a chapter 3 slope; then ask
    what the mean does to it: it divides by the number of elements, all of them, not rows.
    Domain: pred and target of one shape, 1-D to 3-D with sides 1 to 5, elements in [-5, 5].
    Worked number: mse_backward([1.0, 2.0, 3.0], [1.0, 0.0, 0.0]) == [0.0, 4/3, 2.0].
    """
    raise NotImplementedError("ch8_tensors.mse_backward")


def cross_entropy_backward(logits: Tensor, targets: Tensor) -> Tensor:
    """The gradient of torch.nn.functional.cross_entropy(logits, targets) w.r.t. logits.

    logits (N, C) holds one row of C class scores per sample; targets (N,), int64, the right
    class of each sample. The loss is the mean over the N rows of −ln softmax(row)[target]: how
    surprised the model is by the right answer. Chapter 6's ln makes a confident mistake cost a
    lot.
    Derive: for one row, write −ln s_t as −x_t + ln Σ_j e^(x_j) and take its derivative with
    respect to every x_j (j = t and j ≠ t); the result has softmax in it. Then remember that the
    loss is a mean over the rows.
    Domain: N from 1 to 5, C from 2 to 5, logits in [-5, 5]; targets int64 of shape (N,) with
    entries in [0, C). Return a float64 tensor of logits' shape.
    Worked number: cross_entropy_backward([[0.0, 0.0], [0.0, 0.0]], [0, 1]) ==
    [[-0.25, 0.25], [0.25, -0.25]].
    """
    raise NotImplementedError("ch8_tensors.cross_entropy_backward")


def batchnorm_backward(x: Tensor, gamma: Tensor, beta: Tensor, upstream: Tensor,
                       eps: float = 1e-5) -> tuple[Tensor, Tensor, Tensor]:
    """The backward step of batch normalisation in training mode, over dim 0 of an (N, D) x.

    Each column d (one feature) is normalised with its own batch statistics:
        μ = mean of the column,  σ² = mean of (x − μ)² (biased: divide by N, not N − 1),
        x̂ = (x − μ) / √(σ² + eps),  y = gamma·x̂ + beta.
    That is torch.nn.functional.batch_norm(x, None, None, gamma, beta, training=True, eps=eps).
    The catch: μ and σ² are made from the whole batch, so x[n, d] reaches every y[m, d] of its
    column: directly through x̂[n, d], and through μ and σ². Like a node used several times in
    chapter 5, its gradient adds up all those paths; treating μ and σ² as constants misses them.
    Derive: dbeta and dgamma first (sums over the batch, like db in linear_backward). Then go
    back through the graph one node at a time: x̂ gets upstream·gamma, then σ², then μ, then
    x; or simplify everything into one expression in x̂, upstream and their column sums.
    Domain: N from 2 to 5 (a batch of one row has no spread to normalise, and torch refuses it
    in training mode) and D from 1 to 5, elements in [-5, 5]; gamma and beta (D,); upstream
    (N, D); eps the default 1e-5, or 1e-3, 0.1 or 1 passed in: use the eps you are given.
    Return the tuple (dx, dgamma, dbeta), of the shapes of x, gamma and beta.
    Worked number: x = [[-1.0], [-1.0], [1.0], [1.0]] (μ = 0, σ² = 1), gamma = [2.0],
    beta = [0.5], upstream = [[1.0], [0.0], [0.0], [0.0]] give dx ≈ [[1.0], [-1.0], [0.0], [0.0]],
    dgamma ≈ [-1.0] and dbeta == [1.0] (eps moves the ≈ values by about 1e-5).
    """
    raise NotImplementedError("ch8_tensors.batchnorm_backward")


def embedding_backward(indices: Tensor, num_embeddings: int, upstream: Tensor) -> Tensor:
    """The gradient of a table lookup: dW for out = W[indices].

    An embedding is a table W of shape (num_embeddings, D), one row (a vector of D numbers) per
    token. out = W[indices] copies out one row per index: for indices of shape (N,), out is
    (N, D); for a batch of sequences (B, T), out is (B, T, D). upstream has out's shape.
    Derive: each out[k] is a copy of row indices[k] of W, so its local derivative is 1 for that
    row and 0 for every other. A row looked up twice feeds two outputs, and its gradient is the
    sum of both upstream rows (chapter 5: a node used twice); a row never looked up gets 0.
    Careful: `dW[indices] = upstream`, and even `dW[indices] += upstream`, keep only one of the
    repeated rows; the repeats must add up (a loop, or Tensor.index_add).
    Domain: indices int64, 1-D (1 to 6 lookups) or 2-D (up to 3 × 3), entries in
    [0, num_embeddings), with repeats; num_embeddings from 1 to 5; upstream of shape
    indices.shape + (D,) with D from 1 to 5, elements in [-5, 5].
    Return a float64 tensor of shape (num_embeddings, D).
    Worked number: indices = [0, 2, 0], num_embeddings = 4, upstream = [[1, 2], [3, 4], [5, 6]]
    give dW = [[6, 8], [0, 0], [3, 4], [0, 0]].
    """
    raise NotImplementedError("ch8_tensors.embedding_backward")


def mlp_backward(x: Tensor, W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor,
                 targets: Tensor) -> dict[str, Tensor]:
    """Backpropagation through a whole two-layer network, by hand.

    The network, for a batch x (N, in) and targets (N,) int64:
        h = x @ W1.T + b1         (N, hidden)
        a = relu(h)               (N, hidden)
        logits = a @ W2.T + b2    (N, C)
        loss = torch.nn.functional.cross_entropy(logits, targets)    (the mean over N)
    Return the gradient of loss with respect to every tensor that goes in, as a dict with the
    keys "x", "W1", "b1", "W2", "b2", each of its tensor's shape.
    Derive: run the forward pass and keep h, a and logits. Then go backwards one machine at a
    time, each step's answer becoming the next step's upstream: cross-entropy, the second
    linear layer, relu, the first linear layer. Your own functions of this chapter do most of
    the work; call them. relu passes the gradient where h > 0 and blocks it elsewhere,
    including at exactly h = 0 (chapter 6, as torch).
    Domain: N, in and hidden from 1 to 4, C from 2 to 4; x in [-2, 2]; weights and biases in
    [-1, 1]; targets int64 (N,) with entries in [0, C).
    Worked number: x = [[1.0]], W1 = [[2.0]], b1 = [0.0], W2 = [[1.0], [-1.0]], b2 = [0.0, 0.0],
    targets = [0] give logits [[2, -2]] and the gradients x ≈ [[-0.07194]], W1 ≈ [[-0.03597]],
    b1 ≈ [-0.03597], W2 ≈ [[-0.03597], [0.03597]], b2 ≈ [-0.01799, 0.01799].
    """
    raise NotImplementedError("ch8_tensors.mlp_backward")

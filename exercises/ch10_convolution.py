"""Chapter 10: convolution.

A convolution layer is one small machine (a few weights, a kernel) used again and again: it
slides over the input and, at every position, multiplies the patch under it by its weights
and adds them up. Nothing new happens in the backward pass; what is new is how often the same
numbers are used:

- Every weight of the kernel worked at every position. Its sensitivity follows the sum rule
  (chapter 7's +=: a value used several times collects a share from every use): the
  contributions of all the positions, and of all the samples of the batch, add up. The same
  for the bias, which was added to every output of its filter.
- Every input value sat under the kernel in several positions, meeting a different weight each
  time. Its gradient collects upstream × that weight from each of those windows, and adds them.
- Pooling has no weights: it routes. Max pooling hands each window's gradient to the one value
  that won; average pooling shares it out evenly.

Write one output as a sum of products, take the hourly-wage derivative of one product, and ask
"where else was this number used?". The shapes help: dw looks like w, dx looks like x.

Layouts are torch's: images (N, C, H, W) (samples, channels, rows, columns), weights
(F, C, KH, KW), one filter per output channel. torch's conv is a cross-correlation: the kernel
is used as it is, not flipped. Stride and padding are ints. Windows that would run past the
edge are not taken (torch's floor mode), so rows and columns that no window reaches get a zero
gradient. Padding may be wider than the kernel.

Tensors are torch.float64 (targets torch.int64). Return new float64 tensors of the right
shapes, a tuple or a dict as each exercise says, and leave the tensors you are given unchanged.
Use plain tensor operations only (no .backward(), no torch.autograd): autograd is what the tests
compare you with. Loops are fine: the sizes are small.

Run `pytest tests/test_ch10_convolution.py` to check your answers against torch.autograd.
"""
import torch
from torch import Tensor


def conv1d_backward(x: Tensor, w: Tensor, b: Tensor, upstream: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The backward step of torch.nn.functional.conv1d(x, w, b): stride 1, no padding.

    x (N, C, L) holds N signals of C channels and length L; w (F, C, K) holds F filters, each a
    small machine of C·K weights; b (F,) one bias per filter. The output y (N, F, L - K + 1) is,
    at every position i,
        y[n, f, i] = b[f] + Σ over c and k of x[n, c, i + k]·w[f, c, k].
    upstream (N, F, L - K + 1) is the gradient of y.
    Derive: in one product x[n, c, i + k]·w[f, c, k], the weight's slope is the input it read
    and the input's slope is the weight. Then the sum rule: w[f, c, k] was used at every i of
    every sample, and x[n, c, j] at every position i with i + k = j (one per k that fits). b[f]
    was added to every output of filter f.
    Domain: N, C and F from 1 to 3, K from 1 to 4, L from K to 7 (K = L: a single position),
    elements in [-5, 5]. Return the tuple (dx, dw, db), of the shapes of x, w and b.
    Worked number: x = [[[1, 2, 3, 4]]], w = [[[1, -1]]], b = [0.5] make y[i] = x[i] - x[i+1]
    + 0.5. With upstream = [[[1, 2, 3]]]: dw[0] = 1·1 + 2·2 + 3·3 = 14, dw[1] = 1·2 + 2·3 + 3·4
    = 20; x[1] sat under w[1] at i = 0 and under w[0] at i = 1, so dx[1] = 1·(-1) + 2·1 = 1;
    altogether dx = [[[1, 1, 1, -3]]], dw = [[[14, 20]]], db = [6].
    """
    raise NotImplementedError("ch10_convolution.conv1d_backward")


def conv2d_backward(x: Tensor, w: Tensor, b: Tensor, upstream: Tensor, stride: int = 1,
                    padding: int = 0) -> tuple[Tensor, Tensor, Tensor]:
    """The backward step of torch.nn.functional.conv2d(x, w, b, stride=stride, padding=padding).

    x (N, C, H, W), w (F, C, KH, KW), b (F,). First x gets `padding` rows and columns of zeros on
    every side; then the kernel visits the padded image at (i·stride, j·stride) for every output
    (i, j):
        y[n, f, i, j] = b[f] + Σ over c, a, b' of xp[n, c, i·stride + a, j·stride + b']·w[f, c, a, b'].
    The output has Ho = (H + 2·padding - KH) // stride + 1 rows (and Wo columns alike): a window
    that would run past the edge is not taken, so with a stride the last rows or columns may be
    read by no window at all, and their gradient is 0. upstream (N, F, Ho, Wo) is y's gradient.
    Derive: as in conv1d_backward, with two spatial offsets and the stride. Each output's patch
    sends upstream × w back to the pixels it read, and upstream × those pixels to w; overlapping
    patches add up. Work on the padded image, and cut the padding off dx at the end: the padded
    zeros are not inputs, and their gradients are thrown away.
    Domain: N 1 or 2, C and F from 1 to 3, KH and KW from 1 to 3 (often not square), H up to 6
    and W up to 7 (with H + 2·padding ≥ KH, W + 2·padding ≥ KW), elements in [-5, 5]; stride 1 or
    2, padding 0 to 2 (so padding can be wider than the kernel), or both left at their defaults.
    Return the tuple (dx, dw, db), of the shapes of x, w and b.
    Worked number: x = [[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]], w = [[[[1, 0], [0, -1]]]], b = [0],
    upstream = [[[[1, 2], [3, 4]]]], stride 1, no padding. dw[0, 0, 0, 0] collects
    upstream × the top-left pixel of each window: 1·1 + 2·2 + 3·4 + 4·5 = 37; x[1, 1] (the 5) is
    in all four windows, under w[1, 1] = -1 for the first, w[1, 0] = 0, w[0, 1] = 0 and w[0, 0] = 1
    for the last: dx[1, 1] = 1·(-1) + 4·1 = 3. Altogether dw = [[[[37, 47], [67, 77]]]], db = [10],
    dx = [[[[1, 2, 0], [3, 3, -2], [0, -3, -4]]]].
    """
    raise NotImplementedError("ch10_convolution.conv2d_backward")


def max_pool2d_backward(x: Tensor, upstream: Tensor, kernel_size: int, stride: int) -> Tensor:
    """The backward step of torch.nn.functional.max_pool2d(x, kernel_size, stride), no padding.

    Max pooling keeps the largest value of each kernel_size × kernel_size window, the windows
    starting at (i·stride, j·stride) of every channel of every sample. It is a switch: only the
    winner's nudge moves the output (by the same amount, slope 1); the losers' nudges move
    nothing (slope 0). upstream (N, C, Ho, Wo) is the gradient of the pooled output, with
    Ho = (H - kernel_size) // stride + 1 and Wo alike.
    Derive: where does each upstream value go? When the stride is smaller than the window, the
    windows overlap, and one value can win several of them: it then collects from each (sum
    rule). When the stride is larger, some values sit in no window at all.
    Domain: x (N, C, H, W) with N and C 1 or 2, H from kernel_size to 6 and W to 7; no two values
    of x are equal, so every window has a single winner. (kernel_size, stride) is one of (2, 1),
    (3, 1), (3, 2) (overlapping), (2, 2), (3, 3), (1, 1) (tiling), (2, 3), (1, 2) (gaps).
    Return dx, of x's shape.
    Worked number: x = [[[[1, 5, 2, 0], [3, 4, 8, 6]]]], kernel_size 2, stride 2: the windows'
    winners are 5 and 8, so upstream = [[[[10, 20]]]] gives dx = [[[[0, 10, 0, 0], [0, 0, 20, 0]]]].
    With x = [[[[1, 6, 2], [3, 4, 5]]]], kernel_size 2 and stride 1, the 6 wins both windows:
    upstream = [[[[4, 8]]]] gives dx = [[[[0, 12, 0], [0, 0, 0]]]].
    """
    raise NotImplementedError("ch10_convolution.max_pool2d_backward")


def avg_pool2d_backward(x: Tensor, upstream: Tensor, kernel_size: int, stride: int) -> Tensor:
    """The backward step of torch.nn.functional.avg_pool2d(x, kernel_size, stride), no padding.

    Average pooling replaces each kernel_size × kernel_size window (starting at (i·stride,
    j·stride)) by its mean: a machine that multiplies each of its k·k inputs by 1/(k·k) and adds
    them up. upstream (N, C, Ho, Wo) is the gradient of the pooled output.
    Derive: each value's slope in one window's mean; then the sum rule for a value that sits in
    several windows (stride < kernel_size), and nothing for one that sits in none.
    Domain: x (N, C, H, W) with N and C 1 or 2, H from kernel_size to 6 and W to 7, elements in
    [-5, 5]; (kernel_size, stride) as in max_pool2d_backward. Return dx, of x's shape. (x's
    values do not matter here, only its shape.)
    Worked number: one 2 × 2 window with upstream [[[[8]]]] gives every value 8 / 4 = 2. With
    x of shape (1, 1, 2, 3), kernel_size 2, stride 1 and upstream = [[[[4, 8]]]], the middle
    column is in both windows: dx = [[[[1, 3, 2], [1, 3, 2]]]].
    """
    raise NotImplementedError("ch10_convolution.avg_pool2d_backward")


def batchnorm2d_backward(x: Tensor, gamma: Tensor, beta: Tensor, upstream: Tensor,
                         eps: float = 1e-5) -> tuple[Tensor, Tensor, Tensor]:
    """The backward step of spatial batch norm in training mode, on an image batch x (N, C, H, W).

    Each channel c is normalised with one mean and one (biased) variance, taken over the batch
    and every position, dims 0, 2 and 3: M = N·H·W values,
        x̂ = (x - μ_c) / √(σ²_c + eps),   y = gamma[c]·x̂ + beta[c].
    It is chapter 8's batchnorm_backward in which each channel is one column and every (sample,
    row, column) is one row of the batch. upstream (N, C, H, W) is y's gradient.
    Derive: either reshape x into that (M, C) batch and reuse chapter 8, or redo chapter 8's
    derivation with sums over dims 0, 2 and 3. μ_c and σ²_c are made of every value of the
    channel, so each value reaches every output of its channel through them as well.
    Domain: N 1 to 3, C 1 to 3, H and W 1 to 4, with N·H·W ≥ 2 (so N = 1 happens: the
    statistics still run over the positions); elements in [-5, 5]; gamma, beta (C,); eps the
    default or one of 1e-5, 1e-3, 0.1, 1. Return the tuple (dx, dgamma, dbeta), of the shapes
    of x, gamma and beta.
    Worked number: x = [[[[-1, -1], [1, 1]]]] (μ = 0, σ² = 1, so x̂ ≈ x), gamma = [2],
    beta = [0.5], upstream = [[[[1, 0], [0, 0]]]]: dbeta = [1], dgamma ≈ [-1], and
    dx ≈ [[[[1, -1], [0, 0]]]] (with eps = 1e-5: 1.0, -0.99999 and -0.000005 twice; dgamma
    -0.999995).
    """
    raise NotImplementedError("ch10_convolution.batchnorm2d_backward")


def cnn_backward(x: Tensor, w_conv: Tensor, b_conv: Tensor, w_fc: Tensor, b_fc: Tensor,
                 targets: Tensor) -> dict[str, Tensor]:
    """The gradients of a small convolutional network's loss, by hand:

        z = conv2d(x, w_conv, b_conv, padding=1)        (N, F, H, W): 3 × 3 kernels
        a = relu(z)
        p = max_pool2d(a, 2, 2)                          (N, F, H/2, W/2)
        logits = torch.flatten(p, 1) @ w_fc.T + b_fc    (N, classes)
        loss = cross_entropy(logits, targets)            the mean over the N samples

    Derive: nothing new; chain the steps you have, backwards, one machine at a time
    (chapter 8's cross-entropy and linear layer, then your max pooling, relu, conv2d).
    torch.flatten(p, 1) lists each sample's p in row-major order (filter, row, column): undo it
    with a reshape. Two places need care, where torch decides a tie:
      - relu's input exactly 0: torch's slope there is 0 (the gradient passes where z > 0);
      - a pooling window whose largest value appears more than once (an input of zeros makes
        all four equal): torch gives the window's gradient to the first of them in row-major
        order (top-left first), and 0 to the others.
    Domain: x (N, C, H, W) with N 1 or 2, C 1 or 2, H and W in {2, 4, 6}, uniform in [-2, 2];
    w_conv (F, C, 3, 3), F 1 to 3, uniform in [-1, 1]; b_conv (F,); w_fc (classes,
    F·(H/2)·(W/2)) with 2 or 3 classes; b_fc (classes,); targets int64 (N,). The worked examples
    add inputs of zeros, where the ties above happen. Return a dict with the keys "x", "w_conv",
    "b_conv", "w_fc", "b_fc".
    Worked number: x = [[[[1, 2], [3, 4]]]], w_conv the identity kernel (1 in the middle, 0
    elsewhere), b_conv = [0], w_fc = [[0.25], [-0.25]], b_fc = [0, 0], targets = [0]. Then
    z = a = x, p = 4 (the bottom-right value), logits = [1, -1], and dlogits = [σ(2) - 1,
    1 - σ(2)] ≈ [-0.1192, 0.1192]: w_fc ≈ [[-0.4768], [0.4768]], b_fc ≈ [-0.1192, 0.1192].
    dp = 0.25·(-0.1192) - 0.25·0.1192 ≈ -0.0596 goes to the 4 only, so dx ≈ [[[[0, 0], [0,
    -0.0596]]]], b_conv ≈ [-0.0596], and w_conv ≈ -0.0596 × the padded patch the bottom-right
    output read, [[1, 2, 0], [3, 4, 0], [0, 0, 0]].
    """
    raise NotImplementedError("ch10_convolution.cnn_backward")

"""Chapter 12: attention.

This chapter builds the backward pass of a transformer block, the machine a GPT stacks, from
parts you already own. Nothing in it is a new rule: it is chapter 8's machines, arranged in a
new way, and the same two facts carry you through every exercise:

- the chain rule: going back through a machine multiplies the upstream gradient by that
  machine's local sensitivity (upstream × local);
- the sum rule: a value that feeds several machines collects a gradient from each of them,
  and the contributions add up.

The parts:

- layer norm is chapter 8's batch norm turned sideways: every row (one position of one
  sequence) is normalised over its own features, the last dim, instead of every column over
  the batch;
- GELU is a smooth ReLU, x·Φ(x), in an exact form and a tanh form;
- dropout multiplies by a fixed mask and a constant;
- attention is chapter 8's softmax between two matmuls: the scores q @ kᵀ/√d, a softmax over
  each row of scores, then a weighted sum of the values;
- a block wires them together with two residual paths, h = x + attention(…) and
  y = h + mlp(…): x reaches the output straight through and through the layer, and the sum
  rule adds the two.

Tensors are torch.float64 (masks torch.bool). Return new float64 tensors of the right shapes,
a tuple or a dict when several gradients are asked for, and leave the tensors you are given
unchanged. Use plain tensor operations only (no .backward(), no torch.autograd): autograd is
what the tests compare you with. You may import your own earlier chapters, e.g.
`from ch8_tensors import softmax_backward`, and within this file each function may call the
ones before it: block_backward is easiest built from your other five.

Run `pytest tests/test_ch12_attention.py` to check your answers against torch.autograd; the
report (report.html) draws your attention gradients beside torch's as heat maps.
"""
import math

import torch
from torch import Tensor


def layernorm_backward(x: Tensor, gamma: Tensor, beta: Tensor, upstream: Tensor,
                       eps: float = 1e-5) -> tuple[Tensor, Tensor, Tensor]:
    """The backward step of layer normalisation over the last dimension of x.

    Chapter 8's batch norm normalised each column (one feature) over the batch. Layer norm
    turns that sideways: each row (every index of the leading dims: one position of one
    sequence) is normalised over its own D features, so it does not depend on the rest of the
    batch at all. For every row,
        μ = mean of the row,  σ² = mean of (x − μ)² (biased: divide by D),
        x̂ = (x − μ) / √(σ² + eps),  y = gamma·x̂ + beta,
    that is torch.nn.functional.layer_norm(x, (D,), gamma, beta, eps).
    As in batch norm, μ and σ² are made from x, so each x of a row reaches every output of its
    row, directly and through μ and σ²; those paths add up. gamma and beta are shared by every
    row, so their gradients add up over all the rows (all the leading dims).
    Derive: dbeta and dgamma first; then dx, either back through the graph one node at a time
    (x̂, σ², μ) or as one expression in x̂, upstream·gamma and their row means. It is chapter
    8's formula with the sums taken along dim -1 instead of dim 0.
    Domain: x with 1 to 3 dims (sides 1 to 5), D = x.shape[-1] from 2 to 5 (over a single
    feature x̂ is 0 and y is beta whatever x is), elements in [-5, 5], rows of equal values
    among them; gamma and beta (D,); upstream of x's shape; eps the default 1e-5, or 1e-3,
    0.1 or 1 passed in: use the eps you are given.
    Return the tuple (dx, dgamma, dbeta), of the shapes of x, gamma and beta.
    Worked number (chapter 8's, turned sideways): x = [[-1.0, -1.0, 1.0, 1.0]] (μ = 0, σ² = 1),
    gamma = [2.0, 2.0, 2.0, 2.0], beta = [0.5, 0.5, 0.5, 0.5], upstream = [[1.0, 0.0, 0.0, 0.0]]
    give dx ≈ [[1.0, -1.0, 0.0, 0.0]], dgamma == [-1.0, 0.0, 0.0, 0.0] and
    dbeta == [1.0, 0.0, 0.0, 0.0] (eps moves the ≈ values by about 1e-5).
    """
    raise NotImplementedError("ch12_attention.layernorm_backward")


def gelu_backward(x: Tensor, upstream: Tensor, approximate: str = "none") -> Tensor:
    """The backward step of GELU, elementwise, as torch.nn.functional.gelu(x, approximate=approximate).

    GELU lets x through in proportion to how likely a standard normal value is to be below it:
        "none" (exact):  gelu(x) = x·Φ(x),  Φ(x) = 0.5·(1 + erf(x/√2)), the normal CDF;
        "tanh":          gelu(x) = 0.5·x·(1 + tanh(u)),  u = √(2/π)·(x + 0.044715·x³),
    the tanh form being a cheaper curve that stays within about 0.0005 of the exact one. Both
    are a product, x times a smooth step, so the product rule gives two terms: the step itself,
    and x times the step's slope. For the exact form the step's slope is the normal density
    φ(x) = e^(−x²/2)/√(2π); for the tanh form it takes the chain rule through tanh and the cubic.
    Differentiate the form you are asked for, all of it: the two forms' slopes differ by up to
    about 0.0009, far more than the tests allow.
    Domain: x any shape (0-d to 3-d, sides 1 to 5), elements in [-5, 5]; upstream of x's shape;
    approximate the default "none", or "none" or "tanh" passed in.
    Return a float64 tensor of x's shape.
    Worked number: x = [0.0, 1.0], upstream = [2.0, 1.0] give ≈ [1.0, 1.0833] for "none"
    (Φ(0) = 0.5 and 0·φ(0) = 0; Φ(1) + φ(1) ≈ 0.8413 + 0.2420) and ≈ [1.0, 1.0830] for "tanh".
    """
    raise NotImplementedError("ch12_attention.gelu_backward")


def dropout_backward(mask: Tensor, p: float, upstream: Tensor) -> Tensor:
    """The backward step of training-mode (inverted) dropout, with its keep mask given.

    In training, dropout zeroes each element with probability p and scales the survivors by
    1/(1 − p), so that the expected output equals x and nothing changes at test time:
        y = x·mask/(1 − p),  mask True where x is kept.
    Here the mask is given (the forward pass drew it). As a machine, y is x times a constant
    that differs from element to element: derive its local derivative.
    Domain: mask torch.bool of 1 to 3 dims (sides 1 to 5, True = kept); p one of 0 (then the
    mask is all True), 0.1, 0.25, 0.5, 0.8; upstream of the mask's shape.
    Return a float64 tensor of the mask's shape: the gradient with respect to x.
    Worked number: mask = [True, False, True], p = 0.5, upstream = [1.0, 2.0, 3.0] give
    [2.0, 0.0, 6.0].
    """
    raise NotImplementedError("ch12_attention.dropout_backward")


def attention_backward(q: Tensor, k: Tensor, v: Tensor, upstream: Tensor,
                       causal: bool) -> tuple[Tensor, Tensor, Tensor]:
    """The backward step of scaled dot-product attention: (dq, dk, dv).

    Each query row i asks every key row j how well it matches, mixes the values by those
    matches, and returns the mix:
        scores = q @ kᵀ / √d + M,  weights = softmax(scores) over the last dim,  out = weights @ v,
    with kᵀ = k.transpose(-2, -1) and d = q.shape[-1]. M is 0, or with causal=True (then
    Tq = Tk) −∞ where key j comes after query i (j > i), so that a position never looks ahead:
    those weights are exactly 0. The 1/√d keeps the scores from growing with d.
    This is chapter 8 put together: a matmul (q with kᵀ), a constant factor, a softmax over
    each row (your softmax_backward), and another matmul (weights with v). Go back through
    them in reverse: dv and the weights' gradient from the last matmul, the scores' gradient
    from the softmax, dq and dk from the first matmul and the scale. You need the weights
    again in the backward pass: recompute them, mask included; a masked weight is 0, and then
    no gradient flows through it. Leading dims (a batch, heads) just come along: @ works on
    the last two dims, so transpose those only.
    Domain: q (…, Tq, d), k and v (…, Tk, d) with the same leading dims: none, one or two
    (sides 1 to 3); Tq and Tk from 1 to 5, mostly different when causal is False, equal when it
    is True; d from 1 to 4; q, k uniform in [-2, 2], v in [-3, 3], and in a quarter of the
    draws all keys (or all queries) equal; upstream (…, Tq, d).
    Return the tuple (dq, dk, dv), of the shapes of q, k and v.
    Worked number: q = [[1.0]], k = [[0.0], [0.0]], v = [[1.0], [3.0]], upstream = [[1.0]],
    causal False: both scores are 0, the weights [0.5, 0.5], out = 2; dv == [[0.5], [0.5]];
    the weights' gradient is v's values [1, 3], the scores' 0.5·([1, 3] − 2) = [-0.5, 0.5];
    dq == [[0.0]] (k is 0) and dk == [[-0.5], [0.5]].
    """
    raise NotImplementedError("ch12_attention.attention_backward")


def self_attention_backward(x: Tensor, w_qkv: Tensor, b_qkv: Tensor, w_out: Tensor, b_out: Tensor,
                            n_heads: int, upstream: Tensor) -> dict[str, Tensor]:
    """The backward step of causal multi-head self-attention of x (B, T, C).

    Forward, as a GPT computes it:
        q, k, v = (x @ w_qkv.T + b_qkv).split(C, dim=-1)   three C-wide parts, in that order;
        each cut into n_heads heads of width hd = C / n_heads, head h taking columns
        h·hd … (h+1)·hd − 1:  t.view(B, T, n_heads, hd).transpose(1, 2) → (B, n_heads, T, hd);
        a_h = causal attention of every head at once, scaled by 1/√hd (your attention_backward's
        forward, with d = hd);
        a = the heads put back side by side: a_h.transpose(1, 2).reshape(B, T, C);
        y = a @ w_out.T + b_out.
    Backward: the output linear layer (chapter 8's, over B·T rows), the join of the heads,
    whose backward is the split, attention_backward on every head at once, the split, whose
    backward is the join, then the qkv linear layer: its upstream is dq, dk and dv joined and
    laid side by side in the order q, k, v. A weight is used at every (b, t), so its gradient
    adds up over both.
    Domain: x (B, T, C) with B 1 or 2, T 1 to 4, C = n_heads·hd with n_heads 1 to 3 (several in
    most draws) and hd 1 to 3; x uniform in [-2, 2], w_qkv (3C, C), b_qkv (3C,), w_out (C, C),
    b_out (C,) uniform in [-1, 1]; upstream (B, T, C).
    Return a dict with keys "x", "w_qkv", "b_qkv", "w_out", "b_out", each of its tensor's shape.
    Worked number: with T = 1 a position can only look at itself, its weight is 1 and a = v:
    x = [[[2.0]]], w_qkv = [[1.0], [1.0], [3.0]], b_qkv = [0.0, 0.0, 0.5], w_out = [[2.0]],
    b_out = [0.0], n_heads = 1, upstream = [[[1.0]]] (v = 6.5, y = 13) give x == [[[6.0]]],
    w_qkv == [[0.0], [0.0], [4.0]], b_qkv == [0.0, 0.0, 2.0], w_out == [[6.5]], b_out == [1.0]:
    q and k get nothing, since a single weight of 1 does not move with its score.
    """
    raise NotImplementedError("ch12_attention.self_attention_backward")


def block_backward(x: Tensor, params: dict[str, Tensor], n_heads: int, upstream: Tensor) -> dict[str, Tensor]:
    """The backward pass of a pre-norm transformer block, as in GPT-2.

        h = x + self_attention(layer_norm(x; ln1_w, ln1_b))        (your self_attention_backward's)
        y = h + gelu(layer_norm(h; ln2_w, ln2_b) @ w_fc.T + b_fc) @ w_proj.T + b_proj
    with the exact GELU, eps = 1e-5 in both layer norms, and a hidden width of w_fc's number of
    rows (GPT-2 uses 4·C; here it varies). params has the keys ln1_w, ln1_b, w_qkv, b_qkv,
    w_out, b_out, ln2_w, ln2_b, w_fc, b_fc, w_proj, b_proj.
    The residual paths are the sum rule at work. y = h + mlp(h) uses h twice, straight
    through and through the MLP, so dh = upstream + what comes back through the MLP; and
    h = x + attention(x) uses x twice, so dx = dh + what comes back through the attention.
    That straight path is why deep stacks of blocks train at all: every block passes the
    upstream gradient down untouched, beside whatever its layers add.
    Derive: nothing new; chain your own backward steps from the output back to x: the MLP's
    linear layers and GELU, layer norm 2, the residual sum, self-attention, layer norm 1, the
    residual sum; collect every weight's gradient on the way.
    Domain: x (B, T, C) with B 1 or 2, T 1 to 4, C = n_heads·hd with n_heads 1 to 3 (several in
    most draws) and hd 1 to 3, hidden width 1 to 8; x uniform in [-2, 2], ln1_w and ln2_w in
    [0.5, 1.5], the other weights in [-1, 1], biases in [-0.5, 0.5]; upstream (B, T, C).
    Return a dict with the key "x" and every key of params, each of its tensor's shape.
    Worked number: with C = 1, layer norm over one feature outputs its beta whatever x is
    (x̂ = 0), so no gradient reaches x through either layer: only the two residual paths are
    left, and dx == upstream, while ln1_w and ln2_w get ≈ 0 (x̂ = 0). Any params of width 1
    show it.
    """
    raise NotImplementedError("ch12_attention.block_backward")

"""Chapter 12's exercises: each torch reference, followed by its declaration.

The references are torch.autograd on the contract's torch expressions
(kit/chapters/ch12_attention/expressions.py, torch.nn.functional), in float64.
"""
import torch

from kit.chapters.ch12_attention import mistakes as m
from kit.chapters.ch12_attention.estimates import (
    attention_estimate,
    dropout_estimate,
    gelu_estimate,
    layernorm_estimate,
)
from kit.chapters.ch12_attention.expressions import (
    BLOCK_KEYS,
    attention,
    block,
    dropout,
    gelu,
    layer_norm,
    self_attention,
)
from kit.chapters.ch12_attention.inputs import (
    attention_example,
    attentions,
    block_example,
    blocks,
    bools,
    dropouts,
    gelus,
    layernorms,
    self_attention_example,
    self_attentions,
)
from kit.chapters.ch12_attention.pictures import attention_picture, self_attention_picture
from kit.diagnosis import Misconception, sign_flipped, without_upstream
from kit.exercise import Exercise
from kit.messages.diagnosis import EPS_IGNORED
from kit.reference import gradients
from kit.strategies import t

EXERCISES: list[Exercise] = []

UNBIASED = ("You used the unbiased variance (÷ (D − 1), torch.var's default); layer norm divides by D: "
            "x.var(dim=-1, unbiased=False, keepdim=True).")


def layernorm_backward(x, gamma, beta, upstream, eps=1e-5):
    return gradients(lambda x, gamma, beta: layer_norm(x, gamma, beta, eps), x, gamma, beta, upstream=upstream)


EXERCISES.append(Exercise(
    module="ch12_attention", name="layernorm_backward", reference=layernorm_backward,
    inputs=layernorms(),
    examples=((t([[-1.0, -1.0, 1.0, 1.0]]), t([2.0, 2.0, 2.0, 2.0]), t([0.5, 0.5, 0.5, 0.5]),
               t([[1.0, 0.0, 0.0, 0.0]])),
              (t([1.0, 2.0, 4.0]), t([1.0, -2.0, 0.5]), t([0.0, 1.0, 2.0]), t([1.0, -1.0, 2.0])),
              (t([[1.0, 2.0, 3.0], [2.0, 0.0, -1.0], [4.0, 1.0, 0.5]]), t([1.0, -2.0, 0.5]), t([0.0, 1.0, 2.0]),
               t([[1.0, -1.0, 2.0], [0.5, 3.0, -2.0], [-1.5, 0.0, 1.0]])),
              (t([[3.0, 3.0, 3.0], [1.0, 2.0, 4.0]]), t([1.5, 1.0, -1.0]), t([0.0, 0.0, 0.0]),
               t([[1.0, 2.0, -1.0], [0.5, -2.0, 1.0]]), 0.1),
              (t([[[1.0, -2.0, 0.5, 3.0], [2.0, 0.0, -1.0, 1.5]], [[0.5, 4.0, -2.0, 1.0], [-1.0, 2.0, 3.0, -4.0]]]),
               t([1.0, 0.5, -1.0, 2.0]), t([0.1, 0.2, 0.3, 0.4]),
               t([[[1.0, 0.0, -1.0, 2.0], [0.5, 0.5, -2.0, 1.0]], [[-1.0, 3.0, 0.0, 1.0], [2.0, -0.5, 1.5, -1.0]]]))),
    domain="x with 1 to 3 dims (sides 1 to 5), normalised over its last dim (D from 1 to 5), elements "
           "in [-5, 5], rows of equal values among them; gamma, beta (D,); upstream of x's shape; eps the "
           "default 1e-5 or one of 1e-5, 1e-3, 0.1, 1",
    hint="Chapter 8's batch norm turned sideways: each row is normalised with its own mean and "
         "variance, so every x of a row reaches every output of that row, through μ and σ² as well as "
         "directly; and gamma and beta are used at every row, so their gradients add up over all of them.",
    more="x̂ = (x − μ)/√(σ² + eps) over dim -1; dbeta and dgamma sum upstream and upstream·x̂ over every "
         "dim but the last; with g = upstream·gamma: dx = (g − mean(g) − x̂·mean(g·x̂)) / √(σ² + eps), "
         "the means over dim -1 with keepdim=True.",
    misconceptions=(
        Misconception("You normalised down dim 0, as batch norm does; layer norm normalises each row over "
                      "its own features, the last dim (mean(dim=-1, keepdim=True)).", m.layernorm_over_dim0),
        Misconception("You treated the row's mean and variance as constants (dx = upstream·gamma / "
                      "√(σ² + eps)); they are computed from the row's x, so every x also moves the output "
                      "through them, and those paths add to dx.", m.layernorm_constant_statistics(layernorm_backward)),
        Misconception(UNBIASED, m.layernorm_unbiased),
        Misconception(EPS_IGNORED,
                      lambda x, gamma, beta, upstream, eps=1e-5: layernorm_backward(x, gamma, beta, upstream)),
        Misconception("dgamma is the plain sum of upstream; gamma multiplies x̂, so its local derivative "
                      "is x̂: dgamma = Σ upstream·x̂.", m.layernorm_dgamma_as_dbeta(layernorm_backward)),
        without_upstream(layernorm_backward),
    ),
    estimate=layernorm_estimate,
    tolerance="accumulated",
    answer_names=("dx", "dgamma", "dbeta"),
))


def gelu_backward(x, upstream, approximate="none"):
    return gradients(lambda x: gelu(x, approximate), x, upstream=upstream)[0]


EXERCISES.append(Exercise(
    module="ch12_attention", name="gelu_backward", reference=gelu_backward,
    inputs=gelus(),
    examples=((t([0.0, 1.0]), t([2.0, 1.0])), (t([0.0, 1.0]), t([2.0, 1.0]), "tanh"),
              (t([[-3.0, -0.5], [2.0, 4.5]]), t([[1.5, -2.0], [0.5, 3.0]]), "none"),
              (t(-1.5), t(2.0), "tanh"), (t([-5.0, -1.0, 0.25, 3.0]), t([1.0, -1.0, 2.0, 0.5]), "tanh")),
    domain="x any shape (0-d to 3-d, sides 1 to 5), elements in [-5, 5]; upstream of x's shape; "
           "approximate the default \"none\", or \"none\" or \"tanh\" passed in",
    hint="GELU is a product, x times Φ(x): the product rule gives two terms, and the second one "
         "needs the slope of Φ (the normal density) or, for \"tanh\", the chain rule through tanh.",
    more="\"none\": upstream·(Φ(x) + x·φ(x)) with Φ(x) = 0.5·(1 + erf(x/√2)) and φ(x) = e^(−x²/2)/√(2π); "
         "\"tanh\": with u = √(2/π)·(x + 0.044715·x³), upstream·(0.5·(1 + tanh u) + 0.5·x·(1 − tanh²u)·"
         "√(2/π)·(1 + 3·0.044715·x²)).",
    misconceptions=(
        Misconception("The x·φ(x) term is missing: GELU is x·Φ(x), a product, so its slope is Φ(x) + "
                      "x·Φ'(x) (for \"tanh\", 0.5·(1 + tanh u) plus x times that factor's own slope).",
                      m.gelu_without_x_pdf),
        Misconception("You used the exact (erf) form whatever approximate says; for approximate=\"tanh\" "
                      "differentiate the tanh formula instead.", m.gelu_always("none")),
        Misconception("You used the tanh formula whatever approximate says; the default \"none\" is the "
                      "exact x·Φ(x), with Φ from erf.", m.gelu_always("tanh")),
        *(Misconception("You mixed the two forms: one term of your tanh slope comes from the exact "
                        "x·Φ(x) and the other from the tanh formula; differentiate one formula all the way.",
                        m.gelu_mixed(tanh_part)) for tanh_part in ("cdf", "density")),
        without_upstream(gelu_backward),
    ),
    estimate=gelu_estimate,
    tolerance="derivative",
))


def dropout_backward(mask, p, upstream):
    return gradients(lambda x: dropout(x, mask, p), torch.zeros(mask.shape, dtype=torch.float64), upstream=upstream)[0]


EXERCISES.append(Exercise(
    module="ch12_attention", name="dropout_backward", reference=dropout_backward,
    inputs=dropouts(),
    examples=((bools([True, False, True]), 0.5, t([1.0, 2.0, 3.0])),
              (bools([[True, True], [True, True]]), 0.0, t([[1.0, -2.0], [0.5, 3.0]])),
              (bools([[True, False, True], [False, True, True]]), 0.25, t([[1.0, -2.0, 3.0], [2.0, 0.5, -1.0]]))),
    domain="mask bool of 1 to 3 dims (sides 1 to 5, True = kept); p one of 0 (then the mask is all "
           "True), 0.1, 0.25, 0.5, 0.8; upstream of the mask's shape",
    hint="Each output is x·mask/(1 − p), a constant times x: the gradient is upstream times that "
         "same constant, element by element.",
    more="upstream * mask / (1 - p).",
    misconceptions=(
        Misconception("The 1/(1 − p) scale is missing: inverted dropout scales what it keeps by "
                      "1/(1 − p) in the forward pass, so the gradient carries the same factor.", m.dropout_unscaled),
        Misconception("You multiplied by (1 − p); inverted dropout divides what it keeps by (1 − p).",
                      m.dropout_times_keep),
        Misconception("You divided by (1 − p) twice; the forward pass scales what it keeps by 1/(1 − p) "
                      "once, and the gradient carries that one factor.", m.dropout_scaled_twice),
        Misconception("You divided by p, the chance to drop; the scale is 1/(1 − p), one over the chance "
                      "to keep.", m.dropout_over_p),
        Misconception("You passed the gradient where the mask is False; True means kept, and a dropped "
                      "element gets no gradient.", m.dropout_mask_inverted),
        Misconception("The mask is missing: a dropped element (mask False) was multiplied by 0 in the "
                      "forward pass, so its gradient is 0.", m.dropout_without_mask),
        without_upstream(dropout_backward),
    ),
    estimate=dropout_estimate,
    tolerance="derivative",
))


def attention_backward(q, k, v, upstream, causal):
    return gradients(lambda q, k, v: attention(q, k, v, causal), q, k, v, upstream=upstream)


EXERCISES.append(Exercise(
    module="ch12_attention", name="attention_backward", reference=attention_backward,
    inputs=attentions(),
    examples=((t([[1.0]]), t([[0.0], [0.0]]), t([[1.0], [3.0]]), t([[1.0]]), False),
              attention_example(1, (), 3, 3, 2, True),
              attention_example(2, (2,), 2, 4, 3, False),
              attention_example(3, (2, 2), 4, 4, 2, True),
              (t([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), t([[1.0, -1.0], [1.0, -1.0], [1.0, -1.0]]),
               t([[1.0, 2.0], [-1.0, 0.5], [3.0, 0.0]]), t([[1.0, -1.0], [0.5, 2.0], [-2.0, 1.0]]), True)),
    domain="q (…, Tq, d), k and v (…, Tk, d) with no, one or two leading dims (sides 1 to 3); Tq, Tk "
           "from 1 to 5, mostly different when causal is False, equal when it is True; d from 1 to 4; "
           "q, k uniform in [-2, 2], v in [-3, 3], a quarter of the draws with all keys (or all queries) "
           "equal; upstream (…, Tq, d)",
    hint="Run it as three machines you know: scores = q @ kᵀ/√d (a matmul and a constant), weights = "
         "softmax(scores + M) over the last dim (chapter 8), out = weights @ v (a matmul); go back "
         "through them in reverse, with every transpose over the last two dims.",
    more="P = softmax(q @ kᵀ/√d + M); dv = Pᵀ @ upstream; dP = upstream @ vᵀ; dS = P·(dP − "
         "(dP·P).sum(-1, keepdim=True)); dq = dS @ k/√d; dk = dSᵀ @ q/√d (ᵀ: .transpose(-2, -1)).",
    misconceptions=(
        Misconception("The 1/√d scale is missing: the scores are q @ kᵀ/√d, so the weights use it and dq "
                      "and dk carry it too.", m.attention_unscaled),
        Misconception("dq and dk lack the 1/√d: the scores are (q @ kᵀ)·(1/√d), and the chain rule "
                      "multiplies that constant into both of their gradients.",
                      m.attention_unscaled_backward(attention_backward)),
        Misconception("Your backward pass forgot the causal mask: with causal=True the weights of later "
                      "keys are 0, and no gradient flows through them; recompute the weights with the "
                      "mask.", m.attention_unmasked),
        Misconception("dv came from the scores before the softmax; out = weights @ v, so dv = weightsᵀ @ "
                      "upstream with the softmax's weights.", m.attention_dv_from_scores(attention_backward)),
        Misconception("You kept only the diagonal of the softmax's Jacobian, P·(1 − P)·dP; each score "
                      "also lowers every other weight of its row, and those paths add up too: "
                      "P·(dP − Σ dP·P).", m.attention_softmax_diagonal),
        without_upstream(attention_backward),
        sign_flipped(attention_backward),
    ),
    estimate=attention_estimate,
    tolerance="accumulated",
    answer_names=("dq", "dk", "dv"),
    picture=attention_picture,
))

SELF_ATTENTION_KEYS = m.SELF_ATTENTION_KEYS


def self_attention_backward(x, w_qkv, b_qkv, w_out, b_out, n_heads, upstream):
    found = gradients(lambda *tensors: self_attention(*tensors, n_heads), x, w_qkv, b_qkv, w_out, b_out,
                      upstream=upstream)
    return dict(zip(SELF_ATTENTION_KEYS, found))


EXERCISES.append(Exercise(
    module="ch12_attention", name="self_attention_backward", reference=self_attention_backward,
    inputs=self_attentions(),
    examples=((t([[[2.0]]]), t([[1.0], [1.0], [3.0]]), t([0.0, 0.0, 0.5]), t([[2.0]]), t([0.0]), 1, t([[[1.0]]])),
              self_attention_example(11, 2, 3, 4, 2),
              self_attention_example(12, 1, 4, 6, 3),
              self_attention_example(13, 1, 3, 3, 1)),
    domain="x (B, T, C) with B 1 or 2, T 1 to 4, C = n_heads·hd, n_heads 1 to 3 (several in most "
           "draws), hd 1 to 3; x uniform in [-2, 2], weights and biases in [-1, 1]; upstream (B, T, C)",
    hint="Forward once, keeping q, k, v and a; then back through the output linear layer, the join of "
         "the heads (its backward is the split), attention_backward on every head at once, the split "
         "(its backward is the join), and the qkv linear layer.",
    more="Split: t.view(B, T, n_heads, hd).transpose(1, 2); join: a.transpose(1, 2).reshape(B, T, C). "
         "da = upstream @ w_out, split; dq, dk, dv = attention_backward(q, k, v, da, True); dqkv = "
         "torch.cat of the three joined; dx = dqkv @ w_qkv, dw_qkv = Σ dqkvᵀ @ x over B and T.",
    misconceptions=(
        Misconception("Your heads take the wrong columns: head h is the columns h·hd to (h+1)·hd − 1 "
                      "(.view(B, T, n_heads, hd)), not every n_heads-th column.",
                      m.self_attention_gradients(m.self_attention_bent(split=m.split_interleaved,
                                                                       join=m.join_interleaved))),
        Misconception("You joined the heads back without moving them next to each other first: (B, "
                      "n_heads, T, hd) needs .transpose(1, 2) before .reshape(B, T, C), or positions and "
                      "heads get mixed.",
                      m.self_attention_gradients(m.self_attention_bent(join=m.join_without_transpose))),
        Misconception("The attention is causal: with the mask left out, every position also looks at "
                      "later ones.", m.self_attention_gradients(m.self_attention_bent(causal=False))),
        Misconception("You scaled by 1/√C; each head's scores are scaled by its own width, 1/√hd.",
                      m.self_attention_gradients(m.self_attention_bent(width=lambda c: c))),
        without_upstream(self_attention_backward),
    ),
    tolerance="accumulated",
    draws=0.33,
    picture=self_attention_picture,
))


def block_backward(x, params, n_heads, upstream):
    found = gradients(lambda x, *values: block(x, dict(zip(BLOCK_KEYS, values)), n_heads),
                      x, *(params[key] for key in BLOCK_KEYS), upstream=upstream)
    return dict(zip(("x", *BLOCK_KEYS), found))


RESIDUAL = ("{which} residual path's gradient was not added: {what}, so its gradient is the sum of "
            "both paths (the sum rule): the one straight through and the one through {through}.")

EXERCISES.append(Exercise(
    module="ch12_attention", name="block_backward", reference=block_backward,
    inputs=blocks(),
    examples=(block_example(21, 1, 2, 1, 1, 2),
              block_example(22, 2, 3, 4, 2, 8),
              block_example(23, 1, 4, 6, 3, 5),
              block_example(24, 1, 1, 2, 1, 1)),
    domain="x (B, T, C) with B 1 or 2, T 1 to 4, C = n_heads·hd, n_heads 1 to 3 (several in most "
           "draws), hd 1 to 3, hidden width 1 to 8; x uniform in [-2, 2], layer-norm weights in [0.5, 1.5], "
           "other weights in [-1, 1], biases in [-0.5, 0.5]; upstream (B, T, C)",
    hint="Go back through y = h + mlp(h), then h = x + attention(ln1(x)), with your own backward "
         "steps; h feeds two things, so its gradient is upstream plus what comes back through the MLP, "
         "and x's is the same story one level down.",
    more="dh = upstream + layernorm_backward(h, …, (gelu_backward(f, upstream @ w_proj)) @ w_fc)[0], "
         "f the MLP's pre-activation; then dx = dh + layernorm_backward(x, …, self_attention_backward("
         "ln1(x), …, dh)['x'])[0]. The weights' gradients are collected on the way.",
    misconceptions=(
        Misconception(RESIDUAL.format(which="The first", what="h = x + attention(ln1(x)) uses x twice",
                                      through="the attention"), m.block_gradients(m.block_bent(first_residual=False))),
        Misconception(RESIDUAL.format(which="The second", what="y = h + mlp(ln2(h)) uses h twice",
                                      through="the MLP"), m.block_gradients(m.block_bent(second_residual=False))),
        Misconception("Neither residual path's gradient was added: x and h are each used twice (straight "
                      "through, and through their layer), so each gradient is the sum of both paths.",
                      m.block_gradients(m.block_bent(first_residual=False, second_residual=False))),
        Misconception("The block's GELU is the exact one (approximate=\"none\"), not the tanh form.",
                      m.block_gradients(m.block_bent(approximate="tanh"))),
        Misconception("The block's attention is causal: with the mask left out, every position also looks "
                      "at later ones.", m.block_gradients(m.block_bent(attention=m.self_attention_bent(causal=False)))),
        Misconception("Your heads take the wrong columns: head h is the columns h·hd to (h+1)·hd − 1 "
                      "(.view(B, T, n_heads, hd)), not every n_heads-th column.",
                      m.block_gradients(m.block_bent(attention=m.self_attention_bent(split=m.split_interleaved,
                                                                                     join=m.join_interleaved)))),
        without_upstream(block_backward),
    ),
    tolerance="accumulated",
    draws=0.15,
))

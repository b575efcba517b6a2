"""The answers of chapter 12's classic mistakes of value, each the torch.autograd gradient of the
expression bent the way the mistake bends it (a dimension changed, a path detached, a scale
left out), or torch's reference with one part replaced.

A mistake that bends an exercise's own reference takes that reference as its argument, as
kit.diagnosis.without_upstream does: the references are declared in
kit/chapters/ch12_attention/declarations.py, beside their exercises.
"""
import math

import torch
import torch.nn.functional as F

from kit.chapters.ch12_attention.expressions import BLOCK_KEYS, EPS, layer_norm
from kit.reference import gradients

SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def replaced(answer, index, value):
    """The tuple `answer` with item `index` replaced by `value`."""
    return tuple(value if i == index else item for i, item in enumerate(answer))


# ---- layer norm -------------------------------------------------------------------------------

def layernorm_over_dim0(x, gamma, beta, upstream, eps=EPS):
    """Chapter 8's batch norm habit: every column normalised down dim 0 (gamma, beta still per feature)."""
    def normalise(x, gamma, beta):
        centred = x - x.mean(dim=0)
        return gamma * centred / torch.sqrt((centred ** 2).mean(dim=0) + eps) + beta
    return gradients(normalise, x, gamma, beta, upstream=upstream)


def layernorm_constant_statistics(layernorm_backward):
    """dx = upstream·gamma / √(σ² + eps): the row's mean and variance taken as constants."""
    def answer(x, gamma, beta, upstream, eps=EPS):
        inv_std = 1 / torch.sqrt(x.var(dim=-1, unbiased=False, keepdim=True) + eps)
        return (upstream * gamma * inv_std, *layernorm_backward(x, gamma, beta, upstream, eps)[1:])
    return answer


def layernorm_unbiased(x, gamma, beta, upstream, eps=EPS):
    def normalise(x, gamma, beta):
        centred = x - x.mean(dim=-1, keepdim=True)
        # Σ(x - μ)² / (D - 1): over one feature 0/0, NaN as in x.var(), without its warning
        var = (centred ** 2).sum(dim=-1, keepdim=True) / (x.shape[-1] - 1) if x.shape[-1] > 1 \
            else torch.full_like(centred, math.nan)
        return gamma * centred / torch.sqrt(var + eps) + beta
    return gradients(normalise, x, gamma, beta, upstream=upstream)


def layernorm_dgamma_as_dbeta(layernorm_backward):
    def answer(x, gamma, beta, upstream, eps=EPS):
        dx, _, dbeta = layernorm_backward(x, gamma, beta, upstream, eps)
        return dx, dbeta, dbeta
    return answer


# ---- GELU -------------------------------------------------------------------------------------

def normal_cdf(x):
    return 0.5 * (1 + torch.erf(x / math.sqrt(2)))


def normal_pdf(x):
    return torch.exp(-0.5 * x ** 2) / math.sqrt(2 * math.pi)


def tanh_inner(x):
    return torch.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x ** 3))


def gelu_without_x_pdf(x, upstream, approximate="none"):
    """Only the first factor's slope: Φ(x) (or its tanh stand-in 0.5·(1 + tanh(u))), x·Φ'(x) lost."""
    return upstream * (0.5 * (1 + tanh_inner(x)) if approximate == "tanh" else normal_cdf(x))


def gelu_always(form):
    """One form's slope whatever `approximate` asks for."""
    def answer(x, upstream, approximate="none"):
        return gradients(lambda x: F.gelu(x, approximate=form), x, upstream=upstream)[0]
    return answer


def gelu_mixed(tanh_part):
    """For approximate="tanh", one term from each form: Φ's stand-in 0.5·(1 + tanh u) or the exact
    Φ(x), plus x·φ(x) or x times the tanh stand-in's slope; the exact form right."""
    def answer(x, upstream, approximate="none"):
        if approximate != "tanh":
            return gradients(lambda x: F.gelu(x), x, upstream=upstream)[0]
        slope_of_tanh_cdf = 0.5 * (1 - tanh_inner(x) ** 2) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x ** 2)
        cdf = 0.5 * (1 + tanh_inner(x)) if tanh_part == "cdf" else normal_cdf(x)
        density = slope_of_tanh_cdf if tanh_part == "density" else normal_pdf(x)
        return upstream * (cdf + x * density)
    return answer


# ---- dropout ----------------------------------------------------------------------------------

def dropout_unscaled(mask, p, upstream):
    return upstream * mask


def dropout_scaled_twice(mask, p, upstream):
    return upstream * mask / (1 - p) ** 2


def dropout_times_keep(mask, p, upstream):
    return upstream * mask * (1 - p)


def dropout_over_p(mask, p, upstream):
    return upstream * mask / p if p > 0 else upstream * mask


def dropout_mask_inverted(mask, p, upstream):
    return upstream * ~mask / (1 - p)


def dropout_without_mask(mask, p, upstream):
    return upstream / (1 - p) * torch.ones_like(upstream)


# ---- attention --------------------------------------------------------------------------------

def scores_of(q, k, causal, scale):
    scores = q @ k.transpose(-2, -1) * scale
    if causal:
        tq, tk = scores.shape[-2:]
        scores = scores.masked_fill(torch.ones(tq, tk, dtype=torch.bool).triu(1), float("-inf"))
    return scores


def attention_bent(q, k, v, causal, scale=None):
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    return torch.softmax(scores_of(q, k, causal, scale), dim=-1) @ v


def attention_unscaled(q, k, v, upstream, causal):
    return gradients(lambda q, k, v: attention_bent(q, k, v, causal, scale=1.0), q, k, v, upstream=upstream)


def attention_unscaled_backward(attention_backward):
    """The scale kept in the forward weights but left out of dq and dk."""
    def answer(q, k, v, upstream, causal):
        dq, dk, dv = attention_backward(q, k, v, upstream, causal)
        root = math.sqrt(q.shape[-1])
        return dq * root, dk * root, dv
    return answer


def attention_unmasked(q, k, v, upstream, causal):
    """The gradient of attention without the causal mask, whatever `causal` says."""
    return gradients(lambda q, k, v: attention_bent(q, k, v, False), q, k, v, upstream=upstream)


def attention_dv_from_scores(attention_backward):
    """dv = scoresᵀ @ upstream, with the scores q @ kᵀ / √d before the mask and the softmax."""
    def answer(q, k, v, upstream, causal):
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        return replaced(attention_backward(q, k, v, upstream, causal), 2, scores.transpose(-2, -1) @ upstream)
    return answer


def attention_softmax_diagonal(q, k, v, upstream, causal):
    """The softmax's Jacobian cut to its diagonal: dscores = P·(1 − P)·dP."""
    scale = 1 / math.sqrt(q.shape[-1])
    weights = torch.softmax(scores_of(q, k, causal, scale), dim=-1)
    dweights = upstream @ v.transpose(-2, -1)
    dscores = weights * (1 - weights) * dweights
    return dscores @ k * scale, dscores.transpose(-2, -1) @ q * scale, weights.transpose(-2, -1) @ upstream


# ---- self-attention ---------------------------------------------------------------------------

def split_heads(t, n_heads):
    b, steps, c = t.shape
    return t.view(b, steps, n_heads, c // n_heads).transpose(1, 2)


def split_interleaved(t, n_heads):
    """Head h takes columns h, h + n_heads, h + 2·n_heads, …: .view(B, T, hd, n_heads)."""
    b, steps, c = t.shape
    return t.view(b, steps, c // n_heads, n_heads).permute(0, 3, 1, 2)


def join_heads(a):
    b, n_heads, steps, hd = a.shape
    return a.transpose(1, 2).reshape(b, steps, n_heads * hd)


def join_without_transpose(a):
    """(B, n_heads, T, hd) reshaped straight to (B, T, C): positions and heads mixed up."""
    b, n_heads, steps, hd = a.shape
    return a.reshape(b, steps, n_heads * hd)


def join_interleaved(a):
    """The inverse of split_interleaved."""
    b, n_heads, steps, hd = a.shape
    return a.permute(0, 2, 3, 1).reshape(b, steps, n_heads * hd)


def self_attention_bent(split=split_heads, join=join_heads, causal=True, width=None):
    """self_attention(x, w_qkv, b_qkv, w_out, b_out, n_heads), with its split, join, mask or scale
    (1/√width, width None: the head width) bent."""
    def forward(x, w_qkv, b_qkv, w_out, b_out, n_heads):
        c = x.shape[-1]
        q, k, v = (split(part, n_heads) for part in (x @ w_qkv.T + b_qkv).split(c, dim=-1))
        scale = 1 / math.sqrt(width(c) if width else q.shape[-1])
        weights = torch.softmax(scores_of(q, k, causal, scale), dim=-1)
        return join(weights @ v) @ w_out.T + b_out
    return forward


SELF_ATTENTION_KEYS = ("x", "w_qkv", "b_qkv", "w_out", "b_out")


def self_attention_gradients(forward):
    def answer(x, w_qkv, b_qkv, w_out, b_out, n_heads, upstream):
        found = gradients(lambda *tensors: forward(*tensors, n_heads), x, w_qkv, b_qkv, w_out, b_out,
                          upstream=upstream)
        return dict(zip(SELF_ATTENTION_KEYS, found))
    return answer


# ---- block ------------------------------------------------------------------------------------

def block_bent(first_residual=True, second_residual=True, approximate="none", attention=None):
    """The block with a residual path's gradient left out (the residual's input detached: the
    value still added, its gradient not), another GELU form, or another self-attention."""
    attention = attention or self_attention_bent()

    def forward(x, params, n_heads):
        p = params
        through = x if first_residual else x.detach()
        h = through + attention(layer_norm(x, p["ln1_w"], p["ln1_b"]), p["w_qkv"], p["b_qkv"], p["w_out"],
                                p["b_out"], n_heads)
        hidden = F.gelu(layer_norm(h, p["ln2_w"], p["ln2_b"]) @ p["w_fc"].T + p["b_fc"], approximate=approximate)
        return (h if second_residual else h.detach()) + hidden @ p["w_proj"].T + p["b_proj"]
    return forward


def block_gradients(forward):
    def answer(x, params, n_heads, upstream):
        found = gradients(lambda x, *values: forward(x, dict(zip(BLOCK_KEYS, values)), n_heads),
                          x, *(params[key] for key in BLOCK_KEYS), upstream=upstream)
        return dict(zip(("x", *BLOCK_KEYS), found))
    return answer

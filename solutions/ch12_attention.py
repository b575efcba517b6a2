"""Chapter 12: attention. Reference solutions, by hand."""
import math

import torch
from torch import Tensor


def _sum_to_last(t: Tensor) -> Tensor:
    """Sum over every dimension but the last: the gradient of a (D,) parameter used at every row."""
    return t.reshape(-1, t.shape[-1]).sum(dim=0)


def _linear_weight_grad(inputs: Tensor, upstream: Tensor) -> Tensor:
    """dW of y = inputs @ W.T + b, inputs and upstream with any leading dimensions."""
    return upstream.reshape(-1, upstream.shape[-1]).T @ inputs.reshape(-1, inputs.shape[-1])


def _layer_norm(x: Tensor, gamma: Tensor, beta: Tensor, eps: float) -> tuple[Tensor, Tensor, Tensor]:
    centred = x - x.mean(dim=-1, keepdim=True)
    inv_std = 1 / torch.sqrt((centred ** 2).mean(dim=-1, keepdim=True) + eps)
    x_hat = centred * inv_std
    return x_hat * gamma + beta, x_hat, inv_std


def layernorm_backward(x: Tensor, gamma: Tensor, beta: Tensor, upstream: Tensor,
                       eps: float = 1e-5) -> tuple[Tensor, Tensor, Tensor]:
    _, x_hat, inv_std = _layer_norm(x, gamma, beta, eps)
    dgamma = _sum_to_last(upstream * x_hat)
    dbeta = _sum_to_last(upstream)
    dx_hat = upstream * gamma
    dx = inv_std * (dx_hat - dx_hat.mean(dim=-1, keepdim=True)
                    - x_hat * (dx_hat * x_hat).mean(dim=-1, keepdim=True))
    return dx, dgamma, dbeta


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_CUBIC = 0.044715


def _gelu(x: Tensor, approximate: str = "none") -> Tensor:
    if approximate == "tanh":
        return 0.5 * x * (1 + torch.tanh(_SQRT_2_OVER_PI * (x + _CUBIC * x ** 3)))
    return x * 0.5 * (1 + torch.erf(x / math.sqrt(2)))


def gelu_backward(x: Tensor, upstream: Tensor, approximate: str = "none") -> Tensor:
    if approximate == "tanh":
        t = torch.tanh(_SQRT_2_OVER_PI * (x + _CUBIC * x ** 3))
        slope = 0.5 * (1 + t) + 0.5 * x * (1 - t ** 2) * _SQRT_2_OVER_PI * (1 + 3 * _CUBIC * x ** 2)
    else:
        cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
        pdf = torch.exp(-0.5 * x ** 2) / math.sqrt(2 * math.pi)
        slope = cdf + x * pdf
    return upstream * slope


def dropout_backward(mask: Tensor, p: float, upstream: Tensor) -> Tensor:
    return upstream * mask / (1 - p)


def _attention_weights(q: Tensor, k: Tensor, causal: bool) -> Tensor:
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        tq, tk = scores.shape[-2:]
        later = torch.ones(tq, tk, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(later, float("-inf"))
    e = torch.exp(scores - scores.max(dim=-1, keepdim=True).values)
    return e / e.sum(dim=-1, keepdim=True)


def attention_backward(q: Tensor, k: Tensor, v: Tensor, upstream: Tensor,
                       causal: bool) -> tuple[Tensor, Tensor, Tensor]:
    scale = 1 / math.sqrt(q.shape[-1])
    weights = _attention_weights(q, k, causal)
    dv = weights.transpose(-2, -1) @ upstream
    dweights = upstream @ v.transpose(-2, -1)
    dscores = weights * (dweights - (dweights * weights).sum(dim=-1, keepdim=True))
    dq = dscores @ k * scale
    dk = dscores.transpose(-2, -1) @ q * scale
    return dq, dk, dv


def _split_heads(t: Tensor, n_heads: int) -> Tensor:
    b, steps, c = t.shape
    return t.reshape(b, steps, n_heads, c // n_heads).transpose(1, 2)


def _join_heads(t: Tensor) -> Tensor:
    b, n_heads, steps, hd = t.shape
    return t.transpose(1, 2).reshape(b, steps, n_heads * hd)


def _self_attention(x: Tensor, w_qkv: Tensor, b_qkv: Tensor, w_out: Tensor, b_out: Tensor,
                    n_heads: int) -> Tensor:
    c = x.shape[-1]
    q, k, v = (_split_heads(t, n_heads) for t in (x @ w_qkv.T + b_qkv).split(c, dim=-1))
    a = _join_heads(_attention_weights(q, k, causal=True) @ v)
    return a @ w_out.T + b_out


def self_attention_backward(x: Tensor, w_qkv: Tensor, b_qkv: Tensor, w_out: Tensor, b_out: Tensor,
                            n_heads: int, upstream: Tensor) -> dict[str, Tensor]:
    c = x.shape[-1]
    q, k, v = (_split_heads(t, n_heads) for t in (x @ w_qkv.T + b_qkv).split(c, dim=-1))
    a = _join_heads(_attention_weights(q, k, causal=True) @ v)
    dw_out = _linear_weight_grad(a, upstream)
    db_out = _sum_to_last(upstream)
    da = _split_heads(upstream @ w_out, n_heads)
    dq, dk, dv = attention_backward(q, k, v, da, causal=True)
    dqkv = torch.cat([_join_heads(dq), _join_heads(dk), _join_heads(dv)], dim=-1)
    return {"x": dqkv @ w_qkv, "w_qkv": _linear_weight_grad(x, dqkv), "b_qkv": _sum_to_last(dqkv),
            "w_out": dw_out, "b_out": db_out}


def block_backward(x: Tensor, params: dict[str, Tensor], n_heads: int,
                   upstream: Tensor) -> dict[str, Tensor]:
    p = params
    eps = 1e-5
    # forward
    ln1, _, _ = _layer_norm(x, p["ln1_w"], p["ln1_b"], eps)
    h = x + _self_attention(ln1, p["w_qkv"], p["b_qkv"], p["w_out"], p["b_out"], n_heads)
    ln2, _, _ = _layer_norm(h, p["ln2_w"], p["ln2_b"], eps)
    f = ln2 @ p["w_fc"].T + p["b_fc"]
    g = _gelu(f)
    # backward: y = h + mlp(h), so h gets the upstream directly and again through the MLP
    grads: dict[str, Tensor] = {}
    grads["w_proj"] = _linear_weight_grad(g, upstream)
    grads["b_proj"] = _sum_to_last(upstream)
    df = gelu_backward(f, upstream @ p["w_proj"])
    grads["w_fc"] = _linear_weight_grad(ln2, df)
    grads["b_fc"] = _sum_to_last(df)
    dh_mlp, grads["ln2_w"], grads["ln2_b"] = layernorm_backward(h, p["ln2_w"], p["ln2_b"], df @ p["w_fc"],
                                                                eps)
    dh = upstream + dh_mlp
    # h = x + attention(ln1(x)): x gets dh directly and again through the attention
    sa = self_attention_backward(ln1, p["w_qkv"], p["b_qkv"], p["w_out"], p["b_out"], n_heads, dh)
    for key in ("w_qkv", "b_qkv", "w_out", "b_out"):
        grads[key] = sa[key]
    dx_attn, grads["ln1_w"], grads["ln1_b"] = layernorm_backward(x, p["ln1_w"], p["ln1_b"], sa["x"], eps)
    keys = ("ln1_w", "ln1_b", "w_qkv", "b_qkv", "w_out", "b_out", "ln2_w", "ln2_b", "w_fc", "b_fc",
            "w_proj", "b_proj")
    return {"x": dh + dx_attn, **{key: grads[key] for key in keys}}

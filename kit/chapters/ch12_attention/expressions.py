"""Chapter 12's torch expressions, as the contract (CURRICULUM.md) writes them, for torch.autograd
to differentiate: the references of chapter 12 and the blocks of chapter 13's GPT."""
import math

import torch
import torch.nn.functional as F

BLOCK_KEYS = ("ln1_w", "ln1_b", "w_qkv", "b_qkv", "w_out", "b_out", "ln2_w", "ln2_b", "w_fc", "b_fc",
              "w_proj", "b_proj")
EPS = 1e-5


def layer_norm(x, gamma, beta, eps=EPS):
    return F.layer_norm(x, (x.shape[-1],), gamma, beta, eps)


def attention(q, k, v, causal: bool):
    """softmax(q @ kᵀ / √d + M) @ v, M = −∞ where key j > query i when causal."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        tq, tk = scores.shape[-2:]
        later = torch.ones(tq, tk, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(later, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def heads(t, n_heads: int):
    """(B, T, C) -> (B, n_heads, T, hd), head h taking columns h·hd … (h+1)·hd − 1."""
    b, steps, c = t.shape
    return t.view(b, steps, n_heads, c // n_heads).transpose(1, 2)


def self_attention(x, w_qkv, b_qkv, w_out, b_out, n_heads: int):
    b, steps, c = x.shape
    q, k, v = (x @ w_qkv.T + b_qkv).split(c, dim=-1)
    a = attention(heads(q, n_heads), heads(k, n_heads), heads(v, n_heads), causal=True)
    return a.transpose(1, 2).reshape(b, steps, c) @ w_out.T + b_out


def block(x, params: dict, n_heads: int):
    """The pre-norm transformer block of block_backward."""
    p = params
    h = x + self_attention(layer_norm(x, p["ln1_w"], p["ln1_b"]), p["w_qkv"], p["b_qkv"], p["w_out"],
                           p["b_out"], n_heads)
    hidden = F.gelu(layer_norm(h, p["ln2_w"], p["ln2_b"]) @ p["w_fc"].T + p["b_fc"])
    return h + hidden @ p["w_proj"].T + p["b_proj"]


def gelu(x, approximate: str = "none"):
    return F.gelu(x, approximate=approximate)


def dropout(x, mask, p: float):
    """Training-mode (inverted) dropout with a given keep mask: what is kept is scaled by 1/(1 − p)."""
    return x * mask / (1 - p)

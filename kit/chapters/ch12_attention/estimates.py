"""Chapter 12's estimates: the slopes of each exercise measured by nudging, as in chapter 1.

Only for the smaller exercises: self-attention and the block have too many weights to nudge
one at a time in a message.
"""
import torch

from kit.chapters.ch12_attention.expressions import EPS, attention, dropout, gelu, layer_norm
from kit.reference import nudged


def layernorm_estimate(x, gamma, beta, upstream, eps=EPS):
    def loss(x, gamma, beta):
        return (upstream * layer_norm(x, gamma, beta, eps)).sum()
    args = (x, gamma, beta)
    return tuple(nudged(loss, args, i) for i in range(3))


def gelu_estimate(x, upstream, approximate="none"):
    return nudged(lambda x: (upstream * gelu(x, approximate)).sum(), (x,), 0)


def dropout_estimate(mask, p, upstream):
    return nudged(lambda x: (upstream * dropout(x, mask, p)).sum(), (torch.zeros(mask.shape, dtype=torch.float64),), 0)


def attention_estimate(q, k, v, upstream, causal):
    def loss(q, k, v):
        return (upstream * attention(q, k, v, causal)).sum()
    return tuple(nudged(loss, (q, k, v), i) for i in range(3))

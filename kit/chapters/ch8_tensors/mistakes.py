"""The answers of chapter 8's classic mistakes of value, each computed from torch's reference
bent the way the mistake bends it (or, for the network, by hand).

A mistake that bends an exercise's own reference takes that reference as its argument, as
kit.diagnosis.without_upstream does: the references are declared in
kit/chapters/ch8_tensors/declarations.py, beside their exercises.
"""
import math

import torch
import torch.nn.functional as F

from kit.chapters.ch8_tensors.expressions import softmax, table
from kit.reference import gradients


def summed_as_mean(unbroadcast):
    """unbroadcast(grad, shape) averaged: each entry of `shape` has grad.numel() / numel(shape)
    copies; their mean, not their sum."""
    return lambda grad, shape: unbroadcast(grad, shape) * math.prod(shape) / grad.numel()


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


def batchnorm_constant_statistics(batchnorm_backward):
    """batchnorm_backward with the batch mean and variance taken as constants in dx."""
    def answer(x, gamma, beta, upstream, eps=1e-5):
        inv_std = 1 / torch.sqrt(x.var(dim=0, unbiased=False) + eps)
        dx = upstream * gamma * inv_std
        return (dx, *batchnorm_backward(x, gamma, beta, upstream, eps)[1:])
    return answer


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


def batchnorm_dgamma_as_dbeta(batchnorm_backward):
    """batchnorm_backward with dbeta given for dgamma too."""
    def answer(x, gamma, beta, upstream, eps=1e-5):
        dx, _, dbeta = batchnorm_backward(x, gamma, beta, upstream, eps)
        return dx, dbeta, dbeta
    return answer


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

"""Chapter 8's estimates: the slopes of each exercise measured by nudging, as in chapter 1."""
import torch
import torch.nn.functional as F

from kit.chapters.ch8_tensors.expressions import batchnorm, table
from kit.reference import nudged


def nudges(loss, *wrt):
    """estimate(*args): the slope of the number loss(*args) with respect to args[i] for each i in
    wrt, measured by nudging every element; one tensor, or a tuple of them."""
    def estimate(*args):
        found = tuple(nudged(loss, args, i) for i in wrt)
        return found[0] if len(found) == 1 else found
    return estimate


def summed(f):
    """loss(*inputs, upstream) = Σ upstream·f(*inputs): the number whose slopes a backward step gives."""
    return lambda *args: (args[-1] * f(*args[:-1])).sum()


def unbroadcast_estimate(grad, shape):
    return nudged(lambda x: (grad * x.expand(grad.shape)).sum(), (torch.zeros(shape, dtype=torch.float64),), 0)


def embedding_estimate(indices, num_embeddings, upstream):
    return nudged(lambda W: (upstream * F.embedding(indices, W)).sum(), (table(num_embeddings, upstream),), 0)


def batchnorm_estimate(x, gamma, beta, upstream, eps=1e-5):
    return nudges(lambda x, gamma, beta: (upstream * batchnorm(x, gamma, beta, eps)).sum(), 0, 1, 2)(x, gamma, beta)

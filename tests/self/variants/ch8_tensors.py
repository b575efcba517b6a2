"""Chapter 8 variants: answers that must fail (WRONG) and answers written differently that must pass (RIGHT).

Each entry is (exercise name, what it does, replacement): a function that replaces the
exercise's function, or a dict of module attributes to replace.
"""
import itertools

import torch
import torch.nn.functional as F


def softmax(x):
    e = torch.exp(x - x.max(dim=-1, keepdim=True).values)
    return e / e.sum(dim=-1, keepdim=True)


def one_hot(targets, classes):
    return F.one_hot(targets, classes).to(torch.float64)


# ---- unbroadcast ------------------------------------------------------------------------------

def sum_leading(grad, shape):
    return grad.sum(dim=tuple(range(grad.dim() - len(shape)))) if grad.dim() > len(shape) else grad


def sum_ones(grad, shape, keepdim=True):
    offset = grad.dim() - len(shape)
    ones = tuple(offset + i for i, size in enumerate(shape) if size == 1 and grad.shape[offset + i] != 1)
    return grad.sum(dim=ones, keepdim=keepdim) if ones else grad


def unbroadcast_without_keepdim(grad, shape):
    return sum_ones(sum_leading(grad, shape), shape, keepdim=False)


def unbroadcast_mean(grad, shape):
    while grad.dim() > len(shape):
        grad = grad.mean(dim=0)
    for dim, size in enumerate(shape):
        if size == 1:
            grad = grad.mean(dim=dim, keepdim=True)
    return grad


def unbroadcast_loop(grad, shape):
    """Sum the matching entries by hand: every index of grad lands on one index of shape."""
    out = torch.zeros(shape, dtype=torch.float64)
    offset = grad.dim() - len(shape)
    for index in itertools.product(*(range(n) for n in grad.shape)):
        target = tuple(0 if size == 1 else i for i, size in zip(index[offset:], shape))
        out[target] += grad[index]
    return out


def unbroadcast_one_sum(grad, shape):
    offset = grad.dim() - len(shape)
    dims = [*range(offset), *(offset + i for i, size in enumerate(shape) if size == 1)]
    return grad.sum(dim=dims, keepdim=True).reshape(shape) if dims else grad.clone()


# ---- matmul and linear ------------------------------------------------------------------------

def matmul_rows(A, B, upstream):
    """One row of C at a time: C[i] = A[i] @ B."""
    dA = torch.stack([B @ row for row in upstream])
    dB = sum(torch.outer(a, g) for a, g in zip(A, upstream))
    return dA, dB


def linear_rows(x, W, b, upstream):
    """One sample at a time, adding each sample's share of dW and db."""
    dW = torch.zeros_like(W)
    db = torch.zeros_like(b)
    for xi, gi in zip(x, upstream):
        dW += torch.outer(gi, xi)
        db += gi
    return upstream @ W, dW, db


# ---- softmax, cross-entropy, mse ----------------------------------------------------------------

def softmax_jacobian(x, upstream):
    """Build each row's Jacobian diag(s) - s sᵀ and multiply it with the row's upstream."""
    rows_x, rows_g = x.reshape(-1, x.shape[-1]), upstream.reshape(-1, x.shape[-1])
    out = []
    for row, g in zip(rows_x, rows_g):
        s = softmax(row)
        out.append((torch.diag(s) - torch.outer(s, s)) @ g)
    return torch.stack(out).reshape(x.shape)


def softmax_einsum(x, upstream):
    s = torch.exp(x - torch.logsumexp(x, dim=-1, keepdim=True))
    return s * upstream - s * torch.einsum("...c,...c->...", s, upstream).unsqueeze(-1)


def softmax_no_keepdim(x, upstream):
    s = softmax(x)
    return s * (upstream - (upstream * s).sum(dim=-1))


def softmax_dim0(x, upstream):
    s = torch.softmax(x, dim=-1)
    return s * (upstream - (upstream * s).sum(dim=0, keepdim=True))


def softmax_whole_tensor(x, upstream):
    s = torch.exp(x) / torch.exp(x).sum()
    return s * (upstream - (upstream * s).sum())


def cross_entropy_no_mean(logits, targets):
    return softmax(logits) - one_hot(targets, logits.shape[1])


def cross_entropy_rows(logits, targets):
    n = logits.shape[0]
    rows = []
    for row, target in zip(logits, targets.tolist()):
        g = torch.exp(row - torch.logsumexp(row, dim=0))
        g[target] -= 1.0
        rows.append(g / n)
    return torch.stack(rows)


# ---- batch norm ---------------------------------------------------------------------------------

def batchnorm_steps(x, gamma, beta, upstream, eps=1e-5):
    """Backwards through the graph one node at a time: x̂, then var, then mean, then x."""
    n = x.shape[0]
    mean = x.mean(dim=0)
    var = ((x - mean) ** 2).mean(dim=0)
    std = torch.sqrt(var + eps)
    x_hat = (x - mean) / std
    dx_hat = upstream * gamma
    dvar = (dx_hat * (x - mean)).sum(dim=0) * -0.5 * std ** -3
    dmean = -(dx_hat / std).sum(dim=0) + dvar * (-2.0 * (x - mean)).sum(dim=0) / n
    dx = dx_hat / std + dvar * 2.0 * (x - mean) / n + dmean / n
    return dx, (upstream * x_hat).sum(dim=0), upstream.sum(dim=0)


def batchnorm_constant_stats(x, gamma, beta, upstream, eps=1e-5):
    std = torch.sqrt(x.var(dim=0, unbiased=False) + eps)
    x_hat = (x - x.mean(dim=0)) / std
    return upstream * gamma / std, (upstream * x_hat).sum(dim=0), upstream.sum(dim=0)


def batchnorm_with(variance, eps_used=None, dgamma_plain=False):
    def backward(x, gamma, beta, upstream, eps=1e-5):
        eps = eps if eps_used is None else eps_used
        n = x.shape[0]
        inv_std = 1 / torch.sqrt(variance(x) + eps)
        x_hat = (x - x.mean(dim=0)) * inv_std
        dgamma = (upstream * x_hat).sum(dim=0)
        dbeta = upstream.sum(dim=0)
        dx = gamma * inv_std / n * (n * upstream - dbeta - x_hat * dgamma)
        return dx, dbeta if dgamma_plain else dgamma, dbeta
    return backward


def biased(x):
    return x.var(dim=0, unbiased=False)


def unbiased(x):
    return x.var(dim=0, unbiased=True)


# ---- embedding ----------------------------------------------------------------------------------

def embedding_assign(indices, num_embeddings, upstream):
    dW = torch.zeros(num_embeddings, upstream.shape[-1], dtype=torch.float64)
    dW[indices] = upstream
    return dW


def embedding_plus_equals(indices, num_embeddings, upstream):
    dW = torch.zeros(num_embeddings, upstream.shape[-1], dtype=torch.float64)
    dW[indices] += upstream
    return dW


def embedding_rows_used(indices, num_embeddings, upstream):
    dim = upstream.shape[-1]
    dW = torch.zeros(int(indices.max()) + 1, dim, dtype=torch.float64)
    return dW.index_add(0, indices.reshape(-1), upstream.reshape(-1, dim))


def embedding_scatter(indices, num_embeddings, upstream):
    dim = upstream.shape[-1]
    rows = indices.reshape(-1, 1).expand(-1, dim)
    return torch.zeros(num_embeddings, dim, dtype=torch.float64).scatter_add(0, rows, upstream.reshape(-1, dim))


def embedding_one_hot(indices, num_embeddings, upstream):
    dim = upstream.shape[-1]
    return one_hot(indices.reshape(-1), num_embeddings).T @ upstream.reshape(-1, dim)


def embedding_loop(indices, num_embeddings, upstream):
    dW = torch.zeros(num_embeddings, upstream.shape[-1], dtype=torch.float64)
    for i, row in zip(indices.reshape(-1).tolist(), upstream.reshape(-1, upstream.shape[-1])):
        dW[i] += row
    return dW


def embedding_index_put(indices, num_embeddings, upstream):
    dW = torch.zeros(num_embeddings, upstream.shape[-1], dtype=torch.float64)
    return dW.index_put((indices,), upstream, accumulate=True)


# ---- mlp ----------------------------------------------------------------------------------------

def mlp_with(mask=lambda h: h > 0, mean=True, transpose_dW1=False, keys=("x", "W1", "b1", "W2", "b2")):
    def backward(x, W1, b1, W2, b2, targets):
        h = x @ W1.T + b1
        a = torch.relu(h)
        dlogits = softmax(a @ W2.T + b2) - one_hot(targets, W2.shape[0])
        if mean:
            dlogits = dlogits / x.shape[0]
        dh = (dlogits @ W2) * mask(h)
        dW1 = x.T @ dh if transpose_dW1 else dh.T @ x
        grads = (dh @ W1, dW1, dh.sum(dim=0), dlogits.T @ a, dlogits.sum(dim=0))
        return dict(zip(keys, grads))
    return backward


def mlp_per_sample(x, W1, b1, W2, b2, targets):
    """Each sample backwards on its own with einsum, the losses' gradients averaged at the end."""
    n = x.shape[0]
    grads = {key: torch.zeros_like(value) for key, value in (("x", x), ("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2))}
    for i in range(n):
        h = torch.einsum("hi,i->h", W1, x[i]) + b1
        a = h.clamp(min=0)
        dlogit = softmax(torch.einsum("ch,h->c", W2, a) + b2)
        dlogit[targets[i]] -= 1.0
        dlogit = dlogit / n
        dh = torch.where(a > 0, torch.einsum("c,ch->h", dlogit, W2), torch.zeros_like(h))
        grads["x"][i] = torch.einsum("h,hi->i", dh, W1)
        grads["W1"] += torch.einsum("h,i->hi", dh, x[i])
        grads["b1"] += dh
        grads["W2"] += torch.einsum("c,h->ch", dlogit, a)
        grads["b2"] += dlogit
    return grads


def as_float32(f):
    """The right answer, returned in float32."""
    def wrapped(*args):
        answer = f(*args)
        if isinstance(answer, dict):
            return {key: value.float() for key, value in answer.items()}
        if isinstance(answer, tuple):
            return tuple(value.float() for value in answer)
        return answer.float()
    return wrapped


WRONG = [
    ("unbroadcast", "sums only the leading dims, forgets the size-1 dims", sum_leading),
    ("unbroadcast", "sums only the size-1 dims, forgets the leading dims", lambda grad, shape: sum_ones(grad, shape)),
    ("unbroadcast", "sums the size-1 dims away without keepdim (wrong shape)", unbroadcast_without_keepdim),
    ("unbroadcast", "averages where it should sum", unbroadcast_mean),
    ("unbroadcast", "returns float32", as_float32(unbroadcast_one_sum)),

    ("matmul_backward", "missing transpose in dA: upstream @ B", lambda A, B, upstream: (upstream @ B, A.T @ upstream)),
    ("matmul_backward", "returns dA and dB transposed", lambda A, B, upstream: (B @ upstream.T, upstream.T @ A)),
    ("matmul_backward", "treats the upstream as all ones",
     lambda A, B, upstream: (torch.ones_like(upstream) @ B.T, A.T @ torch.ones_like(upstream))),
    ("matmul_backward", "returns float32", as_float32(lambda A, B, upstream: (upstream @ B.T, A.T @ upstream))),

    ("linear_backward", "dW transposed: x.T @ upstream",
     lambda x, W, b, upstream: (upstream @ W, x.T @ upstream, upstream.sum(dim=0))),
    ("linear_backward", "db averaged over the batch (a mean where a sum belongs)",
     lambda x, W, b, upstream: (upstream @ W, upstream.T @ x, upstream.mean(dim=0))),
    ("linear_backward", "dx with W.T instead of W",
     lambda x, W, b, upstream: (upstream @ W.T, upstream.T @ x, upstream.sum(dim=0))),
    ("linear_backward", "db summed over the outputs instead of the batch",
     lambda x, W, b, upstream: (upstream @ W, upstream.T @ x, upstream.sum(dim=1))),
    ("linear_backward", "dW averaged over the batch",
     lambda x, W, b, upstream: (upstream @ W, upstream.T @ x / x.shape[0], upstream.sum(dim=0))),
    ("linear_backward", "forgets the upstream: as if it were all ones",
     lambda x, W, b, upstream: linear_rows(x, W, b, torch.ones_like(upstream))),
    ("linear_backward", "returns float32",
     as_float32(lambda x, W, b, upstream: (upstream @ W, upstream.T @ x, upstream.sum(dim=0)))),

    ("tanh_backward", "forgets the upstream", lambda x, upstream: 1 - torch.tanh(x) ** 2),
    ("tanh_backward", "1 - x² instead of 1 - tanh(x)²", lambda x, upstream: upstream * (1 - x ** 2)),
    ("tanh_backward", "1 - tanh(x), the square forgotten", lambda x, upstream: upstream * (1 - torch.tanh(x))),
    ("tanh_backward", "upstream × tanh(x), the forward value", lambda x, upstream: upstream * torch.tanh(x)),
    ("tanh_backward", "returns float32", as_float32(lambda x, upstream: upstream * (1 - torch.tanh(x) ** 2))),

    ("softmax_backward", "only the Jacobian's diagonal: s·(1 − s)·upstream",
     lambda x, upstream: softmax(x) * (1 - softmax(x)) * upstream),
    ("softmax_backward", "the row sum without keepdim", softmax_no_keepdim),
    ("softmax_backward", "the sum over dim 0 instead of the last dim", softmax_dim0),
    ("softmax_backward", "softmax over the whole tensor", softmax_whole_tensor),
    ("softmax_backward", "returns float32", as_float32(softmax_jacobian)),

    ("mse_backward", "forgets the 2", lambda pred, target: (pred - target) / pred.numel()),
    ("mse_backward", "divides by the number of rows, not of elements",
     lambda pred, target: 2 * (pred - target) / len(pred)),
    ("mse_backward", "target − pred: the sign flipped", lambda pred, target: 2 * (target - pred) / pred.numel()),
    ("mse_backward", "a sum where the mean belongs", lambda pred, target: 2 * (pred - target)),
    ("mse_backward", "returns float32", as_float32(lambda pred, target: 2 * (pred - target) / pred.numel())),

    ("cross_entropy_backward", "forgets to divide by N", cross_entropy_no_mean),
    ("cross_entropy_backward", "softmax over the batch (dim 0)",
     lambda logits, targets: (torch.softmax(logits, dim=0) - one_hot(targets, logits.shape[1])) / logits.shape[0]),
    ("cross_entropy_backward", "one-hot minus softmax: the sign flipped",
     lambda logits, targets: -cross_entropy_no_mean(logits, targets) / logits.shape[0]),
    ("cross_entropy_backward", "logits minus one-hot, no softmax",
     lambda logits, targets: (logits - one_hot(targets, logits.shape[1])) / logits.shape[0]),
    ("cross_entropy_backward", "returns float32", as_float32(cross_entropy_rows)),

    ("batchnorm_backward", "treats the batch mean and variance as constants", batchnorm_constant_stats),
    ("batchnorm_backward", "the unbiased variance (divides by N − 1)", batchnorm_with(unbiased)),
    ("batchnorm_backward", "ignores the eps it is given (always 1e-5)", batchnorm_with(biased, eps_used=1e-5)),
    ("batchnorm_backward", "dgamma without x̂ (the plain sum of upstream)", batchnorm_with(biased, dgamma_plain=True)),
    ("batchnorm_backward", "returns float32", as_float32(batchnorm_steps)),

    ("embedding_backward", "dW[indices] = upstream: repeated rows overwrite each other", embedding_assign),
    ("embedding_backward", "dW[indices] += upstream: indexed += keeps only one repeat", embedding_plus_equals),
    ("embedding_backward", "as many rows as the largest index used, not num_embeddings", embedding_rows_used),
    ("embedding_backward", "returns upstream itself, one row per lookup",
     lambda indices, num_embeddings, upstream: upstream),
    ("embedding_backward", "returns float32", as_float32(embedding_loop)),

    ("mlp_backward", "relu mask h >= 0: passes gradient at exactly 0", mlp_with(mask=lambda h: h >= 0)),
    ("mlp_backward", "forgets the relu mask", mlp_with(mask=lambda h: torch.ones_like(h))),
    ("mlp_backward", "forgets to divide by N", mlp_with(mean=False)),
    ("mlp_backward", "dW1 transposed: x.T @ dh", mlp_with(transpose_dW1=True)),
    ("mlp_backward", "keys named dx, dW1, ... instead of x, W1, ...",
     mlp_with(keys=("dx", "dW1", "db1", "dW2", "db2"))),
    ("mlp_backward", "returns float32", as_float32(mlp_with())),
]

RIGHT = [
    ("unbroadcast", "torch's sum_to_size", lambda grad, shape: grad.sum_to_size(shape)),
    ("unbroadcast", "one sum over every broadcast dim, then a reshape", unbroadcast_one_sum),
    ("unbroadcast", "adds each entry into its place by hand", unbroadcast_loop),

    ("matmul_backward", "einsum", lambda A, B, upstream: (torch.einsum("ij,kj->ik", upstream, B),
                                                          torch.einsum("ik,ij->kj", A, upstream))),
    ("matmul_backward", "one row at a time, outer products for dB", matmul_rows),

    ("linear_backward", "einsum", lambda x, W, b, upstream: (torch.einsum("no,oi->ni", upstream, W),
                                                             torch.einsum("no,ni->oi", upstream, x),
                                                             torch.einsum("no->o", upstream))),
    ("linear_backward", "one sample at a time", linear_rows),

    ("tanh_backward", "upstream / cosh(x)²", lambda x, upstream: upstream / torch.cosh(x) ** 2),
    ("tanh_backward", "upstream·(1 − t)(1 + t)",
     lambda x, upstream: upstream * (1 - torch.tanh(x)) * (1 + torch.tanh(x))),

    ("softmax_backward", "each row's Jacobian diag(s) − s·sᵀ times its upstream", softmax_jacobian),
    ("softmax_backward", "s from exp(x − logsumexp), einsum for the row sums", softmax_einsum),

    ("mse_backward", "(pred − target)·(2 / numel)", lambda pred, target: (pred - target) * (2.0 / pred.numel())),
    ("mse_backward", "counts the elements as a sum of ones",
     lambda pred, target: (pred - target) * 2 / torch.ones_like(pred).sum()),

    ("cross_entropy_backward", "one row at a time, logsumexp", cross_entropy_rows),
    ("cross_entropy_backward", "F.one_hot and torch.softmax",
     lambda logits, targets: (torch.softmax(logits, dim=1) - one_hot(targets, logits.shape[1])) / len(targets)),

    ("batchnorm_backward", "step by step through x̂, var and mean", batchnorm_steps),
    ("batchnorm_backward", "the solution's formula with torch.var", batchnorm_with(biased)),

    ("embedding_backward", "scatter_add", embedding_scatter),
    ("embedding_backward", "one-hot matrix product", embedding_one_hot),
    ("embedding_backward", "a loop over the lookups", embedding_loop),
    ("embedding_backward", "index_put with accumulate=True", embedding_index_put),

    ("mlp_backward", "each sample on its own, with einsum", mlp_per_sample),
    ("mlp_backward", "mask from the activation (a > 0) instead of h > 0", mlp_with(mask=lambda h: torch.relu(h) > 0)),
]

"""Chapter 10 variants: answers that must fail (WRONG) and answers written differently that must pass (RIGHT).

Each entry is (exercise name, what it does, replacement): a function that replaces the
exercise's function, or a dict of module attributes to replace.
"""
import torch
import torch.nn.functional as F

# ---- conv1d -------------------------------------------------------------------------------------


def conv1d_loops(x, w, b, upstream, flip=False, db_of=None, dw_scale=1.0, dx_flip=None):
    """Output by output: y[n, f, i] = Σ_c,k x[n, c, i + k]·w[f, c, k] + b[f]. `flip` runs a true
    convolution (the kernel reversed) in the forward pass the gradients are derived from."""
    n, c, length = x.shape
    f, _, kernel = w.shape
    used = w.flip(-1) if flip else w
    dx, dused = torch.zeros_like(x), torch.zeros_like(w)
    for s in range(n):
        for g in range(f):
            for i in range(length - kernel + 1):
                dused[g] += upstream[s, g, i] * x[s, :, i:i + kernel]
                dx[s, :, i:i + kernel] += upstream[s, g, i] * (used if dx_flip is None else dx_flip)[g]
    dw = dused.flip(-1) if flip else dused
    db = upstream.sum(dim=(0, 2)) if db_of is None else db_of(upstream)
    return dx, dw * dw_scale, db


def conv1d_db_last_sample(x, w, b, upstream):
    dx, dw, _ = conv1d_loops(x, w, b, upstream)
    for s in range(x.shape[0]):
        db = upstream[s].sum(dim=1)  # = where += belongs
    return dx, dw, db


def conv1d_unfold(x, w, b, upstream):
    """The patches as columns (F.unfold on an image of one row), then two matrix products."""
    n, c, length = x.shape
    f, _, kernel = w.shape
    columns = F.unfold(x[:, :, None, :], (1, kernel))  # (N, C·K, L - K + 1)
    dw = torch.einsum("nfp,nkp->fk", upstream, columns).reshape(w.shape)
    dcolumns = w.reshape(f, -1).T @ upstream
    dx = F.fold(dcolumns, (1, length), (1, kernel))[:, :, 0, :]
    return dx, dw, upstream.sum(dim=(0, 2))


def conv1d_transposed(x, w, b, upstream):
    """dx as a transposed convolution of upstream, dw as a cross-correlation of x with upstream."""
    dx = F.conv_transpose1d(upstream, w)
    dw = F.conv1d(x.transpose(0, 1), upstream.transpose(0, 1)).transpose(0, 1)
    return dx, dw, torch.einsum("nfi->f", upstream)


# ---- conv2d -------------------------------------------------------------------------------------

def conv2d_loops(x, w, b, upstream, stride=1, padding=0, flip=False, dx_flip=False, corner=False,
                 dx_stride=None, dw_stride=None, db_of=None):
    """Output position by output position, over the padded input."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    ho, wo = upstream.shape[-2:]
    xp = F.pad(x, (padding, padding, padding, padding))
    used = w.flip((-2, -1)) if flip else w
    spread = used.flip((-2, -1)) if dx_flip else used
    sx = stride if dx_stride is None else dx_stride
    sw = stride if dw_stride is None else dw_stride
    dxp, dused = torch.zeros_like(xp), torch.zeros_like(w)
    for i in range(ho):
        for j in range(wo):
            g = upstream[:, :, i, j]  # (N, F)
            dused += torch.einsum("nf,nchw->fchw", g, xp[:, :, i * sw:i * sw + kh, j * sw:j * sw + kw])
            dxp[:, :, i * sx:i * sx + kh, j * sx:j * sx + kw] += torch.einsum("nf,fchw->nchw", g, spread)
    dx = dxp[:, :, :h, :wd] if corner else dxp[:, :, padding:padding + h, padding:padding + wd]
    dw = dused.flip((-2, -1)) if flip else dused
    db = upstream.sum(dim=(0, 2, 3)) if db_of is None else db_of(upstream)
    return dx, dw, db


def conv2d_with(**bent):
    return lambda x, w, b, upstream, stride=1, padding=0: conv2d_loops(x, w, b, upstream, stride, padding, **bent)


def conv2d_unfold(x, w, b, upstream, stride=1, padding=0):
    """im2col: the patches as columns, two matrix products, and fold to add the patches back."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    columns = F.unfold(x, (kh, kw), padding=padding, stride=stride)  # (N, C·KH·KW, Ho·Wo)
    g = upstream.reshape(n, f, -1)
    dw = torch.einsum("nfp,nkp->fk", g, columns).reshape(w.shape)
    dx = F.fold(w.reshape(f, -1).T @ g, (h, wd), (kh, kw), padding=padding, stride=stride)
    return dx, dw, g.sum(dim=(0, 2))


def conv2d_transposed(x, w, b, upstream, stride=1, padding=0):
    """dx by a transposed convolution (output_padding for the rows no window reaches); dw by a
    convolution of x with upstream dilated by the stride."""
    h, wd = x.shape[-2:]
    kh, kw = w.shape[-2:]
    ho, wo = upstream.shape[-2:]
    extra = (h + 2 * padding - kh - (ho - 1) * stride, wd + 2 * padding - kw - (wo - 1) * stride)
    dx = F.conv_transpose2d(upstream, w, stride=stride, padding=padding, output_padding=extra)
    dw = F.conv2d(x.transpose(0, 1), upstream.transpose(0, 1), padding=padding, dilation=stride)
    return dx, dw.transpose(0, 1)[:, :, :kh, :kw], upstream.sum(dim=(0, 2, 3))


# ---- pooling ------------------------------------------------------------------------------------

def pool_loops(x, upstream, kernel_size, stride, kind="max", assign=False, divide=None):
    """Window by window, (n, c) by (n, c)."""
    dx = torch.zeros_like(x)
    k = kernel_size
    ho, wo = upstream.shape[-2:]
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(ho):
                for j in range(wo):
                    window = x[n, c, i * stride:i * stride + k, j * stride:j * stride + k]
                    g = upstream[n, c, i, j]
                    if kind == "max":
                        a, bb = divmod(int(window.argmax()), k)
                        place = (n, c, i * stride + a, j * stride + bb)
                        if assign:
                            dx[place] = g
                        else:
                            dx[place] += g
                    else:
                        share = g / (k * k if divide is None else divide(k))
                        view = dx[n, c, i * stride:i * stride + k, j * stride:j * stride + k]
                        if assign:
                            view[...] = share
                        else:
                            view += share
    return dx


def max_pool_scatter(x, upstream, kernel_size, stride):
    """torch's own indices of the largest values, and scatter_add to send upstream there."""
    _, where = F.max_pool2d(x, kernel_size, stride, return_indices=True)
    n, c = x.shape[:2]
    flat = torch.zeros(n, c, x.shape[2] * x.shape[3], dtype=torch.float64)
    flat.scatter_add_(2, where.reshape(n, c, -1), upstream.reshape(n, c, -1))
    return flat.reshape(x.shape)


def max_pool_unfold(x, upstream, kernel_size, stride):
    """Unfold the windows, one-hot at each window's argmax, fold them back (fold adds overlaps)."""
    n, c, h, w = x.shape
    k = kernel_size
    windows = F.unfold(x.reshape(n * c, 1, h, w), k, stride=stride)  # (N·C, k·k, Ho·Wo)
    hit = F.one_hot(windows.argmax(dim=1), k * k).transpose(1, 2).to(torch.float64)
    return F.fold(hit * upstream.reshape(n * c, 1, -1), (h, w), k, stride=stride).reshape(x.shape)


def max_pool_every(x, upstream, kernel_size, stride):
    return pool_loops(x, upstream, kernel_size, stride, kind="avg", divide=lambda k: 1)


def avg_pool_fold(x, upstream, kernel_size, stride):
    n, c, h, w = x.shape
    k = kernel_size
    shares = (upstream.reshape(n * c, 1, -1) / (k * k)).expand(-1, k * k, -1)
    return F.fold(shares, (h, w), k, stride=stride).reshape(x.shape)


def avg_pool_transposed(x, upstream, kernel_size, stride):
    """A transposed convolution of upstream with a k × k kernel of 1/k² per channel."""
    n, c, h, w = x.shape
    k = kernel_size
    ho, wo = upstream.shape[-2:]
    ones = torch.full((c, 1, k, k), 1.0 / (k * k), dtype=torch.float64)
    extra = (h - k - (ho - 1) * stride, w - k - (wo - 1) * stride)  # rows and columns no window reaches
    return F.conv_transpose2d(upstream, ones, stride=stride, groups=c, output_padding=extra)


# ---- batch norm ---------------------------------------------------------------------------------

DIMS = (0, 2, 3)


def per_channel(v):
    return v[None, :, None, None]


def batchnorm2d_steps(x, gamma, beta, upstream, eps=1e-5):
    """Backwards through the graph one node at a time: x̂, then var, then mean, then x."""
    m = x.shape[0] * x.shape[2] * x.shape[3]
    mean = x.mean(dim=DIMS, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=DIMS, keepdim=True)
    std = torch.sqrt(var + eps)
    x_hat = (x - mean) / std
    dx_hat = upstream * per_channel(gamma)
    dvar = (dx_hat * (x - mean)).sum(dim=DIMS, keepdim=True) * -0.5 * std ** -3
    dmean = -(dx_hat / std).sum(dim=DIMS, keepdim=True) + dvar * (-2.0 * (x - mean)).sum(dim=DIMS, keepdim=True) / m
    dx = dx_hat / std + dvar * 2.0 * (x - mean) / m + dmean / m
    return dx, (upstream * x_hat).sum(dim=DIMS), upstream.sum(dim=DIMS)


def batchnorm2d_as_rows(x, gamma, beta, upstream, eps=1e-5):
    """Every channel a column, every (sample, row, column) a row: chapter 8's closed form."""
    n, c, h, w = x.shape
    rows = x.permute(0, 2, 3, 1).reshape(-1, c)
    g = upstream.permute(0, 2, 3, 1).reshape(-1, c)
    m = rows.shape[0]
    inv_std = 1 / torch.sqrt(rows.var(dim=0, unbiased=False) + eps)
    x_hat = (rows - rows.mean(dim=0)) * inv_std
    dgamma, dbeta = (g * x_hat).sum(dim=0), g.sum(dim=0)
    dx = gamma * inv_std / m * (m * g - dbeta - x_hat * dgamma)
    return dx.reshape(n, h, w, c).permute(0, 3, 1, 2), dgamma, dbeta


def batchnorm2d_over(dims, unbiased=False, constant=False, average=False, eps_given=True):
    """The closed form with the statistics over `dims`, and other bends."""
    def backward(x, gamma, beta, upstream, eps=1e-5):
        eps = eps if eps_given else 1e-5
        m = 1
        for d in dims:
            m *= x.shape[d]
        mean = x.mean(dim=dims, keepdim=True)
        var = x.var(dim=dims, keepdim=True, unbiased=unbiased)
        inv_std = 1 / torch.sqrt(var + eps)
        x_hat = (x - mean) * inv_std
        dgamma, dbeta = (upstream * x_hat).sum(dim=DIMS), upstream.sum(dim=DIMS)
        g = per_channel(gamma)
        if constant:
            dx = upstream * g * inv_std
        else:
            scale = m / (m - 1) if unbiased else 1.0
            dx = g * inv_std / m * (m * upstream - upstream.sum(dim=dims, keepdim=True)
                                    - scale * x_hat * (upstream * x_hat).sum(dim=dims, keepdim=True))
        if average:
            positions = x.shape[2] * x.shape[3]
            dgamma, dbeta = dgamma / positions, dbeta / positions
        return dx, dgamma, dbeta
    return backward


# ---- the network --------------------------------------------------------------------------------

KEYS = ("x", "w_conv", "b_conv", "w_fc", "b_fc")


def cnn_with(gate=lambda z: z > 0, route="first", mean=True, flip=False, keys=KEYS):
    """Forward with torch's layers, backward by hand with the loops above, bent."""
    def backward(x, w_conv, b_conv, w_fc, b_fc, targets):
        n = x.shape[0]
        kernel = w_conv.flip((-2, -1)) if flip else w_conv
        z = F.conv2d(x, kernel, b_conv, padding=1)
        a = torch.relu(z)
        pooled = F.max_pool2d(a, 2, 2)
        flat = pooled.flatten(1)
        dlogits = torch.softmax(flat @ w_fc.T + b_fc, dim=1) - F.one_hot(targets, w_fc.shape[0]).to(torch.float64)
        if mean:
            dlogits = dlogits / n
        dpooled = (dlogits @ w_fc).reshape(pooled.shape)
        if route == "first":
            da = max_pool_scatter(a, dpooled, 2, 2)
        elif route == "ties":
            up = F.interpolate(pooled, scale_factor=2, mode="nearest")
            da = (a == up) * F.interpolate(dpooled, scale_factor=2, mode="nearest")
        else:
            da = F.interpolate(dpooled, scale_factor=2, mode="nearest")
        dz = da * gate(z)
        dx, dk, db = conv2d_transposed(x, kernel, b_conv, dz, 1, 1)
        grads = (dx, dk.flip((-2, -1)) if flip else dk, db, dlogits.T @ flat, dlogits.sum(dim=0))
        return dict(zip(keys, grads))
    return backward


def cnn_loops(x, w_conv, b_conv, w_fc, b_fc, targets):
    """The chapter's own loops: conv2d_loops, pool_loops, one sample's logits at a time."""
    n = x.shape[0]
    z = F.conv2d(x, w_conv, b_conv, padding=1)
    a = z.clamp(min=0)
    pooled = F.max_pool2d(a, 2, 2)
    flat = pooled.reshape(n, -1)
    dlogits = torch.zeros(n, w_fc.shape[0], dtype=torch.float64)
    for s in range(n):
        logits = w_fc @ flat[s] + b_fc
        p = torch.exp(logits - torch.logsumexp(logits, dim=0))
        p[targets[s]] -= 1.0
        dlogits[s] = p / n
    da = pool_loops(a, (dlogits @ w_fc).reshape(pooled.shape), 2, 2)
    dz = torch.where(z > 0, da, torch.zeros_like(da))
    dx, dw, db = conv2d_loops(x, w_conv, b_conv, dz, 1, 1)
    return {"x": dx, "w_conv": dw, "b_conv": db, "w_fc": dlogits.T @ flat, "b_fc": dlogits.sum(dim=0)}


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
    ("conv1d_backward", "db averaged over the batch and positions",
     lambda x, w, b, upstream: conv1d_loops(x, w, b, upstream, db_of=lambda g: g.mean(dim=(0, 2)))),
    ("conv1d_backward", "db = (not +=) in a loop over the batch: the last sample only", conv1d_db_last_sample),
    ("conv1d_backward", "a true convolution: the kernel flipped in the forward pass",
     lambda x, w, b, upstream: conv1d_loops(x, w, b, upstream, flip=True)),
    ("conv1d_backward", "dx spread with the kernel reversed",
     lambda x, w, b, upstream: conv1d_loops(x, w, b, upstream, dx_flip=w.flip(-1))),
    ("conv1d_backward", "dw divided by the batch size",
     lambda x, w, b, upstream: conv1d_loops(x, w, b, upstream, dw_scale=1.0 / x.shape[0])),
    ("conv1d_backward", "forgets the upstream: as if it were all ones",
     lambda x, w, b, upstream: conv1d_unfold(x, w, b, torch.ones_like(upstream))),

    ("conv2d_backward", "db averaged", conv2d_with(db_of=lambda g: g.mean(dim=(0, 2, 3)))),
    ("conv2d_backward", "db from the last sample only", conv2d_with(db_of=lambda g: g[-1].sum(dim=(1, 2)))),
    ("conv2d_backward", "a true convolution: the kernel flipped in the forward pass", conv2d_with(flip=True)),
    ("conv2d_backward", "dx spread with the kernel flipped", conv2d_with(dx_flip=True)),
    ("conv2d_backward", "dx cut from the padded gradient's top-left corner", conv2d_with(corner=True)),
    ("conv2d_backward", "stride ignored in dx", conv2d_with(dx_stride=1)),
    ("conv2d_backward", "stride ignored in dx and dw", conv2d_with(dx_stride=1, dw_stride=1)),
    ("conv2d_backward", "forgets the upstream",
     lambda x, w, b, upstream, stride=1, padding=0: conv2d_unfold(x, w, b, torch.ones_like(upstream), stride, padding)),
    ("conv2d_backward", "returns float32", as_float32(conv2d_unfold)),

    ("max_pool2d_backward", "the gradient sent to every element of the window", max_pool_every),
    ("max_pool2d_backward", "the gradient spread evenly, as average pooling",
     lambda x, upstream, k, s: pool_loops(x, upstream, k, s, kind="avg")),
    ("max_pool2d_backward", "dx[argmax] = upstream: lost where windows overlap",
     lambda x, upstream, k, s: pool_loops(x, upstream, k, s, assign=True)),
    ("max_pool2d_backward", "forgets the upstream",
     lambda x, upstream, k, s: max_pool_scatter(x, torch.ones_like(upstream), k, s)),
    ("max_pool2d_backward", "returns float32", as_float32(max_pool_unfold)),

    ("avg_pool2d_backward", "not divided by the window size",
     lambda x, upstream, k, s: pool_loops(x, upstream, k, s, kind="avg", divide=lambda k: 1)),
    ("avg_pool2d_backward", "divided by k instead of k²",
     lambda x, upstream, k, s: pool_loops(x, upstream, k, s, kind="avg", divide=lambda k: k)),
    ("avg_pool2d_backward", "dx[window] = share: lost where windows overlap",
     lambda x, upstream, k, s: pool_loops(x, upstream, k, s, kind="avg", assign=True)),
    ("avg_pool2d_backward", "forgets the upstream",
     lambda x, upstream, k, s: avg_pool_fold(x, torch.ones_like(upstream), k, s)),

    ("batchnorm2d_backward", "statistics per position (over the batch only)", batchnorm2d_over((0,))),
    ("batchnorm2d_backward", "statistics per sample and channel (over H and W only)", batchnorm2d_over((2, 3))),
    ("batchnorm2d_backward", "the unbiased variance", batchnorm2d_over(DIMS, unbiased=True)),
    ("batchnorm2d_backward", "the batch statistics taken as constants", batchnorm2d_over(DIMS, constant=True)),
    ("batchnorm2d_backward", "dgamma and dbeta averaged over the positions", batchnorm2d_over(DIMS, average=True)),
    ("batchnorm2d_backward", "eps 1e-5 whatever eps is passed", batchnorm2d_over(DIMS, eps_given=False)),

    ("cnn_backward", "relu passes the gradient at exactly 0", cnn_with(gate=lambda z: z >= 0)),
    ("cnn_backward", "relu's gate forgotten", cnn_with(gate=lambda z: torch.ones_like(z))),
    ("cnn_backward", "a tie sends the gradient to every largest value", cnn_with(route="ties")),
    ("cnn_backward", "the pooled gradient sent to all four values of the window", cnn_with(route="all")),
    ("cnn_backward", "forgets to divide by N", cnn_with(mean=False)),
    ("cnn_backward", "a true convolution: the kernel flipped", cnn_with(flip=True)),
    ("cnn_backward", "keys named dx, dw_conv, ...", cnn_with(keys=("dx", "dw_conv", "db_conv", "dw_fc", "db_fc"))),
    ("cnn_backward", "returns float32", as_float32(cnn_loops)),
]

RIGHT = [
    ("conv1d_backward", "loops over samples, filters and positions", conv1d_loops),
    ("conv1d_backward", "unfold, matrix products, fold", conv1d_unfold),
    ("conv1d_backward", "a transposed convolution for dx", conv1d_transposed),

    ("conv2d_backward", "loops over the output positions", conv2d_with()),
    ("conv2d_backward", "unfold, matrix products, fold", conv2d_unfold),
    ("conv2d_backward", "a transposed convolution for dx, a dilated one for dw", conv2d_transposed),

    ("max_pool2d_backward", "loops over the windows, +=", pool_loops),
    ("max_pool2d_backward", "torch's indices and scatter_add", max_pool_scatter),
    ("max_pool2d_backward", "unfold, one-hot at the argmax, fold", max_pool_unfold),

    ("avg_pool2d_backward", "loops over the windows, +=",
     lambda x, upstream, k, s: pool_loops(x, upstream, k, s, "avg")),
    ("avg_pool2d_backward", "fold of the shares", avg_pool_fold),
    ("avg_pool2d_backward", "a transposed convolution with a kernel of 1/k²", avg_pool_transposed),

    ("batchnorm2d_backward", "step by step through x̂, var and mean", batchnorm2d_steps),
    ("batchnorm2d_backward", "chapter 8's closed form on the (N·H·W, C) rows", batchnorm2d_as_rows),
    ("batchnorm2d_backward", "the closed form with torch.var", batchnorm2d_over(DIMS)),

    ("cnn_backward", "torch's layers forward; scatter, transposed convolution backward", cnn_with()),
    ("cnn_backward", "loops, one sample's logits at a time", cnn_loops),
]

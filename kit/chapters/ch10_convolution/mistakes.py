"""The answers of chapter 10's classic mistakes of value, each computed from torch bent the way
the mistake bends it (or, for the network and the pooling loops, by hand).

A mistake that bends an exercise's own reference takes that reference as its argument, as
kit.diagnosis.without_upstream does: the references are declared in
kit/chapters/ch10_convolution/declarations.py, beside their exercises.
"""
import torch
import torch.nn.functional as F

from kit.chapters.ch10_convolution.expressions import batchnorm2d
from kit.reference import gradients


def replaced(answer, index, value):
    """The tuple `answer` with item `index` replaced by `value`."""
    return tuple(value if i == index else item for i, item in enumerate(answer))


def ones_at(reference, index):
    """The reference with its upstream gradient, args[index], taken as all ones (the local
    derivative alone), for a backward step whose upstream is not its last argument."""
    def answer(*args):
        return reference(*(torch.ones_like(a) if i == index else a for i, a in enumerate(args)))
    return answer


def positions(upstream):
    """The dims of upstream past (N, F): the positions a filter visited."""
    return tuple(range(2, upstream.dim()))


# ---- conv1d and conv2d: the bias, the batch, the kernel's orientation ------------------------

def db_averaged(reference):
    """reference(x, w, b, upstream, ...) with db the mean of upstream over the batch and positions."""
    def answer(x, w, b, upstream, *rest):
        return replaced(reference(x, w, b, upstream, *rest), 2, upstream.mean(dim=(0, *positions(upstream))))
    return answer


def db_last_sample(reference):
    """db from the batch's last sample only: `db = ...` in a loop over the batch, not `db += ...`."""
    def answer(x, w, b, upstream, *rest):
        last = upstream[-1]  # (F, positions...)
        return replaced(reference(x, w, b, upstream, *rest), 2, last.sum(dim=tuple(range(1, last.dim()))))
    return answer


def dw_averaged(reference):
    """dw divided by the batch size."""
    def answer(x, w, b, upstream, *rest):
        found = reference(x, w, b, upstream, *rest)
        return replaced(found, 1, found[1] / x.shape[0])
    return answer


def convolved(conv):
    """The gradients of a true convolution (the kernel flipped along its spatial dims) in place
    of torch's cross-correlation: conv(x, w, b, *rest) is F.conv1d or F.conv2d with its options."""
    def answer(x, w, b, upstream, *rest):
        spatial = tuple(range(2, w.dim()))
        return gradients(lambda x, w, b: conv(x, w.flip(spatial), b, *rest), x, w, b, upstream=upstream)
    return answer


def dx_convolved(conv, reference):
    """dx of the flipped kernel's forward (the kernel not flipped in the full correlation that
    spreads upstream back), with dw and db right."""
    def answer(*args):
        return replaced(reference(*args), 0, convolved(conv)(*args)[0])
    return answer


def conv2d_options(x, w, b, upstream, stride=1, padding=0):
    return stride, padding


def dx_cropped_at_corner(reference):
    """conv2d's dx taken from the padded input's gradient as its first H rows and W columns,
    rather than with p rows and columns removed on every side."""
    def answer(x, w, b, upstream, stride=1, padding=0):
        h, wd = x.shape[-2:]
        padded = F.pad(x, (padding,) * 4)
        dx_padded = gradients(lambda x: F.conv2d(x, w, b, stride=stride), padded, upstream=upstream)[0]
        return replaced(reference(x, w, b, upstream, stride, padding), 0, dx_padded[..., :h, :wd])
    return answer


def stride_ignored(reference, in_dw=False):
    """conv2d's gradients with upstream[i, j] sent back to the window at (i, j) instead of the one
    at (i·stride, j·stride): in dx, and in dw too when `in_dw`."""
    def answer(x, w, b, upstream, stride=1, padding=0):
        n, c, h, wd = x.shape
        ho, wo = upstream.shape[-2:]
        kh, kw = w.shape[-2:]
        padded = F.pad(x, (padding,) * 4)
        dx_padded = torch.zeros_like(padded)
        dx_padded[..., :ho + kh - 1, :wo + kw - 1] = F.conv_transpose2d(upstream, w)
        found = replaced(reference(x, w, b, upstream, stride, padding), 0,
                         dx_padded[..., padding:padding + h, padding:padding + wd])
        if in_dw:
            near = padded[..., :ho + kh - 1, :wo + kw - 1]
            found = replaced(found, 1, F.conv2d(near.transpose(0, 1), upstream.transpose(0, 1)).transpose(0, 1))
        return found
    return answer


# ---- pooling ---------------------------------------------------------------------------------

def windows(x, kernel, stride):
    """Every window's top-left corner (i·stride, j·stride), in row-major order."""
    ho, wo = (x.shape[-2] - kernel) // stride + 1, (x.shape[-1] - kernel) // stride + 1
    return [(i, j, i * stride, j * stride) for i in range(ho) for j in range(wo)]


def avg_pool_gradient(x, upstream, kernel_size, stride):
    return gradients(lambda x: F.avg_pool2d(x, kernel_size, stride), x, upstream=upstream)[0]


def every_element(x, upstream, kernel_size, stride):
    """upstream copied to every element of its window, the copies adding up where windows overlap."""
    return avg_pool_gradient(x, upstream, kernel_size, stride) * kernel_size ** 2


def max_assigned(x, upstream, kernel_size, stride):
    """Max pooling's gradient written with `dx[largest] = upstream`, window after window: where
    windows overlap and share their largest value, the later window overwrites the earlier."""
    dx = torch.zeros_like(x)
    k = kernel_size
    for i, j, top, left in windows(x, k, stride):
        window = x[..., top:top + k, left:left + k].reshape(*x.shape[:2], k * k)
        first = window.argmax(dim=-1)
        for n in range(x.shape[0]):
            for c in range(x.shape[1]):
                a, b = divmod(int(first[n, c]), k)
                dx[n, c, top + a, left + b] = upstream[n, c, i, j]
    return dx


def avg_assigned(x, upstream, kernel_size, stride):
    """Average pooling's gradient written with `dx[window] = upstream / k²`: where windows
    overlap, the later window overwrites the earlier one's share."""
    dx = torch.zeros_like(x)
    k = kernel_size
    for i, j, top, left in windows(x, k, stride):
        dx[..., top:top + k, left:left + k] = (upstream[..., i, j] / k ** 2)[..., None, None]
    return dx


# ---- spatial batch norm ----------------------------------------------------------------------

def normalised_over(dims, unbiased=False):
    """Batch norm's gradients with the mean and variance taken over `dims` of x instead of
    (0, 2, 3); gamma and beta still one per channel."""
    def answer(x, gamma, beta, upstream, eps=1e-5):
        def normalise(x, gamma, beta):
            mean = x.mean(dim=dims, keepdim=True)
            var = x.var(dim=dims, keepdim=True, unbiased=unbiased)
            return gamma[:, None, None] * (x - mean) / torch.sqrt(var + eps) + beta[:, None, None]
        return gradients(normalise, x, gamma, beta, upstream=upstream)
    return answer


def batchnorm2d_constant_statistics(x, gamma, beta, upstream, eps=1e-5):
    """dx with the batch mean and variance taken as constants; dgamma and dbeta right."""
    dims = (0, 2, 3)
    inv_std = 1 / torch.sqrt(x.var(dim=dims, keepdim=True, unbiased=False) + eps)
    dgamma, dbeta = gradients(lambda gamma, beta: batchnorm2d(x, gamma, beta, eps), gamma, beta, upstream=upstream)
    return upstream * gamma[:, None, None] * inv_std, dgamma, dbeta


def batchnorm2d_sums_over_batch_only(reference):
    """dgamma and dbeta summed over the batch and then averaged over the positions."""
    def answer(x, gamma, beta, upstream, eps=1e-5):
        dx, dgamma, dbeta = reference(x, gamma, beta, upstream, eps)
        positions = x.shape[2] * x.shape[3]
        return dx, dgamma / positions, dbeta / positions
    return answer


# ---- the network -----------------------------------------------------------------------------

def cnn_by_hand(gate=lambda z: z > 0, route="first", mean=True, flip=False):
    """The network's gradients by hand, bent: relu's `gate(z)`; the pooled gradient routed to the
    first largest value ("first", torch's), to every value equal to the largest ("ties"), or to
    every element of the window ("all"); with or without the mean over N; the kernel flipped."""
    def answer(x, w_conv, b_conv, w_fc, b_fc, targets):
        n, _, h, w = x.shape
        filters = w_conv.shape[0]
        kernel = w_conv.flip((-2, -1)) if flip else w_conv
        columns = F.unfold(x, 3, padding=1)  # (N, C·9, H·W)
        z = (kernel.reshape(filters, -1) @ columns).reshape(n, filters, h, w) + b_conv[:, None, None]
        a = torch.relu(z)
        blocks = a.reshape(n, filters, h // 2, 2, w // 2, 2).permute(0, 1, 2, 4, 3, 5)
        blocks = blocks.reshape(n, filters, h // 2, w // 2, 4)
        pooled, first = blocks.max(dim=-1)
        flat = pooled.reshape(n, -1)
        probabilities = torch.softmax(flat @ w_fc.T + b_fc, dim=1)
        dlogits = probabilities - F.one_hot(targets, w_fc.shape[0]).to(torch.float64)
        dlogits = dlogits / n if mean else dlogits
        dpooled = (dlogits @ w_fc).reshape(pooled.shape)
        if route == "first":
            where = F.one_hot(first, 4).to(torch.float64)
        elif route == "ties":
            where = (blocks == pooled[..., None]).to(torch.float64)
        else:
            where = torch.ones_like(blocks)
        dblocks = where * dpooled[..., None]
        da = dblocks.reshape(n, filters, h // 2, w // 2, 2, 2).permute(0, 1, 2, 4, 3, 5).reshape(n, filters, h, w)
        dz = da * gate(z).to(torch.float64)
        dz_flat = dz.reshape(n, filters, h * w)
        dkernel = torch.einsum("nfp,nkp->fk", dz_flat, columns).reshape(w_conv.shape)
        dx = F.fold(kernel.reshape(filters, -1).T @ dz_flat, (h, w), 3, padding=1)
        return {"x": dx, "w_conv": dkernel.flip((-2, -1)) if flip else dkernel, "b_conv": dz.sum(dim=(0, 2, 3)),
                "w_fc": dlogits.T @ flat, "b_fc": dlogits.sum(dim=0)}
    return answer

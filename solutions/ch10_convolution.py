"""Chapter 10: convolution. Reference solutions, by hand.

Each layer is written as one loop over the kernel's offsets: at offset (a, b) the kernel's
weight w[:, :, a, b] meets, over all output positions at once, the strided slice of the
(padded) input starting at (a, b). The backward step adds every offset's share, the sum rule.
"""
import torch
from torch import Tensor


def conv1d_backward(x: Tensor, w: Tensor, b: Tensor, upstream: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    kernel = w.shape[-1]
    positions = upstream.shape[-1]
    dx = torch.zeros_like(x)
    dw = torch.zeros_like(w)
    for k in range(kernel):
        # output i read x[:, :, i + k] with weight w[:, :, k]
        dw[:, :, k] = torch.einsum("nfi,nci->fc", upstream, x[:, :, k:k + positions])
        dx[:, :, k:k + positions] += torch.einsum("nfi,fc->nci", upstream, w[:, :, k])
    return dx, dw, upstream.sum(dim=(0, 2))


def _window(offset: int, count: int, stride: int) -> slice:
    """The rows (or columns) that offset `offset` of the kernel reads, over `count` outputs."""
    return slice(offset, offset + stride * (count - 1) + 1, stride)


def conv2d_backward(x: Tensor, w: Tensor, b: Tensor, upstream: Tensor, stride: int = 1,
                    padding: int = 0) -> tuple[Tensor, Tensor, Tensor]:
    n, c, h, wd = x.shape
    kh, kw = w.shape[-2:]
    ho, wo = upstream.shape[-2:]
    padded = torch.zeros(n, c, h + 2 * padding, wd + 2 * padding, dtype=torch.float64)
    padded[:, :, padding:padding + h, padding:padding + wd] = x
    dpadded = torch.zeros_like(padded)
    dw = torch.zeros_like(w)
    for a in range(kh):
        rows = _window(a, ho, stride)
        for bb in range(kw):
            columns = _window(bb, wo, stride)
            dw[:, :, a, bb] = torch.einsum("nfij,ncij->fc", upstream, padded[:, :, rows, columns])
            dpadded[:, :, rows, columns] += torch.einsum("nfij,fc->ncij", upstream, w[:, :, a, bb])
    dx = dpadded[:, :, padding:padding + h, padding:padding + wd].clone()
    return dx, dw, upstream.sum(dim=(0, 2, 3))


def _windows(x: Tensor, kernel_size: int, stride: int, ho: int, wo: int) -> Tensor:
    """(N, C, Ho, Wo, k·k): every window's values, in row-major order inside the window."""
    return torch.stack([x[:, :, _window(a, ho, stride), _window(bb, wo, stride)]
                        for a in range(kernel_size) for bb in range(kernel_size)], dim=-1)


def max_pool2d_backward(x: Tensor, upstream: Tensor, kernel_size: int, stride: int) -> Tensor:
    ho, wo = upstream.shape[-2:]
    largest = _windows(x, kernel_size, stride, ho, wo).argmax(dim=-1)  # the first, on a tie
    dx = torch.zeros_like(x)
    for a in range(kernel_size):
        for bb in range(kernel_size):
            hit = largest == a * kernel_size + bb
            dx[:, :, _window(a, ho, stride), _window(bb, wo, stride)] += upstream * hit
    return dx


def avg_pool2d_backward(x: Tensor, upstream: Tensor, kernel_size: int, stride: int) -> Tensor:
    ho, wo = upstream.shape[-2:]
    dx = torch.zeros_like(x)
    share = upstream / kernel_size ** 2
    for a in range(kernel_size):
        for bb in range(kernel_size):
            dx[:, :, _window(a, ho, stride), _window(bb, wo, stride)] += share
    return dx


def batchnorm2d_backward(x: Tensor, gamma: Tensor, beta: Tensor, upstream: Tensor,
                         eps: float = 1e-5) -> tuple[Tensor, Tensor, Tensor]:
    dims = (0, 2, 3)
    m = x.shape[0] * x.shape[2] * x.shape[3]
    centred = x - x.mean(dim=dims, keepdim=True)
    inv_std = 1 / torch.sqrt((centred ** 2).mean(dim=dims, keepdim=True) + eps)
    x_hat = centred * inv_std
    dgamma = (upstream * x_hat).sum(dim=dims)
    dbeta = upstream.sum(dim=dims)
    g, dg, db = gamma[:, None, None], dgamma[:, None, None], dbeta[:, None, None]
    dx = g * inv_std / m * (m * upstream - db - x_hat * dg)
    return dx, dgamma, dbeta


def cnn_backward(x: Tensor, w_conv: Tensor, b_conv: Tensor, w_fc: Tensor, b_fc: Tensor,
                 targets: Tensor) -> dict[str, Tensor]:
    n, _, h, wd = x.shape
    # forward, keeping what the backward pass needs
    padded = torch.zeros(n, x.shape[1], h + 2, wd + 2, dtype=torch.float64)
    padded[:, :, 1:h + 1, 1:wd + 1] = x
    z = torch.zeros(n, w_conv.shape[0], h, wd, dtype=torch.float64) + b_conv[:, None, None]
    for a in range(3):
        for bb in range(3):
            z += torch.einsum("ncij,fc->nfij", padded[:, :, a:a + h, bb:bb + wd], w_conv[:, :, a, bb])
    relu = torch.relu(z)
    pooled = _windows(relu, 2, 2, h // 2, wd // 2).max(dim=-1).values
    flat = pooled.reshape(n, -1)
    logits = flat @ w_fc.T + b_fc
    # backward, one machine at a time
    e = torch.exp(logits - logits.max(dim=1, keepdim=True).values)
    dlogits = e / e.sum(dim=1, keepdim=True)
    dlogits[torch.arange(n), targets] -= 1
    dlogits = dlogits / n
    dflat = dlogits @ w_fc
    drelu = max_pool2d_backward(relu, dflat.reshape(pooled.shape), 2, 2)
    dz = drelu * (z > 0)
    dx, dw_conv, db_conv = conv2d_backward(x, w_conv, b_conv, dz, 1, 1)
    return {"x": dx, "w_conv": dw_conv, "b_conv": db_conv, "w_fc": dlogits.T @ flat, "b_fc": dlogits.sum(dim=0)}

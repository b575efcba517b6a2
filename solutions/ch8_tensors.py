"""Chapter 8: tensors. Reference solutions, by hand."""
import torch
from torch import Tensor


def unbroadcast(grad: Tensor, shape: tuple[int, ...]) -> Tensor:
    while grad.dim() > len(shape):  # dims that broadcasting added in front
        grad = grad.sum(dim=0)
    for dim, size in enumerate(shape):  # dims of size 1 that broadcasting stretched
        if size == 1 and grad.shape[dim] != 1:
            grad = grad.sum(dim=dim, keepdim=True)
    return grad


def matmul_backward(A: Tensor, B: Tensor, upstream: Tensor) -> tuple[Tensor, Tensor]:
    return upstream @ B.T, A.T @ upstream


def linear_backward(x: Tensor, W: Tensor, b: Tensor, upstream: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    dx, dWT = matmul_backward(x, W.T, upstream)
    return dx, dWT.T, upstream.sum(dim=0)


def tanh_backward(x: Tensor, upstream: Tensor) -> Tensor:
    return upstream * (1 - torch.tanh(x) ** 2)


def softmax(x: Tensor) -> Tensor:
    e = torch.exp(x - x.max(dim=-1, keepdim=True).values)
    return e / e.sum(dim=-1, keepdim=True)


def softmax_backward(x: Tensor, upstream: Tensor) -> Tensor:
    s = softmax(x)
    return s * (upstream - (upstream * s).sum(dim=-1, keepdim=True))


def mse_backward(pred: Tensor, target: Tensor) -> Tensor:
    return 2 * (pred - target) / pred.numel()


def cross_entropy_backward(logits: Tensor, targets: Tensor) -> Tensor:
    n = logits.shape[0]
    grad = softmax(logits)
    grad[torch.arange(n), targets] -= 1
    return grad / n


def batchnorm_backward(x: Tensor, gamma: Tensor, beta: Tensor, upstream: Tensor,
                       eps: float = 1e-5) -> tuple[Tensor, Tensor, Tensor]:
    n = x.shape[0]
    centred = x - x.mean(dim=0)
    inv_std = 1 / torch.sqrt((centred ** 2).mean(dim=0) + eps)
    x_hat = centred * inv_std
    dgamma = (upstream * x_hat).sum(dim=0)
    dbeta = upstream.sum(dim=0)
    dx = gamma * inv_std / n * (n * upstream - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta


def embedding_backward(indices: Tensor, num_embeddings: int, upstream: Tensor) -> Tensor:
    dim = upstream.shape[-1]
    dW = torch.zeros(num_embeddings, dim, dtype=torch.float64)
    return dW.index_add(0, indices.reshape(-1), upstream.reshape(-1, dim))


def mlp_backward(x: Tensor, W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor,
                 targets: Tensor) -> dict[str, Tensor]:
    h = x @ W1.T + b1
    a = torch.relu(h)
    logits = a @ W2.T + b2
    dlogits = cross_entropy_backward(logits, targets)
    da, dW2, db2 = linear_backward(a, W2, b2, dlogits)
    dh = da * (h > 0)
    dx, dW1, db1 = linear_backward(x, W1, b1, dh)
    return {"x": dx, "W1": dW1, "b1": db1, "W2": dW2, "b2": db2}

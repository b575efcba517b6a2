"""Chapter 9: training. Reference solutions, by hand.

Self-contained: the forward and backward pass of the chapter 8 MLP are written out here,
logits = relu(x @ W1.T + b1) @ W2.T + b2, loss = mean cross-entropy.
"""
import torch


def loss_and_gradients(params: dict, x: torch.Tensor, targets: torch.Tensor):
    """(loss as a float, gradients as a dict with the keys of params)."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    n = x.shape[0]
    rows = torch.arange(n)

    # forward
    pre = x @ W1.T + b1  # (N, hidden)
    hidden = pre.clamp(min=0.0)
    logits = hidden @ W2.T + b2  # (N, classes)
    shifted = logits - logits.amax(dim=1, keepdim=True)  # the same softmax, no overflow
    log_total = shifted.exp().sum(dim=1).log()
    loss = (log_total - shifted[rows, targets]).mean()

    # backward: each gradient is the upstream one times the local derivative
    d_logits = (shifted - log_total[:, None]).exp()  # softmax
    d_logits[rows, targets] -= 1.0
    d_logits /= n  # the mean shares the loss among the N rows
    d_W2 = d_logits.T @ hidden
    d_b2 = d_logits.sum(dim=0)
    d_pre = (d_logits @ W2) * (pre > 0)
    d_W1 = d_pre.T @ x
    d_b1 = d_pre.sum(dim=0)
    return loss.item(), {"W1": d_W1, "b1": d_b1, "W2": d_W2, "b2": d_b2}


def sgd_step(params: dict, x: torch.Tensor, targets: torch.Tensor, lr: float):
    loss, grads = loss_and_gradients(params, x, targets)
    return loss, {key: params[key] - lr * grads[key] for key in params}


def train(params: dict, x: torch.Tensor, targets: torch.Tensor, lr: float, steps: int) -> list:
    losses = []
    for _ in range(steps):
        loss, params = sgd_step(params, x, targets, lr)
        losses.append(loss)
    return losses

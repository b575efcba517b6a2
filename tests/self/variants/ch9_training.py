"""Chapter 9 variants: answers that must fail (WRONG) and answers written differently that must pass (RIGHT).

Each entry is (exercise name, what it does, replacement): a function that replaces the
exercise's function, or a dict of module attributes to replace. The variants build on the
reference solution's `loss_and_gradients`, or on the backward written differently below.
"""
from pathlib import Path

import torch

from kit.implementation import Implementation

SOLUTION = Implementation(Path(__file__).resolve().parents[3] / "solutions").module("ch9_training")
gradients = SOLUTION.loss_and_gradients


def other_gradients(params, x, targets, relu_passes_at_zero=False):
    """The same backward in another order and form: softmax, one-hot, a float mask, einsum."""
    pre = torch.addmm(params["b1"], x, params["W1"].T)
    mask = (pre >= 0) if relu_passes_at_zero else (pre > 0)
    hidden = pre * mask
    logits = torch.addmm(params["b2"], hidden, params["W2"].T)
    probs = torch.softmax(logits, dim=1)
    one_hot = torch.nn.functional.one_hot(targets, logits.shape[1]).to(torch.float64)
    loss = -(one_hot * torch.log_softmax(logits, dim=1)).sum() / len(targets)
    d_logits = (probs - one_hot) / len(targets)
    d_pre = torch.einsum("nc,ch->nh", d_logits, params["W2"]) * mask.to(torch.float64)
    return loss.item(), {"b2": d_logits.sum(0), "W2": torch.einsum("nc,nh->ch", d_logits, hidden),
                         "b1": d_pre.sum(0), "W1": torch.einsum("nh,ni->hi", d_pre, x)}


def step_with(update, loss_after=False, backward=gradients):
    """An sgd_step that moves each parameter p with gradient g to update(p, g, lr, N)."""
    def sgd_step(params, x, targets, lr):
        loss, grads = backward(params, x, targets)
        new = {key: update(params[key], grads[key], lr, len(targets)) for key in params}
        return (backward(new, x, targets)[0] if loss_after else loss), new
    return sgd_step


def in_place_step(params, x, targets, lr):
    loss, grads = gradients(params, x, targets)
    for key in params:
        params[key] -= lr * grads[key]  # rewrites the caller's tensors
    return loss, params


def cloned_step(params, x, targets, lr):
    loss, grads = gradients(params, x, targets)
    new = {key: value.clone() for key, value in params.items()}
    for key in new:
        new[key] -= lr * grads[key]  # in place, but on copies
    return loss, new


def train_with(step, count=lambda steps: steps, after=False, restart=False):
    """A train loop over `step`, with `count(steps)` steps, recording the loss after each
    step instead of before, or starting every step from the first params."""
    def train(params, x, targets, lr, steps):
        losses, current = [], params
        for _ in range(count(steps)):
            loss, new = step(params if restart else current, x, targets, lr)
            losses.append(step(new, x, targets, lr)[0] if after else loss)
            current = new
        return losses
    return train


def inline_train(params, x, targets, lr, steps):
    losses, current = [], {key: value.clone() for key, value in params.items()}
    for _ in range(steps):
        loss, grads = other_gradients(current, x, targets)
        losses.append(loss)
        for key in current:
            current[key].sub_(grads[key], alpha=lr)
    return tuple(losses)


WRONG = [
    ("sgd_step", "updates params in place (p -= lr * g) and returns them", in_place_step),
    ("sgd_step", "gradient ascent: p + lr·g", step_with(lambda p, g, lr, n: p + lr * g)),
    ("sgd_step", "returns the loss after the step", step_with(lambda p, g, lr, n: p - lr * g, loss_after=True)),
    ("sgd_step", "the gradient of the summed loss, not the mean", step_with(lambda p, g, lr, n: p - lr * n * g)),
    ("sgd_step", "ignores lr", step_with(lambda p, g, lr, n: p - g)),
    ("sgd_step", "multiplies by lr twice", step_with(lambda p, g, lr, n: p - lr * lr * g)),
    ("sgd_step", "subtracts the step twice", step_with(lambda p, g, lr, n: p - lr * g - lr * g)),
    ("sgd_step", "leaves the biases where they were",
     step_with(lambda p, g, lr, n: p if p.dim() == 1 else p - lr * g)),
    ("sgd_step", "the summed loss and its gradients",
     lambda params, x, targets, lr: (len(targets) * gradients(params, x, targets)[0],
                                     step_with(lambda p, g, lr, n: p - lr * n * g)(params, x, targets, lr)[1])),
    ("sgd_step", "the ReLU passes the gradient at exactly 0",
     step_with(lambda p, g, lr, n: p - lr * g, backward=lambda *a: other_gradients(*a, relu_passes_at_zero=True))),
    ("sgd_step", "returns the loss as a 0-d tensor",
     lambda *args: (torch.tensor(SOLUTION.sgd_step(*args)[0], dtype=torch.float64), SOLUTION.sgd_step(*args)[1])),
    ("train", "records the loss after each step", train_with(SOLUTION.sgd_step, after=True)),
    ("train", "one step too many", train_with(SOLUTION.sgd_step, count=lambda steps: steps + 1)),
    ("train", "one step too few", train_with(SOLUTION.sgd_step, count=lambda steps: steps - 1)),
    ("train", "every step starts again from the first params", train_with(SOLUTION.sgd_step, restart=True)),
    ("train", "steps with an sgd_step that updates params in place", train_with(in_place_step)),
    ("train", "gradient ascent in every step", train_with(step_with(lambda p, g, lr, n: p + lr * g))),
    ("train", "steps with a ReLU that passes the gradient at exactly 0",
     train_with(step_with(lambda p, g, lr, n: p - lr * g,
                          backward=lambda *a: other_gradients(*a, relu_passes_at_zero=True)))),
    ("train", "returns the losses as a tensor", lambda *args: torch.tensor(SOLUTION.train(*args), dtype=torch.float64)),
]

RIGHT = [
    ("sgd_step", "a backward in another order and form (softmax, one-hot, einsum)",
     step_with(lambda p, g, lr, n: p - lr * g, backward=other_gradients)),
    ("sgd_step", "updates copies in place (clone, then -=)", cloned_step),
    ("train", "a loop over its own sgd_step with a differently written backward",
     train_with(step_with(lambda p, g, lr, n: p - lr * g, backward=other_gradients))),
    ("train", "one inlined loop updating cloned tensors in place, returning a tuple", inline_train),
]

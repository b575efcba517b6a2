"""Chapter 13's AdamW references run the function torch.optim.AdamW.step runs (its class is not
built in the kit: its constructor imports torch._dynamo, seconds per process). Here the class
itself is built, and the references must agree with it: one step from any moments and step
number, and whole training runs."""
import pytest
import torch

from kit.chapters.ch13_gpt import inputs
from kit.chapters.ch13_gpt.declarations import adamw_step, train_gpt
from kit.chapters.ch13_gpt.expressions import gpt_loss, tensors_of
from kit.compare import compare


def t(values):
    return torch.tensor(values, dtype=torch.float64)


def by_the_class(param, grad, m, v, step, lr, betas, eps, weight_decay):
    p = param.clone().requires_grad_()
    optimizer = torch.optim.AdamW([p], lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    p.grad = grad.clone()
    optimizer.state[p] = {"step": torch.tensor(float(step - 1)), "exp_avg": m.clone(), "exp_avg_sq": v.clone()}
    optimizer.step()
    state = optimizer.state[p]
    return p.detach(), state["exp_avg"], state["exp_avg_sq"]


STEPS = [
    (t([1.0, -2.0]), t([0.5, 0.25]), t([0.0, 0.0]), t([0.0, 0.0]), 1, 0.1, (0.9, 0.999), 1e-8, 0.01),
    (t([[0.5, 2.0], [-1.0, 0.0]]), t([[1.0, -1.0], [0.0, 2.0]]), t([[0.2, 0.0], [0.5, -0.5]]),
     t([[1e-6, 0.0], [0.25, 1.0]]), 100, 0.5, (0.8, 0.99), 0.1, 0.1),
    (t([3.0]), t([-4.0]), t([1.5]), t([9.0]), 7, 1e-3, (0.5, 0.9), 1e-6, 0.0),
    (t([0.0, 1.0, -1.0]), t([0.0, 0.0, 0.0]), t([0.0, 0.1, 0.0]), t([0.0, 0.0, 0.01]), 2, 0.3, (0.0, 0.0), 1e-8, 1.0),
]


@pytest.mark.parametrize("args", STEPS, ids=lambda a: f"step {a[4]}" if isinstance(a, tuple) else "")
def test_one_adamw_step_is_torch_optim_adamws(args):
    assert compare(by_the_class(*args), adamw_step(*args), "derivative") is None


@pytest.mark.parametrize("problem", ["TWO_BLOCKS", "SAME_TOKEN"])
def test_training_is_torch_optim_adamws(problem):
    tokens, targets, params, n_heads = getattr(inputs, problem)
    leaves = {k: ([{n: w.clone().requires_grad_() for n, w in b.items()} for b in v] if k == "blocks"
                  else v.clone().requires_grad_()) for k, v in params.items()}
    flat = tensors_of(leaves)
    optimizer = torch.optim.AdamW(flat, lr=0.05, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    losses = []
    for _ in range(6):
        optimizer.zero_grad()
        loss = gpt_loss(tokens, targets, leaves, n_heads)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    assert compare(losses, train_gpt(params, tokens, targets, n_heads, 6, 0.05), "accumulated") is None

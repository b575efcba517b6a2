"""torch's AdamW, as the references and the misconceptions run it.

`torch.optim.adam.adam` is the function torch.optim.AdamW.step runs (with
decoupled_weight_decay=True, what AdamW passes it), on the optimizer's state: exp_avg (m),
exp_avg_sq (v) and step, a float tensor counting the steps taken so far, which the function
increases by one before it uses it. The class itself is not constructed: its constructor
imports torch._dynamo, which takes two seconds, once per process (chapter 9 does the same with
SGD). On the CPU, in float64, with foreach, fused, capturable, amsgrad and maximize off, the
class runs exactly this single-tensor update.
"""
import torch
from torch.optim.adam import adam

from kit.chapters.ch13_gpt.expressions import gpt_loss, mapped, tensors_of
from kit.reference import leaf

BETAS, EPS, WEIGHT_DECAY = (0.9, 0.999), 1e-8, 0.01


def update(params, grads, ms, vs, taken, lr, betas, eps, weight_decay, decoupled=True):
    """One AdamW step (Adam with L2 when decoupled is False) on lists, in place; `taken` the steps
    each parameter has taken before this one (so this is step number taken + 1)."""
    adam(params, grads, ms, vs, [], [torch.tensor(float(n)) for n in taken], foreach=False, capturable=False,
         differentiable=False, fused=None, grad_scale=None, found_inf=None, has_complex=False,
         decoupled_weight_decay=decoupled, amsgrad=False, beta1=betas[0], beta2=betas[1], lr=lr,
         weight_decay=weight_decay, eps=eps, maximize=False)


def one_step(param, grad, m, v, step, lr, betas, eps, weight_decay):
    """(param, m, v) after AdamW step number `step`, on copies."""
    p, m, v = param.clone(), m.clone(), v.clone()
    update([p], [grad.clone()], [m], [v], [step - 1], lr, betas, eps, weight_decay)
    return p, m, v


def trained(params, tokens, targets, n_heads, steps, lr, *, decoupled=True, reset=False, after=False,
            numbered=lambda step, i, count: step, weight_decay=WEIGHT_DECAY) -> list:
    """The loss before each of `steps` AdamW steps over every parameter, trained with
    torch.autograd on copies; the keywords bend the loop the way a misconception does: Adam with
    L2 (decoupled False), the moments back to zero at every step (reset), the loss after each
    step (after), the step number of parameter i at step s (numbered)."""
    leaves = mapped(leaf, params)
    flat = tensors_of(leaves)
    ms, vs = [torch.zeros_like(p) for p in flat], [torch.zeros_like(p) for p in flat]
    losses = []
    for step in range(1, steps + 1 + after):
        for p in flat:
            p.grad = None
        loss = gpt_loss(tokens, targets, leaves, n_heads)
        losses.append(loss.item())
        if step > steps:
            break
        loss.backward()
        if reset:
            ms, vs = [torch.zeros_like(p) for p in flat], [torch.zeros_like(p) for p in flat]
        with torch.no_grad():
            update(flat, [p.grad for p in flat], ms, vs, [numbered(step, i, len(flat)) - 1 for i in range(len(flat))],
                   lr, BETAS, EPS, weight_decay, decoupled)
    return losses[1:] if after else losses

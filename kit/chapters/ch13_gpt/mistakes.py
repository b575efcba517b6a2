"""The answers of chapter 13's classic mistakes, each computed by trusted code: torch.autograd on
the GPT bent the way the mistake bends it, torch's AdamW run on a bent loop, or Adam's formula
written out with the mistake in it."""
import math

import torch

from kit.chapters.ch13_gpt.expressions import gpt_loss, mapped
from kit.chapters.ch13_gpt.optim import trained
from kit.reference import leaf


def loss_and_gradients(tokens, targets, params, n_heads, bend=lambda leaves: {}):
    """(loss, gradients of every parameter in params' structure) by torch.autograd; bend(leaves)
    gives gpt_loss's keywords (a use of wte detached, a residual path detached)."""
    leaves = mapped(leaf, params)
    loss = gpt_loss(tokens, targets, leaves, n_heads, **bend(leaves))
    loss.backward()
    return loss.item(), mapped(lambda p: p.grad.detach() if p.grad is not None else torch.zeros_like(p), leaves)


def lookup_only(tokens, targets, params, n_heads):
    """wte's gradient from the lookup alone (the output layer's wte taken as a constant)."""
    return loss_and_gradients(tokens, targets, params, n_heads, lambda leaves: {"output": leaves["wte"].detach()})


def output_only(tokens, targets, params, n_heads):
    """wte's gradient from the output layer alone (the looked-up rows taken as constants)."""
    return loss_and_gradients(tokens, targets, params, n_heads, lambda leaves: {"lookup": leaves["wte"].detach()})


def residual_dropped(keep):
    """The gradients with a block's residual path (attention's keep[0], the MLP's keep[1]) not added."""
    return lambda tokens, targets, params, n_heads: loss_and_gradients(
        tokens, targets, params, n_heads, lambda leaves: {"keep": keep})


def wpe_averaged(reference):
    def answer(tokens, targets, params, n_heads):
        loss, grads = reference(tokens, targets, params, n_heads)
        return loss, {**grads, "wpe": grads["wpe"] / tokens.shape[0]}
    return answer


def wpe_unwritten(reference):
    """wpe's gradient in a buffer from torch.empty_like with rows T.. never written: NaN there, as
    the learner's code allocates it (kit.implementation.unwritten_memory_is_nan)."""
    def answer(tokens, targets, params, n_heads):
        loss, grads = reference(tokens, targets, params, n_heads)
        wpe = grads["wpe"].clone()
        wpe[tokens.shape[1]:] = math.nan
        return loss, {**grads, "wpe": wpe}
    return answer


def adamw_formula(param, grad, m, v, step, lr, betas, eps, weight_decay, *, l2=False, correct_m=True,
                  correct_v=True, number=lambda step: step, decay_after=False, eps_inside=False,
                  eps_uncorrected=False, decay_without_lr=False):
    """AdamW written out, with the mistakes as switches."""
    beta1, beta2 = betas
    t = number(step)
    if l2:
        grad = grad + weight_decay * param
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    m_hat = m / (1 - beta1 ** t) if correct_m else m
    v_hat = v / (1 - beta2 ** t) if correct_v else v
    if eps_inside:
        denominator = torch.sqrt(v_hat + eps)
    elif eps_uncorrected:  # the Adam paper's folded form: eps added to √v, not to √v̂
        denominator = (torch.sqrt(v) + eps) / math.sqrt(1 - beta2 ** t)
    else:
        denominator = torch.sqrt(v_hat) + eps
    shrink = 1.0 if l2 else (1 - weight_decay) if decay_without_lr else (1 - lr * weight_decay)
    if decay_after:
        return (param - lr * m_hat / denominator) * shrink, m, v
    return param * shrink - lr * m_hat / denominator, m, v


def bent_adamw(**mistake):
    return lambda *args: adamw_formula(*args, **mistake)


def training(**bend):
    return lambda params, tokens, targets, n_heads, steps, lr: trained(params, tokens, targets, n_heads, steps, lr,
                                                                       **bend)


def decay_without_lr(params, tokens, targets, n_heads, steps, lr):
    """p·(1 − weight_decay) each step: torch multiplies the decay by lr, so ask it for 0.01 / lr."""
    return trained(params, tokens, targets, n_heads, steps, lr, weight_decay=0.01 / lr)

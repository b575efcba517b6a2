"""Chapter 13 variants: answers that must fail (WRONG) and answers written differently that must pass (RIGHT).

Each entry is (exercise name, what it does, replacement): a function that replaces the
exercise's function, or a dict of module attributes to replace. The variants build on the
reference solutions (solutions/ch13_gpt.py, and chapter 12's and chapter 8's, as a learner's
chapter 13 imports them), or on the pieces written differently below.
"""
import math
import sys
from pathlib import Path

import torch

from kit.implementation import Implementation

SOLUTION = Implementation(Path(__file__).resolve().parents[3] / "solutions").module("ch13_gpt")
# the chapter 12 and chapter 8 modules the solution imports (in a generated submission: the
# student's own, grading/generate.py)
CH12 = sys.modules[SOLUTION.block_backward.__module__]
CH8 = sys.modules[SOLUTION.embedding_backward.__module__]
KEYS = SOLUTION.BLOCK_KEYS


# ---- gpt_backward ------------------------------------------------------------------------------

def block_step_by_step(x, p, n_heads, upstream, attention_residual=True, mlp_residual=True):
    """block_backward from chapter 12's smaller steps, each residual's gradient added (or not)."""
    c = x.shape[-1]
    a = SOLUTION.layer_norm(x, p["ln1_w"], p["ln1_b"])
    h = x + SOLUTION.attention_forward(a, p, n_heads)
    b = SOLUTION.layer_norm(h, p["ln2_w"], p["ln2_b"])
    u = b @ p["w_fc"].T + p["b_fc"]
    g = 0.5 * u * (1 + torch.erf(u / math.sqrt(2)))
    width = u.shape[-1]
    d_u = CH12.gelu_backward(u, upstream @ p["w_proj"])
    d_h, d_ln2_w, d_ln2_b = CH12.layernorm_backward(h, p["ln2_w"], p["ln2_b"], d_u @ p["w_fc"])
    if mlp_residual:
        d_h = d_h + upstream
    found = CH12.self_attention_backward(a, p["w_qkv"], p["b_qkv"], p["w_out"], p["b_out"], n_heads, d_h)
    d_x, d_ln1_w, d_ln1_b = CH12.layernorm_backward(x, p["ln1_w"], p["ln1_b"], found["x"])
    return {"x": d_x + d_h if attention_residual else d_x, "ln1_w": d_ln1_w, "ln1_b": d_ln1_b,
            "w_qkv": found["w_qkv"], "b_qkv": found["b_qkv"], "w_out": found["w_out"], "b_out": found["b_out"],
            "ln2_w": d_ln2_w, "ln2_b": d_ln2_b,
            "w_fc": torch.einsum("...h,...c->hc", d_u, b), "b_fc": d_u.reshape(-1, width).sum(0),
            "w_proj": torch.einsum("...c,...h->ch", upstream, g), "b_proj": upstream.reshape(-1, c).sum(0)}


def gpt_with(lookup_use=True, output_use=True, wpe_rows="full", wpe_mean=False, block=CH12.block_backward,
             wpe_buffer=torch.zeros_like):
    """gpt_backward written with einsum and a while loop down the blocks, bent as asked."""
    def gpt_backward(tokens, targets, params, n_heads):
        wte, blocks = params["wte"], params["blocks"]
        batch, steps = tokens.shape
        h = [wte[tokens] + params["wpe"][:steps]]
        for p in blocks:
            h.append(SOLUTION.block_forward(h[-1], p, n_heads))
        normed = SOLUTION.layer_norm(h[-1], params["lnf_w"], params["lnf_b"])
        logits = torch.einsum("btc,vc->btv", normed, wte)
        probs = torch.softmax(logits, dim=-1)
        d_logits = (probs - torch.nn.functional.one_hot(targets, wte.shape[0]).to(torch.float64)) / tokens.numel()
        loss = -torch.log(torch.gather(probs, -1, targets[..., None])).mean()
        d_top, d_lnf_w, d_lnf_b = CH12.layernorm_backward(h[-1], params["lnf_w"], params["lnf_b"],
                                                         torch.einsum("btv,vc->btc", d_logits, wte))
        grads = [None] * len(blocks)
        i, d_h = len(blocks), d_top
        while i > 0:
            i -= 1
            found = block(h[i], blocks[i], n_heads, d_h)
            d_h = found["x"]
            grads[i] = {key: found[key] for key in KEYS}
        d_wte = torch.zeros_like(wte)
        if output_use:
            d_wte = d_wte + torch.einsum("btv,btc->vc", d_logits, normed)
        if lookup_use:
            d_wte = d_wte + CH8.embedding_backward(tokens, wte.shape[0], d_h)
        d_wpe = wpe_buffer(params["wpe"])
        for t in range(steps):
            d_wpe[t] = d_h[:, t].sum(0) / (batch if wpe_mean else 1)
        if wpe_rows == "used":
            d_wpe = d_wpe[:steps]
        return loss.item(), {"wte": d_wte, "wpe": d_wpe, "blocks": grads, "lnf_w": d_lnf_w, "lnf_b": d_lnf_b}
    return gpt_backward


# ---- adamw_step --------------------------------------------------------------------------------

def adamw_with(l2=False, correct_m=True, correct_v=True, first=1, decay_after=False, eps_inside=False,
               decay_with_lr=True):
    """adamw_step in the textbook form, bent as asked; `first` the number the learner gives the
    first step (0: the steps numbered from 0)."""
    def adamw_step(param, grad, m, v, step, lr, betas, eps, weight_decay):
        beta1, beta2 = betas
        t = step + 1 - first
        if l2:
            grad = grad + weight_decay * param
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad ** 2
        m_hat = m / (1 - beta1 ** t) if correct_m else m
        v_hat = v / (1 - beta2 ** t) if correct_v else v
        move = lr * m_hat / (torch.sqrt(v_hat + eps) if eps_inside else torch.sqrt(v_hat) + eps)
        shrink = 1.0 if l2 else 1 - (lr * weight_decay if decay_with_lr else weight_decay)
        return ((param - move) * shrink if decay_after else param * shrink - move), m, v
    return adamw_step


def adamw_folded(param, grad, m, v, step, lr, betas, eps, weight_decay):
    """As torch writes it: the corrections folded into the step size and the denominator, in place
    on copies."""
    beta1, beta2 = betas
    param, m, v = param.clone(), m.clone(), v.clone()
    param.mul_(1 - lr * weight_decay)
    m.mul_(beta1).add_(grad, alpha=1 - beta1)
    v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    denominator = (v.sqrt() / math.sqrt(1 - beta2 ** step)).add_(eps)
    param.addcdiv_(m, denominator, value=-lr / (1 - beta1 ** step))
    return param, m, v


def adamw_lerp(param, grad, m, v, step, lr, betas, eps, weight_decay):
    """The moments as linear interpolations, m.lerp(grad, 1 - β1), and the decay as a subtraction."""
    beta1, beta2 = betas
    m = m.lerp(grad, 1 - beta1)
    v = v.lerp(grad * grad, 1 - beta2)
    m_hat, v_hat = m / (1 - beta1 ** step), v / (1 - beta2 ** step)
    return param - lr * weight_decay * param - lr * m_hat / (v_hat.sqrt() + eps), m, v


# ---- train_gpt ---------------------------------------------------------------------------------

def walk(params):
    """Every tensor of params, the blocks' too, as (container, key) pairs, in params' order."""
    pairs = []
    for key in ("wte", "wpe", "blocks", "lnf_w", "lnf_b"):
        pairs.extend([(block, k) for block in params["blocks"] for k in KEYS] if key == "blocks" else [(params, key)])
    return pairs


def train_with(step=SOLUTION.adamw_step, backward=SOLUTION.gpt_backward, after=False, reset=False, extra=0,
               l2=False, numbering="shared", first=1):
    """A train_gpt loop over copies of params, bent as asked."""
    def train_gpt(params, tokens, targets, n_heads, steps, lr):
        current = {**params, "blocks": [dict(block) for block in params["blocks"]]}
        pairs = walk(current)
        moments = [(torch.zeros_like(c[k]), torch.zeros_like(c[k])) for c, k in pairs]
        losses, count = [], 0
        for number in range(first, first + steps + extra):
            loss, grads = backward(tokens, targets, current, n_heads)
            if not after:
                losses.append(loss)
            if reset:
                moments = [(torch.zeros_like(m), torch.zeros_like(v)) for m, v in moments]
            for i, ((container, key), (gc, gk)) in enumerate(zip(pairs, walk(grads))):
                count += 1
                p, g = container[key], gc[gk]
                decay = 0.01
                if l2:
                    g, decay = g + 0.01 * p, 0.0
                m, v = moments[i]
                container[key], m, v = step(p, g, m, v, count if numbering == "per tensor" else number,
                                            lr, (0.9, 0.999), 1e-8, decay)
                moments[i] = (m, v)
            if after:
                losses.append(backward(tokens, targets, current, n_heads)[0])
        return losses
    return train_gpt


def decay_without_lr(param, grad, m, v, step, lr, betas, eps, weight_decay):
    return adamw_with(decay_with_lr=False)(param, grad, m, v, step, lr, betas, eps, weight_decay)


WRONG = [
    ("gpt_backward", "wte's gradient from the lookup only", gpt_with(output_use=False)),
    ("gpt_backward", "wte's gradient from the output layer only", gpt_with(lookup_use=False)),
    ("gpt_backward", "the attention residual's gradient not added",
     gpt_with(block=lambda *a: block_step_by_step(*a, attention_residual=False))),
    ("gpt_backward", "the MLP residual's gradient not added",
     gpt_with(block=lambda *a: block_step_by_step(*a, mlp_residual=False))),
    ("gpt_backward", "wpe's gradient only (T, C)", gpt_with(wpe_rows="used")),
    ("gpt_backward", "wpe's gradient averaged over the batch", gpt_with(wpe_mean=True)),
    ("gpt_backward", "wpe's gradient in a torch.empty_like buffer, rows past T never written",
     gpt_with(wpe_buffer=torch.empty_like)),
    ("adamw_step", "L2: the decay added to the gradient", adamw_with(l2=True)),
    ("adamw_step", "no bias correction of m", adamw_with(correct_m=False)),
    ("adamw_step", "no bias correction of v", adamw_with(correct_v=False)),
    ("adamw_step", "the steps numbered from 0", adamw_with(first=0)),
    ("adamw_step", "the decay applied after the step", adamw_with(decay_after=True)),
    ("adamw_step", "eps inside the square root", adamw_with(eps_inside=True)),
    ("adamw_step", "the decay not scaled by lr", decay_without_lr),
    ("train_gpt", "records the loss after each step", train_with(after=True)),
    ("train_gpt", "the moments back to zero at every step", train_with(reset=True)),
    ("train_gpt", "the decay as L2, added to the gradients", train_with(l2=True)),
    ("train_gpt", "one step too many", train_with(extra=1)),
    ("train_gpt", "the step number counted up once per tensor", train_with(numbering="per tensor")),
    ("train_gpt", "the decay not scaled by lr", train_with(step=decay_without_lr)),
]

RIGHT = [
    ("gpt_backward", "einsum, a while loop down the blocks, wpe row by row", gpt_with()),
    ("gpt_backward", "the blocks' backward from chapter 12's smaller steps", gpt_with(block=block_step_by_step)),
    ("adamw_step", "torch's form: corrections folded into the step size, in place on copies", adamw_folded),
    ("adamw_step", "the moments by lerp, the decay subtracted", adamw_lerp),
    ("train_gpt", "its own loop with torch's folded AdamW and a differently written backward",
     train_with(step=adamw_folded, backward=gpt_with())),
    ("train_gpt", "the steps numbered from 0 with an adamw_step that counts from 0 too",
     train_with(step=adamw_with(first=0), first=0)),
]

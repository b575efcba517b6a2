"""Chapter 13: a tiny GPT. Reference solutions, by hand.

The blocks' backward passes are chapter 12's (imported as a learner would import theirs), the
embedding and cross-entropy steps chapter 8's; the forward pass is written out here.
"""
import math

import torch
from ch8_tensors import embedding_backward
from ch12_attention import block_backward, layernorm_backward
from torch import Tensor

BLOCK_KEYS = ("ln1_w", "ln1_b", "w_qkv", "b_qkv", "w_out", "b_out", "ln2_w", "ln2_b", "w_fc", "b_fc",
              "w_proj", "b_proj")


def layer_norm(x: Tensor, gamma: Tensor, beta: Tensor, eps: float = 1e-5) -> Tensor:
    centred = x - x.mean(dim=-1, keepdim=True)
    return centred / torch.sqrt((centred ** 2).mean(dim=-1, keepdim=True) + eps) * gamma + beta


def attention_forward(x: Tensor, p: dict, n_heads: int) -> Tensor:
    b, steps, c = x.shape
    width = c // n_heads
    q, k, v = (part.view(b, steps, n_heads, width).transpose(1, 2)
               for part in (x @ p["w_qkv"].T + p["b_qkv"]).split(c, dim=-1))
    scores = q @ k.transpose(-2, -1) / math.sqrt(width)
    scores = scores.masked_fill(torch.ones(steps, steps, dtype=torch.bool).triu(1), float("-inf"))
    mixed = torch.softmax(scores, dim=-1) @ v
    return mixed.transpose(1, 2).reshape(b, steps, c) @ p["w_out"].T + p["b_out"]


def block_forward(x: Tensor, p: dict, n_heads: int) -> Tensor:
    h = x + attention_forward(layer_norm(x, p["ln1_w"], p["ln1_b"]), p, n_heads)
    u = layer_norm(h, p["ln2_w"], p["ln2_b"]) @ p["w_fc"].T + p["b_fc"]
    return h + (0.5 * u * (1 + torch.erf(u / math.sqrt(2)))) @ p["w_proj"].T + p["b_proj"]


def gpt_backward(tokens: Tensor, targets: Tensor, params: dict, n_heads: int) -> tuple[float, dict]:
    wte, wpe = params["wte"], params["wpe"]
    vocab, channels = wte.shape
    steps = tokens.shape[1]
    rows = tokens.numel()

    # forward, keeping every block's input
    inputs = [wte[tokens] + wpe[:steps]]
    for p in params["blocks"]:
        inputs.append(block_forward(inputs[-1], p, n_heads))
    top = inputs.pop()
    normed = layer_norm(top, params["lnf_w"], params["lnf_b"])
    logits = (normed @ wte.T).reshape(rows, vocab)
    flat_targets = targets.reshape(rows)
    log_probs = torch.log_softmax(logits, dim=-1)
    loss = -log_probs[torch.arange(rows), flat_targets].mean()

    # backward: the loss, the output layer, the final layer norm, the blocks, the embeddings
    d_logits = log_probs.exp()
    d_logits[torch.arange(rows), flat_targets] -= 1.0
    d_logits /= rows
    d_wte = d_logits.T @ normed.reshape(rows, channels)  # wte's use as the output layer
    d_normed = (d_logits @ wte).reshape(top.shape)
    d_h, d_lnf_w, d_lnf_b = layernorm_backward(top, params["lnf_w"], params["lnf_b"], d_normed)
    d_blocks = []
    for x, p in zip(reversed(inputs), reversed(params["blocks"])):
        found = block_backward(x, p, n_heads, d_h)
        d_h = found.pop("x")
        d_blocks.append({key: found[key] for key in BLOCK_KEYS})
    d_wte = d_wte + embedding_backward(tokens, vocab, d_h)  # and its use as the lookup: both add up
    d_wpe = torch.zeros_like(wpe)
    d_wpe[:steps] = d_h.sum(dim=0)
    return loss.item(), {"wte": d_wte, "wpe": d_wpe, "blocks": d_blocks[::-1], "lnf_w": d_lnf_w, "lnf_b": d_lnf_b}


def adamw_step(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, step: int, lr: float,
               betas: tuple[float, float], eps: float, weight_decay: float) -> tuple[Tensor, Tensor, Tensor]:
    beta1, beta2 = betas
    decayed = param * (1 - lr * weight_decay)  # decoupled: the gradient never sees it
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    m_hat = m / (1 - beta1 ** step)
    v_hat = v / (1 - beta2 ** step)
    return decayed - lr * m_hat / (torch.sqrt(v_hat) + eps), m, v


def flatten(params: dict) -> list[Tensor]:
    return [params["wte"], params["wpe"], *(p[key] for p in params["blocks"] for key in BLOCK_KEYS),
            params["lnf_w"], params["lnf_b"]]


def unflatten(tensors: list[Tensor], n_blocks: int) -> dict:
    wte, wpe, *rest = tensors
    blocks = [dict(zip(BLOCK_KEYS, rest[i * len(BLOCK_KEYS):(i + 1) * len(BLOCK_KEYS)])) for i in range(n_blocks)]
    return {"wte": wte, "wpe": wpe, "blocks": blocks, "lnf_w": rest[-2], "lnf_b": rest[-1]}


def train_gpt(params: dict, tokens: Tensor, targets: Tensor, n_heads: int, steps: int, lr: float) -> list[float]:
    n_blocks = len(params["blocks"])
    current = flatten(params)
    ms = [torch.zeros_like(p) for p in current]
    vs = [torch.zeros_like(p) for p in current]
    losses = []
    for step in range(1, steps + 1):
        loss, grads = gpt_backward(tokens, targets, unflatten(current, n_blocks), n_heads)
        losses.append(loss)
        moved = [adamw_step(p, g, m, v, step, lr, (0.9, 0.999), 1e-8, 0.01)
                 for p, g, m, v in zip(current, flatten(grads), ms, vs)]
        current, ms, vs = (list(part) for part in zip(*moved)) if moved else ([], [], [])
    return losses

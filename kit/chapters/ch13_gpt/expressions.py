"""Chapter 13's torch expressions, as the contract (CURRICULUM.md) writes them, for torch.autograd
to differentiate: the GPT's forward pass and loss, built on chapter 12's block.

`lookup` and `output` let a misconception hand the two uses of the tied table different tensors
(one of them detached), and `keep` detach a block's residual paths: the forward values stay the
same, the gradients change the way the mistake changes them.
"""
import torch.nn.functional as F

from kit.chapters.ch12_attention.expressions import BLOCK_KEYS, EPS, block, layer_norm, self_attention

TOP_KEYS = ("wte", "wpe", "blocks", "lnf_w", "lnf_b")


def mapped(f, params: dict) -> dict:
    """params with f applied to every tensor, in the same structure (blocks a list of dicts)."""
    return {key: [{k: f(t) for k, t in b.items()} for b in value] if key == "blocks" else f(value)
            for key, value in params.items()}


def tensors_of(params: dict) -> list:
    """Every tensor of params, in a fixed order: the top-level ones, each block's in its order."""
    found = []
    for key, value in params.items():
        found.extend(t for b in value for t in b.values()) if key == "blocks" else found.append(value)
    return found


def bent_block(x, params: dict, n_heads: int, keep=(True, True)):
    """The block with its attention (keep[0]) or MLP (keep[1]) residual path detached when False."""
    p = params
    skip = x if keep[0] else x.detach()
    h = skip + self_attention(layer_norm(x, p["ln1_w"], p["ln1_b"]), p["w_qkv"], p["b_qkv"], p["w_out"],
                              p["b_out"], n_heads)
    hidden = F.gelu(layer_norm(h, p["ln2_w"], p["ln2_b"]) @ p["w_fc"].T + p["b_fc"])
    return (h if keep[1] else h.detach()) + hidden @ p["w_proj"].T + p["b_proj"]


def gpt_logits(tokens, params: dict, n_heads: int, lookup=None, output=None, keep=None):
    """(B, T, V) logits: h_0 = wte[tokens] + wpe[:T], the blocks, layer_norm, @ wte.T."""
    wte = params["wte"]
    steps = tokens.shape[1]
    h = (wte if lookup is None else lookup)[tokens] + params["wpe"][:steps]
    for p in params["blocks"]:
        h = block(h, p, n_heads) if keep is None else bent_block(h, p, n_heads, keep)
    return layer_norm(h, params["lnf_w"], params["lnf_b"], EPS) @ (wte if output is None else output).T


def gpt_loss(tokens, targets, params: dict, n_heads: int, **bent):
    logits = gpt_logits(tokens, params, n_heads, **bent)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


__all__ = ["BLOCK_KEYS", "EPS", "TOP_KEYS", "gpt_logits", "gpt_loss", "mapped", "tensors_of"]

"""Chapter 12's pictures: your attention gradients beside torch's, as heat maps, on one fixed input.

The attention weights are the forward pass's softmax; your function does not return them, but
your dv does carry them: dv = weightsᵀ @ upstream, so with the identity for upstream (Tq = d)
your dvᵀ is the weights your backward pass used. That row shows them, yours beside torch's.
"""
import torch

from kit import pictures
from kit.chapters.ch12_attention.expressions import attention
from kit.chapters.ch12_attention.inputs import attention_example, self_attention_example
from kit.reference import gradients

# causal, one head, T = d = 5, so that an identity upstream reads the weights off dv
ATTENTION = attention_example(1212, (), 5, 5, 5, True)
SELF_ATTENTION = self_attention_example(1213, 1, 5, 4, 2)


def _yours(impl, exercise_id: str, args: tuple):
    """(answer, note): the learner's answer on args, or None and why there is none."""
    from kit import registry
    from kit.implementation import LearnerError
    from kit.statuses import Status

    try:
        return impl.call(registry.get(exercise_id), args)[0], ""
    except LearnerError as error:
        if error.status == Status.NOT_ATTEMPTED:
            return None, "not attempted yet: torch's maps alone"
        return None, (error.text.strip().splitlines() or ["an error"])[-1]
    except Exception as error:  # anything else the learner's answer does: shown, never raised
        return None, f"{type(error).__name__}: {error}"


def _part(answer, index):
    try:
        return answer[index]
    except Exception:
        return None


def attention_picture(impl) -> str:
    q, k, v, upstream, causal = ATTENTION
    weights = torch.softmax((q @ k.T / q.shape[-1] ** 0.5).masked_fill(torch.ones(5, 5, dtype=torch.bool).triu(1),
                                                                          float("-inf")), dim=-1)
    dq, dk, dv = gradients(lambda q, k, v: attention(q, k, v, causal), q, k, v, upstream=upstream)
    yours, note = _yours(impl, "ch12_attention.attention_backward", ATTENTION)
    read, _ = _yours(impl, "ch12_attention.attention_backward", (q, k, v, torch.eye(5, dtype=torch.float64), causal))
    dv_read = _part(read, 2)
    yours_weights = dv_read.T if isinstance(dv_read, torch.Tensor) and dv_read.dim() == 2 else None
    rows = [("weights (yours: your dvᵀ for upstream = I)", yours_weights, weights),
            ("dq", _part(yours, 0), dq), ("dk", _part(yours, 1), dk), ("dv", _part(yours, 2), dv)]
    return pictures.heat_maps(rows, "attention_backward: causal, T = d = 5 (rows: queries i; weights' "
                                    "columns: keys j)", note)


def self_attention_picture(impl) -> str:
    from kit.chapters.ch12_attention.expressions import self_attention
    from kit.chapters.ch12_attention.mistakes import SELF_ATTENTION_KEYS

    *tensors, n_heads, upstream = SELF_ATTENTION
    torch_grads = dict(zip(SELF_ATTENTION_KEYS, gradients(lambda *t: self_attention(*t, n_heads), *tensors,
                                                          upstream=upstream)))
    yours, note = _yours(impl, "ch12_attention.self_attention_backward", SELF_ATTENTION)

    def mine(key):
        try:
            return yours[key]
        except Exception:
            return None
    rows = [("dx[0] (T × C)", _part(mine("x"), 0), torch_grads["x"][0]),
            ("dw_qkv (3C × C)", mine("w_qkv"), torch_grads["w_qkv"]),
            ("dw_out (C × C)", mine("w_out"), torch_grads["w_out"])]
    return pictures.heat_maps(rows, "self_attention_backward: B = 1, T = 5, C = 4, 2 heads", note)

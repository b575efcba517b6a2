"""The diagnoses a learner reads: the generic misconceptions, and what an error or a wrong kind of answer means.

kit/diagnosis.py decides which one applies; the sentences are here.
"""
from __future__ import annotations

import torch

SIGN_FLIPPED = ("Your answer has the right size but the wrong sign everywhere: check each minus sign in "
                "your derivation.")
LOCAL_ALONE = ("You returned the local derivative alone: a backward step multiplies it by the upstream "
               "gradient it is given (upstream × local).")
EPS_IGNORED = "You used eps = 1e-5 whatever eps was passed in; use the eps you are given."
FORWARD_VALUE = "You returned {what}, the forward value; the question is how fast it changes, its slope."


def in_place(name: str, value=None) -> str:
    """The function wrote into its argument `name` (whose original value is `value`)."""
    if isinstance(value, dict):
        copy = f"{{k: v.clone() for k, v in {name}.items()}}"
    elif isinstance(value, (list, tuple)):
        copy = f"[t.clone() for t in {name}]" if any(isinstance(v, torch.Tensor) for v in value) else f"list({name})"
    else:
        copy = f"{name}.clone()"
    return (f"Your function writes into its argument {name!r} (an in-place operation such as +=, masked_fill_ "
            f"or {name}[...] = ...); compute the answer in new values, or in a copy, {copy}.")


ERRORS = {
    "kit.drivers.GaveBackAnInput": "Your answer hands back a tensor you were given (the list itself, the "
                                   "same tensor, or a view of it): make a new one, g.clone() when it keeps "
                                   "its values.",
    "OverflowError": "A number grew past float64's largest value (about 1.8e308), usually e to a large "
                     "power: rewrite the formula so that the exponent stays at or below 0.",
    "ZeroDivisionError": "Your formula divides by something that is 0 for some inputs in the domain; "
                         "look for a form that does not need that division.",
    "RecursionError": "Your function calls itself without end: a recursive walk needs a way to stop, "
                      "such as a set of visited nodes.",
}


def explain_error(text: str) -> str | None:
    last = text.strip().splitlines()[-1] if text.strip() else ""
    kind = last.split(":", 1)[0].strip()
    if kind in ERRORS:
        return ERRORS[kind]
    if kind == "RuntimeError" and "cannot be multiplied" in last:
        return ("The shapes of a matrix product do not fit: a transpose is missing, or one too many. "
                "Write each tensor's shape beside your formula and check that the inner sizes meet.")
    if kind == "RuntimeError" and "must match the size of tensor" in last:
        return ("Two tensors of shapes that do not broadcast met: a sum lost its keepdim=True, or a "
                "transpose is missing. Write each tensor's shape beside your formula.")
    if kind == "TypeError" and ("Tensor" in last or "tensor" in last):
        return ("A tensor met a function made for floats (math.exp and friends take one number): use "
                "the torch version (torch.exp, torch.log, ...) on tensors.")
    return None


def explain_kind(mismatch, part: str = "") -> str:
    """What a part of the wrong kind means: the whole answer, or the part named `part` ("db")."""
    sentence = _kind(mismatch)
    return f"{part}: {sentence}" if part else sentence


def _kind(mismatch) -> str:
    expected, actual = mismatch.expected, mismatch.actual
    if mismatch.kind == "type" and isinstance(actual, torch.Tensor) and isinstance(expected, (list, tuple)):
        return (f"You returned a tensor where a {type(expected).__name__} of Python floats belongs: "
                f"collect each number with .item().")
    if mismatch.kind == "type" and isinstance(actual, torch.Tensor) and not isinstance(expected, torch.Tensor):
        return "You returned a tensor where a Python float belongs: turn a 0-d tensor into one with .item()."
    if mismatch.kind == "type" and isinstance(expected, torch.Tensor) and isinstance(actual, torch.Tensor):
        return "Your answer is still attached to autograd: compute it by hand, without requires_grad."
    if mismatch.kind == "type" and isinstance(expected, torch.Tensor):
        return ("You returned a plain number or list where a tensor belongs: a gradient has one entry "
                "per element of the input, as a float64 tensor of its shape.")
    if mismatch.kind == "dtype":
        return (f"Your tensor is {actual.dtype}: somewhere a tensor was made without dtype=torch.float64 "
                f"(or converted with .float()); keep every tensor float64.")
    if mismatch.kind == "shape" and isinstance(actual, torch.Tensor) and actual.dim() == 0:
        return ("You reduced the gradient to one number (a sum or a dot product): a gradient has the "
                "shape of the thing it is the gradient of.")
    if mismatch.kind == "shape" and isinstance(actual, torch.Tensor) and actual.shape == expected.shape[::-1]:
        return "Your answer is transposed: a gradient has the shape of the thing it is the gradient of."
    if mismatch.kind == "shape":
        return "A gradient has the shape of the thing it is the gradient of; compare the shapes above."
    if mismatch.kind in ("keys", "length"):
        return f"The answer's structure differs from the contract's: {mismatch.detail}."
    return f"The answer is of the wrong kind: {mismatch.detail}."

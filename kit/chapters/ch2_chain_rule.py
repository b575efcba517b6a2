"""Chapter 2, the chain rule: machines ×k1, ×k2, … in a row; their sensitivities multiply."""
import hypothesis.strategies as st
import torch

from kit.diagnosis import Misconception
from kit.exercise import Exercise
from kit.reference import leaf, nudged
from kit.strategies import reals

factors = st.lists(reals(-3.0, 3.0), max_size=6)

EXERCISES: list[Exercise] = []


def chain_forward(x, ks):
    out = torch.tensor(x, dtype=torch.float64)
    for k in ks:
        out = k * out
    return out.item()


EXERCISES.append(Exercise(
    module="ch2_chain_rule", name="chain_forward", reference=chain_forward,
    inputs=st.tuples(reals(), factors),
    examples=((1.0, [2.0, 5.0]), (2.5, [])),
    domain="x in [-10, 10]; ks a list of 0 to 6 factors in [-3, 3]",
    hint="Feed x to the first machine, its output to the next, and so on; with no machines "
         "the input comes out untouched.",
    more="Start with out = x, then for each k: out = k * out.",
    misconceptions=(
        Misconception("You added the factors; each machine multiplies what reaches it.",
                      lambda x, ks: x + sum(ks)),
        Misconception("With no machines you returned 0; the input should come out unchanged.",
                      lambda x, ks: chain_forward(x, ks) if ks else 0.0),
    ),
))


def chain_sensitivity(ks):
    x = leaf(1.0)
    out = x
    for k in ks:
        out = k * out
    out.backward()
    return x.grad.item()


EXERCISES.append(Exercise(
    module="ch2_chain_rule", name="chain_sensitivity", reference=chain_sensitivity,
    inputs=st.tuples(factors),
    examples=(([2.0, 5.0],), ([],), ([-1.5],)),
    domain="ks a list of 0 to 6 factors in [-3, 3]",
    hint="Each machine multiplies whatever nudge reaches it by its own factor, so the nudges "
         "multiply along the chain; an empty chain passes a nudge through unchanged.",
    more="Start with 1.0 (the nudge you put in) and multiply it by every k.",
    misconceptions=(
        Misconception("You added the sensitivities; along a chain they multiply.", lambda ks: float(sum(ks))),
        Misconception("For an empty chain you returned 0; a nudge passes through unchanged, so 1.0.",
                      lambda ks: chain_sensitivity(ks) if ks else 0.0),
        Misconception("You used only the last machine; every machine on the way scales the nudge.",
                      lambda ks: ks[-1] if ks else 1.0),
    ),
    estimate=lambda ks: nudged(lambda x: chain_forward(x, ks), (1.0,), 0),
))

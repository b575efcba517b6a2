"""Chapter 4, the product rule: pay = hours × wage; each partial is the other factor."""
import hypothesis.strategies as st

from kit.diagnosis import Misconception
from kit.exercise import Exercise
from kit.reference import gradients, partials_estimate
from kit.strategies import reals

EXERCISES: list[Exercise] = []


def product_grads(x, y):
    return gradients(lambda x, y: x * y, x, y)


EXERCISES.append(Exercise(
    module="ch4_product_rule", name="product_grads", reference=product_grads,
    inputs=st.tuples(reals(), reals()),
    examples=((5.0, 10.0), (-2.0, 0.5)),
    domain="x and y in [-10, 10]",
    hint="One more hour (x + 1) earns one more wage y; one more dollar of wage (y + 1) earns "
         "one more dollar per hour, x times. Return them in the order (∂/∂x, ∂/∂y).",
    more="Each partial is the other factor: the first entry is y, the second is x.",
    misconceptions=(
        Misconception("You swapped the partials: ∂(xy)/∂x is the other factor, y (the wage), "
                      "and it comes first.", lambda x, y: (x, y)),
        Misconception("You returned the pay x·y itself; the question is how fast it grows with "
                      "each factor.", lambda x, y: (x * y, x * y)),
    ),
    estimate=partials_estimate(lambda x, y: x * y, 2),
    answer_names=("∂(x·y)/∂x", "∂(x·y)/∂y"),
))

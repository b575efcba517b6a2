"""Chapter 4, the product rule: pay = hours × wage; each partial is the other factor."""
import hypothesis.strategies as st

from kit.exercise import Exercise
from kit.reference import gradients
from kit.strategies import reals


def product_grads(x, y):
    return gradients(lambda x, y: x * y, x, y)


EXERCISES = [
    Exercise(
        "ch4_product_rule", "product_grads",
        inputs=st.tuples(reals(), reals()),
        reference=product_grads,
        examples=((5.0, 10.0), (-2.0, 0.5)),
        domain="x and y in [-10, 10]",
        hint="One more hour (x + 1) earns one more wage y; one more dollar of wage (y + 1) earns "
             "one more dollar per hour, x times. Return them in the order (∂/∂x, ∂/∂y).",
    ),
]

"""Chapter 4 variants: WRONG must fail, RIGHT (written differently) must pass."""

WRONG = [
    ("product_grads", "swaps the partials", lambda x, y: (x, y)),
    ("product_grads", "returns the product for both", lambda x, y: (x * y, x * y)),
    ("product_grads", "returns one number", lambda x, y: y),
    ("product_grads", "returns a 3-tuple", lambda x, y: (y, x, x * y)),
]

RIGHT = [
    ("product_grads", "a list instead of a tuple", lambda x, y: [y, x]),
    ("product_grads", "a measured step of 1 (exact for a product)",
     lambda x, y: ((x + 1) * y - x * y, x * (y + 1) - x * y)),
]

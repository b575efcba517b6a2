"""Chapter 5 variants: WRONG must fail, RIGHT (written differently) must pass."""


def _backward(x, y, z, *, upstream=True, factor=2.0):
    b = x * y + z
    db = factor * b
    return {"x": (db if upstream else 1.0) * y, "y": (db if upstream else 1.0) * x,
            "z": db, "a": db, "b": db, "c": 1.0}


def _local(x, y, z, **changes):
    b = x * y + z
    return {"da_dx": y, "da_dy": x, "db_da": 1.0, "db_dz": 1.0, "dc_db": 2 * b, **changes}


WRONG = [
    ("forward", "c = 2b instead of b²", lambda x, y, z: {"a": x * y, "b": x * y + z, "c": 2 * (x * y + z)}),
    ("forward", "b = a·z", lambda x, y, z: {"a": x * y, "b": x * y * z, "c": (x * y * z) ** 2}),
    ("forward", "misses the key c", lambda x, y, z: {"a": x * y, "b": x * y + z}),
    ("local_derivatives", "swaps ∂a/∂x and ∂a/∂y", lambda x, y, z: _local(x, y, z, da_dx=x, da_dy=y)),
    ("local_derivatives", "∂c/∂b = b, the factor 2 missing", lambda x, y, z: _local(x, y, z, dc_db=x * y + z)),
    ("local_derivatives", "∂c/∂b = b², the forward value", lambda x, y, z: _local(x, y, z, dc_db=(x * y + z) ** 2)),
    ("backward", "forgets the upstream gradient at x and y", lambda x, y, z: _backward(x, y, z, upstream=False)),
    ("backward", "∂c/∂b = b, the factor 2 missing", lambda x, y, z: _backward(x, y, z, factor=1.0)),
    ("backward", "swaps x and y", lambda x, y, z: {**_backward(x, y, z), "x": _backward(x, y, z)["y"],
                                                    "y": _backward(x, y, z)["x"]}),
    ("gradient_rule", "upstream + local instead of ×", lambda c: sum((u + local for u, local in c), 0.0)),
    ("gradient_rule", "keeps the last path only (overwrites)", lambda c: c[-1][0] * c[-1][1] if c else 0.0),
    ("gradient_rule", "returns None for no paths", lambda c: sum(u * local for u, local in c) if c else None),
]

RIGHT = [
    ("forward", "c as b·b", lambda x, y, z: {"c": (x * y + z) * (x * y + z), "b": x * y + z, "a": x * y}),
    ("local_derivatives", "ints where the value is exact", lambda x, y, z: _local(x, y, z, db_da=1, db_dz=1)),
    ("backward", "expanded: 2(xy + z)·y", lambda x, y, z: {"x": 2 * (x * y + z) * y, "y": 2 * (x * y + z) * x,
                                                         "z": 2 * (x * y + z), "a": 2 * (x * y + z),
                                                         "b": 2 * (x * y + z), "c": 1}),
    ("gradient_rule", "an explicit loop, backwards", lambda c: _loop(reversed(c))),
]


def _loop(pairs):
    total = 0.0
    for upstream, local in pairs:
        total += local * upstream
    return total

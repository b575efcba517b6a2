"""Chapter 5: backprop by hand. Reference solutions, by hand."""
from collections.abc import Sequence


def forward(x: float, y: float, z: float) -> dict[str, float]:
    a = x * y
    b = a + z
    return {"a": a, "b": b, "c": b ** 2}


def local_derivatives(x: float, y: float, z: float) -> dict[str, float]:
    b = x * y + z
    return {"da_dx": y, "da_dy": x, "db_da": 1.0, "db_dz": 1.0, "dc_db": 2.0 * b}


def backward(x: float, y: float, z: float) -> dict[str, float]:
    local = local_derivatives(x, y, z)
    dc = 1.0
    db = dc * local["dc_db"]
    da = db * local["db_da"]
    dz = db * local["db_dz"]
    return {"x": da * local["da_dx"], "y": da * local["da_dy"], "z": dz, "a": da, "b": db, "c": dc}


def gradient_rule(contributions: Sequence[tuple[float, float]]) -> float:
    return sum((upstream * local for upstream, local in contributions), 0.0)

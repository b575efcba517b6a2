"""What travels between the grader and a submission's process, and how.

Messages are framed as an 8-byte length and a body. The grader sends pickles (it trusts
itself); the submission's process answers with JSON only, which the grader decodes with
`json.loads` and `decode`, so nothing a submission sends can run code in the grader.

Answers are plain data, encoded so that nothing the comparison looks at is lost: floats
(NaN and infinities too) and ints stay apart, tuples stay tuples, tensors keep dtype, shape,
every value and requires_grad. Anything else becomes an `Opaque` value: only its type name
and a short repr come back, enough for the learner's message ("expected a Python float,
got a ndarray").
"""
from __future__ import annotations

import base64
import io
import json
import math
import pickle
import socket
import struct
import time
from numbers import Integral, Real
from typing import Any, TypeAlias

import numpy
import torch

# what travels as JSON, both ways: an encoded answer, a reply, a request's plain parts
Json: TypeAlias = "None | bool | int | float | str | list[Json] | dict[str, Json]"

HEADER = struct.Struct("!Q")
MAX_ELEMENTS = 1_000_000  # numbers in one reply; a wrong answer of a million numbers is still just wrong
MAX_TEXT = 4000  # characters of any text the submission controls (reprs, messages)
MAX_DEPTH = 32


class WireError(Exception):
    """The other side sent something that is not a well-formed message, or nothing in time."""


class Timeout(WireError):
    pass


# ---- framing -------------------------------------------------------------------------------

def send(sock: socket.socket, body: bytes) -> None:
    sock.sendall(HEADER.pack(len(body)) + body)


def recv(sock: socket.socket, deadline: float | None = None, limit: int | None = None) -> bytes:
    """One message; `deadline` (time.monotonic()) bounds the whole message, not each read."""
    size = HEADER.unpack(_read(sock, HEADER.size, deadline))[0]
    if limit is not None and size > limit:
        raise WireError(f"a reply of {size} bytes, more than the limit of {limit}")
    return _read(sock, size, deadline)


def _read(sock: socket.socket, size: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    missing = size
    while missing:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("no complete reply in time")
            sock.settimeout(left)
        try:
            chunk = sock.recv(min(missing, 1 << 20))
        except TimeoutError:
            raise Timeout("no complete reply in time") from None
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


# ---- answers, in the submission's process ----------------------------------------------------

class _Budget:
    def __init__(self) -> None:
        self.elements = 0

    def spend(self, n: int) -> None:
        self.elements += n
        if self.elements > MAX_ELEMENTS:
            raise ValueError(f"the answer holds more than {MAX_ELEMENTS} numbers")


def short(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[:limit] + f"… ({len(text) - limit} more characters)"


def encode(value: Any, budget: _Budget | None = None, depth: int = 0) -> Json:
    """A JSON-ready form of an answer. Runs in the submission's process, on its values."""
    budget = budget or _Budget()
    if depth > MAX_DEPTH:
        raise ValueError("the answer is nested too deeply")
    budget.spend(1)
    if value is None or type(value) in (bool, int, float, str):
        return short(value) if type(value) is str else value
    if isinstance(value, torch.Tensor):
        return _encode_tensor(value, budget)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, str):
        return short(str.__str__(value))
    if isinstance(value, tuple):
        return {"tuple": [encode(v, budget, depth + 1) for v in tuple.__iter__(value)]}
    if isinstance(value, list):
        return [encode(v, budget, depth + 1) for v in list.__iter__(value)]
    if isinstance(value, dict):
        return {"dict": [[encode(k, budget, depth + 1), encode(v, budget, depth + 1)]
                         for k, v in dict.items(value)]}
    return _opaque(value)


def _encode_tensor(value: torch.Tensor, budget: _Budget) -> Json:
    """dtype, shape and the values as raw bytes (base64): exact, and quick to read back."""
    try:
        t = torch.Tensor.detach(value)
        if t.layout != torch.strided:
            t = t.to_dense()
        budget.spend(int(t.numel()))
        body: dict[str, Json] = {"dtype": str(t.dtype).removeprefix("torch."), "shape": list(t.shape),
                "requires_grad": bool(value.requires_grad)}
        if t.dtype in _NUMPY_DTYPES:  # tobytes() is in C order, whatever the strides
            body["bytes"] = base64.b64encode(torch.Tensor.numpy(t, force=True).tobytes()).decode()
        else:  # bfloat16 and the like: numbers, one by one
            body["data"] = torch.Tensor.tolist(t.reshape(-1).to("cpu", torch.float64))
    except ValueError:
        raise
    except Exception:
        return _opaque(value)
    return {"tensor": body}


def _opaque(value: object) -> Json:
    try:
        text = repr(value)
    except Exception as error:
        text = f"<a {type(value).__name__} whose repr failed: {type(error).__name__}>"
    return {"opaque": {"type": short(type(value).__name__, 80), "repr": short(str(text), 300)}}


# ---- answers, in the grader ------------------------------------------------------------------

class Opaque:
    """A learner's value of a kind the grader does not rebuild: its type name and its repr.

    Each type name gets its own subclass, so `type(value).__name__` reads as the learner's type
    in every message (kit.compare.describe_kind)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


_OPAQUE: dict[str, type[Opaque]] = {}
_DTYPES = {name: getattr(torch, name) for name in (
    "float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8",
    "bool", "complex64", "complex128")}


def opaque(type_name: str, text: str) -> Opaque:
    type_name = "".join(c for c in type_name if c.isprintable())[:80] or "object"
    if type_name not in _OPAQUE:
        _OPAQUE[type_name] = type(type_name, (Opaque,), {"__module__": "learner"})
    return _OPAQUE[type_name](text)


def decode(obj: Json, depth: int = 0) -> object:
    """The answer the submission's process encoded; WireError for anything else."""
    if depth > MAX_DEPTH + 1:
        raise WireError("nested too deeply")
    if obj is None or type(obj) in (bool, int, float, str):
        return obj
    if type(obj) is list:
        return [decode(v, depth + 1) for v in obj]
    if type(obj) is not dict or len(obj) != 1:
        raise WireError(f"not an encoded answer: {short(repr(obj), 100)}")
    (tag, body), = obj.items()
    if tag == "tuple" and type(body) is list:
        return tuple(decode(v, depth + 1) for v in body)
    if tag == "dict" and type(body) is list:
        out: dict[object, object] = {}
        for pair in body:
            if type(pair) is not list or len(pair) != 2:
                raise WireError("a malformed dict item")
            key = decode(pair[0], depth + 1)
            if isinstance(key, (list, dict, torch.Tensor)):
                key = opaque(type(key).__name__, short(repr(key), 300))
            out[key] = decode(pair[1], depth + 1)
        return out
    if tag == "tensor" and type(body) is dict:
        return _decode_tensor(body)
    if tag == "opaque" and type(body) is dict:
        return opaque(str(body.get("type", "object"))[:80], str(body.get("repr", ""))[:MAX_TEXT])
    raise WireError(f"an unknown tag {short(tag, 40)!r}")


def _decode_tensor(body: dict[str, Any]) -> torch.Tensor:  # Any: each value is checked below, at run time
    name = body.get("dtype")
    dtype = _DTYPES.get(name) if type(name) is str else None  # a list or dict is no dtype
    shape = body.get("shape")
    if dtype is None or type(shape) is not list or len(shape) > 64 or \
            not all(type(s) is int and s >= 0 for s in shape):
        raise WireError("a malformed tensor")
    count = math.prod(shape)
    try:
        if type(body.get("bytes")) is str:
            raw = base64.b64decode(body["bytes"], validate=True)
            if len(raw) != count * dtype.itemsize:
                raise WireError("a tensor whose data does not fill its shape")
            flat = torch.frombuffer(bytearray(raw), dtype=dtype) if count else torch.empty(0, dtype=dtype)
        elif type(body.get("data")) is list and len(body["data"]) == count \
                and all(type(v) in (int, float) for v in body["data"]):
            flat = torch.tensor(body["data"], dtype=torch.float64).to(dtype)
        else:
            raise WireError("a malformed tensor")
        tensor = flat.reshape(shape)
    except (RuntimeError, TypeError, OverflowError, ValueError) as error:
        raise WireError(f"a tensor the grader cannot rebuild: {short(str(error), 200)}") from None
    if body.get("requires_grad") is True and (tensor.is_floating_point() or tensor.is_complex()):
        tensor.requires_grad_(True)
    return tensor


# ---- arguments, from the grader to a submission's process --------------------------------------

class _ArgumentPickler(pickle.Pickler):
    """Pickles plain CPU tensors as their bytes, dtype and shape: rebuilding them with
    torch.frombuffer is ten times faster than torch's own reduction (or torch.from_numpy),
    and arguments are sent ~150 at a time for every exercise and student."""

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is torch.Tensor and obj.layout == torch.strided and obj.device.type == "cpu" \
                and not obj.requires_grad and obj.dtype in _NUMPY_DTYPES:
            raw = bytearray(obj.contiguous().numpy().tobytes())
            return tensor_from_bytes, (raw, str(obj.dtype).removeprefix("torch."), tuple(obj.shape))
        return NotImplemented


_NUMPY_DTYPES = {torch.float64, torch.float32, torch.float16, torch.int64, torch.int32, torch.int16,
                 torch.int8, torch.uint8, torch.bool, torch.complex64, torch.complex128}
_NUMPY_NAMES = {str(d).removeprefix("torch."): torch.empty(0, dtype=d).numpy().dtype for d in _NUMPY_DTYPES}


def tensor_from_bytes(raw: bytearray, dtype: str, shape: tuple[int, ...]) -> torch.Tensor:
    """The tensor `_ArgumentPickler` sent: through numpy, whose frombuffer and reshape cost a
    fifth of torch's (the arguments of a whole class are rebuilt once per student)."""
    if not raw:
        return torch.empty(shape, dtype=_DTYPES[dtype])
    return torch.from_numpy(numpy.frombuffer(raw, dtype=_NUMPY_NAMES[dtype]).reshape(shape))


def pickle_arguments(obj: object) -> bytes:
    buffer = io.BytesIO()
    _ArgumentPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()


def dumps(obj: Json) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def loads(body: bytes) -> Json:
    try:
        return json.loads(body)  # Any, checked by the caller (decode, grading/verdict.py)
    except (ValueError, RecursionError) as error:
        raise WireError(f"not JSON: {error}") from None

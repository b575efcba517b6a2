"""The file format of recorded cases (grading/cases.py): plain data that cannot run code.

The grader reads these files from its cache and from the processes that draw the inputs, so
reading one must never run code, whoever wrote it: it is JSON and raw tensor bytes, and
decoding builds only values of the kinds below, with plain code. A file is

    header  "<8sIQQQ32s": MAGIC, VERSION, the lengths of the meta, the value and the blob,
            and the sha256 of all three (against damage, not forgery: the cache's ownership
            and modes guard it against other users);
    meta    a JSON object, what the file is for (cases.py: exercise, fingerprint, examples);
    value   JSON, as below;
    blob    the bytes of every tensor in the value, in the order the value names them, each
            padded to 8.

In the value, None, bool, int, float and str are JSON's own, and a list a JSON array; every
other kind is a JSON object with one key, its tag: {"T": [items]} a tuple, {"D": [key,
value, ...]} a dict with str keys, {"A": [dtype, shape, requires_grad]} a tensor, {"N": hex}
a NaN (its 8 bytes: JSON has no NaN of its own), and {name: [fields]} the kit classes that
are inputs (KIT_CLASSES). Anything else is refused when the file is written (EncodeError, a
kit bug: add the kind here) and when it is read (CaseFileError: the file is not used).
"""
from __future__ import annotations

import hashlib
import json
import struct

import numpy
import torch

from kit.drivers import Graph, Held, SameAsA
from kit.strategies import Curve

MAGIC = b"BPKCASES"
VERSION = 1
HEADER = struct.Struct("<8sIQQQ32s")
MAX_FILE = 1 << 30  # bytes: a class's whole cache is ~2 MB
MAX_DEPTH = 64  # of values written (reading is bounded by json's own recursion limit)
MAX_DIMS = 32
ALIGN = 8

# tag -> (class, its fields as a tuple, the class from those fields): the kit's own input types
KIT_CLASSES = {
    "Held": (Held, lambda v: (v.data, v.grad), Held),
    "SameAsA": (SameAsA, lambda v: (), SameAsA),
    "Graph": (Graph, lambda v: (v.leaves, v.steps), Graph),
    "Curve": (Curve, lambda v: (v.kind, *v.coefficients), Curve),
}
_TAG_OF = {cls: tag for tag, (cls, _, _) in KIT_CLASSES.items()}
assert not {"T", "D", "A", "N"} & set(KIT_CLASSES)

_DTYPES = {str(d).removeprefix("torch."): (d, torch.empty(0, dtype=d).numpy().dtype) for d in (
    torch.float64, torch.float32, torch.float16, torch.int64, torch.int32, torch.int16, torch.int8,
    torch.uint8, torch.bool, torch.complex64, torch.complex128)}


class CaseFileError(ValueError):
    """Not a well-formed case file: whoever made it, it is not used."""


class EncodeError(TypeError):
    """A value of a kind the format does not hold."""


# ---- writing ---------------------------------------------------------------------------------

def dumps(meta: dict, value) -> bytes:
    writer = _Writer()
    try:
        parts = [json.dumps(part, separators=(",", ":"), ensure_ascii=True, allow_nan=True).encode("ascii")
                 for part in (meta, writer.value(value, 0))]
    except ValueError as error:  # an int of more digits than Python converts
        raise EncodeError(str(error)) from None
    parts.append(b"".join(writer.chunks))
    digest = hashlib.sha256(b"".join(parts)).digest()
    return HEADER.pack(MAGIC, VERSION, *map(len, parts), digest) + b"".join(parts)


class _Writer:
    def __init__(self):
        self.chunks: list[bytes] = []

    def value(self, v, depth: int):
        kind = type(v)
        if kind is float:
            return {"N": struct.pack("<d", v).hex()} if v != v else v
        if v is None or kind in (bool, int, str):
            return v
        if depth >= MAX_DEPTH:
            raise EncodeError("a value nested too deeply")
        if kind is list:
            return [self.value(x, depth + 1) for x in v]
        if kind is tuple:
            return {"T": [self.value(x, depth + 1) for x in v]}
        if kind is dict:
            items = []
            for key, x in v.items():
                if type(key) is not str:
                    raise EncodeError(f"a dict key of type {type(key).__name__} (only str keys are kept)")
                items += [key, self.value(x, depth + 1)]
            return {"D": items}
        if kind is torch.Tensor:
            return {"A": self.tensor(v)}
        if kind in _TAG_OF:
            tag = _TAG_OF[kind]
            return {tag: [self.value(x, depth + 1) for x in KIT_CLASSES[tag][1](v)]}
        raise EncodeError(f"a {kind.__module__}.{kind.__qualname__}: grading/casefile.py does not hold it")

    def tensor(self, t: torch.Tensor) -> list:
        name = str(t.dtype).removeprefix("torch.")
        if name not in _DTYPES or t.layout != torch.strided or t.device.type != "cpu":
            raise EncodeError(f"a {t.dtype} {t.layout} tensor on {t.device}")
        if t.is_leaf and t.grad is not None:
            raise EncodeError("a tensor with a .grad (it would be lost)")
        raw = t.detach().contiguous().numpy(force=True).tobytes()
        self.chunks.append(raw + bytes(-len(raw) % ALIGN))
        return [name, list(t.shape), bool(t.requires_grad)]


# ---- reading ---------------------------------------------------------------------------------

def loads(data: bytes | bytearray) -> tuple[dict, object]:
    """(meta, value), or CaseFileError for anything that is not a file `dumps` could write."""
    if not HEADER.size <= len(data) <= MAX_FILE:
        raise CaseFileError(f"{len(data)} bytes long")
    magic, version, meta_size, value_size, blob_size, digest = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise CaseFileError("not a case file")
    if version != VERSION:
        raise CaseFileError(f"version {version}, not {VERSION}")
    if HEADER.size + meta_size + value_size + blob_size != len(data):
        raise CaseFileError("its lengths do not add up to its size")
    body = memoryview(data)[HEADER.size:]
    if hashlib.sha256(body).digest() != digest:
        raise CaseFileError("damaged: its checksum does not match")
    start = meta_size + value_size
    reader = _Reader(bytearray(body[start:]))  # a copy: tensors are views into it, writable
    try:
        meta = json.loads(bytes(body[:meta_size]))
        # bottom-up: each object is decoded as it closes, its items already decoded, and the
        # tensors in the order they are written, the blob's
        value = json.loads(bytes(body[meta_size:start]), object_pairs_hook=reader.tagged)
    except CaseFileError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, RecursionError, OverflowError, RuntimeError) as error:
        raise CaseFileError(f"malformed: {type(error).__name__}: {str(error)[:200]}") from None
    if type(meta) is not dict:
        raise CaseFileError("its meta is not an object")
    if reader.cursor != len(reader.blob):
        raise CaseFileError("tensor bytes left over")
    return meta, value


class _Reader:
    def __init__(self, blob: bytearray):
        self.blob, self.cursor = blob, 0

    def tagged(self, pairs: list):
        """The value of one JSON object: {tag: body}. (Tags in the order of how common they are.)"""
        if len(pairs) != 1:
            raise CaseFileError("an object that is not one tag")
        tag, body = pairs[0]
        if type(body) is list:
            if tag == "A":
                return self.tensor(body)
            if tag == "T":
                return tuple(body)
            if tag == "D":
                keys = body[0::2]
                if len(body) % 2 or not set(map(type, keys)) <= {str}:
                    raise CaseFileError("a malformed dict")
                return dict(zip(keys, body[1::2]))
            if tag in KIT_CLASSES:  # the constructor of a kit class: it only stores its fields
                return KIT_CLASSES[tag][2](*body)
        elif tag == "N" and type(body) is str and len(body) == 16:
            return struct.unpack("<d", bytes.fromhex(body))[0]
        raise CaseFileError(f"an unknown or malformed tag {str(tag)[:40]!r}")

    def tensor(self, body: list) -> torch.Tensor:
        # the one kind of value there are thousands of: checks in plain loops, not all()
        if len(body) != 3:
            raise CaseFileError("a malformed tensor")
        name, shape, grad = body
        spec = _DTYPES.get(name) if type(name) is str else None
        if spec is None or type(shape) is not list or len(shape) > MAX_DIMS or type(grad) is not bool:
            raise CaseFileError("a malformed tensor")
        count = 1
        for s in shape:
            if type(s) is not int or not 0 <= s < 2 ** 31:
                raise CaseFileError("a malformed tensor shape")
            count *= s
        dtype, numpy_dtype = spec
        size = count * numpy_dtype.itemsize
        if size > len(self.blob) - self.cursor:  # checked before anything of that size is made
            raise CaseFileError("a tensor larger than the bytes left")
        if count == 0:
            tensor = torch.empty(shape, dtype=dtype)
        else:
            array = numpy.frombuffer(self.blob, numpy_dtype, count, self.cursor)  # positional: faster
            if dtype == torch.bool and array.view(numpy.uint8).max() > 1:
                raise CaseFileError("a bool tensor with bytes other than 0 and 1")
            tensor = torch.from_numpy(array.reshape(shape))
        self.cursor += size + (-size % ALIGN)
        if grad:
            if not (tensor.is_floating_point() or tensor.is_complex()):
                raise CaseFileError("an integer tensor that requires grad")
            tensor.requires_grad_(True)
        return tensor

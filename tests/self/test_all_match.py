"""kit.compare.all_match and kit.check.all_pass: the grader's quick verdict on a whole batch is
compare's verdict answer by answer, on every kind of answer and every kind of wrong one.

The numbers of float64 tensors are checked all at once; everything else (kinds, dtypes, shapes,
autograd graphs, layouts, Python floats, keys, lengths) pair by pair. A batch passes quickly
only where every answer would pass on its own; grading/verdict.py then still looks for the
first failure the slow way when it does not.
"""
from __future__ import annotations

import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grading import verdict, wire
from kit.check import all_pass, fault
from kit.compare import TOLERANCES, all_match, compare
from kit.registry import EXERCISES
from kit.strategies import t

ROWS = st.sampled_from(sorted(TOLERANCES))
NUMBERS = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
SPECIAL = st.sampled_from([0.0, -0.0, math.inf, -math.inf, 1e-300, 5e-324])


@st.composite
def float_tensors(draw):
    shape = draw(st.lists(st.integers(0, 3), max_size=3))
    n = math.prod(shape)
    values = draw(st.lists(st.one_of(NUMBERS, SPECIAL), min_size=n, max_size=n))
    return torch.tensor(values, dtype=torch.float64).reshape(shape)


LEAVES = st.one_of(
    float_tensors(),
    st.one_of(NUMBERS, SPECIAL),  # a Python float
    st.lists(st.integers(-5, 5), min_size=1, max_size=4).map(lambda v: torch.tensor(v)),  # int64
    st.lists(NUMBERS, min_size=1, max_size=4).map(lambda v: torch.tensor(v, dtype=torch.float32)),
)
ANSWERS = st.recursive(LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=3).map(tuple),
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["dx", "dw", "db", "h"]), inner, max_size=3),
), max_leaves=6)


def _scaled(value: torch.Tensor, factor: float) -> torch.Tensor:
    return value * factor if value.is_floating_point() else value + 1


@st.composite
def bent(draw, value, row):
    """`value`, or a copy changed in one of the ways a learner's answer differs (or does not)."""
    rtol, atol = TOLERANCES[row]
    kind = draw(st.sampled_from(["same", "within", "beyond", "nan", "inf", "dtype", "shape", "graph",
                                 "float", "tensor", "layout", "sequence", "keys", "length", "deep"]))
    if isinstance(value, torch.Tensor):
        v = value.clone()
        if kind == "within" and v.is_floating_point():
            return v + 0.4 * (atol + rtol * v.abs()) * torch.where(torch.isinf(v), 0.0, 1.0)
        if kind == "beyond" and v.numel():
            flat = v.reshape(-1).clone()
            i = draw(st.integers(0, flat.numel() - 1))
            flat[i] = _scaled(flat[i], 1.5) + (1 if v.is_floating_point() else 0)
            return flat.reshape(v.shape)
        if kind == "nan" and v.is_floating_point() and v.numel():
            flat = v.reshape(-1).clone()
            flat[draw(st.integers(0, flat.numel() - 1))] = math.nan
            return flat.reshape(v.shape)
        if kind == "inf" and v.is_floating_point() and v.numel():
            flat = v.reshape(-1).clone()
            flat[draw(st.integers(0, flat.numel() - 1))] = draw(st.sampled_from([math.inf, -math.inf]))
            return flat.reshape(v.shape)
        if kind == "dtype":
            return v.to(torch.float32 if v.dtype != torch.float32 else torch.float64)
        if kind == "shape":
            return v.reshape(-1, 1) if v.dim() != 2 or v.shape[1] != 1 else v.reshape(-1)
        if kind == "graph" and v.is_floating_point():
            return v.requires_grad_(True)
        if kind == "float" and v.numel() == 1:
            return float(v.reshape(-1)[0])
        if kind == "layout" and v.dim() == 2:
            return draw(st.sampled_from([v.to_sparse(), v.t().contiguous().t()]))
        return v
    if isinstance(value, float):
        if kind == "within" and math.isfinite(value):
            return value + 0.4 * (atol + rtol * abs(value))
        if kind == "beyond":
            return value * 1.5 + 1.0 if math.isfinite(value) else -value
        if kind == "nan":
            return math.nan
        if kind == "tensor":
            return torch.tensor(value, dtype=torch.float64)
        return value
    if isinstance(value, dict):
        if kind == "keys" and value:
            return dict(list(value.items())[1:])
        if kind == "keys":
            return {"extra": 1.0}
        return {k: draw(bent(v, row)) for k, v in value.items()}
    # a tuple or a list
    if kind == "length":
        return type(value)(list(value) + [1.0])
    items = [draw(bent(v, row)) for v in value]
    return list(items) if kind == "sequence" else type(value)(items)


@st.composite
def batches(draw):
    row = draw(ROWS)
    expected = draw(st.lists(ANSWERS, min_size=1, max_size=5))
    actual = [draw(bent(e, row)) for e in expected]
    return row, expected, actual


@settings(max_examples=400, deadline=None)
@given(batches())
def test_a_batch_matches_all_at_once_exactly_when_every_answer_matches_alone(batch):
    row, expected, actual = batch
    one_by_one = all(compare(e, a, row) is None for e, a in zip(expected, actual))
    assert all_match(zip(expected, actual), row) == one_by_one


@settings(max_examples=200, deadline=None)
@given(batches())
def test_each_answer_alone_matches_all_at_once_as_compare_says(batch):
    row, expected, actual = batch
    for e, a in zip(expected, actual):
        assert all_match([(e, a)], row) == (compare(e, a, row) is None)


def test_one_wrong_number_among_thousands_of_tensors_fails_the_batch():
    expected = [(t([float(i), 1.0]), t([[2.0, -3.0]])) for i in range(2000)]
    actual = [(e0.clone(), e1.clone()) for e0, e1 in expected]
    assert all_match(zip(expected, actual), "accumulated")
    actual[1234][1][0, 1] = -3.0 * (1 + 1e-6)
    assert not all_match(zip(expected, actual), "accumulated")
    actual[1234][1][0, 1] = math.nan
    assert not all_match(zip(expected, actual), "accumulated")


def test_a_wrong_kind_after_many_right_tensors_fails_without_a_number_read():
    expected = [t([1.0, 2.0])] * 50 + [1.5]
    assert not all_match(zip(expected, [t([1.0, 2.0])] * 50 + [t(1.5)]))  # a 0-d tensor for a float
    assert not all_match(zip(expected, [t([1.0, 2.0])] * 50 + ["1.5"]))


def test_all_pass_needs_every_answer_and_no_input_changed():
    exercise = EXERCISES["ch8_tensors.tanh_backward"]
    expected = (t([1.0]), t([2.0]))
    assert all_pass(exercise, expected, [(t([1.0]), None), (t([2.0]), None)])
    assert not all_pass(exercise, expected, [(t([1.0]), None)])  # one answer missing
    assert not all_pass(exercise, expected, [(t([1.0]), None), (t([2.0]), "upstream")])  # changed its input
    assert not all_pass(exercise, expected, [(t([1.0]), None), (t([2.5]), None)])


@settings(max_examples=150, deadline=None)
@given(batches())
def test_the_graders_verdict_is_the_first_fault_answer_by_answer(batch):
    """verdict.judge on a reply the child could send: passed exactly when no answer has a fault,
    else the index of the first that has one."""
    row, expected, actual = batch
    exercise = EXERCISES["ch8_tensors.tanh_backward"]
    exercise = type(exercise)(**{**exercise.__dict__, "tolerance": row})
    body = wire.dumps({"seq": 7, "answers": [[wire.encode(a), None] for a in actual], "stop": None})
    status, _, index = verdict.judge(exercise, tuple(expected), body, 7, exercise.parameter_names())
    decoded, _ = verdict.answers(verdict.parse(body, 7))
    faults = [i for i, (e, (a, _)) in enumerate(zip(expected, decoded)) if fault(exercise, e, a, None)]
    if faults:
        assert (status, index) == (verdict.Status.WRONG, faults[0])
    else:
        assert (status, index) == (verdict.Status.PASSED, -1)

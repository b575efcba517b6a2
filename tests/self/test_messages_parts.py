"""What a learner reads about a wrong answer: every part named and listed, float32 told apart,
an input changed in place named, a missing method of chapter 7's Value said plainly.

Most tests answer with torch's own answer, bent on purpose (`Bent`), so that every exercise and
every part of its answer can be made wrong in each way, one part at a time and in pairs; the
others run the reference solutions with a piece replaced or removed, as a learner's code would be.
"""
from __future__ import annotations

import ast
import itertools
from pathlib import Path
from types import SimpleNamespace

import numpy
import pytest
import torch
from hypothesis import settings

from kit import messages
from kit.check import ExerciseFailure, attempt, check
from kit.compare import FLOAT32, TOLERANCES, compare, differences
from kit.diagnosis import diagnose, sample_inputs
from kit.implementation import Implementation, copy_args
from kit.messages import diagnosis as said
from kit.registry import CHAPTERS, EXERCISES, chapter

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = Implementation(ROOT / "solutions")
STUBS = Implementation(ROOT / "exercises")
VARIANTS = Implementation(Path(__file__).parent / "variants")
GRADING = settings.get_profile("grading")


class Bent:
    """An implementation that answers torch's own answer, passed through `bend`, and says that it
    changed the argument `changed` (or none)."""

    def __init__(self, bend=lambda answer: answer, changed: str | None = None):
        self.bend, self.changed = bend, changed

    def call(self, exercise, args):
        return self.bend(exercise.reference(*copy_args(args))), self.changed


class Patched(Implementation):
    """The reference solutions with some attributes replaced."""

    def __init__(self, overrides: dict):
        super().__init__(SOLUTIONS.folder)
        self.overrides = overrides

    def module(self, name):
        return SimpleNamespace(**{**vars(SOLUTIONS.module(name)), **self.overrides})


def failure(exercise, impl, args=None) -> ExerciseFailure:
    """The failure of one input (the first worked example unless given)."""
    with pytest.raises(ExerciseFailure) as raised:
        attempt(exercise, impl, exercise.examples[0] if args is None else args)
    return raised.value


def checked(exercise, impl) -> ExerciseFailure:
    with pytest.raises(ExerciseFailure) as raised:
        check(exercise, impl, GRADING)
    return raised.value


# ---- bending one part of an answer --------------------------------------------------------------

def to_float32(value):
    """A float or float64 tensor as float32 arithmetic would leave it, in float64's clothes."""
    if isinstance(value, torch.Tensor):
        return value.float().double() if value.dtype == torch.float64 else value
    return float(numpy.float32(value)) if isinstance(value, float) else value


BENDS = {  # how a part goes wrong -> (bend a float, bend a tensor); None where it cannot
    "value": (lambda v: v + 1.0, lambda t: t + 1.0),
    "shape": (None, lambda t: t.unsqueeze(0)),
    "dtype": (None, lambda t: t.float()),
    "type": (lambda v: torch.tensor(v, dtype=torch.float64), lambda t: t.tolist()),
    "float32": (to_float32, to_float32),
}
SAID = {  # what the part's line says, after its name
    "value": ("yours ", "first difference at index"),
    "shape": (None, "the wrong shape: expected shape"),
    "dtype": (None, "the wrong dtype: expected dtype torch.float64, got torch.float32"),
    "type": ("the wrong type: expected a Python float", "the wrong type: expected a torch.Tensor"),
}


def bend_leaf(value, how: str):
    bend = BENDS[how][isinstance(value, torch.Tensor)]
    return bend(value) if bend is not None else None


def leaves(value, path=()):
    """(path, leaf) for every float and tensor of an answer, as kit.compare walks it."""
    if isinstance(value, (tuple, list)):
        for i, v in enumerate(value):
            yield from leaves(v, (*path, i))
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, (*path, k))
    else:
        yield path, value


def replaced(value, path, new):
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: replaced(v, rest, new) if k == head else v for k, v in value.items()}
    items = [replaced(v, rest, new) if i == head else v for i, v in enumerate(value)]
    return type(value)(items)


def with_parts(answer, bends: dict):
    for path, new in bends.items():
        answer = replaced(answer, path, new)
    return answer


PARTED = [e for e in EXERCISES.values()
          if isinstance(e.reference(*e.examples[0]), (tuple, list, dict))]


def part_cases():
    """(exercise, {path: how}) for every exercise whose answer has parts: each part wrong in each way
    it can be, alone and with every other part (wrong in value); every part wrong at once."""
    for exercise in PARTED:
        answer = exercise.reference(*exercise.examples[0])
        paths = [path for path, _ in leaves(answer)]
        for path, leaf in leaves(answer):
            for how in ("value", "shape", "dtype", "type"):
                if bend_leaf(leaf, how) is not None:
                    yield pytest.param(exercise, {path: how}, id=f"{exercise.id}:{list(path)}:{how}")
        for first, second in itertools.combinations(paths, 2):
            yield pytest.param(exercise, {first: "type" if isinstance(dict(leaves(answer))[first], float)
                                          else "shape", second: "value"},
                               id=f"{exercise.id}:{list(first)}+{list(second)}")
        yield pytest.param(exercise, dict.fromkeys(paths, "value"), id=f"{exercise.id}:all")


# ---- point 7: every part named as the contract names it, every wrong one listed ------------------

def test_every_tuple_answer_has_the_contracts_names_for_its_parts():
    named = {e.id for e in EXERCISES.values() if e.answer_names}
    for exercise in EXERCISES.values():
        for args in exercise.examples:
            answer = exercise.reference(*args)
            if isinstance(answer, tuple):
                assert len(exercise.answer_names) == len(answer), f"{exercise.id}: one name per part"
                assert len(set(exercise.answer_names)) == len(answer), exercise.id
                assert all(isinstance(n, str) and n.strip() == n and n for n in exercise.answer_names)
                named.discard(exercise.id)
    assert not named, f"answer_names declared for answers that are not tuples: {sorted(named)}"
    # the ones the issue names, as the curriculum names them
    assert EXERCISES["ch8_tensors.linear_backward"].answer_names == ("dx", "dW", "db")
    assert EXERCISES["ch8_tensors.matmul_backward"].answer_names == ("dA", "dB")
    assert EXERCISES["ch8_tensors.batchnorm_backward"].answer_names == ("dx", "dgamma", "dbeta")


def test_the_issues_examples_name_db_dB_and_both_keys():
    linear = EXERCISES["ch8_tensors.linear_backward"]
    message = failure(linear, Bent(lambda a: (a[0], a[1], a[2] * 2 + 1))).message
    assert "is wrong in db (the answer is (dx, dW, db))." in message and "at [2]" not in message
    matmul = EXERCISES["ch8_tensors.matmul_backward"]
    message = failure(matmul, Bent(lambda a: (a[0], a[1].T))).message
    assert "is wrong in dB (the answer is (dA, dB))." in message and "at [1]" not in message
    assert "  dB: the wrong shape: expected shape (3, 1), got (1, 3)" in message
    local = EXERCISES["ch5_backprop_by_hand.local_derivatives"]
    message = failure(local, Bent(lambda a: {**a, "da_dy": a["da_dy"] + 1, "dc_db": a["dc_db"] * 3})).message
    assert "is wrong in da_dy and dc_db (of its keys da_dx, da_dy, db_da, db_dz, dc_db)." in message
    assert "  da_dy: yours 6.0, torch 5.0" in message and "  dc_db: yours 180.0, torch 60.0" in message


@pytest.mark.parametrize(("exercise", "bends"), list(part_cases()))
def test_every_wrong_part_is_named_and_listed_with_its_first_difference(exercise, bends):
    args = exercise.examples[0]
    answer = exercise.reference(*args)
    parts = dict(leaves(answer))
    bent = {path: bend_leaf(parts[path], how) for path, how in bends.items()}
    message = failure(exercise, Bent(lambda a: with_parts(a, bent)), args).message
    names = {path: messages.part_name(exercise, path) for path in parts}
    head = message.splitlines()[0]
    assert " is wrong in " in head or " is wrong at " in head, head
    assert messages._listed([names[p] for p in parts if p in bends]) in head  # in the answer's order
    for path, how in bends.items():
        line = next((line for line in message.splitlines() if line.startswith(f"  {names[path]}: ")), None)
        assert line is not None, f"{names[path]} is not listed:\n{message}"
        said_here = SAID[how][isinstance(parts[path], torch.Tensor)]
        assert said_here in line, line
    for path in parts:
        if path not in bends:
            assert not any(line.startswith(f"  {names[path]}: ") for line in message.splitlines()), names[path]
    if isinstance(answer, tuple):  # named as the contract names them, never by position alone
        assert all(not name.startswith("[") for name in names.values())


def test_a_sequence_of_the_wrong_length_or_a_dict_with_keys_missing_is_said_so_with_the_rest():
    local = EXERCISES["ch5_backprop_by_hand.local_derivatives"]
    bent = Bent(lambda a: {k: v * 3 if k == "dc_db" else v for k, v in a.items() if k != "db_da"})
    message = failure(local, bent).message
    assert "is wrong in the keys and dc_db" in message
    assert "  the keys: missing keys ['db_da']" in message and "  dc_db: yours 180.0, torch 60.0" in message
    linear = EXERCISES["ch8_tensors.linear_backward"]
    message = failure(linear, Bent(lambda a: a[:2])).message
    assert "returned the wrong length: expected a tuple of 3, got 2 items." in message
    step = EXERCISES["ch9_training.sgd_step"]
    message = failure(step, Bent(lambda a: (a[0] + 1, {k: v for k, v in a[1].items() if k != "b2"}))).message
    assert "is wrong in loss and new params (the answer is (loss, new params))." in message
    assert "  new params: missing keys ['b2']" in message


def test_the_diagnosis_names_the_part_of_the_wrong_kind():
    linear = EXERCISES["ch8_tensors.linear_backward"]
    found = diagnose(linear, Bent(lambda a: (a[0], a[1] * 2, a[2].unsqueeze(0))))
    assert found.startswith("db: "), found
    matmul = EXERCISES["ch8_tensors.matmul_backward"]
    found = diagnose(matmul, Bent(lambda a: (a[0].T, a[1].T)))
    assert "dA: Your answer is transposed" in found or "dA: A gradient has the shape" in found, found
    assert "dB: " in found, found


def test_differences_begin_with_compares_first_which_the_grader_reads():
    e = (torch.zeros(2, dtype=torch.float64), 1.0, {"a": 2.0, "b": 3.0})
    for actual in [(torch.ones(2, dtype=torch.float64), 2.0, {"a": 2.0, "b": 4.0}),
                   (torch.zeros(2, dtype=torch.float64), 1.0, {"b": 4.0}),
                   (torch.zeros(3, dtype=torch.float64), 1.5, {"a": 2.0, "b": 3.0}),
                   (1.0,)]:
        first, every = compare(e, actual), differences(e, actual)
        assert every and (first.kind, first.where) == (every[0].kind, every[0].where)
    assert [m.where for m in differences(e, (torch.ones(2, dtype=torch.float64), 2.0, {"a": 0.0, "b": 0.0}))] \
        == ["[0]", "[1]", "[2]['a']", "[2]['b']"]
    assert compare(e, e) is None and differences(e, e) == []


# ---- point 8: float32 rounding told apart, with the fix ------------------------------------------

def first_rounded_input(exercise):
    """An input of the exercise where torch's answer, rounded to float32, is no longer accepted."""
    for args in sample_inputs(exercise):
        answer = exercise.reference(*args)
        rounded = with_parts(answer, {p: to_float32(v) for p, v in leaves(answer)})
        if compare(answer, rounded, exercise.tolerance):
            return args
    return None


ROUNDED = [pytest.param(e, id=e.id) for e in EXERCISES.values() if first_rounded_input(e) is not None]


def assert_float32_message(exercise, message):
    assert "float32 rounding only" in message, message
    assert "  float32: in " in message and f"row {FLOAT32!r}" in message
    assert "Try this: Do the arithmetic in float64: torch.tensor(x, dtype=torch.float64)" in message
    assert exercise.hint not in message  # the mathematics is right: no hint about it
    assert "Diagnosis:" not in message and "nudged:" not in message


@pytest.mark.parametrize("exercise", ROUNDED)
def test_float32_rounding_is_told_apart_on_every_exercise_scalar_tensor_and_parts(exercise):
    args = first_rounded_input(exercise)
    bent = Bent(lambda a: with_parts(a, {p: to_float32(v) for p, v in leaves(a)}))
    found = failure(exercise, bent, args)
    assert found.status == "wrong" and not found.explain
    assert_float32_message(exercise, found.message)


def test_the_scalar_case_of_the_issue_and_its_fix():
    exercise = EXERCISES["ch6_functions.sigmoid_grad"]

    def float32_sigmoid_grad(x):
        s = torch.sigmoid(torch.tensor(x))  # float32, torch's default
        return (s * (1 - s)).item()

    message = checked(exercise, Patched({"sigmoid_grad": float32_sigmoid_grad})).message
    assert message.startswith("ch6_functions.sigmoid_grad: sigmoid_grad(x=2.0) is wrong by float32 rounding only.")
    assert_float32_message(exercise, message)

    def float64_sigmoid_grad(x):
        s = torch.sigmoid(torch.tensor(x, dtype=torch.float64))  # the fix the message gives
        return (s * (1 - s)).item()

    check(exercise, Patched({"sigmoid_grad": float64_sigmoid_grad}), GRADING)


def in_float32(function):
    """The solution run on float32 copies of its tensor arguments, its tensors made float64 at the end."""
    def run(*args):
        answer = function(*(a.float() if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args))
        return with_parts(answer, {p: v.double() for p, v in leaves(answer) if isinstance(v, torch.Tensor)})
    return run


@pytest.mark.parametrize("name", ["dot_self_grad", "sigmoid_backward", "log_backward", "scale_backward",
                                  "ch8:unbroadcast", "ch8:matmul_backward", "ch8:linear_backward",
                                  "ch8:tanh_backward", "ch8:softmax_backward", "ch8:mse_backward"])
def test_tensors_computed_in_float32_and_made_float64_are_told_apart(name):
    module = "ch8_tensors" if name.startswith("ch8:") else "ch6_functions"
    name = name.removeprefix("ch8:")
    exercise = EXERCISES[f"{module}.{name}"]
    function = getattr(SOLUTIONS.module(module), name)
    assert_float32_message(exercise, checked(exercise, Patched({name: in_float32(function)})).message)


def test_a_tensor_left_float32_is_a_wrong_dtype_as_before():
    exercise = EXERCISES["ch6_functions.sigmoid_backward"]
    message = failure(exercise, Bent(lambda a: a.float())).message
    assert "returned the wrong dtype: expected dtype torch.float64, got torch.float32." in message


def test_one_part_rounded_and_another_wrong_names_both_and_keeps_the_hint():
    exercise = EXERCISES["ch8_tensors.linear_backward"]
    float32 = in_float32(SOLUTIONS.module("ch8_tensors").linear_backward)
    args = next(args for args in sample_inputs(exercise)
                if compare(exercise.reference(*args)[1], float32(*args)[1], exercise.tolerance)
                and compare(exercise.reference(*args)[0], exercise.reference(*args)[0] * 2, exercise.tolerance))
    message = failure(exercise, Bent(lambda a: (a[0] * 2, float32(*args)[1], a[2])), args).message
    assert "is wrong in dx and dW" in message
    assert "  dW: first difference" in message and "(float32 rounding only)" in message
    assert "  float32: in dW, every number that differs is a float32 number" in message
    assert f"Try this: {exercise.hint}" in message and "tolerance:" in message
    product = EXERCISES["ch4_product_rule.product_grads"]
    message = failure(product, Bent(lambda a: (to_float32(a[0]), a[1] + 1)), (1.0, 0.1)).message
    assert "is wrong in ∂(x·y)/∂x and ∂(x·y)/∂y" in message
    assert "  ∂(x·y)/∂x: yours 0.10000000149011612, torch 0.1 (float32 rounding only)" in message
    assert f"Try this: {product.hint}" in message


@pytest.mark.parametrize(("eid", "yours"), [
    # float64 near misses: a forward difference, eps outside the square root
    ("ch1_sensitivity.numeric_sensitivity", lambda f, x, h=1e-5: (f(x + h) - f(x)) / h),
    ("ch6_functions.sigmoid_grad", lambda x: (1 / (1 + numpy.exp(-(x + 1e-6))) - 1 / (1 + numpy.exp(-x))) / 1e-6),
    # float32 numbers far from torch's
    ("ch3_power_rule.square_grad", lambda b: float(numpy.float32(b))),
    ("ch6_functions.sigmoid_grad", lambda x: float(numpy.float32(0.25 + x))),
])
def test_a_near_miss_in_float64_or_a_far_float32_number_is_no_float32_rounding(eid, yours):
    exercise = EXERCISES[eid]
    message = checked(exercise, Patched({exercise.name: yours})).message
    assert "float32" not in message and f"Try this: {exercise.hint}" in message


def test_batchnorm_with_eps_outside_the_root_is_no_float32_rounding():
    exercise = EXERCISES["ch8_tensors.batchnorm_backward"]
    args = exercise.examples[0]

    def eps_outside(x, gamma, beta, upstream, eps=1e-5):
        from kit.reference import gradients
        def norm(x, gamma, beta):
            mean = x.mean(dim=0)
            return gamma * (x - mean) / ((x - mean).pow(2).mean(dim=0).sqrt() + eps) + beta
        return gradients(norm, x, gamma, beta, upstream=upstream)

    found = differences(exercise.reference(*args), eps_outside(*args), exercise.tolerance)
    assert found and not any(m.float32 for m in found)


def wrong_variants():
    for module in CHAPTERS:
        for name, why, replacement in VARIANTS.module(module).WRONG:
            overrides = replacement if isinstance(replacement, dict) else {name: replacement}
            yield EXERCISES[f"{module}.{name}"], overrides, why


def test_no_wrong_variant_is_taken_for_float32_rounding_unless_it_is_one():
    for exercise, overrides, why in wrong_variants():
        for args in exercise.examples:
            try:
                attempt(exercise, Patched(overrides), args)
            except ExerciseFailure as found:
                if "float32" in why:
                    continue  # a variant in float32 on purpose
                assert "float32 rounding" not in found.message, f"{exercise.id}: {why}"


def test_the_float32_row_recognises_and_is_no_exercises_row():
    assert FLOAT32 in TOLERANCES
    assert all(e.tolerance != FLOAT32 for e in EXERCISES.values())
    rtol, atol = TOLERANCES[FLOAT32]
    assert all(rtol > r and atol > a for row, (r, a) in TOLERANCES.items() if row != FLOAT32)
    one = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64) / 3
    found = compare(one, one.float().double())
    assert found.kind == "value" and found.float32
    # float32's rounding of one number, at most 2⁻²⁴ ≈ 6e-8 relative, is within the accumulated row
    assert compare(one, one.float().double(), "accumulated") is None
    assert not compare(one, one + 1e-6, "accumulated").float32  # close, but no float32 numbers
    assert not compare(1 / 3, 0.5).float32  # a float32 number, far off
    assert not compare(1 / 3, float("nan")).float32


# ---- point 11a: the argument written into, named; the values said to be right ------------------

def in_place_cases():
    for exercise in EXERCISES.values():
        args = exercise.examples[0]
        for name, value in zip(exercise.parameter_names(), args):
            if isinstance(value, (torch.Tensor, dict, list)):
                yield pytest.param(exercise, name, value, id=f"{exercise.id}:{name}")


@pytest.mark.parametrize(("exercise", "name", "value"), list(in_place_cases()))
def test_an_input_changed_in_place_is_named_with_its_own_copy_and_the_values_said_right(exercise, name, value):
    found = failure(exercise, Bent(changed=name))
    message = found.message
    assert f"returned the right values, but changed its argument {name!r} in place." in message
    if isinstance(value, torch.Tensor):
        assert f"{name}.clone()" in message
    elif isinstance(value, dict):
        assert f"{{k: v.clone() for k, v in {name}.items()}}" in message
    elif any(isinstance(v, torch.Tensor) for v in value):
        assert f"[t.clone() for t in {name}]" in message
    else:  # a list of numbers (ks) or of pairs (contributions)
        assert f"list({name})" in message and ".clone()" not in message
    if name != "x":
        assert "x.clone()" not in message
    assert not found.explain  # the message says it all: no diagnosis repeats it


def test_the_issues_in_place_upstream_through_a_real_run():
    exercise = EXERCISES["ch6_functions.sigmoid_backward"]

    def in_place(x, upstream):
        s = torch.sigmoid(x)
        upstream *= s * (1 - s)
        return upstream

    message = checked(exercise, Patched({"sigmoid_backward": in_place})).message
    assert "returned the right values, but changed its argument 'upstream' in place." in message
    assert "upstream.clone()" in message and "x.clone()" not in message
    assert message.count("in place") == 1  # said once: no diagnosis saying it again


def test_wrong_values_written_in_place_are_wrong_values_with_the_argument_named_by_the_diagnosis():
    exercise = EXERCISES["ch6_functions.sigmoid_backward"]

    def in_place(x, upstream):
        upstream *= torch.sigmoid(x)  # the forward value, and written into upstream
        return upstream

    message = checked(exercise, Patched({"sigmoid_backward": in_place})).message
    assert "is wrong." in message and "returned the right values" not in message
    assert "Diagnosis: Your function writes into its argument 'upstream'" in message and "upstream.clone()" in message
    assert said.in_place("params", {}).count("params.items()") == 1


# ---- point 11b, 11c: a method missing from chapter 7's Value -------------------------------------

SOURCE = (ROOT / "solutions" / "ch7_engine.py").read_text()
ENGINE = chapter("ch7_engine")
METHODS = [(method, e) for e in ENGINE for method in e.methods]


def without(method: str, folder: Path) -> Implementation:
    """The solution's ch7_engine with one method of Value removed, as a learner's file may be."""
    tree = ast.parse(SOURCE)
    (value,) = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "Value"]
    before = len(value.body)
    value.body = [node for node in value.body if not (isinstance(node, ast.FunctionDef) and node.name == method)]
    assert len(value.body) == before - 1, method
    (folder / "ch7_engine.py").write_text(ast.unparse(tree))
    return Implementation(folder)


def test_every_method_the_engine_exercises_name_is_in_the_stub_and_each_is_graded_once():
    stub = STUBS.module("ch7_engine").Value
    names = [method for method, _ in METHODS]
    assert len(names) == len(set(names))
    for method in names:
        assert callable(getattr(stub, method, None)), method


@pytest.mark.parametrize(("method", "graded_by"), METHODS, ids=[m for m, _ in METHODS])
def test_a_missing_method_is_named_with_where_to_write_it_and_backward_says_it_is_not_its_order(
        method, graded_by, tmp_path):
    impl = without(method, tmp_path)
    for exercise in dict.fromkeys([graded_by, EXERCISES["ch7_engine.backward"]]):
        found = checked(exercise, impl)
        message = found.message
        assert found.status == "error"
        assert f"and class Value in ch7_engine.py has no method {method}: " in message.splitlines()[0], message
        assert f"  Try this: write `def {method}(self" in message and "inside class Value in ch7_engine.py" in message
        assert exercise.hint not in message, "the hint (backward's: topological order) would mislead"
        if exercise.name == "backward" and method != "backward":
            assert "it is not your backward() that failed" in message
        if graded_by is not exercise:
            assert f"({graded_by.id} grades it)" in message
        assert "Diagnosis:" not in message


def test_an_attribute_error_of_the_learners_own_stays_the_learners_traceback(tmp_path):
    source = SOURCE.replace("def backward(self):", "def backward(self):\n        self._order()", 1)
    (tmp_path / "ch7_engine.py").write_text(source)
    message = checked(EXERCISES["ch7_engine.backward"], Implementation(tmp_path)).message
    assert "raised an exception" in message and "'Value' object has no attribute '_order'" in message
    assert "has no method" not in message


@pytest.mark.parametrize(("text", "found"), [
    ("AttributeError: 'Value' object has no attribute 'exp'", ("exp", "`a.exp()`")),
    ("AttributeError: 'Value' object has no attribute 'exp'. Did you mean: 'log'?", ("exp", "`a.exp()`")),
    ("TypeError: unsupported operand type(s) for *: 'Value' and 'Value'", ("__mul__", "`a * b`")),
    ("TypeError: unsupported operand type(s) for +: 'Value' and 'int'", ("__add__", "`a + 2`")),
    ("TypeError: unsupported operand type(s) for ** or pow(): 'Value' and 'float'", ("__pow__", "`a ** 2.0`")),
    ("TypeError: bad operand type for unary -: 'Value'", ("__neg__", "`-a`")),
    ("AttributeError: 'float' object has no attribute 'data'", None),
    ("TypeError: unsupported operand type(s) for +: 'float' and 'str'", None),
    ("", None),
])
def test_python_s_last_line_says_which_method_is_missing(text, found):
    assert messages.missing_member("Value", f'  File "x.py", line 1, in f\n{text}') == found
    reflected = messages.missing_member("Value", "TypeError: unsupported operand type(s) for /: 'float' and 'Value'")
    assert reflected[0] == "__rtruediv__" and reflected[1].startswith("`2.0 / a`")


def test_zeros_where_torch_is_merely_small_are_a_lost_gradient_not_float32_rounding():
    """Chapter 10's batch norm over H and W alone on 1 × 1 images gives dx = 0 where torch's dx is
    about 5e-6: within the float32 row's atol, but rounding never makes a number 0."""
    torch_dx = torch.tensor([[-4.999925000854692e-06, 0.0], [5e-06, -0.0]], dtype=torch.float64)
    found = compare(torch_dx, torch.zeros(2, 2, dtype=torch.float64), "accumulated")
    assert found is not None and found.kind == "value" and not found.float32
    larger = torch_dx * 1e6 + 0.1  # real rounding of numbers this size is still told apart
    rounded = compare(larger, larger.float().double(), "derivative")
    assert rounded is not None and rounded.float32


def _nan_where(first_only: bool):
    """An answer twice torch's, NaN on the first sampled input (or on every one)."""
    exercise = EXERCISES["ch6_functions.sigmoid_backward"]
    first = sample_inputs(exercise)[0]

    def answer(*args):
        doubled = exercise.reference(*args) * 2
        nan = not first_only or all(torch.equal(a, b) for a, b in zip(args, first))
        return torch.full_like(doubled, float("nan")) if nan else doubled
    return answer


class Answering:
    def __init__(self, answer):
        self.answer = answer

    def call(self, exercise, args):
        return self.answer(*copy_args(args)), None


def test_a_misconception_that_reproduces_a_nan_and_every_other_number_is_named():
    import dataclasses

    from kit.diagnosis import Misconception
    exercise = EXERCISES["ch6_functions.sigmoid_backward"]
    named = dataclasses.replace(exercise, misconceptions=(Misconception("the doubled one", _nan_where(True)),))
    assert diagnose(named, Answering(_nan_where(True))) == "the doubled one"
    # a NaN is no match for a number, either way round

    def doubled(*args):
        return exercise.reference(*args) * 2
    assert diagnose(named, Answering(doubled)) is None
    other = dataclasses.replace(exercise, misconceptions=(Misconception("the doubled one", doubled),))
    assert diagnose(other, Answering(_nan_where(True))) is None


def test_a_misconception_whose_answers_are_all_nan_names_no_answer_of_nans():
    import dataclasses

    from kit.diagnosis import Misconception
    exercise = EXERCISES["ch6_functions.sigmoid_backward"]
    nans = dataclasses.replace(exercise, misconceptions=(Misconception("all NaN", _nan_where(False)),))
    assert diagnose(nans, Answering(_nan_where(False))) is None

"""The kit's own pieces: the comparison and tolerance table, and the registry against the stubs."""
import inspect
from pathlib import Path

import pytest
import torch

from kit.compare import TOLERANCES, compare
from kit.exercise import call_function
from kit.implementation import Implementation
from kit.registry import CHAPTERS, EXERCISES

ROOT = Path(__file__).resolve().parents[2]
STUBS, SOLUTIONS = Implementation(ROOT / "exercises"), Implementation(ROOT / "solutions")
FUNCTIONS = [e for e in EXERCISES.values() if e.run is call_function]


@pytest.mark.parametrize("row", TOLERANCES)
def test_each_tolerance_accepts_what_it_allows_and_rejects_just_beyond(row):
    rtol, atol = TOLERANCES[row]
    expected = 3.0
    allowed = atol + rtol * expected
    assert compare(expected, expected + 0.5 * allowed, row) is None
    assert compare(expected, expected + 2.0 * allowed, row).kind == "value"
    tensor = torch.tensor([expected, -expected], dtype=torch.float64)
    assert compare(tensor, tensor - 0.5 * allowed, row) is None
    assert compare(tensor, tensor + torch.tensor([0.0, 2.0 * allowed], dtype=torch.float64), row).kind == "value"


@pytest.mark.parametrize(("expected", "actual", "kind"), [
    (1.0, torch.tensor(1.0, dtype=torch.float64), "type"),
    (1.0, True, "type"),
    (1.0, float("nan"), "value"),
    (1.0, "1.0", "type"),
    (torch.zeros(2, 3, dtype=torch.float64), torch.zeros(3, 2, dtype=torch.float64), "shape"),
    (torch.zeros(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float32), "dtype"),
    (torch.zeros(3, dtype=torch.float64), [0.0, 0.0, 0.0], "type"),
    (torch.zeros(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64, requires_grad=True), "type"),
    ((1.0, 2.0), (1.0,), "length"),
    ({"a": 1.0}, {"b": 1.0}, "keys"),
    ((1.0, {"a": 2.0}), (1.0, {"a": 2.5}), "value"),
])
def test_a_wrong_kind_is_named_before_any_value(expected, actual, kind):
    assert compare(expected, actual).kind == kind


def test_numbers_of_any_real_kind_and_matching_infinities_are_accepted():
    assert compare(2.0, 2) is None
    assert compare(float("inf"), float("inf")) is None
    assert compare(float("inf"), float("-inf")).kind == "value"
    assert compare((1.0, 2.0), [1.0, 2.0]) is None


def test_tensors_match_infinities_elementwise_and_never_nan_silently(recwarn):
    expected = torch.tensor([1.0, float("inf"), -float("inf")], dtype=torch.float64)
    assert compare(expected, expected.clone()) is None
    flipped = torch.tensor([1.0, float("inf"), float("inf")], dtype=torch.float64)
    found = compare(expected, flipped)
    assert found.kind == "value" and "index [2]" in found.detail
    found = compare(expected, torch.tensor([float("nan"), float("inf"), -float("inf")], dtype=torch.float64))
    assert found.kind == "value" and "index [0]" in found.detail and "nan" in found.detail
    assert not recwarn.list, "inf - inf is not close, and says so without a warning"


def test_a_tensor_of_any_layout_and_shape_is_compared_by_its_values():
    dense = torch.tensor([[0.0, 2.0], [3.0, 0.0]], dtype=torch.float64)
    assert compare(dense, dense.to_sparse()) is None
    assert compare(dense.t(), dense.t().contiguous()) is None  # a transposed view
    found = compare(torch.tensor(2.0, dtype=torch.float64), torch.tensor(2.5, dtype=torch.float64))
    assert found.kind == "value" and "index []" in found.detail  # a 0-d tensor


def test_the_registry_follows_the_curriculum_order():
    modules = [e.module for e in EXERCISES.values()]
    assert modules == sorted(modules, key=list(CHAPTERS).index)
    assert all(e.examples for e in EXERCISES.values()), "every exercise needs a worked example"


@pytest.mark.parametrize("exercise", FUNCTIONS, ids=str)
def test_stub_solution_and_reference_take_the_contracts_parameters(exercise):
    names = exercise.parameter_names()
    for folder in (STUBS, SOLUTIONS):
        function = getattr(folder.module(exercise.module), exercise.name)
        assert list(inspect.signature(function).parameters) == names, f"{folder.folder.name}/{exercise.id}"


@pytest.mark.parametrize("exercise", FUNCTIONS, ids=str)
def test_every_stub_teaches_its_domain_and_a_worked_number(exercise):
    doc = inspect.getdoc(getattr(STUBS.module(exercise.module), exercise.name)) or ""
    assert "Domain:" in doc and "Worked number" in doc, exercise.id


def test_chapter_files_sort_in_the_curriculums_order_and_other_names_after_them():
    from kit.registry import file_order

    names = ["notes.md", "test_ch10_convolution.py", "ch10_convolution.py", "ch1_sensitivity.ipynb",
             "exercises/ch2_chain_rule.py", "ch99_nothing.py", "ch13_gpt.py"]
    assert sorted(names, key=file_order) == ["ch1_sensitivity.ipynb", "exercises/ch2_chain_rule.py",
                                             "ch10_convolution.py", "test_ch10_convolution.py", "ch13_gpt.py",
                                             "ch99_nothing.py", "notes.md"]

"""Memory the learner's code allocates and never writes is NaN while it runs, in a learner's run and
in kit grade's sandbox alike (kit.implementation.unwritten_memory_is_nan): a gradient buffer from
torch.empty_like left unwritten where no token looked is wrong on every run, never right by the
luck of a zeroed page; torch's settings are as they were afterwards."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import torch
from test_grading_parts import grade, results  # tests/self: kit grade's command and its results

from kit.check import ExerciseFailure, check
from kit.implementation import Implementation, unwritten_memory_is_nan
from kit.registry import EXERCISES
from kit.strategies import t

ROOT = Path(__file__).resolve().parents[2]
EMBEDDING = EXERCISES["ch8_tensors.embedding_backward"]
# the rows no index looks up are never written: index_add_ into a buffer from empty
UNWRITTEN = """
def embedding_backward(indices, num_embeddings, upstream):
    dW = torch.empty(num_embeddings, upstream.shape[-1], dtype=torch.float64)
    dW[indices.reshape(-1)] = 0.0
    return dW.index_add_(0, indices.reshape(-1), upstream.reshape(-1, upstream.shape[-1]))
"""


def with_embedding(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    source = (ROOT / "solutions" / "ch8_tensors.py").read_text()
    (folder / "ch8_tensors.py").write_text(source + "\n\nimport torch\n" + textwrap.dedent(body))
    return folder


def settings_now() -> tuple[bool, bool, bool]:
    return (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
            torch.utils.deterministic.fill_uninitialized_memory)


def test_inside_fresh_floats_are_nan_and_integers_their_largest_value():
    before = settings_now()
    with unwritten_memory_is_nan():
        floats = torch.empty(4, dtype=torch.float64)
        alike = torch.empty_like(t([1.0, 2.0]))
        new = t([1.0]).new_empty(3)
        integers = torch.empty(2, dtype=torch.int64)
    assert floats.isnan().all() and alike.isnan().all() and new.isnan().all()
    assert (integers == torch.iinfo(torch.int64).max).all()
    assert settings_now() == before


@pytest.mark.parametrize("meddles", [
    "torch.use_deterministic_algorithms(False)",  # (imports torch._inductor: slow, once)
    "torch.utils.deterministic.fill_uninitialized_memory = False",
    "torch.use_deterministic_algorithms(True)",
    "raise ValueError('the learner raised')",
])
def test_torchs_settings_are_restored_whatever_the_learners_code_did(tmp_path, meddles):
    folder = with_embedding(tmp_path, f"""
        def embedding_backward(indices, num_embeddings, upstream):
            {meddles}
            return torch.zeros(num_embeddings, upstream.shape[-1], dtype=torch.float64)
        """)
    before = settings_now()
    try:
        Implementation(folder).call(EMBEDDING, (torch.tensor([0]), 2, t([[1.0]])))
    except Exception:
        pass  # the raise: a LearnerError
    assert settings_now() == before


def test_a_buffer_left_unwritten_is_nan_in_the_answer_every_time(tmp_path):
    impl = Implementation(with_embedding(tmp_path, UNWRITTEN))
    for _ in range(3):
        answer, _ = impl.call(EMBEDDING, (torch.tensor([0, 0]), 3, t([[1.0], [2.0]])))
        assert answer[0].item() == pytest.approx(3.0)
        assert answer[1:].isnan().all()


def test_the_learners_run_fails_it_and_says_where_the_nan_is(tmp_path):
    with pytest.raises(ExerciseFailure) as failure:
        check(EMBEDDING, Implementation(with_embedding(tmp_path, UNWRITTEN)))
    assert failure.value.status == "wrong"
    assert "yours nan" in failure.value.message, failure.value.message


def test_kit_grade_fails_it_in_the_sandbox_with_the_same_nan(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the drawn inputs: not the user's cache
    with_embedding(tmp_path / "class" / "student", UNWRITTEN)
    grade(tmp_path / "class", tmp_path / "out", "--only", EMBEDDING.id)
    found = results(tmp_path / "out", "student")[EMBEDDING.id]
    assert found["extra_data"]["kit_status"] == "wrong", found
    assert "yours nan" in found["output"], found["output"]

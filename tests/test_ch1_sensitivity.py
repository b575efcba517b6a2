"""Chapter 1 against torch.autograd: every exercise of the chapter, on hypothesis' inputs."""
import pytest

from kit.check import check
from kit.registry import chapter


@pytest.mark.parametrize("exercise", chapter("ch1_sensitivity"), ids=lambda e: e.name)
def test_exercise(exercise, impl):
    check(exercise, impl)

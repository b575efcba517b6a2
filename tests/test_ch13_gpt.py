"""Chapter 13 against torch.autograd: each exercise on the worked examples, then hypothesis' inputs."""
from kit.check import check
from kit.plugin import each_exercise


@each_exercise("ch13_gpt")
def test_exercise(exercise, impl):
    check(exercise, impl)

"""The kit's pytest plugin acts only in a kit project: another project sharing the virtualenv
runs as if it were not installed (kit/plugin.py).

Each test makes a small project of its own in a temporary folder (ordinary tests, a hypothesis
test, a tests/self folder) and runs `python -m pytest` there, in a fresh process of this
virtualenv. Its tests write down what they see of the kit in facts.json.
"""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from hypothesis import settings

import kit.profiles  # noqa: F401  (registers the learner profile, whose size the kit run must load)

ROOT = Path(__file__).resolve().parents[2]

FACTS = '''
import json
import os
import sys

import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.errors import InvalidArgument


def registered(name):
    try:
        settings.get_profile(name)
    except InvalidArgument:
        return False
    return True


def test_facts(request):
    try:
        request.getfixturevalue("impl")
        impl = True
    except pytest.FixtureLookupError:
        impl = False
    facts = {
        "torch": "torch" in sys.modules,
        "kit": sorted(name for name in sys.modules if name == "kit" or name.startswith("kit.")),
        "profile": settings.get_current_profile_name(),
        "max_examples": settings.default.max_examples,
        "learner registered": registered("learner"),
        "impl fixture": impl,
    }
    with open(os.environ["FACTS"], "w") as out:
        json.dump(facts, out)


@given(st.integers())
def test_a_property(n):
    assert isinstance(n, int)
'''


def project(folder: Path, marker: bool) -> Path:
    """A project of its own: pytest.ini (with the kit's marker or without), tests, tests/self."""
    (folder / "tests" / "self").mkdir(parents=True)
    (folder / "pytest.ini").write_text("[pytest]\n" + ("backprop_kit = true\n" if marker else ""))
    (folder / "tests" / "test_plain.py").write_text(FACTS)
    (folder / "tests" / "self" / "test_own.py").write_text("def test_own_self_test():\n    pass\n")
    return folder


def run(folder: Path, *args: str) -> tuple[int, str, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HYPOTHESIS"))}
    env["FACTS"] = str(folder / "facts.json")
    done = subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider",
                           f"--html={folder / 'report.html'}", *args],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    facts = json.loads((folder / "facts.json").read_text())
    return done.returncode, done.stdout + done.stderr, facts


def test_another_project_runs_as_if_the_kit_were_not_installed(tmp_path):
    code, out, facts = run(project(tmp_path, marker=False))
    assert code == 0, out
    assert "3 passed" in out  # tests/self too: nothing skipped or left out
    assert "test_own_self_test PASSED" in out
    # pytest names every installed plugin ("plugins: backprop-kit-0.1.0, ..."); nothing else of the kit
    assert "backprop-kit:" not in out and "your progress" not in out
    assert "hypothesis profile 'default'" in out or "hypothesis profile 'ci'" in out  # hypothesis' own
    assert facts == {"torch": False, "kit": ["kit", "kit.plugin"], "profile": facts["profile"],
                     "max_examples": 100, "learner registered": False, "impl fixture": False}
    assert facts["profile"] in ("default", "ci")
    page = (tmp_path / "report.html").read_text()
    assert "backprop-kit:" not in page and "class='progress'" not in page


def test_the_same_project_with_the_marker_is_a_kit_project(tmp_path):
    folder = project(tmp_path, marker=True)
    (folder / "exercises").mkdir()
    (folder / "exercises" / "ch1_sensitivity.py").write_text((ROOT / "solutions" / "ch1_sensitivity.py").read_text())
    (folder / "tests" / "test_ch1.py").write_text(textwrap.dedent("""
        from kit.check import check
        from kit.plugin import each_exercise


        @each_exercise("ch1_sensitivity")
        def test_exercise(exercise, impl):
            check(exercise, impl)
    """))
    code, out, facts = run(folder)
    assert code == 0, out
    assert "4 passed" in out and "test_own_self_test" not in out  # tests/self left to --self-tests
    assert f"backprop-kit: testing the modules in {folder / 'exercises'}" in out
    assert "hypothesis profile 'learner'" in out
    assert "your progress" in out and "2 of 2 done" in out
    assert facts["torch"] and facts["profile"] == "learner"
    assert facts["max_examples"] == settings.get_profile("learner").max_examples
    assert facts["learner registered"] and facts["impl fixture"]
    assert "backprop-kit: your answers against torch.autograd" in (folder / "report.html").read_text()


def test_impl_given_makes_a_kit_run_without_the_marker(tmp_path):
    folder = project(tmp_path, marker=False)
    code, out, facts = run(folder, "--impl", str(ROOT / "solutions"), "--self-tests")
    assert code == 0, out
    assert "3 passed" in out  # --self-tests: tests/self is collected
    assert f"backprop-kit: testing the modules in {ROOT / 'solutions'}" in out
    assert facts["profile"] == "learner" and facts["impl fixture"]

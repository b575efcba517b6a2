"""`kit new-exercise`: an instructor's new exercise, from the scaffold to a column of the grade book.

The repository is copied into a temporary folder and scaffolded there with --root: a new
exercise in an existing chapter, and a new chapter. The copy's own kit runs its tests in
fresh processes (PYTHONPATH=<copy>): they fail on the stub and on the unwritten solution,
pass once the solution is written, and the copy's `kit grade` grades the new exercises.
"""
from __future__ import annotations

import ast
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from kit.cli import main
from kit.registry import CHAPTERS

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
NEW = f"ch{len(CHAPTERS) + 1}_curvature"  # the next chapter
OLD = "ch3_power_rule"
WEIGHTY = "ch8_tensors"  # a chapter package, and worth more than 1 per exercise in the default rubric
COPIED = ("kit", "grading", "exercises", "solutions", "tests", "pyproject.toml")
# the bodies an instructor writes for the two solutions: by hand, no autograd
BODIES = {OLD: ("cube_grad", "return 3.0 * x ** 2"), NEW: ("wave_slope", "return math.cos(x) * x + math.sin(x)")}


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    """The repository, copied, with the two exercises scaffolded into it."""
    copy = tmp_path_factory.mktemp("kit-copy")
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", "report.html", "sample_class")
    for name in COPIED:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, copy / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, copy / name)
    assert main(["new-exercise", OLD, "cube_grad", "--formula", "x ** 3", "--root", str(copy)]) == 0
    assert main(["new-exercise", NEW, "wave_slope", "--formula", "torch.sin(x) * x", "--root", str(copy)]) == 0
    assert main(["new-exercise", WEIGHTY, "cube_sum_grad", "--formula", "x ** 3", "--root", str(copy)]) == 0
    return copy


def in_copy(copy: Path, *command: str) -> subprocess.CompletedProcess:
    """A fresh process that imports the copy's kit."""
    env = {**os.environ, "PYTHONPATH": str(copy), "XDG_CACHE_HOME": str(copy / ".cache")}
    return subprocess.run([PYTHON, *command], cwd=copy, env=env, capture_output=True, text=True, timeout=300)


def pytest_in_copy(copy: Path, *options: str) -> subprocess.CompletedProcess:
    return in_copy(copy, "-m", "pytest", f"tests/test_{NEW}.py", f"tests/test_{OLD}.py", "-p", "no:cacheprovider",
                   "-q", *options)


def test_the_scaffold_follows_the_conventions(copy):
    stub = (copy / "exercises" / f"{OLD}.py").read_text()
    assert stub.startswith((ROOT / "exercises" / f"{OLD}.py").read_text().rstrip("\n"))  # appended, nothing lost
    assert f'raise NotImplementedError("{OLD}.cube_grad")' in stub
    doc = ast.get_docstring(next(f for f in ast.parse(stub).body if getattr(f, "name", "") == "cube_grad"))
    assert "Derive:" in doc and "Domain: x in [-10, 10]" in doc and "Worked number: cube_grad(2.0) == 12.0." in doc
    chapter = (copy / "kit" / "chapters" / f"{OLD}.py").read_text()
    assert (chapter.index("EXERCISES: list[Exercise] = []") < chapter.index("def cube_grad(x):")
            < chapter.index('name="cube_grad"'))
    assert "inputs=st.tuples(reals())" in chapter and "examples=((2.0,),)" in chapter
    assert re.search(r'hint="TODO.*",\n\s+more="TODO', chapter)
    registry = ast.literal_eval(re.search(r"CHAPTERS: dict\[str, str\] = (\{.*?\})", (copy / "kit" / "registry.py")
                                          .read_text(), re.DOTALL).group(1))
    assert list(registry) == [*CHAPTERS, NEW] and registry[NEW] == "Curvature"
    variants = {}
    exec((copy / "tests" / "self" / "variants" / f"{NEW}.py").read_text(), variants)
    assert variants["WRONG"] == [] and variants["RIGHT"] == []
    assert (copy / "tests" / f"test_{NEW}.py").read_text() == (ROOT / "tests" / f"test_{OLD}.py").read_text() \
        .replace(OLD, NEW).replace("Chapter 3", f"Chapter {len(CHAPTERS) + 1}")


def test_a_new_exercise_is_worth_what_its_chapter_is_worth(copy):
    assert (copy / "grading" / "rubric.toml").read_bytes() == (ROOT / "grading" / "rubric.toml").read_bytes()
    chapters = tomllib.loads((ROOT / "grading" / "rubric.toml").read_text())["chapters"]
    assert chapters[WEIGHTY] != 1  # else this test would not tell a chapter's weight from the default
    ask = "from grading import rubric; p = rubric.load(); print(p[{!r}], p[{!r}], p[{!r}])".format(
        f"{OLD}.cube_grad", f"{NEW}.wave_slope", f"{WEIGHTY}.cube_sum_grad")
    done = in_copy(copy, "-c", ask)
    assert done.returncode == 0, done.stderr
    assert [float(x) for x in done.stdout.split()] == [chapters.get(OLD, 1), 1, chapters[WEIGHTY]]


def test_the_new_tests_fail_on_the_stub_and_on_the_unwritten_solution(copy):
    where = in_copy(copy, "-c", "import kit.registry as r; print(r.__file__); print(len(r.EXERCISES))")
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.split()[0]).is_relative_to(copy)  # the copy's kit, not this repository's
    stubs = pytest_in_copy(copy, "-vv", "-k", "cube_grad or wave_slope")  # -v: each not attempted in full
    assert stubs.returncode == 1 and "2 failed" in stubs.stdout, stubs.stdout + stubs.stderr
    for module, (name, _) in BODIES.items():
        assert f"not attempted: {name} in exercises/{module}.py" in stubs.stdout
    unwritten = pytest_in_copy(copy, "-vv", "--impl", "solutions", "-k", "cube_grad or wave_slope")
    assert unwritten.returncode == 1 and "2 failed" in unwritten.stdout, unwritten.stdout + unwritten.stderr
    for module, (name, _) in BODIES.items():
        assert f"not attempted: {name} in solutions/{module}.py" in unwritten.stdout


def test_the_written_solution_passes_and_is_graded(copy, tmp_path):
    for module, (name, body) in BODIES.items():
        path = copy / "solutions" / f"{module}.py"
        text, count = re.subn(rf"(def {name}\(x: float\) -> float:\n)    # TODO.*\n    raise .*\n",
                              rf"\g<1>    {body}\n", path.read_text())
        assert count == 1, f"the scaffolded solution of {name} changed shape"
        path.write_text(("import math\n" if "math." in body else "") + text)
    written = pytest_in_copy(copy, "--impl", "solutions")  # the whole of chapter 3 too: nothing else broke
    assert written.returncode == 0 and "4 passed" in written.stdout, written.stdout + written.stderr

    klass = tmp_path / "class" / "ada"
    klass.mkdir(parents=True)
    for module in BODIES:
        shutil.copy2(copy / "solutions" / f"{module}.py", klass)
    out = tmp_path / "grades"
    graded = in_copy(copy, "-m", "kit.cli", "grade", str(klass.parent), "--out", str(out), "-q",
                     "--only", f"{NEW},{OLD}.cube_grad")
    assert graded.returncode == 0, graded.stderr
    header, ada = (out / "grades.csv").read_text().splitlines()
    assert header == f"student,score,max_score,{OLD}.cube_grad,{NEW}.wave_slope"
    assert ada == "ada,2,2,1,1"


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and ".cache" not in p.parts
            and "__pycache__" not in p.parts and p.name != "report.html"}


@pytest.mark.parametrize(("arguments", "reason"), [
    ([OLD, "cube_grad", "--formula", "x ** 3"], "already exists"),
    ([OLD, "square_grad", "--formula", "x ** 2"], "already exists"),
    ([NEW, "wave_slope", "--formula", "x"], "already exists"),
    (["chapter3", "cube", "--formula", "x"], "not a module name"),
    (["ch3-power", "cube", "--formula", "x"], "not a module name"),
    (["ch0_zero", "cube", "--formula", "x"], "not a module name"),
    (["ch3_Power", "cube", "--formula", "x"], "not a module name"),
    ([OLD, "3cube", "--formula", "x"], "not a valid Python function name"),
    ([OLD, "class", "--formula", "x"], "not a valid Python function name"),
    ([OLD, "cube-grad", "--formula", "x"], "not a valid Python function name"),
    ([OLD, "derivative", "--formula", "x"], "would hide a name"),
    ([OLD, "power_grad", "--formula", "x"], "already exists"),
    ([OLD, "cube", "--formula", "y ** 2"], "use x and torch only"),
    ([OLD, "cube", "--formula", "x **"], "not a Python expression"),
    ([OLD, "cube", "--formula", "torch.sqrt(x - 2)"], "must be finite"),
    ([OLD, "cube", "--formula", "torch.ones(3) * x"], "cannot differentiate"),
    ([f"ch{len(CHAPTERS) + 3}_far", "cube", "--formula", "x"], "next number"),
], ids=lambda value: " ".join(value) if isinstance(value, list) else "")
def test_the_scaffold_refuses_clearly_and_writes_nothing(copy, capsys, arguments, reason):
    before = snapshot(copy)
    assert main(["new-exercise", *arguments, "--root", str(copy)]) == 2
    assert reason in capsys.readouterr().err
    assert snapshot(copy) == before


def test_the_scaffold_writes_only_into_a_repository_of_the_kit(tmp_path, capsys):
    assert main(["new-exercise", OLD, "cube", "--formula", "x", "--root", str(tmp_path)]) == 2
    assert "is not the kit's repository" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())

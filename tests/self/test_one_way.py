"""Imports run one way: kit/ never imports grading/, so a student's copy of the kit works without it.

The one exception is the `kit` command's entry point (kit/cli.py), which adds the instructor's
subcommands from grading.cli, lazily. A student's repository (`kit export github-classroom
--template`) holds no grader code; in it, with no grading package importable at all (a
sys.meta_path blocker installed by a sitecustomize on PYTHONPATH, inherited by every child
process), `kit --help`, `kit hint`, `kit check` and `kit watch` work, `pytest` collects the
exercise tests against the template's own kit, and `kit grade` says the grader is not there.
"""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kit.cli import NO_GRADER, main
from kit.registry import CHAPTERS, EXERCISES

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

BLOCKER = '''\
"""Test only (tests/self/test_one_way.py): no module named grading, wherever it is installed."""
import sys


class NoGrader:
    def find_spec(self, name, path=None, target=None):
        if name == "grading" or name.startswith("grading."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NoGrader())
'''


def grading_imports(path: Path) -> list[tuple[int, bool]]:
    """(line, inside a function) of each import of grading in a module."""
    found = []

    def visit(node, in_function: bool):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            names = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.level == 0:
                names = [child.module or ""]
            if any(name == "grading" or name.startswith("grading.") for name in names):
                found.append((child.lineno, in_function))
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def test_kit_imports_grading_only_in_its_entry_point_and_lazily():
    imports = {path.relative_to(ROOT).as_posix(): grading_imports(path) for path in (ROOT / "kit").rglob("*.py")}
    assert {path for path, found in imports.items() if found} == {"kit/cli.py"}
    assert len(imports["kit/cli.py"]) == 1 and imports["kit/cli.py"][0][1], imports["kit/cli.py"]  # in a function


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    """The students' repository, exported, and an environment in which no grading package exists."""
    base = tmp_path_factory.mktemp("template")
    repository = base / "student"
    assert main(["export", "github-classroom", "--out", str(repository), "--template"]) == 0
    blocker = base / "no-grader"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCKER)
    env = {**os.environ, "PYTHONPATH": f"{repository}{os.pathsep}{blocker}", "PYTHONDONTWRITEBYTECODE": "1",
           "XDG_CACHE_HOME": str(base / "cache")}
    return repository, env


def in_template(student, *command: str, timeout: float = 300) -> subprocess.CompletedProcess:
    repository, env = student
    return subprocess.run([PYTHON, *command], cwd=repository, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_the_template_holds_no_grader_code(student):
    repository, _ = student
    assert not (repository / "grading").exists()
    assert not list(repository.rglob("scaffold.py")) and not (repository / "solutions").exists()
    tops = {p.name for p in repository.iterdir()}
    assert tops == {"kit", "exercises", "tests", "pyproject.toml", "README.md", "CURRICULUM.md", ".gitignore",
                    ".github"}
    for path in (repository / "kit").rglob("*.py"):
        assert grading_imports(path) == [] or path.name == "cli.py", path


def test_without_the_grader_the_kit_is_the_templates_and_grading_is_not_importable(student):
    repository, _ = student
    done = in_template(student, "-c", "import kit.cli, kit.plugin; print(kit.cli.__file__)\n"
                                      "try:\n    import grading\nexcept ModuleNotFoundError as e:\n    print(e.name)")
    assert done.returncode == 0, done.stderr
    where, missing = done.stdout.split()
    assert Path(where).is_relative_to(repository) and missing == "grading"


def test_the_learners_commands_work_without_the_grader(student):
    helped = in_template(student, "-m", "kit.cli", "--help")
    assert helped.returncode == 0, helped.stderr
    for command in ("hint", "check", "watch", "grade", "export", "new-exercise"):
        assert command in helped.stdout
    hint = in_template(student, "-m", "kit.cli", "hint", "ch6_functions.sigmoid_grad")
    assert hint.returncode == 0 and EXERCISES["ch6_functions.sigmoid_grad"].hint in hint.stdout, hint.stderr
    check = in_template(student, "-m", "kit.cli", "check", "ch1", "-p", "no:cacheprovider", "--html=/dev/null")
    assert check.returncode == 1, check.stdout + check.stderr  # the stubs: not attempted
    assert "not attempted" in check.stdout and "2 failed" in check.stdout
    assert f"testing the modules in {student[0] / 'exercises'}" in check.stdout


@pytest.mark.parametrize("command", [["grade", "class", "--out", "out"], ["export", "gradescope", "--out", "a.zip"],
                                     ["new-exercise", "ch3_power_rule", "cube_grad", "--formula", "x ** 3"]])
def test_the_instructors_commands_say_the_grader_is_not_in_this_copy(student, command):
    done = in_template(student, "-m", "kit.cli", *command)
    assert done.returncode == 2
    assert done.stderr == f"kit {command[0]}: {NO_GRADER}\n"
    assert "Traceback" not in done.stderr and "not part of this copy" in done.stderr


def test_watch_runs_without_the_grader(student):
    repository, env = student
    watcher = subprocess.Popen([PYTHON, "-m", "kit.cli", "watch", "--interval", "0.1"], cwd=repository, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        seen, deadline = [], time.monotonic() + 240
        while time.monotonic() < deadline and not any("Watching" in line for line in seen):
            line = watcher.stdout.readline()
            if not line:
                break
            seen.append(line)
        assert any("Watching" in line for line in seen), "".join(seen)
        assert any("ch1_sensitivity.scale_sensitivity: not attempted" in line for line in seen), "".join(seen)
    finally:
        watcher.kill()
        watcher.wait()


def test_pytest_collects_the_exercise_tests_against_the_templates_own_kit(student):
    repository, _ = student
    done = in_template(student, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "--html=/dev/null",
                       "--trace-config")
    assert done.returncode == 0, done.stdout + done.stderr
    collected = {line for line in done.stdout.splitlines() if "::test_exercise[" in line}
    assert collected == {f"tests/test_{e.module}.py::test_exercise[{e.id}]" for e in EXERCISES.values()}
    assert {line.split("::")[0] for line in collected} == {f"tests/test_{m}.py" for m in CHAPTERS}
    plugin = [line for line in done.stdout.splitlines() if "kit.plugin" in line and "plugin.py" in line]
    assert plugin and all(str(repository / "kit" / "plugin.py") in line for line in plugin), plugin

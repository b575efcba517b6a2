"""A Gradescope container, simulated: 768 MB and half a CPU (cgroups), and the autograder in it.

Gradescope gives each submission's container 768 MB and half a vCPU by default. In a cgroup with
those limits, `kit grade` must take one job (grading/resources.py), give each submission what
the container leaves (grading/limits.py: fitted), and so report a memory hog as "out of memory",
by its own limit, before the container's limit kills whatever process it likes. Where this
machine cannot make cgroups (not root, no cgroup file system to write), the same class is
graded with those limits given explicitly (-j 1 --memory 128M), as the skip reason says.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import uuid
import zipfile
from pathlib import Path

import pytest

from grading import limits

ROOT = Path(__file__).resolve().parents[2]
MEMORY = 768 << 20
QUOTA = 0.5  # CPUs
CGROUPS = Path("/sys/fs/cgroup")


class Container:
    """A cgroup with Gradescope's limits; `command` runs a command in it."""

    def __init__(self):
        self.folders: list[Path] = []
        name = f"kit-test-gradescope-{uuid.uuid4().hex[:8]}"
        if (CGROUPS / "cgroup.controllers").exists():  # v2
            folder = CGROUPS / name
            folder.mkdir()
            self.folders.append(folder)
            (folder / "memory.max").write_text(str(MEMORY))
            (folder / "memory.swap.max").write_text("0")
            (folder / "cpu.max").write_text(f"{int(QUOTA * 100000)} 100000")
        else:  # v1: a hierarchy per controller
            for controller in ("memory", "cpu", "pids"):
                folder = CGROUPS / controller / name
                folder.mkdir()
                self.folders.append(folder)
            (self.folders[0] / "memory.limit_in_bytes").write_text(str(MEMORY))
            (self.folders[1] / "cpu.cfs_period_us").write_text("100000")
            (self.folders[1] / "cpu.cfs_quota_us").write_text(str(int(QUOTA * 100000)))

    def command(self, argv: list[str], **kwargs) -> subprocess.CompletedProcess:
        procs = [str(folder / "cgroup.procs") for folder in self.folders]
        join = "; ".join(f"echo $$ > {p}" for p in procs)
        return subprocess.run(["sh", "-c", f'{join}; exec "$@"', "sh", *argv], capture_output=True, text=True,
                              timeout=600, **kwargs)

    def remove(self) -> None:
        for folder in self.folders:
            for child in sorted(folder.glob("**/"), key=lambda p: -len(p.parts)):
                try:
                    child.rmdir()
                except OSError:
                    pass


def make_container() -> Container | None:
    if os.geteuid() != 0:
        return None
    try:
        return Container()
    except OSError:
        return None


@pytest.fixture(scope="module")
def container():
    made = make_container()
    yield made
    if made is not None:
        made.remove()


def ch1(scale: str, numeric: str = "return (f(x + h) - f(x - h)) / (2 * h)", head: str = "") -> str:
    return (f"import torch\n{head}\n\ndef scale_sensitivity(x, k):\n{textwrap.indent(textwrap.dedent(scale), '    ')}"
            f"\n\n\ndef numeric_sensitivity(f, x, h=1e-5):\n    {numeric}\n")


# student -> (ch1_sensitivity.py, expected status of scale_sensitivity, of numeric_sensitivity)
CLASS = {
    "right": ((ROOT / "solutions" / "ch1_sensitivity.py").read_text(), "passed", "passed"),
    "wrong": (ch1("return float(k * x)", "return (f(x + h) - f(x)) / h"), "wrong", "wrong"),
    # below the 2G default, above what the container leaves: only a fitted default catches it as its own
    "hog_torch": (ch1("y = torch.ones(2**27, dtype=torch.float64)\nreturn float(k)"), "out of memory", "passed"),
    "hog_bytes": (ch1("y = bytearray(b'x' * (600 << 20))\nreturn float(k)"), "out of memory", "passed"),
    "hang": (ch1("while True:\n    pass"), "timeout", "passed"),
    "flood": (ch1("while True:\n    print('spam' * 1000)", head="print('loading')"), "output limit", "passed"),
}


def make_class(root: Path) -> Path:
    for student, (source, *_) in CLASS.items():
        (root / student).mkdir(parents=True)
        (root / student / "ch1_sensitivity.py").write_text(source)
    return root


def statuses(out: Path, student: str) -> list[str]:
    tests = json.loads((out / "students" / student / "results.json").read_text())["tests"]
    return [t["extra_data"]["kit_status"] for t in tests]


def test_a_class_in_gradescopes_container_gets_the_right_statuses(container, tmp_path):
    submissions = make_class(tmp_path / "class")
    command = [sys.executable, "-m", "kit.cli", "grade", str(submissions), "--out", str(tmp_path / "out"),
               "--only", "1", "--timeout", "3"]
    if container is None:
        pytest.skip("this machine cannot make a cgroup (not root, or no writable cgroup file system): "
                    "test_the_same_class_with_the_limits_given_explicitly grades it with the limits given")
    done = container.command(command)
    assert done.returncode == 0, done.stderr
    fitted = MEMORY - limits.GRADER_MEMORY
    assert f"memory per submission: {limits.shown(fitted)}" in done.stderr and "with -j 1" in done.stderr
    assert "1/6 students" in done.stderr or "6/6 students" in done.stderr
    for student, (_, scale, numeric) in CLASS.items():
        assert statuses(tmp_path / "out", student) == [scale, numeric], student


def test_the_same_class_with_the_limits_given_explicitly(tmp_path):
    submissions = make_class(tmp_path / "class")
    done = subprocess.run([sys.executable, "-m", "kit.cli", "grade", str(submissions), "--out", str(tmp_path / "out"),
                           "--only", "1", "--timeout", "3", "-j", "1", "--memory", "128M", "-q"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    for student, (_, scale, numeric) in CLASS.items():
        assert statuses(tmp_path / "out", student) == [scale, numeric], student


def test_run_autograder_in_the_container_reports_the_hog_as_out_of_memory(container, tmp_path):
    if container is None:
        pytest.skip("this machine cannot make a cgroup (not root, or no writable cgroup file system)")
    from kit.cli import main

    bundle = tmp_path / "autograder.zip"
    assert main(["export", "gradescope", "--out", str(bundle), "--only", "1", "--timeout", "3"]) == 0
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, root / "source"))
            path.chmod((info.external_attr >> 16) & 0o777 or 0o644)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    (root / "submission" / "ch1_sensitivity.py").write_text(CLASS["hog_torch"][0])
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "KIT_PYTHON": sys.executable}
    done = container.command([str(root / "run_autograder")], cwd=root, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert [t["extra_data"]["kit_status"] for t in results["tests"]] == ["out of memory", "passed"], done.stdout
    assert results["score"] == 1

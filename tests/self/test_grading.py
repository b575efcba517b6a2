"""`kit grade` against a hostile class: whatever one submission does, the others are graded as if
it were not there, and the grade book holds only what the grader measured.

The class (chapter 1 only, to keep the drawing of inputs short) has a student for every
behaviour of the issue: right, right-written-differently, wrong, hang, crash, exit, memory hog,
output flood, tampering with torch and the kit, shipped plugins, autograd (plain and hidden),
forging the grade book, reading solutions/, missing and broken code, HTML in an error, a zip,
a broken zip, a symlink to the solutions, a daemon left running. It is graded twice.
"""
from __future__ import annotations

import csv
import io
import json
import re
import textwrap
import zipfile
from pathlib import Path

import pytest

from grading import landlock
from grading.processes import zygote_processes
from grading.reports import student_folder
from kit.cli import main

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = (ROOT / "solutions" / "ch1_sensitivity.py").read_text()
SCALE, NUMERIC = "ch1_sensitivity.scale_sensitivity", "ch1_sensitivity.numeric_sensitivity"
TIMEOUT = "3"
HTML_STUDENT = "eve<img src=x onerror=alert(2)>"
SIGNAL_SCOPE = landlock.abi_version() >= 6  # Landlock stops signals to other processes


def module(scale: str, numeric: str, head: str = "") -> str:
    """A ch1_sensitivity.py with the given bodies (indented code) for the two functions."""
    return (f"import math, os, sys\nimport torch\n{textwrap.dedent(head)}\n"
            f"def scale_sensitivity(x, k):\n{textwrap.indent(textwrap.dedent(scale), '    ')}\n\n"
            f"def numeric_sensitivity(f, x, h=1e-5):\n{textwrap.indent(textwrap.dedent(numeric), '    ')}\n")


RIGHT_SCALE = "return float(k)"
RIGHT_NUMERIC = "return (f(x + h) - f(x - h)) / (2 * h)"
WRONG_SCALE = "return float(k * x)"
WRONG_NUMERIC = "return (f(x + h) - f(x)) / h"

# student -> (ch1_sensitivity.py source, expected status of scale_sensitivity, of numeric_sensitivity)
STUDENTS = {
    "correct": (SOLUTION, "passed", "passed"),
    "different": (module("return k * (x + 1.0) - k * x", "return 0.5 * (f(x + h) - f(x - h)) / h"), "passed", "passed"),
    "wrong": (module(WRONG_SCALE, WRONG_NUMERIC), "wrong", "wrong"),
    "hang": (module("while True:\n    pass", RIGHT_NUMERIC), "timeout", "passed"),
    "hang_import": (module(RIGHT_SCALE, RIGHT_NUMERIC, "import time\ntime.sleep(10**6)"), "timeout", "timeout"),
    "abort": (module("os.abort()", RIGHT_NUMERIC), "crashed", "passed"),
    # ctypes.string_at(0) would be refused first (kit/autograd/block.py): crash by a signal instead
    "segfault": (module("import faulthandler\nfaulthandler._sigsegv()", RIGHT_NUMERIC), "crashed", "passed"),
    "exit_import": (module(RIGHT_SCALE, RIGHT_NUMERIC, "sys.exit(3)"), "exited", "exited"),
    "exit_call": (module("sys.exit(0)", "os._exit(0)"), "exited", "exited"),
    "hog": (module("x = bytearray(3 * 2**30)\nreturn float(k)", RIGHT_NUMERIC), "out of memory", "passed"),
    "hog_torch": (module("x = torch.empty(2**30, dtype=torch.float64)\nreturn float(k)", RIGHT_NUMERIC),
                  "out of memory", "passed"),
    "flood": (module("while True:\n    print('spam' * 1000)", "print('hello from numeric')\n" + RIGHT_NUMERIC,
                     "print('loading')"),  # printed on import, so the flood is not the child's first output
              "output limit", "passed"),
    # kit.compare is not even in a student's process (grading/child.py); the grader's torch is its own
    "tamper": (module(WRONG_SCALE, WRONG_NUMERIC, """
        import builtins
        torch.allclose = lambda *a, **k: True
        torch.isclose = lambda a, b, *r, **k: torch.ones_like(a, dtype=torch.bool)
        torch.Tensor.__sub__ = lambda a, b: torch.zeros_like(a)
        math.isclose = lambda *a, **k: True
        builtins.abs = lambda x: 0.0
        """), "wrong", "wrong"),
    "autograd": (module("""
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        (k * t).backward()
        return t.grad.item()""", RIGHT_NUMERIC), "autograd", "passed"),
    "autograd_hidden": (module("""
        t = torch.tensor(x, dtype=torch.float64)
        setattr(t, "requires" + chr(95) + "grad", True)
        return getattr(torch, "auto" + "grad").grad(k * t, t)[0].item()""", """
        name = "".join(chr(c) for c in (97, 117, 116, 111, 103, 114, 97, 100))
        t = torch.tensor(x, dtype=torch.float64)
        setattr(t, "requires" + chr(95) + "grad", True)
        return getattr(torch, name).grad(f(t), t)[0].item()"""), "autograd", "autograd"),
    "thief": (module("""
        from solutions.ch1_sensitivity import scale_sensitivity
        return scale_sensitivity(x, k)""", f"""
        print("sys.path:", sys.path)
        space = {{}}
        exec(open({str(ROOT / "solutions" / "ch1_sensitivity.py")!r}).read(), space)
        return space["numeric_sensitivity"](f, x, h)"""), "error", "error" if landlock.abi_version() else "passed"),
    # a debugging line left in: graded, it does nothing (pdb's tracer is refused in a grading child)
    "leftover_breakpoint": (module("breakpoint()\nreturn float(k)", RIGHT_NUMERIC), "passed", "passed"),
    "missing_function": ("def scale_sensitivity(x, k):\n    return float(k)\n", "passed", "missing"),
    "syntax": ("def scale_sensitivity(x, k):\n    return k +\n", "error", "error"),
    "wrong_type": (module("return str(k)", "import numpy\nreturn numpy.array([1.0, 2.0])"), "wrong", "wrong"),
    HTML_STUDENT: (module("raise ValueError('<script>alert(1)</script>')", RIGHT_NUMERIC), "error", "passed"),
    "daemon": (module(RIGHT_SCALE, RIGHT_NUMERIC, """
        import time
        r, w = os.pipe()
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.write(w, str(os.getpid()).encode())
                time.sleep(600)
            os._exit(0)
        print("daemon pid", os.read(r, 32).decode(), flush=True)
        """), "passed", "passed"),
}
if SIGNAL_SCOPE:  # without Landlock's signal scope a submission can kill the forkserver (it is restarted)
    STUDENTS["killer"] = (module(RIGHT_SCALE, RIGHT_NUMERIC, """
        import signal
        try:
            os.kill(os.getppid(), signal.SIGKILL)  # the forkserver
        except OSError as error:
            print("kill failed:", error)
        """), "passed", "passed")
# built in make_class: a zip (modules one folder down), a broken zip, shipped plugins, a forger,
# a symlink to the solutions, a folder without modules
STUDENTS.update({
    "zipped": (None, "passed", "passed"),
    "broken": (None, "unreadable", "unreadable"),
    "plugins": (None, "passed", "passed"),
    "forger": (None, "wrong", "wrong"),
    "symlink": (None, "missing", "missing"),
    "missing": (None, "missing", "missing"),
})


def make_class(root: Path, out: Path, markers: Path) -> Path:
    submissions = root / "class"
    submissions.mkdir()
    for student, (source, _, _) in STUDENTS.items():
        if source is not None:
            (submissions / student).mkdir()
            (submissions / student / "ch1_sensitivity.py").write_text(source)
    with zipfile.ZipFile(submissions / "zipped.zip", "w") as z:
        z.writestr("exercises/ch1_sensitivity.py", SOLUTION)
        z.writestr("../../escaped.py", "raise SystemExit('imported')")
        z.writestr("conftest.py", f"open({str(markers / 'zip-conftest')!r}, 'w')")
    (submissions / "broken.zip").write_bytes(b"PK\x03\x04 this is not a zip file at all")
    plugins = submissions / "plugins"
    plugins.mkdir()
    (plugins / "ch1_sensitivity.py").write_text(SOLUTION)
    for name in ("conftest.py", "sitecustomize.py", "usercustomize.py", "pytest_plugin.py"):
        (plugins / name).write_text(f"open({str(markers / name)!r}, 'w')\n")
    (plugins / "evil.pth").write_text(f"import os; open({str(markers / 'pth')!r}, 'w')\n")
    (plugins / "pytest.ini").write_text("[pytest]\naddopts = -p pytest_plugin\n")
    forger = submissions / "forger"
    forger.mkdir()
    forge = f"""
        import csv
        OUT = {str(out)!r}
        def forge():
            try:
                os.makedirs(os.path.join(OUT, "students", "forger"), exist_ok=True)
                with open(os.path.join(OUT, "grades.csv"), "w") as f:
                    f.write("student,score,max_score\\nforger,1000,2\\n")
                with open(os.path.join(OUT, "students", "forger", "results.json"), "w") as f:
                    f.write('{{"score": 1000, "tests": []}}')
            except OSError as error:
                print("could not forge:", error)
        forge()
        """
    (forger / "ch1_sensitivity.py").write_text(module("forge()\n" + WRONG_SCALE, WRONG_NUMERIC, forge))
    (submissions / "symlink").mkdir()
    (submissions / "symlink" / "ch1_sensitivity.py").symlink_to(ROOT / "solutions" / "ch1_sensitivity.py")
    (submissions / "missing").mkdir()
    (submissions / "missing" / "README.md").write_text("I did not do it.\n")
    (submissions / "notes.txt").write_text("not a submission\n")
    return submissions


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class graded twice (two OUT folders), with the exit status of each run."""
    root = tmp_path_factory.mktemp("hostile")
    markers = root / "markers"
    markers.mkdir()
    out, again = root / "out", root / "again"
    submissions = make_class(root, out, markers)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(root / "cache"))
        common = ["--only", "1", "--timeout", TIMEOUT, "-j", "2", "-q"]
        status = main(["grade", str(submissions), "--out", str(out), *common])
        status_again = main(["grade", str(submissions), "--out", str(again), *common])
    return {"out": out, "again": again, "markers": markers, "status": (status, status_again)}


def read_grades(path: Path) -> dict[str, dict[str, str]]:
    return {row["student"]: row for row in csv.DictReader(io.StringIO(path.read_text()))}


def report(out: Path, student: str, name: str) -> Path:
    """A file of the student's folder in the grade book."""
    return out / "students" / student_folder(student) / name


def results(out: Path, student: str) -> dict[str, dict]:
    data = json.loads(report(out, student, "results.json").read_text())
    return {test["name"]: test for test in data["tests"]}


def test_exit_status_says_an_entry_was_unreadable(graded):
    assert graded["status"] == (1, 1)  # graded, but broken.zip could not be read


def test_grades_csv_has_one_row_per_student_and_a_column_per_exercise(graded):
    text = (graded["out"] / "grades.csv").read_text()
    assert text.splitlines()[0] == f"student,score,max_score,{SCALE},{NUMERIC}"
    assert set(read_grades(graded["out"] / "grades.csv")) == set(STUDENTS)  # notes.txt is not a student


@pytest.mark.parametrize("student", STUDENTS)
def test_every_student_gets_what_their_code_did(graded, student):
    _, scale, numeric = STUDENTS[student]
    found = results(graded["out"], student)
    got = (found[SCALE]["extra_data"]["kit_status"], found[NUMERIC]["extra_data"]["kit_status"])
    assert got == (scale, numeric), (found[SCALE]["output"], found[NUMERIC]["output"])
    row = read_grades(graded["out"] / "grades.csv")[student]
    assert (row[SCALE], row[NUMERIC]) == (str(int(scale == "passed")), str(int(numeric == "passed")))
    assert row["score"] == str((scale == "passed") + (numeric == "passed")) and row["max_score"] == "2"


def test_grading_twice_gives_the_same_grade_book(graded):
    assert (graded["out"] / "grades.csv").read_bytes() == (graded["again"] / "grades.csv").read_bytes()


def test_feedback_is_the_learners_message(graded):
    found = results(graded["out"], "wrong")
    assert found[SCALE]["output"].startswith(f"{SCALE}: scale_sensitivity(x=2.0, k=3.0) is wrong.")
    assert "Try this:" in found[SCALE]["output"]
    assert "wrong type" not in found[SCALE]["output"]
    assert "ndarray" in results(graded["out"], "wrong_type")[NUMERIC]["output"]
    assert "could not be imported" in results(graded["out"], "syntax")[SCALE]["output"]
    assert "has no numeric_sensitivity" in results(graded["out"], "missing_function")[NUMERIC]["output"]
    assert "did not finish within 3 s" in results(graded["out"], "hang")[SCALE]["output"]
    assert "SIGSEGV" in results(graded["out"], "segfault")[SCALE]["output"]
    assert "hello from numeric" in results(graded["out"], "flood")[NUMERIC]["output"]
    flooded = results(graded["out"], "flood")[SCALE]["output"]
    assert "spam" in flooded and "\x00" not in flooded  # each request's output from its first byte
    assert "at line 6: `requires_grad=True`" in results(graded["out"], "autograd")[SCALE]["output"]
    assert "not a zip file" in results(graded["out"], "broken")[SCALE]["output"]


def test_the_forger_cannot_write_its_grades(graded):
    # the forger writes into `out`: during the first run (replaced when the grade book is
    # published), and during the second, which only Landlock stops
    for out in (graded["out"], graded["again"]) if landlock.abi_version() else (graded["again"],):
        assert read_grades(out / "grades.csv")["forger"]["score"] == "0"
        assert json.loads(report(out, "forger", "results.json").read_text())["score"] == 0
        assert not list(out.glob(".*")) and not list(out.parent.glob(".out*"))  # no staging left


def test_solutions_cannot_be_imported(graded):
    found = results(graded["out"], "thief")
    assert "No module named 'solutions'" in found[SCALE]["output"]
    printed = found[NUMERIC]["output"]
    assert "sys.path:" in printed and f"'{ROOT}'" not in printed and "'.'" not in printed and "''" not in printed


def test_shipped_plugins_are_never_imported(graded):
    assert not list(graded["markers"].iterdir())


def test_a_daemon_left_behind_is_killed(graded):
    page = report(graded["out"], "daemon", "report.html").read_text()
    assert re.search(r"daemon pid (\d+)", page)  # it did start (its pid is one of its PID namespace's)
    assert zygote_processes() == []  # nothing that ran a submission's code is left


@pytest.mark.skipif(not SIGNAL_SCOPE, reason="needs Landlock signal scoping (Linux 6.12)")
def test_a_submission_cannot_signal_the_grader(graded):
    printed = results(graded["out"], "killer")[SCALE]["output"]
    assert printed == "passed"  # its own output was on import: it is on the report
    page = report(graded["out"], "killer", "report.html").read_text()
    assert "kill failed: [Errno 1] Operation not permitted" in page


def test_student_text_is_escaped_in_every_page(graded):
    out = graded["out"]
    pages = [out / "index.html", *out.glob("students/*/report.html")]
    assert len(pages) == 1 + len(STUDENTS)
    for page in pages:
        text = page.read_text()
        assert "<script>" not in text and "<img" not in text, page
    page = report(out, HTML_STUDENT, "report.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "eve&lt;img src=x onerror=alert(2)&gt;" in (out / "index.html").read_text()
    href = f'href="students/{student_folder(HTML_STUDENT)}/report.html"'  # no text of hers in a link
    assert href.startswith('href="students/eve_img_src_x_onerror_alert_2_~')
    assert href in (out / "index.html").read_text()


def test_index_summarises_the_class(graded):
    page = (graded["out"] / "index.html").read_text()
    assert f"backprop-kit: {len(STUDENTS)} students" in page
    assert "Score distribution" in page and "<svg" in page
    assert f"<td>{SCALE}</td>" in page and "most common failure" in page
    for student in ("correct", "wrong", "hang"):
        assert f'href="students/{student}/report.html"' in page
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")  # self-contained

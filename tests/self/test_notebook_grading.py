"""Notebooks handed in (.ipynb) to `kit grade`: the grades of the same code in modules; hostile files refused.

grading/notebooks.py (the student's process) reads a notebook and runs only its definitions;
grading/submissions.py (the grader) copies its bytes and never parses it. Here:
- the rules, on grading/notebooks.py directly (what is kept, magics, a syntax error, hostile files);
- a class of notebook hand-ins, with noise cells, graded by `kit grade` beside the same code as
  modules: every twin's grades.csv row is the same;
- hostile notebook files in that class: each student gets a reason, the class is graded;
- the red team's attacks (tests/self/test_redteam.py), in notebook cells: contained the same way.
"""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from grading import notebooks
from grading.submissions import Submission, prepare

ROOT = Path(__file__).resolve().parents[2]
ONLY = "1-2"
IDS = ["ch1_sensitivity.scale_sensitivity", "ch1_sensitivity.numeric_sensitivity",
       "ch2_chain_rule.chain_forward", "ch2_chain_rule.chain_sensitivity"]


def solution(module: str) -> str:
    return (ROOT / "solutions" / f"{module}.py").read_text()


def notebook(*cells, version=4) -> str:
    """A notebook's JSON: each cell a string (code, with an output) or (cell type, source)."""
    made = []
    for cell in cells:
        kind, source = cell if isinstance(cell, tuple) else ("code", cell)
        entry = {"cell_type": kind, "metadata": {}, "source": source.splitlines(True) if isinstance(source, str)
                 else source}
        if kind == "code":
            entry |= {"execution_count": 1, "outputs": [{"output_type": "stream", "name": "stdout",
                                                          "text": ["[1, 2] {'a': 3}\n"]}]}
        made.append(entry)
    return json.dumps({"nbformat": version, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "python3"}},
                       "cells": made}, indent=1, ensure_ascii=False)


NOISE = [
    "!pip install -q backprop-kit\n%matplotlib inline\nimport kit",
    "%%bash\necho this is not python\nexit 1",
    ("markdown", "# Chapter notes\n```python\ndef scale_sensitivity(x, k):\n    return 0.0\n```"),
    ("raw", "def chain_forward(x, ks):\n    return 0.0\n"),
    "import os\nimport matplotlib.pyplot as plt  # not installed where the kit grades: the import is noted\n"
    "losses = []\nfor step in range(10**12):  # a training loop that never ends, if it ran\n    losses.append(step)\n"
    "plt.plot(losses)\nlosses",
    "raise RuntimeError('a cell that raises')",
    "os._exit(3)  # would end the process, if it ran",
    "kit.check(scale_sensitivity)\nx = !ls\n%time print(1)\ntorch.zeros?",
]
WRONG_FORWARD = "\n\ndef chain_forward(x, ks):\n    return 0.5\n"
STUB_NUMERIC = "\n\ndef numeric_sensitivity(f, x, h=1e-5):\n    raise NotImplementedError\n"
BROKEN_NUMERIC = "def numeric_sensitivity(f, x, h=1e-5:\n    return (f(x + h) - f(x - h)) / (2 * h)\n"


def without(source: str, function: str) -> str:
    """The module's source without the top-level function `function` (its def up to the next top-level line)."""
    lines, out, skipping = source.splitlines(True), [], False
    for line in lines:
        if line.startswith(f"def {function}("):
            skipping = True
            continue
        if skipping and line.strip() and not line[0].isspace():
            skipping = False
        if not skipping:
            out.append(line)
    return "".join(out)


CH1, CH2 = solution("ch1_sensitivity"), solution("ch2_chain_rule")

# twin -> ({file: text or bytes} as notebooks, {file: text} as modules)
TWINS = {
    "course": ({"Backprop course (final) v2.ipynb": notebook(*NOISE[:3], CH1, *NOISE[3:], CH2)},
               {"ch1_sensitivity.py": CH1, "ch2_chain_rule.py": CH2}),
    "chapters": ({"week 1 — sensitivity.ipynb": notebook(NOISE[0], CH1, NOISE[4]),
                  "Untitled (3).ipynb": notebook(CH2, NOISE[5], WRONG_FORWARD, NOISE[7])},
                 {"ch1_sensitivity.py": CH1, "ch2_chain_rule.py": CH2 + WRONG_FORWARD}),
    "syntax": ({"hw.ipynb": notebook(NOISE[0], without(CH1, "numeric_sensitivity"), BROKEN_NUMERIC, CH2)},
               {"ch1_sensitivity.py": without(CH1, "numeric_sensitivity") + STUB_NUMERIC, "ch2_chain_rule.py": CH2}),
    "mixed": ({"ch1_sensitivity.py": CH1, "notes.ipynb": notebook(
                  "def scale_sensitivity(x, k):\n    return 0.0\n", CH2, NOISE[6])},  # the module wins for ch1
              {"ch1_sensitivity.py": CH1, "ch2_chain_rule.py": CH2}),
    "imports": ({"1.ipynb": notebook(CH1), "2.ipynb": notebook(
                    "from ch1_sensitivity import scale_sensitivity as slope\nH = 2.0 ** -1\n",
                    "def chain_forward(x, ks):\n    out = x\n    for k in ks:\n"
                    "        out = slope(0.0, k) * out * H * 2\n    return out\n", without(CH2, "chain_forward"))},
                {"ch1_sensitivity.py": CH1,
                 "ch2_chain_rule.py": "from ch1_sensitivity import scale_sensitivity as slope\nH = 2.0 ** -1\n\n"
                 "def chain_forward(x, ks):\n    out = x\n    for k in ks:\n        out = slope(0.0, k) * out * H * 2\n"
                 "    return out\n" + without(CH2, "chain_forward")}),
}
# the sandbox's verdicts, reached from a notebook's definitions as from a module's
HANG = CH1.replace("return float(k)", "while True:\n        pass")
EXIT = CH1.replace("return (f(x + h)", "import sys\n    sys.exit(3)\n    return (f(x + h)")
HOG = CH1.replace("return float(k)", "block = bytearray(3 * 2**30)\n    return float(k)")
STALL = "class Stall:  # a class body runs when the notebook is loaded, as a module's top level does\n" \
        "    while True:\n        pass\n"
for twin, ch1 in {"hang": HANG, "exit": EXIT, "hog": HOG, "stall": STALL + CH1}.items():
    # the stall in a notebook of its own: a notebook is loaded whole for each chapter it serves,
    # so in a course notebook it would stall chapter 2 too (grading/notebooks.py)
    handed_in = {f"{twin} 1.ipynb": notebook(NOISE[0], ch1, NOISE[4]), f"{twin} 2.ipynb": notebook(CH2)} \
        if twin == "stall" else {f"{twin}.ipynb": notebook(NOISE[0], ch1, CH2, NOISE[4])}
    TWINS[twin] = (handed_in, {"ch1_sensitivity.py": ch1, "ch2_chain_rule.py": CH2})
SANDBOX = {"hang": ["timeout", "passed"], "exit": ["passed", "exited"], "hog": ["out of memory", "passed"],
           "stall": ["timeout", "timeout"]}
ZIPPED = {"work/hand-in.ipynb": notebook(*NOISE, CH1, CH2),
          "work/.ipynb_checkpoints/hand-in-checkpoint.ipynb": notebook("def chain_forward(x, ks):\n    return 0.0\n"),
          "work/README.txt": "my work"}

# hostile notebook files: student -> ({file: text or bytes}, words of the reason every exercise's message holds)
HOSTILE_FILES = {
    "bad_json": ({"a.ipynb": notebook(CH1)[:-40]}, "is not valid JSON"),
    "deep": ({"a.ipynb": '{"nbformat": 4, "cells": [], "x": ' + "[" * 5000 + "]" * 5000 + "}"}, "nested more than"),
    "brackets": ({"a.ipynb": '{"nbformat": 4, "cells": [], "x": [' + "[]," * 1_100_000 + "[]]}"},
                 "more than 1000000 lists"),
    "huge": ({"a.ipynb": notebook(CH1)[:-2] + ', "pad": "' + "x" * (17 << 20) + '"}'}, "larger than 16777216 bytes"),
    "nbformat3": ({"a.ipynb": json.dumps({"nbformat": 3, "worksheets": [{"cells": [
        {"cell_type": "code", "input": CH1}]}]})}, "nbformat 3 notebook"),
    "not_utf8": ({"a.ipynb": notebook(CH1 + "\n# caf\u00e9\n").encode("latin-1")}, "is not UTF-8"),
    "not_a_notebook": ({"a.ipynb": "[1, 2, 3]"}, "not a notebook"),
    "source_number": ({"a.ipynb": notebook(("code", 12), ("code", {"x": CH1}), CH2)}, "its source is a number"),
    "not_code": ({"a.ipynb": notebook(("markdown", CH1), ("raw", CH2))}, "no notebook handed in defines"),
}


def write(folder: Path, files: dict) -> None:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_bytes(text if isinstance(text, bytes) else text.encode())


# ---- the rules, in grading/notebooks.py ---------------------------------------------------------

def test_only_definitions_are_kept_from_a_cell():
    cell, note = notebooks.parse_cell(textwrap.dedent('''
        import torch, kit, math
        from kit import check
        from math import pi
        EPS = 1e-6
        SHAPE: tuple = (2, 3)
        DTYPE = torch.float64
        A, B = 1, -2 ** 3
        act = lambda x: x * 2
        W = torch.zeros(3, dtype=DTYPE) * EPS
        ROOT2 = math.sqrt(2 / pi) if EPS else float("inf")
        model = train(W)
        v = Value(2.0)
        ok = kit.check(f)
        data = [i for i in range(3)]
        total += 1
        def f(x):
            return x
        @staticmethod
        class Value:
            pass
        print(f(1))
        for i in range(3):
            pass
        if True:
            def g(): pass
        f(2)
        def train(w):
            pass
        '''), "hw.ipynb, cell 1", set())
    notebooks.select(cell, notebooks.bound_names(cell.tree))
    assert note == ""
    kept = [type(s).__name__ for s in cell.statements]
    assert kept == ["Import", "ImportFrom", "Assign", "AnnAssign", "Assign", "Assign", "Assign", "Assign", "Assign",
                    "FunctionDef", "ClassDef", "FunctionDef"]
    assert [a.name for a in cell.statements[0].names] == ["torch", "math"]  # `kit`, the learner's checks, is left out
    assert cell.defines == {"EPS", "SHAPE", "DTYPE", "A", "B", "act", "W", "ROOT2", "f", "Value", "train"}


def test_magic_lines_are_inert_and_a_syntax_error_costs_its_cell_only():
    cell, note = notebooks.parse_cell("!pip install torch\nfor i in range(2):\n    %time 1\nx = !ls\n"
                                      "torch.zeros?\ndef f():\n    return 1\n", "a.ipynb, cell 2", set())
    assert note == "" and cell.defines == {"f"} and cell.statements[0].lineno == 6  # lines kept
    cell, note = notebooks.parse_cell("%%writefile x.py\ndef f(): pass\n", "a.ipynb, cell 3", set())
    assert cell is None and note == ""
    cell, note = notebooks.parse_cell("%%time\ndef f(): pass\n", "a.ipynb, cell 3", set())
    assert cell.defines == {"f"}
    cell, note = notebooks.parse_cell("def f(:\n    pass\n", "a.ipynb, cell 4", set())
    assert cell is None and 'File "a.ipynb, cell 4", line 1' in note and "SyntaxError" in note


@pytest.mark.parametrize("student", sorted(set(HOSTILE_FILES) - {"huge", "not_code"}))
def test_a_hostile_notebook_file_is_read_with_a_reason(student, tmp_path):
    (files, words), = [HOSTILE_FILES[student]]
    path = tmp_path / "nb-01.ipynb"
    data = files["a.ipynb"]
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    started = time.monotonic()
    read = notebooks.read(path, "a.ipynb")
    assert time.monotonic() - started < 5
    said = read.problem + "\n".join(read.notes)
    assert words in said, said
    if student == "source_number":
        assert read.defines == {"chain_forward", "chain_sensitivity"}  # the other cells are read


def test_the_grader_copies_a_notebooks_bytes_bounded_and_skips_checkpoints(tmp_path):
    entry = tmp_path / "class" / "alice"
    write(entry, {"Hand In.ipynb": "not even json", "ch1_sensitivity.py": CH1, "._Hand In.ipynb": "x"})
    (entry / ".ipynb_checkpoints").mkdir()
    (entry / ".ipynb_checkpoints" / "Hand In-checkpoint.ipynb").write_text("{}")
    done = prepare(Submission("alice", entry), tmp_path / "prepared")
    assert done.problem == "" and done.notebooks == (("nb-01.ipynb", "Hand In.ipynb"),)
    assert (tmp_path / "prepared" / "nb-01.ipynb").read_text() == "not even json"  # its bytes, as they are
    assert sorted(os.listdir(tmp_path / "prepared")) == ["ch1_sensitivity.py", "nb-01.ipynb"]
    big = tmp_path / "class" / "bob"
    write(big, {"a.ipynb": b"{" + b" " * (16 << 20)})
    done = prepare(Submission("bob", big), tmp_path / "prepared-bob")
    assert "a.ipynb is larger than 16777216 bytes (16 MB); clear its outputs" in done.problem
    assert os.listdir(tmp_path / "prepared-bob") == []


# ---- a class of notebooks, and its twin in modules, through `kit grade` ----------------------------

@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("notebook-class")
    klass = root / "class"
    for twin, (as_notebooks, as_modules) in TWINS.items():
        write(klass / f"{twin}-nb", as_notebooks)
        write(klass / f"{twin}-py", as_modules)
    klass.joinpath("zipped-py").mkdir()
    for name, text in {"ch1_sensitivity.py": CH1, "ch2_chain_rule.py": CH2}.items():
        klass.joinpath("zipped-py", name).write_text(text)
    with zipfile.ZipFile(klass / "zipped-nb.zip", "w") as archive:
        for name, text in ZIPPED.items():
            archive.writestr(name, text)
    for student, (files, _) in HOSTILE_FILES.items():
        write(klass / student, files)
    out = root / "out"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "kit.cli", "grade", str(klass), "--out", str(out), "--only", ONLY,
                           "--timeout", "5", "-q"], capture_output=True, text=True, timeout=900, cwd=ROOT)
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))}
    results = {s: json.loads((out / "students" / s / "results.json").read_text()) for s in rows}
    return {"done": done, "rows": rows, "results": results, "seconds": time.monotonic() - started}


def statuses(document: dict) -> dict:
    return {t["name"]: t["extra_data"]["kit_status"] for t in document["tests"]}


def test_every_notebook_twin_gets_the_grades_of_its_modules(graded):
    rows = graded["rows"]
    for twin in [*TWINS, "zipped"]:
        notebook_row = {k: v for k, v in rows[f"{twin}-nb"].items() if k != "student"}
        module_row = {k: v for k, v in rows[f"{twin}-py"].items() if k != "student"}
        assert notebook_row == module_row, (twin, statuses(graded["results"][f"{twin}-nb"]),
                                            [t["output"][:600] for t in graded["results"][f"{twin}-nb"]["tests"]])
    assert rows["course-nb"]["score"] == "4" and rows["chapters-nb"]["ch2_chain_rule.chain_forward"] == "0"
    assert rows["syntax-nb"]["score"] == "3" and rows["mixed-nb"]["score"] == "4"
    for twin in [*TWINS, "zipped"]:
        if twin != "syntax":  # "missing" there, "not attempted" in the module (the stub it stands for)
            assert statuses(graded["results"][f"{twin}-nb"]) == statuses(graded["results"][f"{twin}-py"]), twin
    for twin, expected in SANDBOX.items():
        assert list(statuses(graded["results"][f"{twin}-nb"]).values())[:2] == expected, twin


def test_the_messages_name_the_notebook_and_its_cell(graded):
    results = graded["results"]
    syntax = results["syntax-nb"]
    numeric = next(t for t in syntax["tests"] if t["name"] == IDS[1])
    assert numeric["extra_data"]["kit_status"] == "missing"
    assert "hw.ipynb has no numeric_sensitivity" in numeric["output"]
    assert 'File "hw.ipynb, cell 3", line 1' in numeric["output"] and "SyntaxError" in numeric["output"]
    wrong = next(t for t in results["chapters-nb"]["tests"] if t["name"] == IDS[2])
    twin = next(t for t in results["chapters-py"]["tests"] if t["name"] == IDS[2])
    assert wrong["output"] == twin["output"]  # a wrong answer: the very message of the module
    assert statuses(results["chapters-nb"]) == statuses(results["chapters-py"])
    said = json.dumps(results["course-nb"])
    assert "this is not python" not in said and "a cell that raises" not in said  # never run


def test_a_hostile_notebook_file_costs_its_student_only_with_a_reason(graded):
    assert graded["done"].returncode in (0, 1), graded["done"].stderr[-2000:]
    for student, (_, words) in HOSTILE_FILES.items():
        document = graded["results"][student]
        row = graded["rows"][student]
        assert row["score"] == ("2" if student == "source_number" else "0"), student
        for test in document["tests"]:
            if student == "source_number" and test["name"].startswith("ch2"):
                assert test["extra_data"]["kit_status"] == "passed"  # its other cells are read
                continue
            said = test["output"].replace("\n", " ")
            assert words in said or words.replace("16777216 bytes", "16777216 bytes (16 MB)") in said, \
                (student, test["output"][:500])
    assert graded["rows"]["huge"]["score"] == "0"
    print(f"graded the notebook class in {graded['seconds']:.1f} s")


def test_a_course_notebook_of_every_chapters_solutions_answers_every_worked_example(tmp_path, monkeypatch):
    """Outside the sandbox (grading/notebooks.py as the child runs it): one notebook, every chapter,
    with the solutions' own cross-chapter imports (`from ch8_tensors import ...`) and noise."""
    from grading.class_run import target
    from kit.check import ExerciseFailure, attempt
    from kit.registry import CHAPTERS, EXERCISES

    cells = [NOISE[0], *(solution(m) for m in CHAPTERS), *NOISE[3:]]
    (tmp_path / "nb-01.ipynb").write_text(notebook(*cells))
    monkeypatch.chdir(tmp_path)  # a child's working folder is its own
    impl = notebooks.NotebookImplementation(tmp_path, (("nb-01.ipynb", "course.ipynb"),),
                                            {e.id: target(e) for e in EXERCISES.values()})
    try:
        failed = []
        for exercise in EXERCISES.values():
            for args in exercise.examples:
                try:
                    attempt(exercise, impl, args)
                except ExerciseFailure as failure:
                    failed.append((exercise.id, failure.message[:300]))
        assert failed == []
        assert impl.path("ch7_engine").name == "course.ipynb"
    finally:
        sys.meta_path.remove(impl._finder)


def test_a_function_one_notebook_defines_is_not_called_at_anothers_top_level(tmp_path):
    from grading.class_run import target
    from kit.registry import get

    (tmp_path / "nb-01.ipynb").write_text(notebook("def train():\n    raise SystemExit(3)\n"))
    (tmp_path / "nb-02.ipynb").write_text(notebook("import math\nmodel = train()\nC = math.sqrt(2.0)\n", CH1))
    exercise = get("ch1_sensitivity.scale_sensitivity")
    impl = notebooks.NotebookImplementation(tmp_path, (("nb-01.ipynb", "a.ipynb"), ("nb-02.ipynb", "b.ipynb")),
                                            {exercise.id: target(exercise)})
    try:
        first, second = impl.notebooks()
        assert [type(s).__name__ for s in second.cells[0].statements] == ["Import", "Assign"]  # C, not model
        assert [nb.name for nb in impl.serving("ch1_sensitivity")] == ["b.ipynb"]
        assert impl.module("ch1_sensitivity").C == 2.0 ** 0.5
    finally:
        sys.meta_path.remove(impl._finder)


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "unzipped"])
def test_a_canvas_download_of_notebooks_takes_the_last_upload(tmp_path, zipped):
    from test_layouts import canvas_download, canvas_name

    from grading.layouts import read_class

    old, new = notebook("def scale_sensitivity(x, k):\n    return 0.0\n"), notebook(CH1)
    path = canvas_download(tmp_path / "download", {canvas_name("Lovelace, Ada", 4211, 9001, "hw.ipynb"): old,
                                                   canvas_name("Lovelace, Ada", 4211, 9002, "hw-1.ipynb"): new},
                           zipped)
    klass = read_class(path)
    assert klass.layout == "canvas" and [s.student for s in klass.submissions] == ["4211"]
    ada = prepare(klass.submissions[0], tmp_path / "work")
    assert ada.problem == "" and ada.notebooks == (("nb-01.ipynb", "hw.ipynb"),)
    assert (ada.folder / "nb-01.ipynb").read_text() == new

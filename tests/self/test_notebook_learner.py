"""The learner's notebooks: `kit.check(...)` in a cell, and the chapter notebooks of `kit notebook`.

Two chapters' notebooks run in a real Jupyter kernel, headless (nbclient and ipykernel, the
`notebook` extra): chapter 3 with the reference solutions pasted into its stub cells (every check
cell shows a pass), chapter 6 with classic mistakes (the message and the diagnosis, as HTML; a hang
stopped by the time limit). The rest runs kit.check in this process, on functions compiled from
"cells" (files of a folder, as ipykernel makes them), with no kernel.
"""
from __future__ import annotations

import ast
import json
import textwrap
from pathlib import Path

import pytest

import kit
from kit.names import UnknownName
from kit.notebook import chapters, checks
from kit.notebook.show import Result, Results
from kit.registry import CHAPTERS, chapter
from kit.statuses import Status

ROOT = Path(__file__).resolve().parents[2]


def cells(tmp_path: Path, *sources: str) -> dict:
    """A notebook's namespace after running `sources`, each a cell file in tmp_path (as ipykernel
    compiles each cell from a file of its own)."""
    namespace: dict = {"__name__": "__main__"}
    for number, source in enumerate(sources, start=1):
        path = tmp_path / f"cell{number}.py"
        path.write_text(textwrap.dedent(source))
        exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace


# ---- kit.check in this process -----------------------------------------------------------------

def test_kit_check_is_the_module_and_the_call():
    from kit.check import ExerciseFailure, check

    assert callable(kit.check) and kit.check.check is check and kit.check.ExerciseFailure is ExerciseFailure
    assert check.__module__ == "kit.check"  # the function pytest's tests call, unchanged


def test_the_notebook_side_is_no_part_of_the_inputs_cache():
    from grading.case_cache import chapter_sources

    assert not [p for p in chapter_sources("ch3_power_rule") if "notebook" in p.parts]


def test_a_function_found_by_its_name_passes(tmp_path):
    namespace = cells(tmp_path, "def square_grad(b):\n    return 2 * b\n")
    result = kit.check(namespace["square_grad"], namespace=namespace)
    assert isinstance(result, Result) and result.passed and result.exercise.id == "ch3_power_rule.square_grad"
    assert repr(result).startswith("✔ ch3_power_rule.square_grad passes")
    assert "<svg" in result._repr_html_()  # the report's picture: the curve, inline


def test_a_mistake_in_plain_text_has_the_message_the_nudge_and_the_diagnosis(tmp_path):
    namespace = cells(tmp_path, "def power_grad(b, n):\n    return n * b ** n\n")  # the power not lowered
    result = kit.check(namespace["power_grad"], namespace=namespace)
    text = str(result)
    assert not result.passed and result.status == Status.WRONG
    assert text.startswith("✘ ch3_power_rule.power_grad (wrong)")
    assert "power_grad(b=3.0, n=2.0) is wrong" in text and "nudged:" in text
    assert "Diagnosis: You kept the power n" in text

    class Printer:  # IPython's pretty printer, where there is no HTML (a terminal IPython)
        def __init__(self):
            self.written = ""

        def text(self, text):
            self.written += text
    printer = Printer()
    result._repr_pretty_(printer, False)
    assert printer.written == text


def test_another_name_says_which_exercise(tmp_path):
    namespace = cells(tmp_path, "def my_try(b):\n    return 2 * b\n")
    assert kit.check(namespace["my_try"], "ch3_power_rule.square_grad", namespace=namespace).passed
    assert kit.check(namespace["my_try"], "square_grad", namespace=namespace).passed


def test_a_name_finds_the_function_in_the_namespace(tmp_path):
    namespace = cells(tmp_path, "def square_grad(b):\n    return 2 * b\n")
    assert kit.check("ch3_power_rule.square_grad", namespace=namespace).passed


def test_the_callers_globals_are_the_namespace(tmp_path):
    namespace = cells(tmp_path, "import kit\ndef square_grad(b):\n    return 2 * b\nresult = kit.check(square_grad)\n"
                                "named = kit.check('square_grad')\n")
    assert namespace["result"].passed and namespace["named"].passed


def test_a_class_is_checked_on_its_exercises(tmp_path):
    source = (ROOT / "solutions" / "ch7_engine.py").read_text()
    namespace = cells(tmp_path, source)
    result = kit.check(namespace["Value"], "ch7_engine.add", namespace=namespace)
    assert result.passed and result.exercise.id == "ch7_engine.add"
    assert [e.id for e in checks.exercises_of(namespace["Value"], None)] == [e.id for e in chapter("ch7_engine")]


def test_unknown_names_say_the_nearest(tmp_path):
    namespace = cells(tmp_path, "def sqare_grad(b):\n    return 2 * b\n")
    with pytest.raises(UnknownName, match=r"sqare_grad is not an exercise.*did you mean square_grad"):
        kit.check(namespace["sqare_grad"], namespace=namespace)
    with pytest.raises(UnknownName, match="did you mean sigmoid_grad"):
        kit.check("sigmoid_gard", namespace=namespace)
    with pytest.raises(UnknownName, match="several chapters"):
        kit.check("sigmoid", namespace=namespace)  # ch6's function and ch7's Value.sigmoid: say which
    with pytest.raises(UnknownName, match="a function or class"):
        kit.check(3, namespace=namespace)
    with pytest.raises(UnknownName, match="names 2 exercises; name the one"):
        kit.check(namespace["sqare_grad"], "ch3", namespace=namespace)


def test_an_exercise_not_defined_says_so(tmp_path):
    result = kit.check("ch3_power_rule.square_grad", namespace=cells(tmp_path))
    assert result.status == Status.MISSING
    assert "this notebook has no square_grad" in result.message and checks.MISSING_ADVICE in result.message


def test_a_stub_as_shipped_is_not_attempted(tmp_path):
    namespace = cells(tmp_path, "def square_grad(b):\n    raise NotImplementedError('ch3_power_rule.square_grad')\n")
    result = kit.check(namespace["square_grad"], namespace=namespace)
    assert result.status == Status.NOT_ATTEMPTED and result.progress == "not attempted"


def test_a_hang_is_stopped_with_a_message(tmp_path):
    namespace = cells(tmp_path, "def relu_grad(x):\n    while True:\n        pass\n")
    result = kit.check(namespace["relu_grad"], namespace=namespace, timeout=0.3)
    assert result.status == Status.TIMEOUT
    assert "relu_grad(x=0.0) did not finish within 0.3 s" in result.message
    assert "cell1.py\", line 2, in relu_grad" in result.message and checks.TIMEOUT_ADVICE in result.message


def test_autograd_that_runs_is_refused_as_in_pytest(tmp_path):
    namespace = cells(tmp_path, """\
        import torch
        def slope(library, f, x):  # torch passed in: the scan leaves it to the block at run time
            return library.func.grad(f)(x)
        def sigmoid_grad(x):
            return slope(torch, torch.sigmoid, torch.tensor(x)).item()
        """)
    result = kit.check(namespace["sigmoid_grad"], namespace=namespace)
    assert result.status == Status.AUTOGRAD
    assert "called torch's autograd while it ran" in result.message and "would score 0" in result.message


def test_autograd_on_a_path_not_run_is_refused_by_the_scan_unrun(tmp_path):
    namespace = cells(tmp_path, "import math\nimport torch\n", """\
        def sigmoid_grad(x):
            if x > 1e300:  # never taken: only the scan sees it
                t = torch.tensor(x, requires_grad=True)
                torch.sigmoid(t).backward()
                return t.grad.item()
            s = 1 / (1 + math.exp(-x))
            return s * (1 - s)
        """, "t = torch.ones(1, requires_grad=True)\n(t * 2).sum().backward()  # a scratch cell: not an exercise\n",
        "def relu_grad(x):\n    return 1.0 if x > 0 else 0.0\n")
    result = kit.check(namespace["sigmoid_grad"], namespace=namespace)
    assert result.status == Status.AUTOGRAD and "would score 0" in result.message
    assert "at line 3 of cell2.py: `requires_grad=True`" in result.message
    assert kit.check(namespace["relu_grad"], namespace=namespace).passed  # the scratch cell taints nothing


def test_what_the_code_printed_is_shown_once(tmp_path):
    namespace = cells(tmp_path, "def square_grad(b):\n    print('b is', b)\n    return 3 * b\n")
    result = kit.check(namespace["square_grad"], namespace=namespace)
    assert result.printed.startswith("Printed by the failing call") and result.printed.rstrip() in str(result)


def test_the_progress_over_what_the_notebook_defines(tmp_path):
    namespace = cells(tmp_path, "def square_grad(b):\n    return 2 * b\n",
                      "def power_grad(b, n):\n    return n * b ** n\n", "def helper(x):\n    return x\n",
                      "from torch import sigmoid  # torch's, not an answer\n")
    results = kit.check(namespace=namespace)
    assert isinstance(results, Results) and [r.exercise.id for r in results] == \
        ["ch3_power_rule.square_grad", "ch3_power_rule.power_grad"]
    text = str(results)
    assert "ch3_power_rule" in text and "✔✘" in text and "1 of 2 done. Next: ch3_power_rule.power_grad" in text
    page = results._repr_html_()
    assert "<table>" in page and "<details open>" in page and "Diagnosis" in page
    assert "defines none" in str(kit.check(namespace={"x": 1}))


# ---- kit notebook -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("notebooks")
    return out, chapters.write(out)


def test_a_notebook_per_chapter_with_a_check_per_exercise(written):
    import nbformat

    out, paths = written
    assert [p.name for p in paths] == [f"{module}.ipynb" for module in CHAPTERS]
    for path in paths:
        notebook = nbformat.read(str(path), 4)
        nbformat.validate(notebook)
        module = notebook.metadata["backprop_kit"]["chapter"]
        code = [c.source for c in notebook.cells if c.cell_type == "code"]
        stub = ast.parse((ROOT / "exercises" / f"{module}.py").read_text())
        stubbed = {n.name for n in stub.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        checked = {e.attribute for e in chapter(module)} & stubbed  # (a chapter being written may lag)
        assert all(f"kit.check({name})" in code for name in checked), module
        assert code[-1] == "kit.check()"
        assert "--no-deps" in code[0] and chapters.KIT_SOURCE in code[0] and '"torch' not in code[0]
        for link in _links(notebook):
            assert (out / link).is_file(), (path.name, link)


def test_the_stub_cells_are_the_stubs(written):
    import nbformat

    out, _ = written
    for module in ("ch3_power_rule", "ch7_engine", "ch9_training"):
        stub = (ROOT / "exercises" / f"{module}.py").read_text()
        notebook = nbformat.read(str(out / f"{module}.ipynb"), 4)
        code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code" and "kit.check" not in c.source)
        defined = {n.name for n in ast.parse(code).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        stubbed = {n.name for n in ast.parse(stub).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        assert defined == stubbed
        for node in ast.parse(stub).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                assert ast.get_source_segment(stub, node) in code
                assert (ast.get_docstring(node) or "").splitlines()[0] in \
                    "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")


def test_the_notebooks_are_generated_again_the_same(written, tmp_path):
    out, paths = written
    again = chapters.write(tmp_path)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]


def test_the_command_and_its_source(tmp_path, capsys):
    from kit.cli import main

    assert main(["notebook", "--out", str(tmp_path), "--source", "backprop-kit @ file:///wheels/kit.whl"]) == 0
    first = json.loads((tmp_path / "ch1_sensitivity.ipynb").read_text())["cells"][1]["source"]
    assert "backprop-kit @ file:///wheels/kit.whl" in "".join(first)
    assert "13 chapter notebooks" in capsys.readouterr().out or "chapter notebooks" in capsys.readouterr().out


def _links(notebook) -> list[str]:
    import re

    text = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    return re.findall(r"\]\(([^)]+\.ipynb)\)", text)


# ---- in a real kernel -----------------------------------------------------------------------------

def _solution_pieces(module: str) -> tuple[str, dict[str, str]]:
    """(the solution's top-level code but its functions and classes, {name: its source})."""
    source = (ROOT / "solutions" / f"{module}.py").read_text()
    tree = ast.parse(source)
    setup, defined = ["import kit"], {}
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        text = ast.get_source_segment(source, node)
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined[node.name] = text
        else:
            setup.append(text)
    return "\n".join(setup), defined


def _pasted(notebook, module: str, mistakes: dict[str, str]):
    """The notebook with the solutions in its stub cells (and `mistakes` instead, by name)."""
    setup, defined = _solution_pieces(module)
    defined.update(mistakes)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    code[1].source = "import torch\ntorch.set_num_threads(1)\n" + setup  # (one thread: 2 cores, busy)
    for cell in code[2:]:
        node = next(iter(ast.parse(cell.source).body), None)
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            cell.source = defined[node.name]
    return notebook


def _execute(notebook, folder: Path):
    """The notebook run in a fresh kernel, headless. Skipped without the `notebook` extra, except in
    CI, which installs it (.ci/run): there a missing kernel is a failure, not a silent skip."""
    import importlib.util
    import os

    missing = [name for name in ("nbclient", "ipykernel") if importlib.util.find_spec(name) is None]
    if missing and os.environ.get("CI"):
        pytest.fail(f"{', '.join(missing)} not installed: CI installs the kit with its `notebook` extra")
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: pip install -e \".[notebook]\"")
    import nbclient

    nbclient.NotebookClient(notebook, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}}).execute()
    return notebook


def _shown(cell) -> tuple[str, str]:
    """(text/html, text/plain) of a check cell's result."""
    found = [o for o in cell.outputs if o.output_type == "execute_result"]
    assert found, cell.outputs
    return found[0].data.get("text/html", ""), found[0].data.get("text/plain", "")


def _checks(notebook) -> list:
    return [c for c in notebook.cells if c.cell_type == "code" and c.source.startswith("kit.check(")]


def test_chapter_3_with_the_solutions_passes_in_a_kernel(written, tmp_path):
    import nbformat

    out, _ = written
    notebook = _pasted(nbformat.read(str(out / "ch3_power_rule.ipynb"), 4), "ch3_power_rule", {})
    _execute(notebook, tmp_path)
    *each, last = _checks(notebook)
    assert len(each) == len(chapter("ch3_power_rule"))
    for cell in each:
        page, plain = _shown(cell)
        assert "passes" in page and "✘" not in page and "<svg" in page, cell.source
        assert plain.startswith("✔ ch3_power_rule.")
    page, plain = _shown(last)
    assert "every exercise in this run passes" in page and "2/2" in page


def test_chapter_6_mistakes_show_the_message_and_the_diagnosis_in_a_kernel(written, tmp_path):
    import nbformat

    out, _ = written
    mistakes = {"sigmoid_grad": "def sigmoid_grad(x):\n    return 1 / (1 + math.exp(-x))  # the forward value\n",
                "relu_grad": "def relu_grad(x):\n    while True:\n        pass\n",
                "log_grad": "def log_grad(x):\n    if x < 0:  # never: the scan finds it\n"
                            "        torch.tensor(x, requires_grad=True)\n    return 1 / x\n"}
    notebook = _pasted(nbformat.read(str(out / "ch6_functions.ipynb"), 4), "ch6_functions", mistakes)
    for cell in notebook.cells:  # the hang stopped sooner than by the default 5 s
        if cell.source in ("kit.check(relu_grad)", "kit.check()"):
            cell.source = cell.source[:-1] + ("" if cell.source.endswith("()") else ", ") + "timeout=0.5)"
    _execute(notebook, tmp_path)
    cell = next(c for c in notebook.cells if c.source == "kit.check(sigmoid_grad)")
    page, plain = _shown(cell)
    assert "✘" in page and "sigmoid_grad(x=0.0) is wrong" in page
    assert "Diagnosis: You returned σ(x), the forward value" in page and "nudged:" in page
    assert "Cell In[" in _shown(next(c for c in notebook.cells if c.source.startswith("kit.check(relu_grad")))[0]
    assert plain.startswith("✘ ch6_functions.sigmoid_grad (wrong)")
    hang = next(c for c in notebook.cells if c.source == "kit.check(relu_grad, timeout=0.5)")
    page, _ = _shown(hang)
    assert "did not finish within 0.5 s" in page and "(timeout)" in page
    page, _ = _shown(next(c for c in notebook.cells if c.source == "kit.check(timeout=0.5)"))
    assert "✘" in page and "ch6_functions.sigmoid_grad" in page
    page, _ = _shown(next(c for c in notebook.cells if c.source == "kit.check(log_grad)"))
    assert "(autograd)" in page and "at line 3 of Cell In[" in page
    passed = [c for c in _checks(notebook) if not any(n in c.source for n in ("sigmoid_grad", "timeout", "log_grad"))]
    assert passed and all("passes" in _shown(c)[0] for c in passed)

"""The learner's run keeps pytest's conventions (issue 13, points 4, 11 and 12).

`pytest` started in any folder of the project tests the project, and leaves report.html and
.hypothesis/ at its root only; test ids carry the chapter, and `-k` with an exercise's name
selects that exercise; the progress survives pytest-xdist; `-p no:html`, `--co` and `--html`
behave as pytest's users expect; the report opens with passed exercises collapsed and readable
marks. Each test runs pytest in a fresh process, in a copy of the project of its own (the kit,
its configuration, the exercises and their tests), so nothing is written into this one.
"""
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kit.registry import EXERCISES

ROOT = Path(__file__).resolve().parents[2]
IGNORED = shutil.ignore_patterns("__pycache__", ".hypothesis", "report.html", "self")


@pytest.fixture
def project(tmp_path) -> Path:
    """A learner's copy of the project: pyproject.toml, kit/, exercises/, tests/ (not tests/self)."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(ROOT / "pyproject.toml", root)
    for folder in ("kit", "exercises", "tests"):
        shutil.copytree(ROOT / folder, root / folder, ignore=IGNORED)
    return root


def run(cwd: Path, *args: str, timeout: int = 600) -> tuple[int, str]:
    """`python -m pytest` in `cwd`, as a learner runs it: the copy's kit first on sys.path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HYPOTHESIS", "COLUMNS"))}
    env["COLUMNS"] = "200"
    root = next(p for p in (cwd, *cwd.parents) if (p / "pyproject.toml").is_file())
    env["PYTHONPATH"] = str(root)  # the copy's kit, wherever in the copy pytest starts
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout + done.stderr


def collected(out: str) -> list[str]:
    return [line for line in out.splitlines() if "::" in line and not line.startswith(("FAILED", "ERROR"))]


def solved(project: Path, *modules: str) -> None:
    for module in modules:
        shutil.copy(ROOT / "solutions" / f"{module}.py", project / "exercises")


# ---- point 4: any folder of the project ---------------------------------------------------------

@pytest.mark.parametrize("folder", ["exercises", "tests", "kit/chapters"])
def test_pytest_in_a_subfolder_tests_the_whole_project_and_writes_only_at_the_root(project, folder):
    solved(project, "ch1_sensitivity")  # hypothesis runs: its folder is made
    code, out = run(project / folder)
    assert code == 1, out  # not 5: "collected 0 items"
    assert f"collected {len(EXERCISES)} items" in out
    assert f"2 of {len(EXERCISES)} done" in out
    assert not (project / folder / "report.html").exists() and not (project / folder / ".hypothesis").exists()
    assert (project / "report.html").is_file() and (project / ".hypothesis").is_dir()
    assert sorted(p.name for p in (project / folder).iterdir() if p.name.startswith(".") or p.suffix == ".html") == []


def test_paths_given_in_a_subfolder_are_still_the_paths_given(project):
    code, out = run(project / "tests", "--co", "-q", "test_ch4_product_rule.py")
    assert code == 0, out
    assert collected(out) == ["tests/test_ch4_product_rule.py::test_exercise[ch4_product_rule.product_grads]"]


# ---- point 11: ids with the chapter, -k with an exercise's name ---------------------------------

def test_test_ids_carry_the_chapter_and_the_function_name(project):
    code, out = run(project, "--co", "-q")
    assert code == 0, out
    assert sorted(collected(out)) == sorted(f"tests/test_{e.module}.py::test_exercise[{e.id}]"
                                            for e in EXERCISES.values())


def test_exercises_run_in_the_curriculums_order(project):
    """pytest takes files in the order of their names: tests/test_ch10_*.py before test_ch1_*."""
    (project / "tests" / "test_aa_other.py").write_text(
        "import pytest\nfrom kit.registry import EXERCISES\n\n\ndef test_first():\n    pass\n\n\n"
        "@pytest.mark.parametrize('exercise', EXERCISES.values(), ids=str)\n"
        "def test_over_exercises(exercise):  # a self-test's kind: not an exercise test, it stays\n    pass\n")
    code, out = run(project, "--co", "-q")
    assert code == 0, out
    assert collected(out) == ["tests/test_aa_other.py::test_first"] + [
        f"tests/test_aa_other.py::test_over_exercises[{e.id}]" for e in EXERCISES.values()] + [
        f"tests/test_{e.module}.py::test_exercise[{e.id}]" for e in EXERCISES.values()]


@pytest.mark.parametrize("expression, selected", [
    ("forward", ["ch5_backprop_by_hand.forward"]),  # not chain_forward
    ("chain_forward", ["ch2_chain_rule.chain_forward"]),
    ("ch6 and sigmoid", ["ch6_functions.sigmoid"]),  # not sigmoid_grad, sigmoid_backward, ch7's sigmoid
    ("sigmoid_grad", ["ch6_functions.sigmoid_grad"]),  # the README's "one exercise"
    ("ch7_engine.sigmoid", ["ch7_engine.sigmoid"]),
    ("backward and not ch8", ["ch5_backprop_by_hand.backward", "ch7_engine.backward"]),
    ("_forward", ["ch2_chain_rule.chain_forward"]),  # not a name: pytest's own matching, by substring
    ("ch4", ["ch4_product_rule.product_grads"]),
])
def test_k_with_an_exercises_name_selects_that_exercise(project, expression, selected):
    code, out = run(project, "--co", "-q", "-k", expression)
    assert code == 0, out
    assert sorted(re.findall(r"test_exercise\[([\w.]+)\]", "\n".join(collected(out)))) == sorted(selected)


def test_not_with_an_exercises_name_leaves_the_others(project):
    code, out = run(project, "--co", "-q", "-k", "not forward")
    assert code == 0, out
    ids = re.findall(r"test_exercise\[([\w.]+)\]", "\n".join(collected(out)))
    assert "ch2_chain_rule.chain_forward" in ids and "ch5_backprop_by_hand.forward" not in ids
    assert len(ids) == len(EXERCISES) - 1


# ---- point 12: pytest-xdist, -p no:html, --co, --html -----------------------------------------

def test_the_progress_is_summed_over_xdist_workers(project):
    pytest.importorskip("xdist", reason="pytest-xdist (the dev extra) runs the learner's tests in workers")
    solved(project, "ch1_sensitivity", "ch4_product_rule")
    code, out = run(project, "-n", "2", "tests/test_ch1_sensitivity.py", "tests/test_ch2_chain_rule.py",
                    "tests/test_ch4_product_rule.py")
    assert code == 1, out
    assert "2 workers" in out and "your progress" in out
    tail = out[out.index("your progress"):]
    assert re.search(r"^ch1_sensitivity .* ✔✔ +2/2$", tail, re.M)  # each chapter, from whichever worker ran it
    assert re.search(r"^ch2_chain_rule .* ·· +0/2$", tail, re.M)
    assert "3 of 5 done. Next: ch2_chain_rule.chain_forward (not attempted)" in tail
    page = (project / "report.html").read_text()
    assert "class='progress'" in page and "3 of 5 done" in page


def test_xdist_keeps_the_learners_message_in_the_short_summary(project):
    pytest.importorskip("xdist", reason="pytest-xdist (the dev extra) runs the learner's tests in workers")
    (project / "exercises" / "ch3_power_rule.py").write_text("def square_grad(b):\n    return b\n")
    code, out = run(project, "-n", "2", "tests/test_ch3_power_rule.py")
    assert code == 1, out
    assert "FAILED tests/test_ch3_power_rule.py::test_exercise[ch3_power_rule.square_grad] - " \
           "ch3_power_rule.square_grad: square_grad(b=3.0) is wrong." in out
    assert "Traceback" not in out


def test_without_pytest_html_the_run_is_the_same_and_writes_no_report(project):
    code, out = run(project, "-p", "no:html", "tests/test_ch4_product_rule.py")
    assert code == 1, out  # not a usage error about --html
    assert "your progress" in out and "Generated html report" not in out
    assert not (project / "report.html").exists()


def test_collect_only_and_fixtures_leave_the_report_as_it_was(project):
    report = project / "report.html"
    report.write_text("the last run's report")
    for args in (["--co"], ["--collect-only", "-q"], ["--fixtures"]):
        code, out = run(project, *args)
        assert code == 0, out
        assert report.read_text() == "the last run's report", args


def test_the_report_is_at_the_root_unless_html_says_where(project):
    code, out = run(project, "tests/test_ch4_product_rule.py")
    assert code == 1 and (project / "report.html").is_file()
    (project / "report.html").unlink()
    code, out = run(project, "--html=mine.html", "tests/test_ch4_product_rule.py")
    assert code == 1, out
    assert (project / "mine.html").is_file() and not (project / "report.html").exists()
    assert '<link rel="stylesheet"' not in (project / "mine.html").read_text()  # self-contained, as ever


def report_data(page: str) -> dict:
    """The results pytest-html writes into its page, as JSON."""
    return json.loads(html.unescape(re.search(r'data-jsonblob="([^"]*)"', page).group(1)))


def test_the_report_collapses_passed_exercises_and_its_marks_are_readable(project, tmp_path):
    solved(project, "ch1_sensitivity")
    (project / "exercises" / "ch3_power_rule.py").write_text("def square_grad(b):\n    return b\n")
    code, out = run(project, "tests/test_ch1_sensitivity.py", "tests/test_ch3_power_rule.py")
    assert code == 1, out
    page = (project / "report.html").read_text()
    data = report_data(page)
    assert data["renderCollapsed"] == ["passed"]  # pytest-html's default: failures open, passed ones closed
    passed = data["tests"]["tests/test_ch1_sensitivity.py::test_exercise[ch1_sensitivity.scale_sensitivity]"][0]
    assert passed["result"] == "Passed" and "<svg" in passed["extras"][0]["content"]  # its picture, kept
    progress = page[page.index("<div class='progress'>"):]
    assert "<span class='mark done'>✔</span><span class='mark done'>✔</span>" in progress
    assert "<span class='mark failing'>✘</span>" in progress
    style = page[page.index("<style>.progress"):]
    assert re.search(r"\.progress \.mark\{font-size:2\dpx", style)  # larger than the text around them
    assert ".progress .done{color:#" in style and ".progress .failing{color:#" in style
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return  # the page's own rendering: where headless Chromium is installed (CI)
    dom = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000", "--dump-dom",
                          (project / "report.html").as_uri()], capture_output=True, text=True, timeout=120).stdout
    rows = dict(re.findall(r'<tbody class="results-table-row \w+" id="([^"]+)">(.*?)</tbody>', dom, re.S))
    shown = rows["tests/test_ch1_sensitivity.py::test_exercise[ch1_sensitivity.scale_sensitivity]"]
    assert 'class="col-result collapsed"' in shown and '<tr class="extras-row hidden">' in shown and "<svg" in shown
    wrong = rows["tests/test_ch3_power_rule.py::test_exercise[ch3_power_rule.square_grad]"]
    assert "collapsed" not in wrong and "extras-row hidden" not in wrong

"""What a learner sees: `pytest` run as a learner runs it, in a fresh process."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kit.registry import CHAPTERS, EXERCISES

ROOT = Path(__file__).resolve().parents[2]


def run_pytest(*args, cwd=ROOT, columns=None):
    env = None
    if columns is not None:  # a terminal this wide (pytest cuts the short summary's lines to it)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COLUMNS"))}
        env["COLUMNS"] = str(columns)
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=600, env=env)
    return done.returncode, done.stdout + done.stderr


@pytest.fixture(scope="module")
def stubs_run(tmp_path_factory):
    report = tmp_path_factory.mktemp("report") / "report.html"
    code, out = run_pytest("-rf", "-vv", f"--html={report}")
    return code, out, report


def test_untouched_stubs_fail_every_exercise_as_not_attempted(stubs_run):
    code, out, _ = stubs_run
    assert code == 1
    # -vv: every exercise in full, each a line of the short summary (-rf)
    failed = re.findall(r"^NOT ATTEMPTED tests/test_\w+\.py::test_exercise\[(\w+\.\w+)\] - not attempted", out, re.M)
    assert sorted(failed) == sorted(EXERCISES)
    assert "Traceback" not in out and "kit/check.py" not in out
    assert "warnings summary" not in out and "Warning" not in out  # nothing of the kit's own to puzzle over
    # the progress comes last: where the learner stands and what to do next
    tail = out[out.index("your progress"):]
    assert f"0 of {len(EXERCISES)} done" in tail
    assert "Begin: open exercises/ch1_sensitivity.py and write scale_sensitivity" in tail and "`kit hint`" in tail


def test_every_run_writes_a_self_contained_report(stubs_run):
    _, _, report = stubs_run
    page = report.read_text()
    assert "not attempted" in page
    assert '<link rel="stylesheet"' not in page  # styles inlined: the page is one file
    assert not (report.parent / "assets").exists()


def test_a_wrong_answer_shows_the_input_both_values_the_tolerance_and_a_hint(tmp_path):
    (tmp_path / "ch3_power_rule.py").write_text(
        "def square_grad(b):\n    print('trying', b)\n    return b\n"
    )
    code, out = run_pytest("--impl", str(tmp_path), "tests/test_ch3_power_rule.py")
    assert code == 1
    assert "square_grad(b=3.0) is wrong." in out
    assert re.search(r"yours: 3\.0\n\s+torch: 6\.0", out)
    assert "tolerance: |yours - torch| <= 1e-12 + 1e-09·|torch|" in out
    assert "Try this:" in out
    assert "trying 3.0" in out  # the learner's own print() is shown
    assert "ch3_power_rule.py has no power_grad" in out


def test_an_exception_shows_the_learners_line_not_the_kit(tmp_path):
    (tmp_path / "ch6_functions.py").write_text(
        "def log_grad(x):\n    zero = x - x\n    return 1.0 / zero\n"
    )
    code, out = run_pytest(f"--impl={tmp_path}", "tests/test_ch6_functions.py", "-k", "log_grad")
    assert code == 1
    assert "log_grad(x=1.0) raised an exception" in out
    assert "return 1.0 / zero" in out and "ZeroDivisionError" in out
    assert "kit/" not in out.split("FAILURES")[1].split("short test summary")[0]


def test_a_missing_module_fails_its_exercises_and_the_others_still_run(tmp_path):
    (tmp_path / "ch1_sensitivity.py").write_text((ROOT / "solutions" / "ch1_sensitivity.py").read_text())
    code, out = run_pytest("--impl", str(tmp_path), "tests/test_ch1_sensitivity.py", "tests/test_ch2_chain_rule.py")
    assert code == 1
    assert "2 failed, 2 passed" in out
    assert "2 of 4 done. Next: ch2_chain_rule.chain_forward (failing)" in out
    assert "the module ch2_chain_rule is missing" in out


def test_a_relative_impl_path_is_taken_from_where_pytest_runs(tmp_path):
    code, out = run_pytest("--impl", "solutions", "tests/test_ch4_product_rule.py")
    assert code == 0, out
    code, out = run_pytest("--impl=../nowhere", "tests/test_ch4_product_rule.py")
    assert code == 4 and "--impl ../nowhere: no such folder" in out


# ---- the first run fits on one screen (issue 13, point 10) ----------------------------------------

def test_the_first_run_on_untouched_stubs_fits_on_one_screen(tmp_path):
    code, out = run_pytest(f"--html={tmp_path / 'report.html'}", columns=80)
    assert code == 1
    lines = out.splitlines()
    # pytest's header and summary lines, the kit's four, and one row per chapter: 29 for 13 chapters
    # (before issue 13: ~165 for 9)
    assert len(lines) <= 16 + len(CHAPTERS), out
    assert "FAILURES" not in out and "short test summary" not in out  # nothing but "not attempted" to tell
    progress = lines[[i for i, line in enumerate(lines) if "your progress" in line][0] + 1:-1]
    assert progress[0].startswith("backprop-kit: ") and "torch.autograd" in progress[0]  # what the kit is
    for module in {e.module for e in EXERCISES.values()}:  # the chapter table
        assert any(line.startswith(module) for line in progress), module
    assert "Begin: open exercises/ch1_sensitivity.py and write scale_sensitivity" in out
    assert "`kit hint`" in out
    assert all(len(line) <= 80 for line in progress), progress  # the kit's own lines fit the terminal
    assert re.search(rf"^·{{{len(EXERCISES)}}}\s+\[100%\]$", out, re.M)  # one mark each, one line of them
    assert lines[-1].startswith("=") and f"{len(EXERCISES)} failed" in lines[-1]  # pytest's count as ever


def test_the_first_run_with_q_is_shorter_still(tmp_path):
    code, out = run_pytest("-q", f"--html={tmp_path / 'report.html'}", columns=80)
    assert code == 1
    assert len(out.splitlines()) <= 8, out  # today: ~137
    assert f"0 of {len(EXERCISES)} done. Begin: write scale_sensitivity in exercises/ch1_sensitivity.py" in out


def test_failures_beside_stubs_show_in_full_and_the_stubs_are_counted(tmp_path):
    (tmp_path / "ch3_power_rule.py").write_text("def square_grad(b):\n    return b\n")
    for stub in ("ch1_sensitivity.py", "ch2_chain_rule.py"):
        (tmp_path / stub).write_text((ROOT / "exercises" / stub).read_text())
    code, out = run_pytest("--impl", str(tmp_path), "tests/test_ch1_sensitivity.py", "tests/test_ch2_chain_rule.py",
                           "tests/test_ch3_power_rule.py", columns=200)
    assert code == 1
    sections = out.split("= FAILURES =")[1].split("short test summary")[0]
    assert "square_grad(b=3.0) is wrong" in sections and "not attempted" not in sections
    assert "FAILED tests/test_ch3_power_rule.py::test_exercise[ch3_power_rule.square_grad]" in out
    assert "not attempted: scale_sensitivity" not in out  # counted in the progress, not told one by one
    assert "6 failed" in out and "0 of 6 done. Next: ch1_sensitivity.scale_sensitivity (not attempted)" in out


# ---- a module that does not import (issue 13, point 6) --------------------------------------------

def test_a_module_that_does_not_import_is_told_once_and_progress_points_at_the_file(tmp_path):
    for module in ("ch1_sensitivity", "ch2_chain_rule"):
        (tmp_path / f"{module}.py").write_text((ROOT / "solutions" / f"{module}.py").read_text())
    engine = (ROOT / "exercises" / "ch7_engine.py").read_text()
    broken = tmp_path / "ch7_engine.py"
    broken.write_text(engine + "\n\ndef add(self, other:\n    return self\n")
    line = len(engine.splitlines()) + 3
    code, out = run_pytest("--impl", str(tmp_path), "tests/test_ch1_sensitivity.py", "tests/test_ch2_chain_rule.py",
                           "tests/test_ch7_engine.py", columns=200)
    assert code == 1
    ch7 = [e for e in EXERCISES.values() if e.module == "ch7_engine"]
    assert out.count("SyntaxError") == 2, out  # once under the first exercise, once where progress points
    assert out.count(f'File "{broken}", line {line}') == 1
    told = re.findall(r"^FAILED tests/test_ch7_engine\.py::test_exercise\[(ch7_engine\.\w+)\] - (.*)$", out, re.M)
    assert sorted(eid for eid, _ in told) == sorted(e.id for e in ch7)  # one line per exercise
    assert sum("not checked" in said for _, said in told) == len(ch7) - 1
    tail = out[out.index("your progress"):]
    assert f"4 of {4 + len(ch7)} done. Next: fix {broken}, line {line}" in tail
    assert "SyntaxError: '(' was never closed" in tail
    assert "Hint:" not in tail and EXERCISES["ch7_engine.add"].hint not in tail


# ---- what a learner's function printed (issue 13, point 9) ----------------------------------------

def test_prints_show_the_failing_calls_output_and_count_the_rest(tmp_path):
    (tmp_path / "ch3_power_rule.py").write_text(
        "def square_grad(b):\n    print('trying', b)\n    print('twice', 2 * b)\n    return 2 * b if b < 5 else b\n"
    )
    code, out = run_pytest("--impl", str(tmp_path), "tests/test_ch3_power_rule.py", "-k", "square_grad")
    assert code == 1
    assert "square_grad(b=5.0) is wrong" in out  # hypothesis' smallest failing input
    printed = out.split("Captured stdout call")[1].split("short test summary")[0]
    assert "Printed by the failing call, square_grad(b=5.0):\ntrying 5.0\ntwice 10.0\n" in printed
    more = re.search(r"^\.\.\. and (\d+) more lines printed while other inputs were tried", printed, re.M)
    assert more and int(more.group(1)) >= 10
    assert out.count("trying ") == 1  # today: a line per input tried, 100 and more


def test_with_s_prints_go_to_the_terminal_as_they_happen(tmp_path):
    (tmp_path / "ch3_power_rule.py").write_text("def square_grad(b):\n    print('trying', b)\n    return b\n")
    code, out = run_pytest("-s", "--impl", str(tmp_path), "tests/test_ch3_power_rule.py", "-k", "square_grad")
    assert code == 1
    assert out.count("trying ") > 1 and "Printed by the failing call" not in out

"""What a learner sees: `pytest` run as a learner runs it, in a fresh process."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kit.registry import EXERCISES

ROOT = Path(__file__).resolve().parents[2]


def run_pytest(*args, cwd=ROOT):
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=600)
    return done.returncode, done.stdout + done.stderr


@pytest.fixture(scope="module")
def stubs_run(tmp_path_factory):
    report = tmp_path_factory.mktemp("report") / "report.html"
    code, out = run_pytest("-rf", "-vv", f"--html={report}")
    return code, out, report


def test_untouched_stubs_fail_every_exercise_as_not_attempted(stubs_run):
    code, out, _ = stubs_run
    assert code == 1
    failed = re.findall(r"^FAILED tests/test_\w+\.py::test_exercise\[(\w+)\] - not attempted", out, re.M)
    assert sorted(failed) == sorted(e.name for e in EXERCISES.values())
    assert "Traceback" not in out and "kit/check.py" not in out
    assert "warnings summary" not in out and "Warning" not in out  # nothing of the kit's own to puzzle over
    # the progress comes last: where the learner stands and what to do next
    tail = out[out.index("your progress"):]
    assert f"0 of {len(EXERCISES)} done. Next: ch1_sensitivity.scale_sensitivity (not attempted)" in tail
    assert f"Hint: {EXERCISES['ch1_sensitivity.scale_sensitivity'].hint}" in tail


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

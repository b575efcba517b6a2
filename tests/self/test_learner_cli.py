"""The learner's commands: `kit hint`, `kit check` and `kit watch`."""
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kit.cli import main
from kit.registry import EXERCISES

ROOT = Path(__file__).resolve().parents[2]


def test_hint_gives_the_hint_and_more_gives_the_direct_one(capsys):
    assert main(["hint", "ch6_functions.sigmoid_grad"]) == 0
    out = capsys.readouterr().out
    assert EXERCISES["ch6_functions.sigmoid_grad"].hint in out and "More:" not in out
    assert main(["hint", "--more", "sigmoid_grad"]) == 0
    assert EXERCISES["ch6_functions.sigmoid_grad"].more in capsys.readouterr().out


@pytest.mark.parametrize("exercise", EXERCISES.values(), ids=str)
def test_every_exercise_has_two_hints(exercise):
    assert exercise.hint and exercise.more and exercise.hint != exercise.more


def test_an_ambiguous_or_unknown_name_is_a_clear_error():
    with pytest.raises(SystemExit, match="ch5_backprop_by_hand.backward, ch7_engine.backward"):
        main(["hint", "backward"])
    with pytest.raises(SystemExit, match="no exercise or chapter 'nothing'"):
        main(["hint", "nothing"])


def test_check_runs_the_same_tests_narrowed():
    done = subprocess.run([sys.executable, "-m", "kit.cli", "check", "ch4", "sigmoid_grad", "-rA",
                           "-p", "no:cacheprovider", "--html=/dev/null"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "test_exercise[product_grads]" in done.stdout and "test_exercise[sigmoid_grad]" in done.stdout
    assert "2 failed" in done.stdout and "not attempted" in done.stdout


def test_watch_reruns_on_save_and_moves_on_when_it_passes(tmp_path):
    for stub in (ROOT / "exercises").glob("ch*.py"):
        shutil.copy(stub, tmp_path)
    watcher = subprocess.Popen([sys.executable, "-m", "kit.cli", "watch", "--impl", str(tmp_path),
                                "--interval", "0.1"], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        seen = read_until(watcher, "Watching")
        assert "✘ ch1_sensitivity.scale_sensitivity: not attempted" in seen
        time.sleep(0.2)
        shutil.copy(ROOT / "solutions" / "ch1_sensitivity.py", tmp_path)  # the learner saves
        seen = read_until(watcher, "Watching")
        assert "change seen; rerunning ch1_sensitivity.scale_sensitivity" in seen
        assert "✔ ch1_sensitivity.scale_sensitivity passes" in seen
        assert "✔ ch1_sensitivity.numeric_sensitivity passes" in seen
        assert "✘ ch2_chain_rule.chain_forward: not attempted" in seen
    finally:
        watcher.kill()
        watcher.wait()


def read_until(process, marker: str, timeout: float = 240.0) -> str:
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            return "".join(lines)
    raise AssertionError(f"no {marker!r} from kit watch; it said:\n{''.join(lines)}")

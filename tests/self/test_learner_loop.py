"""The learner's loop without hangs: the time limit on the learner's code (kit/implementation.py), and
`kit watch` (kit/watch.py): what it reruns on a save, how it tells a module that does not import,
and that neither an endless loop nor code that cannot be stopped holds it."""
from __future__ import annotations

import bdb
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from test_learner_cli import read_until  # tests/self: the one reader of kit watch's output

from kit.implementation import STUCK_EXIT, Implementation, LearnerError
from kit.registry import EXERCISES
from kit.statuses import Status

ROOT = Path(__file__).resolve().parents[2]
FORWARD = EXERCISES["ch2_chain_rule.chain_forward"]
SENSITIVITY = EXERCISES["ch2_chain_rule.chain_sensitivity"]


def folder_with(tmp_path: Path, name: str, source: str) -> Path:
    (tmp_path / name).write_text(textwrap.dedent(source))
    return tmp_path


def stopped(folder: Path, limit: float, *calls, in_a_thread: bool = False) -> list[tuple[str, str, float]]:
    """[(status, message, seconds)] of each call (exercise id, args) of the folder's code under the limit,
    made in a forked process: should the stop ever fail, the stuck process's exit ends only that one."""
    forked = multiprocessing.get_context("fork")
    parent, child = forked.Pipe()
    process = forked.Process(target=_calls, args=(child, folder, limit, calls, in_a_thread))
    process.start()
    child.close()
    try:
        assert parent.poll(60), "no answer in 60 s"
        return parent.recv()
    except EOFError:
        process.join()
        raise AssertionError(f"the process ended (exit status {process.exitcode}) before it answered") from None
    finally:
        process.kill()
        process.join()


def _calls(connection, folder: Path, limit: float, calls: tuple, in_a_thread: bool) -> None:
    impl, found = Implementation(folder, time_limit=limit), []

    def run():
        for eid, args in calls:
            start = time.monotonic()
            try:
                impl.call(EXERCISES[eid], args)
                found.append(("passed", "", time.monotonic() - start))
            except LearnerError as error:
                found.append((str(error.status), error.text, time.monotonic() - start))

    if in_a_thread:
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
    else:
        run()
    connection.send(found)


# ---- the time limit ------------------------------------------------------------------------------

def test_an_endless_loop_in_pytest_fails_its_exercise_in_seconds_naming_the_call_and_the_line(tmp_path):
    folder_with(tmp_path, "ch2_chain_rule.py", """\
        def chain_forward(x, ks):
            y = x
            while True:
                y = y + 1


        def chain_sensitivity(ks):
            if len(ks) > 2:  # only some of hypothesis' inputs: the stop is reached while it searches
                while True:
                    pass
            product = 1.0
            for k in ks:
                product *= k
            return product
        """)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--html=/dev/null",
                           "--impl", str(tmp_path), "tests/test_ch2_chain_rule.py", "--kit-timeout", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=90)
    took = time.monotonic() - start
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "2 failed" in out
    assert "chain_forward(x=1.0, ks=[2.0, 5.0]) did not finish within 1 s" in out
    assert 'ch2_chain_rule.py", line 3, in chain_forward' in out and "while True:" in out
    assert "chain_sensitivity(ks=[" in out  # the input it was on, whichever hypothesis drew
    assert re.search(r'line (9|10), in chain_sensitivity', out)
    assert "--kit-timeout" in out and "Traceback" not in out and "TimeUp" not in out
    assert took < 40, f"{took:.1f} s"  # one limit per exercise, not one per input hypothesis tries


def test_a_stop_caught_by_except_baseexception_is_stopped_again_on_the_learners_next_line(tmp_path):
    folder = folder_with(tmp_path, "ch2_chain_rule.py", """\
        import time


        def chain_sensitivity(ks):
            while True:
                try:
                    time.sleep(0.01)
                except BaseException:
                    pass
        """)
    (status, text, took), (again, text_again, took_again) = stopped(folder, 0.5, (SENSITIVITY.id, ([2.0, 5.0],)),
                                                                    (SENSITIVITY.id, ([1.0],)))
    assert status == Status.TIMEOUT and took < 2.0  # not the end of the process at twice the limit
    assert "did not finish within 0.5 s" in text and "time.sleep(0.01)" in text
    assert again == Status.TIMEOUT and took_again < 0.1  # the exercise's time is up: at once, the same failure
    assert "ks=[2.0, 5.0]" in text_again


def test_code_that_returns_after_catching_its_stop_still_fails_as_too_slow(tmp_path):
    folder = folder_with(tmp_path, "ch2_chain_rule.py", """\
        def chain_sensitivity(ks):
            try:
                while True:
                    pass
            except BaseException:
                return 10.0
        """)
    [(status, text, _)] = stopped(folder, 0.3, (SENSITIVITY.id, ([2.0],)))
    assert status == Status.TIMEOUT and "while True" in text


def test_a_module_that_never_finishes_importing_is_stopped_once(tmp_path):
    folder = folder_with(tmp_path, "ch2_chain_rule.py", """\
        counter = 0
        while counter >= 0:
            counter += 1
        """)
    (status, text, took), (again, _, took_again) = stopped(folder, 0.3, (FORWARD.id, (1.0, [])),
                                                           (SENSITIVITY.id, ([],)))
    assert status == Status.TIMEOUT and took < 1.5
    assert "ch2_chain_rule.py did not finish importing within 0.3 s" in text and "line 2" in text
    assert again == Status.TIMEOUT and took_again < 0.1


def test_a_call_in_a_thread_other_than_the_main_one_is_stopped_too(tmp_path):
    folder = folder_with(tmp_path, "ch2_chain_rule.py", """\
        def chain_forward(x, ks):
            while True:
                x = x + 1
        """)
    [(status, text, took)] = stopped(folder, 0.5, (FORWARD.id, (1.0, [2.0])), in_a_thread=True)
    assert status == Status.TIMEOUT and took < 2.0 and "line 2, in chain_forward" in text


def test_the_limit_leaves_nothing_behind_and_no_limit_means_no_signal_and_no_thread(tmp_path):
    (tmp_path / "ch2_chain_rule.py").write_text((ROOT / "solutions" / "ch2_chain_rule.py").read_text())
    handler, trace = signal.getsignal(signal.SIGALRM), sys.gettrace()
    threads = threading.active_count()
    plain = Implementation(tmp_path)  # as a grading child makes it: no time limit
    assert plain.call(SENSITIVITY, ([2.0, 5.0],))[0] == 10.0
    assert signal.getsignal(signal.SIGALRM) is handler and threading.active_count() == threads
    limited = Implementation(tmp_path, time_limit=2)
    for _ in range(50):
        assert limited.call(SENSITIVITY, ([2.0, 5.0],))[0] == 10.0
    assert signal.getsignal(signal.SIGALRM) is handler
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0) and sys.gettrace() is trace


def test_the_clock_waits_while_a_debugger_is_stopped_in_the_learners_code(tmp_path, monkeypatch):
    impl = Implementation(folder_with(tmp_path, "ch2_chain_rule.py", """\
        def chain_sensitivity(ks):
            breakpoint()
            return 10.0
        """), time_limit=0.3)

    class SlowLearner(bdb.Bdb):  # a learner reading pdb's prompt for a second
        def user_line(self, frame):
            time.sleep(1.0)
            self.set_continue()

    monkeypatch.setattr(sys, "breakpointhook", lambda: SlowLearner().set_trace(sys._getframe(1)))
    assert impl.call(SENSITIVITY, ([2.0, 5.0],))[0] == 10.0


def test_a_debugger_that_continued_leaves_the_clock_running(tmp_path, monkeypatch):
    """pdb's `c` (Bdb.set_continue) leaves its trace function on the stack's outermost frame: the
    clock must still stop a later hang, in this process, after the debugger has gone."""
    impl = Implementation(folder_with(tmp_path, "ch2_chain_rule.py", """\
        def chain_sensitivity(ks):
            if ks[0] == 1.0:
                breakpoint()
                return 10.0
            while True:
                pass
        """), time_limit=0.3)

    class Continuing(bdb.Bdb):
        def user_line(self, frame):
            self.set_continue()

    monkeypatch.setattr(sys, "breakpointhook", lambda: Continuing().set_trace(sys._getframe(1)))
    assert impl.call(SENSITIVITY, ([1.0],))[0] == 10.0
    start = time.monotonic()
    with pytest.raises(LearnerError) as stopped:
        impl.call(SENSITIVITY, ([2.0],))
    assert stopped.value.status == Status.TIMEOUT and time.monotonic() - start < 5


def test_code_nothing_can_stop_ends_the_process_saying_where_it_was(tmp_path):
    folder_with(tmp_path, "ch2_chain_rule.py", """\
        def chain_sensitivity(ks):
            while True:
                try:
                    while True:
                        try:
                            sum(i for i in range(10 ** 9))
                        except BaseException:
                            pass
                except BaseException:
                    pass
        """)
    script = ("import sys; from kit.implementation import Implementation; from kit.registry import EXERCISES; "
              f"Implementation({str(tmp_path)!r}, time_limit=0.5).call(EXERCISES['ch2_chain_rule.chain_sensitivity'], "
              "([1.0],)); print('returned')")
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == STUCK_EXIT, done.stdout + done.stderr
    assert time.monotonic() - start < 20 and "returned" not in done.stdout
    assert "chain_sensitivity(ks=[1.0]) has run 3 s, and its time limit is 0.5 s" in done.stderr
    assert 'ch2_chain_rule.py", line 6, in chain_sensitivity' in done.stderr


# ---- kit watch -----------------------------------------------------------------------------------

def start_watch(folder: Path, *options: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "kit.cli", "watch", "--impl", str(folder), "--interval", "0.1",
                             *options], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def left_running(folder: Path, timeout: float = 5.0) -> list[int]:
    """The processes still running a watch of `folder` (its worker shares its command line)."""
    deadline = time.monotonic() + timeout
    while True:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and str(folder) in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def save(path: Path, text: str) -> None:
    time.sleep(0.15)  # a new modification time, whatever the file system's resolution
    path.write_text(textwrap.dedent(text))


@pytest.fixture
def chapters_1_to_3(tmp_path):
    for stub in (ROOT / "exercises").glob("ch*.py"):
        shutil.copy(stub, tmp_path)
    for done in ("ch1_sensitivity", "ch2_chain_rule", "ch3_power_rule"):
        shutil.copy(ROOT / "solutions" / f"{done}.py", tmp_path)
    return tmp_path


def test_watch_rechecks_what_passed_in_the_saved_module_and_tells_a_broken_file_once(chapters_1_to_3):
    folder = chapters_1_to_3
    ch3 = folder / "ch3_power_rule.py"
    solved = ch3.read_text()
    watcher = start_watch(folder)
    try:
        seen = read_until(watcher, "Watching")
        assert "✔ ch3_power_rule.square_grad passes" in seen and "✘ ch4_product_rule.product_grads" in seen
        assert seen.count(EXERCISES["ch4_product_rule.product_grads"].hint) == 1
        save(ch3, solved.replace("2.0 * b", "3.0 * b"))  # working on chapter 4, square_grad breaks
        seen = read_until(watcher, "Watching")
        assert "change seen; rerunning the 2 exercises that passed before, and ch4_product_rule.product_grads" in seen
        assert "✘ ch3_power_rule.square_grad passed before, and now fails: wrong" in seen
        assert "square_grad(b=3.0) is wrong" in seen and "✔ still passing: ch3_power_rule.power_grad" in seen
        assert "Broken since they passed: ch3_power_rule.square_grad" in seen
        hint = EXERCISES["ch3_power_rule.square_grad"].hint
        assert seen.count(hint) == 1  # the message's "Try this:", and no second "Hint:" line
        save(ch3, "def square_grad(b):\n    return 2.0 * b\n\ndef power_grad(b, n)\n    return n * b ** (n - 1)\n")
        seen = read_until(watcher, "Watching")
        assert seen.count("ch3_power_rule.py could not be imported") == 1  # one message, not one per exercise
        assert 'ch3_power_rule.py", line 4' in seen and "SyntaxError" in seen
        assert "Next: fix ch3_power_rule.py, line 4, and save." in seen
        assert "Hint:" not in seen and "Try this:" not in seen
        save(ch3, solved)
        seen = read_until(watcher, "Watching")
        assert "✔ ch3_power_rule.square_grad passes again" in seen and "Broken since" not in seen
    finally:
        watcher.kill()
        watcher.wait()
    assert left_running(folder) == []  # the worker ends with the watch, however the watch ends


def test_watch_stops_an_endless_loop_and_recovers_from_code_nothing_stops_when_the_file_is_saved(chapters_1_to_3):
    folder = chapters_1_to_3
    ch4 = folder / "ch4_product_rule.py"
    save(ch4, """\
        def product_grads(x, y):
            while True:
                x = x + 1
        """)
    watcher = start_watch(folder, "--timeout", "1")
    try:
        seen = read_until(watcher, "Watching")
        assert "✘ ch4_product_rule.product_grads: timeout" in seen
        assert "product_grads(x=5.0, y=10.0) did not finish within 1 s" in seen and "line 2, in product_grads" in seen
        save(ch4, """\
            def product_grads(x, y):
                while True:
                    try:
                        while True:
                            try:
                                sum(i for i in range(10 ** 9))
                            except BaseException:
                                pass
                    except BaseException:
                        pass
            """)
        seen = read_until(watcher, "Save to rerun")
        assert "has run 3 s, and its time limit is 1 s" in seen and 'line 6, in product_grads' in seen
        assert f"its process ended (exit status {STUCK_EXIT})" in seen
        save(ch4, "def product_grads(x, y):\n    return (y, x)\n")
        seen = read_until(watcher, "Watching")
        assert "✔ ch4_product_rule.product_grads passes" in seen and "✘ ch5_backprop_by_hand.forward" in seen
        save(ch4, "def product_grads(x, y):\n    while True:\n        pass\n")
        read_until(watcher, "change seen")
        time.sleep(0.5)  # the worker is in the loop when the watch is killed: it ends with the watch
    finally:
        watcher.kill()
        watcher.wait()
    assert left_running(folder) == []


def test_a_save_unsticks_a_check_that_has_no_limit_and_ctrl_c_says_what_was_running(chapters_1_to_3):
    folder = chapters_1_to_3
    ch4 = folder / "ch4_product_rule.py"
    save(ch4, "def product_grads(x, y):\n    while True:\n        pass\n")
    watcher = start_watch(folder, "--timeout", "0")  # no limit: only a save can end this check
    try:
        read_until(watcher, "✔ ch3_power_rule.power_grad passes")
        time.sleep(1)
        save(ch4, "def product_grads(x, y):\n    return (y, x)\n")
        seen = read_until(watcher, "Watching")
        assert "(saved while ch4_product_rule.product_grads was being checked: starting again)" in seen
        assert "✔ ch4_product_rule.product_grads passes" in seen
        save(folder / "ch5_backprop_by_hand.py", "def forward(x, y, z):\n    while True:\n        pass\n")
        read_until(watcher, "change seen")
        time.sleep(2)
        watcher.send_signal(signal.SIGINT)
        out, _ = watcher.communicate(timeout=30)
        assert "kit watch: stopped while checking ch5_backprop_by_hand.forward" in out
        assert watcher.returncode == 0
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    assert left_running(folder) == []
    assert not any(p for p in os.listdir(folder) if p.endswith(".html"))

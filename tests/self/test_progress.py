"""`kit grade`'s progress (grading/progress.py): the line before the inputs are drawn, the count as
they are, and the bar over the students with its rate and time left, on a terminal and in a log.

Each test drives `Progress` with a StringIO for stderr and a fake clock: no test sleeps or reads
the real time (speed is measured in benchmarks/, never asserted). Two tests check that
grading.cases.record_all calls the callback (drawing one cheap exercise for real), and two that
`kit grade -q` makes no progress at all.
"""
from __future__ import annotations

import io

import pytest

from grading import cases
from grading.progress import DRAW_SECONDS, Progress, draw_estimate, duration

SEED = bytes.fromhex("00112233445566778899aabbccddeeff")
CHEAP = ["ch7_engine.mul", "ch7_engine.add"]  # quick to draw


class Terminal(io.StringIO):
    def isatty(self):
        return True


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture(autouse=True)
def wide(monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")  # a terminal wide enough for every line in full


def redrawn(stream: Terminal) -> str:
    """The line a terminal shows last: what follows the last carriage return, without the padding."""
    return stream.getvalue().rsplit("\r", 1)[-1].rstrip(" \n")


def grade(progress: Progress, clock: Clock, seconds: list[float]) -> None:
    """One student graded after each of `seconds`."""
    for i, wait in enumerate(seconds):
        clock.now += wait
        progress.step(f"s{i}", 1, 2)


# ---- the students ------------------------------------------------------------------------------

def test_a_terminal_shows_the_rate_and_time_left_after_the_first_few_students():
    clock, stream = Clock(), Terminal()
    progress = Progress(13, stream, clock=clock)
    grade(progress, clock, [8, 8])
    assert "students/min" not in redrawn(stream) and "left" not in redrawn(stream)
    grade(progress, clock, [8])  # 3 students in 24 s: 7.5 a minute, 10 to go at 8 s each
    assert redrawn(stream) == ("grading [######........................] 3/13 students, 24.0 s, "
                               "7.5 students/min, ~1 min 20 s left (last: s0, 1/2)")
    assert "\n" not in stream.getvalue()  # one line, redrawn in place


def test_a_terminal_ends_the_bar_with_the_rate_and_no_time_left():
    clock, stream = Clock(), Terminal()
    progress = Progress(4, stream, clock=clock)
    grade(progress, clock, [1, 1, 1, 1])
    assert stream.getvalue().endswith("\n") and stream.getvalue().count("\n") == 1
    assert redrawn(stream) == ("grading [##############################] 4/4 students, 4.0 s, 60 students/min "
                               "(last: s3, 1/2)")


def test_a_log_gets_a_line_every_tenth_of_the_class_with_the_time_left():
    clock, stream = Clock(), io.StringIO()
    progress = Progress(20, stream, clock=clock)
    grade(progress, clock, [3] * 20)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10 and "\r" not in stream.getvalue()
    assert lines[0] == "grading [###...........................] 2/20 students, 6.0 s (last: s1, 1/2)"
    assert lines[1].startswith("grading [") and "] 4/20 students, 12.0 s, 20 students/min, ~48 s left (" in lines[1]
    assert lines[-1].endswith(" 20/20 students, 60.0 s, 20 students/min (last: s19, 1/2)")


def test_the_rate_counts_from_the_end_of_drawing():
    """Drawing took 10 s; then 3 students in 6 s: 30 a minute, although 16 s have passed."""
    clock, stream = Clock(), io.StringIO()
    progress = Progress(6, stream, clock=clock)
    progress.drawing(0, CHEAP, 0, 1)
    clock.now += 10
    progress.drawing(1, CHEAP, 0, 1)
    progress.drawing(2, CHEAP, 0, 1)
    grade(progress, clock, [2, 2, 2])
    assert stream.getvalue().splitlines()[-1].startswith(
        "grading [###############...............] 3/6 students, 16.0 s, 30 students/min, ~6 s left")


@pytest.mark.parametrize("seconds, said", [
    (0.2, "1 s"), (8.4, "8 s"), (59.4, "59 s"), (59.6, "1 min"), (80, "1 min 20 s"), (84, "1 min 20 s"),
    (125, "2 min"), (3599, "1 h"), (3900, "1 h 5 min"), (7260, "2 h 1 min"),
])
def test_a_time_is_said_roughly(seconds, said):
    assert duration(seconds) == said


# ---- drawing the inputs ------------------------------------------------------------------------

def test_the_drawing_line_says_how_many_are_drawn_and_cached_and_how_long_on_how_many_processes():
    stream = io.StringIO()
    todo = [f"ch8_tensors.e{i}" for i in range(10)]  # 10 × 0.7 s
    Progress(5, stream, clock=Clock()).drawing(0, todo, 3, 1)
    assert stream.getvalue() == ("kit grade: drawing the graded inputs of 10 exercises (3 more from the cache): "
                                 "about 7 s on 1 process\n")


def test_the_estimate_divides_the_table_over_the_processes():
    from kit.registry import EXERCISES

    everything = list(EXERCISES)
    cpu = sum(DRAW_SECONDS.get(eid.split(".")[0], 0.5) for eid in everything)
    assert draw_estimate(everything, 2) == pytest.approx(cpu / 2)
    stream = io.StringIO()
    Progress(5, stream, clock=Clock()).drawing(0, everything, 0, 2)
    assert stream.getvalue() == (f"kit grade: drawing the graded inputs of {len(everything)} exercises: "
                                 f"about {duration(cpu / 2)} on 2 processes\n")


def test_inputs_all_from_the_cache_take_one_line():
    stream = io.StringIO()
    Progress(5, stream, clock=Clock()).drawing(0, [], 43, 1)
    assert stream.getvalue() == "kit grade: the graded inputs of 43 exercises come from the cache\n"


def test_a_terminal_counts_each_exercise_drawn():
    clock, stream = Clock(), Terminal()
    progress = Progress(5, stream, clock=clock)
    todo = ["ch1_sensitivity.a", "ch1_sensitivity.b", "ch1_sensitivity.c"]
    for done in range(4):
        progress.drawing(done, todo, 0, 1)
        clock.now += 0.5
    text = stream.getvalue()
    first, rest = text.split("\n", 1)
    assert first == "kit grade: drawing the graded inputs of 3 exercises: about 1 s on 1 process"
    assert "\rkit grade: drawn 1/3 exercises, 0.5 s" in rest and "\rkit grade: drawn 2/3 exercises, 1.0 s" in rest
    assert rest.endswith("\n") and redrawn(stream) == "kit grade: drew the inputs of 3 exercises in 1.5 s"


def test_a_log_gets_the_drawing_line_and_the_time_it_took_only():
    clock, stream = Clock(), io.StringIO()
    progress = Progress(5, stream, clock=clock)
    for done in range(3):
        progress.drawing(done, CHEAP, 1, 2)
        clock.now += 2
    assert stream.getvalue().splitlines() == [
        "kit grade: drawing the graded inputs of 2 exercises (1 more from the cache): about 1 s on 2 processes",
        "kit grade: drew the inputs of 2 exercises in 4.0 s"]


# ---- record_all calls it -------------------------------------------------------------------------

def test_record_all_reports_before_and_after_each_exercise_then_the_cache(tmp_path):
    calls = []
    cache = tmp_path / "cache"
    cases.record_all(CHEAP[:1], 1, cache, SEED, drawing=lambda *call: calls.append(call))
    assert calls == [(0, CHEAP[:1], 0, 1), (1, CHEAP[:1], 0, 1)]
    calls.clear()
    cases.record_all(CHEAP[:1], 1, cache, SEED, drawing=lambda *call: calls.append(call))
    assert calls == [(0, [], 1, 1)]


def test_record_all_reports_each_exercise_drawn_in_processes(tmp_path):
    calls = []
    cases.record_all(CHEAP, 2, tmp_path / "cache", SEED, drawing=lambda *call: calls.append(call))
    assert calls == [(done, CHEAP, 0, 2) for done in range(3)]


# ---- kit grade -q ------------------------------------------------------------------------------

@pytest.fixture
def graded(monkeypatch, tmp_path):
    """`kit grade` on a class of one, up to grade_submissions, which is replaced: what it was given."""
    import grading.grader
    import grading.reports
    from grading import forkserver
    from grading.isolation import Setting

    given = {}

    def grade_submissions(students, points, limits, jobs, progress=None, **kwargs):
        given["progress"] = progress
        if progress is not None:
            progress.drawing(0, CHEAP, 0, 1)
        return []

    monkeypatch.setattr(forkserver, "start", lambda: None)
    unprivileged = Setting(root=False, bwrap=None, seccomp=True, landlock=0, cgroups=False)
    monkeypatch.setattr(Setting, "detect", classmethod(lambda cls, namespaces=True: unprivileged))
    monkeypatch.setattr(grading.grader, "grade_submissions", grade_submissions)
    monkeypatch.setattr(grading.reports, "write_all", lambda *args, **kwargs: None)
    (tmp_path / "class" / "ada").mkdir(parents=True)
    (tmp_path / "class" / "ada" / "ch1_sensitivity.py").write_text("")

    def run(*options: str) -> dict:
        from kit.cli import main

        assert main(["grade", str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--force", *options]) == 0
        return given
    return run


def test_kit_grade_quiet_makes_no_progress(graded, capsys):
    assert graded("-q")["progress"] is None
    err = capsys.readouterr().err
    assert "drawing" not in err and "grading [" not in err and "where the students' code runs" not in err


def test_kit_grade_shows_the_drawing_line_on_stderr(graded, capsys):
    assert isinstance(graded()["progress"], Progress)
    assert "kit grade: drawing the graded inputs of 2 exercises: about 1 s on 1 process\n" in capsys.readouterr().err


def test_every_chapter_has_its_own_drawing_time():
    """A chapter added without a row would be announced at the default: say so here instead."""
    from kit.registry import CHAPTERS

    assert sorted(DRAW_SECONDS) == sorted(CHAPTERS)
    assert all(0 < seconds < 5 for seconds in DRAW_SECONDS.values())

"""`kit grade`'s progress on stderr: the inputs as they are drawn, then the students, with rate and time left.

`Progress` writes to a stream (stderr), reads the time from a clock (time.monotonic), both given
to it, so that a test drives it with a StringIO and a fake clock. On a terminal its lines are
redrawn in place; elsewhere (a log, CI) a line is written now and then. `kit grade -q` makes none.

- `drawing(done, todo, cached, processes)` is grading.cases.record_all's callback: before the
  inputs are drawn, a line says how many exercises are drawn and how many come from the cache,
  and roughly how long drawing takes (DRAW_SECONDS); on a terminal a count follows each exercise
  drawn; a last line says how long it took.
- `step(student, score, max_score)` after each student graded: a bar, the count, the time, and
  after the first few students the rate and the time left.
"""
from __future__ import annotations

import shutil
import sys
import time

from grading.text import printable  # the id is a file name: its control characters are shown

# Seconds of one CPU that drawing an exercise's inputs costs (grading.cases.record), by chapter:
# the mean over the chapter's exercises, measured on the project's CI machine kind (2 cores) on
# 2026-12-01, every exercise drawn in one process; 20 s for chapters 1 to 9, 7 s more for 10 to
# 13 (measured later the same day, after their draws were set, and scaled by that run's ratio to
# the first on chapters 1 to 9). In ch6 the backward steps cost ~0.8 s and the rest ~0.2 s; a
# chapter not listed is counted at DEFAULT.
# Only the time `kit grade` announces depends on it, never a grade. To remeasure (when a chapter
# changes much), time grading.cases.record(exercise, seed) for each of kit.registry.EXERCISES in
# one process, on a machine otherwise idle.
DRAW_SECONDS = {
    "ch1_sensitivity": 0.3, "ch2_chain_rule": 0.3, "ch3_power_rule": 0.2, "ch4_product_rule": 0.2,
    "ch5_backprop_by_hand": 0.3, "ch6_functions": 0.5, "ch7_engine": 0.4, "ch8_tensors": 0.7,
    "ch9_training": 0.5, "ch10_convolution": 0.4, "ch11_recurrence": 0.35, "ch12_attention": 0.35,
    "ch13_gpt": 0.3,
}
DEFAULT_DRAW_SECONDS = 0.5
FEW = 3  # students graded before the rate and the time left are shown


class Progress:
    """`kit grade`'s lines on stderr, for `total` students: see the module's docstring."""

    def __init__(self, total: int, stream=None, width: int = 30, clock=time.monotonic):
        self.total, self.done, self.width, self.clock = total, 0, width, clock
        self.stream = stream if stream is not None else sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = self.grading = self.drawn_from = clock()  # `grading`: once the inputs are drawn
        self.every = max(1, total // 10)

    # ---- drawing the inputs ----------------------------------------------------------------

    def drawing(self, done: int, todo: list[str], cached: int, processes: int) -> None:
        """grading.cases.record_all's callback: before drawing (done=0), then after each
        exercise drawn; `todo`: the ids drawn, `cached`: how many came from the cache,
        `processes`: how many draw at once."""
        now = self.clock()
        if done == 0:
            self.drawn_from = now
            self.stream.write(self._announce(todo, cached, processes) + "\n")
        if todo and done == len(todo):
            line = f"kit grade: drew the inputs of {_count(done, 'exercise')} in {now - self.drawn_from:.1f} s"
            if self.tty:
                self._redraw(line)
                self.stream.write("\n")
            else:
                self.stream.write(line + "\n")
        elif done and self.tty:
            self._redraw(f"kit grade: drawn {done}/{len(todo)} exercises, {now - self.drawn_from:.1f} s")
        if done == len(todo):
            self.grading = now  # the rate counts from here
        self.stream.flush()

    @staticmethod
    def _announce(todo: list[str], cached: int, processes: int) -> str:
        if not todo:
            return f"kit grade: the graded inputs of {_count(cached, 'exercise')} come from the cache"
        seconds = draw_estimate(todo, processes)
        also = f" ({cached} more from the cache)" if cached else ""
        return (f"kit grade: drawing the graded inputs of {_count(len(todo), 'exercise')}{also}: "
                f"about {duration(seconds)} on {_count(processes, 'process', 'processes')}")

    # ---- grading the students --------------------------------------------------------------

    def step(self, student: str, score: float, max_score: float) -> None:
        self.done += 1
        now = self.clock()
        filled = self.width * self.done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        line = (f"grading [{bar}] {self.done}/{self.total} students, {now - self.start:.1f} s{self._pace(now)} "
                f"(last: {printable(student)}, {_number(score)}/{_number(max_score)})")
        if self.tty:
            self._redraw(line)
            if self.done == self.total:
                self.stream.write("\n")
        elif self.done % self.every == 0 or self.done == self.total:
            self.stream.write(line + "\n")
        self.stream.flush()

    def _pace(self, now: float) -> str:
        """", 24 students/min, ~1 min 20 s left" once FEW students are graded; "" before."""
        elapsed = now - self.grading
        if self.done < FEW or elapsed <= 0:
            return ""
        per_minute = 60 * self.done / elapsed
        rate = f", {per_minute:.0f} students/min" if per_minute >= 10 else f", {per_minute:.1f} students/min"
        if self.done >= self.total:
            return rate
        return rate + f", ~{duration(elapsed * (self.total - self.done) / self.done)} left"

    # ---- the stream ------------------------------------------------------------------------

    def _redraw(self, line: str) -> None:
        width = shutil.get_terminal_size().columns - 1
        self.stream.write("\r" + line[:width].ljust(width))


def draw_estimate(todo: list[str], processes: int) -> float:
    """Roughly how many seconds drawing the inputs of `todo` takes on `processes` processes."""
    cpu = sum(DRAW_SECONDS.get(eid.split(".")[0], DEFAULT_DRAW_SECONDS) for eid in todo)
    return cpu / max(1, processes)


def duration(seconds: float) -> str:
    """A rough length of time: "8 s", "1 min 20 s" (to 10 s), "2 h 5 min" (to the minute)."""
    if seconds < 59.5:
        return f"{max(1, round(seconds))} s"
    tens = round(seconds / 10) * 10
    if tens < 3600:
        minutes, rest = divmod(tens, 60)
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h" + (f" {minutes} min" if minutes else "")


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"

"""`kit grade`'s progress bar on stderr: redrawn in place on a terminal, a line now and then elsewhere."""
from __future__ import annotations

import shutil
import sys
import time

from grading.text import printable  # the id is a file name: its control characters are shown


class Progress:
    """A plain-text progress bar on stderr: redrawn in place on a terminal, a line now and then elsewhere."""

    def __init__(self, total: int, stream=None, width: int = 30):
        self.total, self.done, self.width = total, 0, width
        self.stream = stream if stream is not None else sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()
        self.every = max(1, total // 10)

    def step(self, student: str, score: float, max_score: float) -> None:
        self.done += 1
        filled = self.width * self.done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        line = (f"grading [{bar}] {self.done}/{self.total} students, {time.monotonic() - self.start:.1f} s "
                f"(last: {printable(student)}, {_number(score)}/{_number(max_score)})")
        if self.tty:
            width = shutil.get_terminal_size().columns - 1
            self.stream.write("\r" + line[:width].ljust(width))
            if self.done == self.total:
                self.stream.write("\n")
        elif self.done % self.every == 0 or self.done == self.total:
            self.stream.write(line + "\n")
        self.stream.flush()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"

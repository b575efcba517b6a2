"""How long a learner waits: the learner run of every chapter, and one exercise alone.

Each is timed as a whole command (interpreter start to exit), the median of --repeat runs,
against the floor `python -c "import torch, hypothesis, pytest"`: the time before any test
can start. Targets (issue 2): the whole run within 4x the floor, one exercise within 2x.

    python benchmarks/learner.py [--repeat 5]

Commands run as on a learner's machine, where Python caches bytecode: PYTHONDONTWRITEBYTECODE
is removed from their environment (pytest would otherwise rewrite the asserts of ~140 modules,
hypothesis' among them, on every run: about 2 s more).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--html=/dev/null"]

COMMANDS = {
    "floor: import torch, hypothesis, pytest": ([sys.executable, "-c", "import torch, hypothesis, pytest"], None),
    "learner run, all chapters, solutions": ([*PYTEST, "--impl", "solutions"], 4.0),
    "learner run, all chapters, untouched stubs": ([*PYTEST], 4.0),
    "one exercise (ch6 sigmoid_backward), solutions": (
        [*PYTEST, "--impl", "solutions",
         "tests/test_ch6_functions.py::test_exercise[ch6_functions.sigmoid_backward]"], 2.0),
}


ENVIRONMENT = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=ENVIRONMENT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    floor = None
    print(f"{'command':50} {'median s':>9} {'x floor':>8} {'target':>7}")
    for label, (command, target) in COMMANDS.items():
        seconds(command)  # warm the file cache
        median = statistics.median(seconds(command) for _ in range(repeat))
        floor = floor or median
        ratio = median / floor
        verdict = "" if target is None else f"<= {target:g}x {'ok' if ratio <= target else 'MISSED'}"
        print(f"{label:50} {median:9.2f} {ratio:8.2f} {verdict:>7}")


if __name__ == "__main__":
    main()

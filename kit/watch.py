"""`kit watch`: rerun the learner's exercises whenever a module in the folder is saved.

The current exercise is the first, in curriculum order, that does not pass. Each save reruns it
and moves on while it passes; it also reruns every exercise of the saved modules (and of the
modules that import them) that passed before in this watch, and says so when one of them breaks,
and when it passes again. A module that does not import is told once, with its file and line, and
no exercise's hint: the fix is in the file.

The checks run in a worker process (forked from this one where the platform allows it, so it
starts at once with torch imported), each round with the folder's modules imported afresh and
the learner's time limit on every call (kit/implementation.py: the failure says where the code
was). A save while a round still runs ends the worker and starts the round again on the new
code: a loop that never ends, or code nothing can stop, never holds the watch.
"""
from __future__ import annotations

import multiprocessing
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kit.implementation import DEFAULT_TIME_LIMIT, Implementation
from kit.registry import EXERCISES
from kit.statuses import Status

STILL = 10.0  # seconds of one exercise's check after which the watch says it is still at it


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    found = {}
    for path in sorted(folder.glob("*.py")):
        try:
            stat = path.stat()
        except OSError:  # removed between the glob and the stat (an editor's save)
            continue
        found[path.name] = (stat.st_mtime_ns, stat.st_size)
    return found


def fresh(folder: Path, time_limit: float | None = None, on_stuck=None) -> Implementation:
    """The folder's modules imported anew, with nothing of them left from an earlier import."""
    for name, module in list(sys.modules.items()):
        if Path(getattr(module, "__file__", "") or "/").resolve().parent == folder.resolve():
            del sys.modules[name]
    return Implementation(folder, time_limit=time_limit, on_stuck=on_stuck)


def dependents(folder: Path, modules: set[str]) -> set[str]:
    """The modules, and the curriculum modules of the folder that import one of them (ch9 imports ch8)."""
    found = set(modules)
    for path in folder.glob("ch*.py"):
        if path.stem in found:
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if any(re.search(rf"^\s*(from|import)\s+{re.escape(m)}\b", text, re.M) for m in modules):
            found.add(path.stem)
    return found


# ---- the worker: runs the checks, says what it found -------------------------------------------

def serve(connection, folder: str, time_limit: float | None, hypothesis_home: str | None = None,
          watchs_end=None) -> None:
    """The worker's life: one round per request, (rechecks, start), until the watch ends it.

    It sends ("checking", id), then ("checked", id, status or None, message) per exercise, or
    ("module", module, status, message) once per module that does not load, and ("done", index)
    with the index of the current exercise after the round. When a recheck's module does not
    load, the round ends there: fixing that file is the learner's next step."""
    import signal

    import torch
    from hypothesis import settings

    import kit.profiles  # noqa: F401

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the watch's to answer: it ends this process
    if watchs_end is not None:  # forked with the watch's end of the pipe: closed, so the watch's exit is an EOF here
        watchs_end.close()
    _die_with_the_watch()
    if hypothesis_home:  # .hypothesis/ at the project's root, as in its pytest runs, wherever the watch started
        try:
            from hypothesis.configuration import set_hypothesis_home_dir
        except ImportError:
            import os

            os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = hypothesis_home
        else:
            set_hypothesis_home_dir(hypothesis_home)
    settings.load_profile("learner")
    torch.set_num_threads(1)  # as in the pytest plugin: tiny tensors
    ids = list(EXERCISES)
    while True:
        try:
            rechecks, start = connection.recv()
        except EOFError:
            return
        impl = fresh(Path(folder), time_limit, on_stuck=lambda text: connection.send(("stuck", text)))
        told: set[str] = set()
        for eid in rechecks:
            if loads(impl, EXERCISES[eid].module, told, connection):
                connection.send(("checked", eid, *verdict(EXERCISES[eid], impl, connection)))
        index = start
        while index < len(ids) and not told:  # a file that does not import comes first: it is the next step
            exercise = EXERCISES[ids[index]]
            if not loads(impl, exercise.module, told, connection):
                break
            status, message = verdict(exercise, impl, connection)
            connection.send(("checked", exercise.id, status, message))
            if status is not None:
                break
            index += 1
        connection.send(("done", index))


def _die_with_the_watch() -> None:
    """On Linux, this process gets SIGKILL when the watch ends, however it ends, even amid a check."""
    if sys.platform != "linux":
        return
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def loads(impl: Implementation, module: str, told: set[str], connection) -> bool:
    """Whether the module imports; when not, its message is sent, once a round."""
    from kit.implementation import LearnerError

    try:
        impl.module(module)
    except LearnerError as error:
        if module not in told:
            told.add(module)
            connection.send(("module", module, error.status, error.text))
        return False
    return True


def verdict(exercise, impl: Implementation, connection) -> tuple[str | None, str | None]:
    """(None, None) when the exercise passes, else (its status, the learner's message)."""
    from kit.check import ExerciseFailure, check

    connection.send(("checking", exercise.id))
    try:
        check(exercise, impl)
    except ExerciseFailure as failure:
        return str(failure.status), failure.message
    except Exception:  # the check itself failed (hypothesis gave up, say): told, and the watch goes on
        import traceback

        return str(Status.ERROR), f"{exercise.id}: the check itself failed:\n{traceback.format_exc().rstrip()}"
    return None, None


# ---- the watch: looks for saves, tells the learner -------------------------------------------------

class Worker:
    """The worker process and its end of the pipe."""

    def __init__(self, folder: Path, time_limit: float | None, hypothesis_home: Path | None = None):
        methods = multiprocessing.get_all_start_methods()
        forked = sys.platform == "linux" and "fork" in methods
        context = multiprocessing.get_context("fork" if forked else "spawn")
        self.connection, theirs = context.Pipe()
        home = str(hypothesis_home) if hypothesis_home else None
        # not a daemon, so the learner's code may start processes of its own; the watch always ends it
        self.process = context.Process(target=serve, name="kit watch worker", args=(
            theirs, str(folder), time_limit, home, self.connection if forked else None))
        self.process.start()
        theirs.close()

    def end(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.connection.close()


@dataclass
class Watch:
    folder: Path
    say: Callable[[str], None]
    ids: list[str] = field(default_factory=lambda: list(EXERCISES))
    current: int = 0
    passed: set[str] = field(default_factory=set)  # every exercise that passed in this watch
    broken: dict[str, str] = field(default_factory=dict)  # passed before, fails now: id -> status
    checking: str | None = None  # the exercise the worker is on
    since: float = 0.0

    def plan(self, changed: set[str]) -> list[str]:
        """The exercises that passed before, of the saved modules and the modules importing them."""
        modules = dependents(self.folder, changed)
        current = self.ids[self.current] if self.current < len(self.ids) else None
        return [eid for eid in self.ids if eid in self.passed and EXERCISES[eid].module in modules and eid != current]

    def heading(self, changed: set[str], rechecks: list[str]) -> str:
        current = self.ids[self.current] if self.current < len(self.ids) else None
        saved = ", ".join(sorted(f"{m}.py" for m in changed)) or "a file"
        again = (f"{rechecks[0]}, which passed before" if len(rechecks) == 1
                 else f"the {len(rechecks)} exercises that passed before" if rechecks else "")
        what = ", and ".join(w for w in (again, current) if w) or "nothing"
        return f"\n— change seen; rerunning {what} ({saved} saved) —"

    def event(self, message: tuple, rechecks: list[str]) -> None:
        say = self.say
        kind = message[0]
        if kind == "checking":
            self.checking, self.since = message[1], time.monotonic()
        elif kind == "stuck":
            say(message[1].rstrip())
        elif kind == "module":
            _, module, status, text = message
            waiting = [eid for eid in self.ids if EXERCISES[eid].module == module]
            count = f"its {len(waiting)} exercises" if len(waiting) > 1 else "its exercise"
            say(f"✘ {module}.py: {status}; {count} cannot be checked until it loads.")
            say(text)
            if status == Status.MISSING:
                say(f"Next: write {module}.py in {self.folder}.")
            else:
                say(f"Next: fix {module}.py{_line_of(text)}, and save.")
        elif kind == "checked":
            _, eid, status, text = message
            self.checking = None
            self.told(eid, status, text, recheck=eid in rechecks)

    def told(self, eid: str, status: str | None, text: str | None, recheck: bool) -> None:
        say, exercise = self.say, EXERCISES[eid]
        if status is None:
            self.passed.add(eid)
            if eid in self.broken:
                del self.broken[eid]
                say(f"✔ {eid} passes again")
            elif not recheck:
                say(f"✔ {eid} passes")
            return
        if eid in self.passed:
            self.broken[eid] = status
            say(f"✘ {eid} passed before, and now fails: {status}")
        else:
            say(f"✘ {eid}: {status}")
        if text:
            say(text)
        if not recheck and status != Status.TIMEOUT and exercise.hint not in (text or ""):
            say(f"Hint: {exercise.hint}")

    def round(self, worker: Worker, rechecks: list[str], interval: float, seen: dict) -> str:
        """One round of checks: "done"; or "saved", a save came first; or "died", the worker ended."""
        worker.connection.send((rechecks, self.current))
        noticed, still = False, []
        while True:
            if worker.connection.poll(interval):
                try:
                    message = worker.connection.recv()
                except (EOFError, OSError):
                    self.died(worker)
                    return "died"
                if message[0] == "done":
                    self.current, self.checking = message[1], None
                    if still:
                        self.say(f"✔ still passing: {', '.join(still)}")
                    return "done"
                if message[0] == "checking":
                    noticed = False
                if message[0] == "checked" and message[1] in rechecks and message[2] is None \
                        and message[1] not in self.broken:
                    still.append(message[1])
                self.event(message, rechecks)
                continue
            if snapshot(self.folder) != seen:
                if self.checking:
                    self.say(f"(saved while {self.checking} was being checked: starting again)")
                return "saved"
            if not worker.process.is_alive() and not worker.connection.poll():
                self.died(worker)
                return "died"
            if self.checking and not noticed and time.monotonic() - self.since > STILL:
                noticed = True
                self.say(f"… still checking {self.checking} ({time.monotonic() - self.since:.0f} s): "
                         f"save to start again, Ctrl-C to stop")

    def died(self, worker: Worker) -> None:
        worker.process.join(1)
        code = worker.process.exitcode
        where = f" while checking {self.checking}" if self.checking else ""
        self.say(f"✘ the check stopped{where}: its process ended (exit status {code}). Save to rerun.")
        if self.checking in self.passed:
            self.broken[self.checking] = Status.TIMEOUT
        self.checking = None

    def finished(self) -> bool:
        return self.current >= len(self.ids) and not self.broken

    def wrap_up(self) -> None:
        if self.current >= len(self.ids):
            if self.broken:
                self.say(f"✔ Every exercise after them passes; {', '.join(self.broken)} broke since it passed.")
            else:
                self.say("✔ Every exercise passes. Well done!")
                return
        elif self.broken:
            self.say(f"Broken since they passed: {', '.join(self.broken)} (rechecked when their module is saved).")
        self.say(f"Watching {self.folder} for changes; save to rerun, Ctrl-C to stop.")


def watch(folder: Path, interval: float = 0.5, say=lambda line: print(line, flush=True),
          time_limit: float | None = DEFAULT_TIME_LIMIT, hypothesis_home: Path | None = None) -> None:
    """Watch until every exercise passes, or Ctrl-C. hypothesis_home: where hypothesis keeps what it
    remembers (default: .hypothesis/ in the working directory)."""
    state = Watch(folder, say)
    worker = Worker(folder, time_limit, hypothesis_home)
    seen, rechecks = snapshot(folder), []
    try:
        while True:
            ended = state.round(worker, rechecks, interval, seen)
            if ended != "saved":
                if ended == "died":
                    worker.end()
                    worker = Worker(folder, time_limit, hypothesis_home)
                else:
                    state.wrap_up()
                    if state.finished():
                        return
                while snapshot(folder) == seen:  # until the next save
                    time.sleep(interval)
            else:
                worker.end()  # it may be stuck in the code just replaced
                worker = Worker(folder, time_limit, hypothesis_home)
            now = snapshot(folder)
            changed = {name[:-3] for name in set(now) | set(seen) if now.get(name) != seen.get(name)}
            seen = now
            rechecks = state.plan(changed)
            say(state.heading(changed, rechecks))
    except KeyboardInterrupt:
        where = f" while checking {state.checking} ({time.monotonic() - state.since:.0f} s in)" \
            if state.checking else ""
        say(f"kit watch: stopped{where}")
    finally:
        worker.end()


def _line_of(text: str) -> str:
    found = re.findall(r'File "[^"]+", line (\d+)', text)
    return f", line {found[-1]}" if found else ""

"""Loading a learner's modules from a folder, and calling into them.

`Implementation(folder)` finds `<folder>/<module>.py` for any curriculum module. A module is
imported once, under a private name, so two folders never shadow each other; while it is
imported its folder is first on sys.path, so `import ch6_functions` inside ch9 works.
Every failure to load or call is a `LearnerError` that carries the learner's own lines.

`Implementation(folder, time_limit=SECONDS)` also stops the learner's code when one import or
one call runs longer than that (a learner's run: `pytest --kit-timeout`, `kit check
--timeout`, `kit watch --timeout`; DEFAULT_TIME_LIMIT when not given). The stop is a
`TimeUp` raised inside the learner's code, where it is running: by SIGALRM in the main thread
(which also ends a sleep or a wait), by an asynchronous exception in any other. It is a
BaseException, so `except Exception` lets it through; code that catches it anyway is stopped
again every REPEAT seconds, and then on every line of the learner's files it runs, until the
call unwinds. The failure (Status.TIMEOUT) names the function, the input and the line it was
on when its time was up; later calls of the same exercise fail at once with it (hypothesis,
shrinking the failure, would otherwise wait out the limit on each input it tries). A call
still running after twice its limit (at least 2 s more) is one nothing in the process can end
(C code that never returns to Python, or code outside the learner's files that swallows the
stop): the process then says where it was and exits with status STUCK_EXIT. While a debugger
(breakpoint(), pdb) is stopped in the learner's code, the clock waits.

Without a time limit (the default: the grader, whose children have limits of their own and no
signals to spare) nothing of this runs: no signal, no thread.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import signal
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import torch

from kit.autograd import learner as autograd  # autograd checked as graded: kit/autograd/learner.py
from kit.messages import loading
from kit.statuses import Status

DEFAULT_TIME_LIMIT = 5.0  # seconds for one call (or import) of the learner's code in a learner's run
REPEAT = 0.1  # seconds between two stops of code that caught the last one
STUCK_EXIT = 124  # the exit status when a call could not be stopped (as timeout(1)'s)


class LearnerError(Exception):
    """The learner's code could not be loaded or called. `status` names the case."""

    def __init__(self, status: Status, text: str, in_call: bool = False):
        super().__init__(text)
        self.status = status  # one of statuses.LEARNER_STATUSES, or Status.TIMEOUT
        self.text = text
        self.in_call = in_call  # raised by the exercise's function itself, not while loading it


class TimeUp(BaseException):
    """Raised inside the learner's code when its time limit is up (not an Exception, on purpose)."""


def learner_time_limit(seconds: float | None) -> float | None:
    """A learner's run's time limit from its option: DEFAULT_TIME_LIMIT when not given, none for 0."""
    if seconds is None:
        return DEFAULT_TIME_LIMIT
    return seconds if seconds > 0 else None


def learner_traceback(exc: BaseException, folder: Path) -> str:
    """The exception as the learner should read it: only the frames of files in `folder`."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if _inside(f.filename, folder)]
    if isinstance(exc, SyntaxError) and exc.filename and _inside(exc.filename, folder):
        lines = traceback.format_exception_only(type(exc), exc)
        return "".join(lines).rstrip()
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(exc), exc)
    return "".join(lines).rstrip()


def _inside(filename: str, folder: Path) -> bool:
    if filename.startswith("<"):  # no file: "<string>", or the kit's own modules in a grading child,
        return False  # "<kit kit.drivers>", which a relative path would place in the folder
    try:
        return Path(filename).resolve().is_relative_to(folder)
    except (OSError, ValueError):
        return False


class Implementation:
    """A folder of curriculum modules: the learner's `exercises/`, `solutions/`, or any other.

    time_limit: seconds for one import or call of the learner's code (None: no limit).
    on_stuck: called with the text before the process exits on a call that could not be
    stopped (default: the text goes to the terminal and to stderr)."""

    def __init__(self, folder: str | Path, time_limit: float | None = None, on_stuck=None):
        self.folder = Path(folder).resolve()
        self._tag = hashlib.sha1(str(self.folder).encode()).hexdigest()[:10]
        self._modules: dict[str, ModuleType | LearnerError] = {}
        self.time_limit = time_limit if time_limit and time_limit > 0 else None
        self.on_stuck = on_stuck
        self._timed_out: dict[str, LearnerError] = {}  # exercise id -> its timeout, told again at once

    def __repr__(self) -> str:
        return f"Implementation({str(self.folder)!r})"

    def path(self, module: str) -> Path:
        """Where the module lives, relative to the working directory when it is below it."""
        path = self.folder / f"{module}.py"
        try:
            return path.relative_to(Path.cwd())
        except ValueError:
            return path

    def module(self, name: str) -> ModuleType:
        if name not in self._modules:
            try:
                self._modules[name] = self._import(name)
            except LearnerError as error:
                self._modules[name] = error
        found = self._modules[name]
        if isinstance(found, LearnerError):
            raise found
        return found

    @autograd.loads(LearnerError)
    def _import(self, name: str) -> ModuleType:
        path = self.path(name)
        if not path.is_file():
            raise LearnerError(Status.MISSING, loading.missing_module(path, name, self.folder))
        private = f"_kit_impl_{self._tag}.{name}"
        spec = importlib.util.spec_from_file_location(private, path)
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(self.folder))
        limit = self._limit(lambda: f"importing {path.name}")
        try:
            _, exc = _run(limit, lambda: autograd.run(spec.loader.exec_module, module))
        finally:
            sys.path.remove(str(self.folder))
        if limit.fired:  # it never ended (or caught its stop, and ended all the same)
            raise LearnerError(Status.TIMEOUT, limit.import_message(path.name))
        if isinstance(exc, Exception):  # the learner's module itself is broken
            text = loading.broken_module(path.name, learner_traceback(exc, self.folder))
            raise _caused(LearnerError(Status.ERROR, text), exc) from None
        if exc is not None:
            raise exc
        sys.modules[private] = module
        return module

    @autograd.calls(LearnerError)
    def call(self, exercise, args: tuple):
        """(answer, changed): the driver's answer on copies of `args`, and the name of the first
        argument the learner's code changed in place (or None). Errors become a LearnerError."""
        module = self.module(exercise.module)
        if not hasattr(module, exercise.attribute):
            raise LearnerError(Status.MISSING,
                               loading.missing_name(self.path(exercise.module).name, exercise.attribute))
        if exercise.id in self._timed_out:
            raise self._timed_out[exercise.id]
        given = copy_args(args)
        limit = self._limit(lambda: _call_words(exercise, args))
        with unwritten_memory_is_nan():
            answer, exc = _run(limit, lambda: autograd.run(exercise.run, module, exercise.name, given))
        if limit.fired:  # it never ended (or caught its stop, and returned all the same)
            raise self._time_is_up(exercise, args, limit) from None
        if isinstance(exc, NotImplementedError):
            text = loading.not_attempted(exercise.name, self.path(exercise.module))
            raise _caused(LearnerError(Status.NOT_ATTEMPTED, text), exc) from None
        if isinstance(exc, Exception):
            raise _caused(LearnerError(Status.ERROR, learner_traceback(exc, self.folder), in_call=True), exc) from None
        if exc is not None:  # KeyboardInterrupt, SystemExit: not the kit's to catch
            raise exc
        if unchanged(args, given):
            return answer, None
        names = exercise.parameter_names()
        return answer, next((n for n, a, g in zip(names, args, given) if not unchanged(a, g)), None)

    def _limit(self, doing) -> _Limit | _NoLimit:
        if self.time_limit is None:
            return NO_LIMIT
        return _Limit(self.time_limit, self.folder, doing, self.on_stuck)

    def _time_is_up(self, exercise, args: tuple, limit: _Limit) -> LearnerError:
        error = LearnerError(Status.TIMEOUT, limit.call_message(exercise, args))
        self._timed_out[exercise.id] = error
        return error


@contextmanager
def unwritten_memory_is_nan():
    """While the learner's code runs, what torch.empty, empty_like and their kin allocate is NaN
    (integers: their largest value), torch's deterministic mode: a gradient buffer made with
    empty_like and left unwritten somewhere is then wrong on every run and in grading alike,
    not only where the allocator happens to hand out zeros. Torch's settings are restored after,
    also those the learner's code changed.

    torch.use_deterministic_algorithms would import torch._inductor first (1.6 s, and nothing a
    grading child may import once locked down); its two switches in torch._C are set instead."""
    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    fill = torch._C._get_deterministic_fill_uninitialized_memory()
    torch._C._set_deterministic_algorithms(True, warn_only=True)  # warn_only: no learner's op refused for it
    torch._C._set_deterministic_fill_uninitialized_memory(True)
    try:
        yield
    finally:
        torch._C._set_deterministic_algorithms(enabled, warn_only=warn_only)
        torch._C._set_deterministic_fill_uninitialized_memory(fill)


def _caused(error: LearnerError, exc: BaseException) -> LearnerError:
    """The error, with the learner's exception as its __context__, as if raised while handling it
    (a grading child reads it there: a MemoryError is "out of memory", grading/child.py)."""
    error.__context__ = exc
    return error


# ---- the time limit ---------------------------------------------------------------------------

def _run(limit, run):
    """(result, exception) of run() under the limit, which is stopped for sure whatever run did: a
    stop still on its way when the learner's code returns arrives here, and is caught."""
    result = error = None
    try:
        limit.start()
        result = run()
    except BaseException as exc:
        error = exc
    while True:
        try:
            limit.stop()
            break
        except TimeUp:
            pass
    return result, error


class _NoLimit:
    """No time limit: nothing to start or stop (the grader's children, and the default)."""

    fired = 0

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


NO_LIMIT = _NoLimit()


class _Limit:
    """One import or call of the learner's code, under a time limit of `seconds`."""

    def __init__(self, seconds: float, folder: Path, doing, on_stuck):
        self.seconds = seconds
        self.folder = folder
        self.doing = doing  # () -> what is running, in words, for the message of a stuck process
        self.on_stuck = on_stuck
        self.fired = 0  # how many times the learner's code was told to stop
        self.where: list[traceback.FrameSummary] = []  # the stack when its time was up
        self.active = False
        self.lock = threading.Lock()
        self._learner_files: dict[str, bool] = {}
        self._trace_before = None
        self._traced: list = []
        self._handler_before = None
        self.by_signal = False

    # started and stopped by the thread that runs the learner's code

    def start(self) -> None:
        self.thread = threading.get_ident()
        self.by_signal = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
        self.started = time.monotonic()
        self.soft_at = self.started + self.seconds
        self.hard_at = self.soft_at + max(self.seconds, 2.0)
        if self.by_signal:
            self._handler_before = signal.signal(signal.SIGALRM, self._on_alarm)
            self._timer_before = signal.setitimer(signal.ITIMER_REAL, self.seconds, REPEAT)
        self.active = True
        _watchdog().watch(self)

    def stop(self) -> None:
        """Idempotent: _run() calls it again when a stop on its way interrupted it."""
        # After this the watchdog sends no stop; one already sent arrives at the next call, in _run's loop.
        # (Withdrawing it, PyThreadState_SetAsyncExc(id, NULL), would leave 3.11's eval breaker set for good.)
        with self.lock:
            self.active = False
        _watchdog().forget(self)
        if self.by_signal and self._handler_before is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._handler_before)
            self._handler_before = None
            delay, interval = self._timer_before
            if delay > 0:  # someone else's alarm (pytest-timeout, say): it goes on, less the time spent
                signal.setitimer(signal.ITIMER_REAL, max(delay - (time.monotonic() - self.started), 1e-3), interval)
        if self._traced:
            sys.settrace(self._trace_before)
            for frame in self._traced:
                frame.f_trace = None
            self._traced = []

    # the stop, in the thread of the learner's code (SIGALRM's handler runs there)

    def _on_alarm(self, signum, frame) -> None:
        if not self.active or not self._in_learner_code(frame):
            return  # the call is starting, or unwinding through the kit's code (the next alarm comes soon)
        if _debugging(frame, self._learner):  # the learner is at a pdb prompt: the clock waits
            self.pause()
            signal.setitimer(signal.ITIMER_REAL, self.seconds, REPEAT)
            return
        self.fired += 1
        if self.fired == 1:
            self.where = self._learner_stack(frame)
        else:  # the last stop was caught: stop again on every line of the learner's it runs
            self._trace(frame)
        raise TimeUp

    def pause(self) -> None:
        now = time.monotonic()
        self.soft_at, self.hard_at = now + self.seconds, now + self.seconds + max(self.seconds, 2.0)

    def _trace(self, frame) -> None:
        """From now on, stop the learner's code on each of its lines, in any of its frames."""
        if not self._traced:
            self._trace_before = sys.gettrace()
        sys.settrace(self._raise_on_learner_lines)
        while frame is not None:
            if self._learner(frame.f_code.co_filename):
                frame.f_trace = self._raise_on_learner_lines
                self._traced.append(frame)
            frame = frame.f_back

    def _raise_on_learner_lines(self, frame, event, arg):
        """A stop at the start of each line of the learner's: one that an `except BaseException` (or a
        bare `except:`) caught is followed by another, on its first line. (Python unsets a trace
        function that raises, so the next alarm sets this again, until the call has unwound.)"""
        if not self._learner(frame.f_code.co_filename):
            return None  # not the learner's: no line events there
        if self.active and event == "line":  # (raising at an "exception" event would only unset this)
            raise TimeUp
        return self._raise_on_learner_lines

    def _in_learner_code(self, frame) -> bool:
        """Whether the learner's code is on the stack, from `frame` up to this module's call of it: a stop
        raised anywhere else (this module's own lines, the autograd block's exit) would skip the kit's
        cleanup."""
        while frame is not None and frame.f_globals.get("__name__") != __name__:
            if self._learner(frame.f_code.co_filename):
                return True
            frame = frame.f_back
        return False

    def _learner(self, filename: str) -> bool:
        known = self._learner_files.get(filename)
        if known is None:
            known = self._learner_files[filename] = _inside(filename, self.folder)
        return known

    def _learner_stack(self, frame) -> list[traceback.FrameSummary]:
        stack = traceback.extract_stack(frame)
        return [f for f in stack if self._learner(f.filename)] or stack[-1:]

    # the watchdog's part, in its own thread

    def tick(self, now: float) -> None:
        with self.lock:
            if not self.active:
                return
            frame = sys._current_frames().get(self.thread)
            if not self.by_signal and frame is not None and _debugging(frame, self._learner):
                self.pause()
                return
            if now >= self.hard_at:
                self._stuck(frame)
            if not self.by_signal and now >= self.soft_at and self._in_learner_code(frame):  # no signal there
                self.fired += 1
                if self.fired == 1 and frame is not None:
                    self.where = self._learner_stack(frame)
                _async_raise(self.thread, TimeUp)
                self.soft_at = now + REPEAT

    def _stuck(self, frame) -> None:
        where = self._learner_stack(frame) if frame is not None else self.where
        text = (f"kit: {self.doing()} has run {time.monotonic() - self.started:.0f} s, and its time limit is "
                f"{self.seconds:g} s; it did not stop when told to, so nothing in this process can stop it (C "
                f"code that never returns to Python, or code that catches every exception). It was at:\n"
                f"{_indent(''.join(traceback.format_list(where)))}\n"
                f"The run ends here (exit status {STUCK_EXIT}).\n")
        try:
            (self.on_stuck or _tell_terminal)(text)
        finally:
            os._exit(STUCK_EXIT)

    # the messages

    def _stopped_at(self) -> str:
        return _indent("".join(traceback.format_list(self.where)))

    def _advice(self) -> str:
        return (f"  Is there a loop whose condition never changes, or a call that never returns? (The limit is "
                f"{self.seconds:g} s a call: `pytest --kit-timeout SECONDS`, or `kit check`/`kit watch --timeout "
                f"SECONDS`; 0 for none.)")

    def call_message(self, exercise, args: tuple) -> str:
        from kit import messages  # only here: a grading child, which never has a time limit, lacks it

        return (f"{exercise.id}: {messages.call(exercise, args)} did not finish within {self.seconds:g} s; "
                f"it was stopped at:\n{self._stopped_at()}\n{self._advice()}")

    def import_message(self, filename: str) -> str:
        return (f"{filename} did not finish importing within {self.seconds:g} s; it was stopped at:\n"
                f"{self._stopped_at()}\n{self._advice()}")


def _call_words(exercise, args: tuple) -> str:
    messages = sys.modules.get("kit.messages")  # not imported here: the learner's code may hold the import lock
    return f"{exercise.id}: " + (messages.call(exercise, args) if messages else f"{exercise.name}{args!r}")


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.rstrip().splitlines())


def _debugging(frame, learner) -> bool:
    """Whether a debugger (pdb, or any bdb.Bdb) traces the code this frame is in: the thread's trace
    function is one, or one of the learner's frames (`learner(filename)`) on the stack has one.
    Only the learner's frames count: a debugger that was told to continue (pdb's `c`) leaves its
    trace function on the outermost frame of the stack for good, and the clock would wait forever."""
    tracer = sys.gettrace() if threading.current_thread() is threading.main_thread() else None
    if tracer is not None and _is_bdb(tracer):
        return True
    while frame is not None:
        if frame.f_trace is not None and learner(frame.f_code.co_filename) and _is_bdb(frame.f_trace):
            return True
        frame = frame.f_back
    return False


def _is_bdb(tracer) -> bool:
    import bdb

    return isinstance(getattr(tracer, "__self__", None), bdb.Bdb)


def _async_raise(thread: int, exception: type[BaseException]) -> None:
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread), ctypes.py_object(exception))


def _tell_terminal(text: str) -> None:
    """A stuck process's last words, where the learner reads them: stderr, and the terminal when
    stderr is not it (pytest captures stderr while a test runs)."""
    data = text.encode(errors="replace")
    try:
        os.write(2, data)
    except OSError:
        pass
    try:
        if os.isatty(2):
            return
        with open("/dev/tty", "wb", buffering=0) as tty:
            tty.write(data)
    except OSError:
        pass


class _Watchdog(threading.Thread):
    """Watches the running limits: the stop of a thread without signals, and the end of a stuck process."""

    POLL = 0.1  # seconds between two looks
    IDLE = 1.0  # seconds without a limit to watch, after which it sleeps until the next one

    def __init__(self):
        super().__init__(name="kit time limit", daemon=True)
        self.pid = os.getpid()
        self.limits: dict[int, _Limit] = {}
        self.lock = threading.Lock()
        self.awake = threading.Event()

    def watch(self, limit: _Limit) -> None:
        with self.lock:
            self.limits[id(limit)] = limit
        if not self.awake.is_set():  # set once per wake-up, not once per call
            self.awake.set()

    def forget(self, limit: _Limit) -> None:
        with self.lock:
            self.limits.pop(id(limit), None)

    def run(self) -> None:
        last_seen = time.monotonic()
        while True:
            self.awake.wait()
            time.sleep(self.POLL)
            now = time.monotonic()
            with self.lock:
                limits = list(self.limits.values())
                if limits:
                    last_seen = now
                elif now - last_seen > self.IDLE:
                    self.awake.clear()
            for limit in limits:
                limit.tick(now)


_WATCHDOG: _Watchdog | None = None
_WATCHDOG_LOCK = threading.Lock()


def _watchdog() -> _Watchdog:
    global _WATCHDOG
    if _WATCHDOG is None or _WATCHDOG.pid != os.getpid():  # none yet, or a forked copy whose thread is gone
        with _WATCHDOG_LOCK:
            if _WATCHDOG is None or _WATCHDOG.pid != os.getpid():
                _WATCHDOG = _Watchdog()
                _WATCHDOG.start()
    return _WATCHDOG


# ---- copies of the arguments ------------------------------------------------------------------
_PLAIN = frozenset({float, int, bool, str, type(None)})  # immutable: nothing to copy or check


def copy_args(value):
    """Fresh tensors (in lists, tuples and dicts too) for the learner, so the originals stay."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, (list, tuple)):
        return type(value)([copy_args(v) for v in value])
    if isinstance(value, dict):
        return {k: copy_args(v) for k, v in value.items()}
    return value


def unchanged(original, given) -> bool:
    """Whether the learner's copy still holds the original: an identity check, so bit-exact."""
    if type(original) in _PLAIN:
        return True
    if isinstance(original, torch.Tensor):
        return isinstance(given, torch.Tensor) and given.shape == original.shape and torch.equal(given, original)
    if isinstance(original, (list, tuple)):
        if len(original) != len(given):
            return False
        for o, g in zip(original, given):
            if not unchanged(o, g):
                return False
        return True
    if isinstance(original, dict):
        return original.keys() == given.keys() and all(unchanged(original[k], given[k]) for k in original)
    return True

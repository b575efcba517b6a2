"""The process a submission runs in (`child_main`), and the grader's handle on it (`Sandbox`).

Children come from a multiprocessing forkserver that imported torch and the kit once, so a
child starts in milliseconds with a pristine torch and nothing of the grader in it: no open
files, no results, no references. Before it imports a line of the submission, the child

- leaves the grader's process group (its own session, so the grader can kill all it started);
  dies with the forkserver (PR_SET_PDEATHSIG) when Landlock keeps submissions from killing it;
- closes every inherited file descriptor but its socket to the grader;
- sends stdout and stderr to a capture file capped by RLIMIT_FSIZE (SIGXFSZ kills it when the
  cap is passed: "output limit"), and takes stdin from /dev/null;
- disables core dumps, caps its CPU time (a backstop: the grader times every request and
  kills a child that overruns), runs torch on one thread, seeds every random generator;
- keeps only the standard library and site-packages on sys.path, then the submission's
  folder first: the repository (solutions/, tests/) cannot be imported;
- replaces every autograd entry point with one that raises and remembers it was called;
- restricts itself with Landlock when the kernel has it (grading/landlock.py);
- caps its address space at what it uses now plus the memory limit (RLIMIT_AS counts the
  virtual memory torch maps on import, hence "now plus").

It then answers requests, one at a time, with JSON (grading/wire.py): load a module, or run an
exercise's driver on a list of argument tuples and return every answer.
"""
from __future__ import annotations

import ctypes
import gc
import os
import pickle
import random
import resource
import signal
import socket
import sys
import sysconfig
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy
import torch

import kit.registry
from kit.implementation import Implementation, LearnerError
from grading import landlock, verdict, wire
from grading.forkserver import context

# kinds of failure a sandbox reports, beside the learner statuses of kit.check
TIMEOUT, OUT_OF_MEMORY, CRASHED, EXITED, OUTPUT_LIMIT, AUTOGRAD = (
    "timeout", "out of memory", "crashed", "exited", "output limit", "autograd")

PR_SET_PDEATHSIG = 1
ALLOCATION_FAILED = ("can't allocate memory", "not enough memory", "out of memory", "std::bad_alloc")


@dataclass(frozen=True)
class Limits:
    timeout: float = 10.0  # seconds of wall time per exercise (all its inputs together)
    memory: int = 2 << 30  # bytes of address space beyond what the child uses after start
    output: int = 1 << 20  # bytes of printed output per exercise


# ---- the child ---------------------------------------------------------------------------------

class AutogradBlocked(RuntimeError):
    pass


autograd_used = False  # set by every blocked entry point, read and cleared after each call


def _blocked(name: str):
    def blocked(*args, **kwargs):
        global autograd_used
        autograd_used = True
        raise AutogradBlocked(f"{name} is autograd, which a submission must not use: derive the gradient by hand")
    blocked.__name__ = name.rsplit(".", 1)[-1]
    return blocked


class _BlockedEngine:
    def __getattr__(self, name):
        return _blocked(f"the autograd engine's {name}")


def block_autograd() -> None:
    """Every way into torch's autograd raises AutogradBlocked (and sets `autograd_used`)."""
    import torch.autograd.forward_ad
    import torch.autograd.functional
    import torch.func

    torch.Tensor.backward = _blocked("Tensor.backward")
    torch.autograd.backward = _blocked("torch.autograd.backward")
    torch.autograd.grad = _blocked("torch.autograd.grad")
    torch.autograd.variable.Variable._execution_engine = _BlockedEngine()
    torch._C._ImperativeEngine = _BlockedEngine
    for module, names in (
        (torch.autograd.functional, ("jacobian", "hessian", "vjp", "jvp", "hvp", "vhp")),
        (torch.autograd.forward_ad, ("make_dual", "unpack_dual", "dual_level")),
        (torch.func, ("grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "linearize")),
    ):
        for name in names:
            if hasattr(module, name):
                setattr(module, name, _blocked(f"{module.__name__}.{name}"))


def clean_path(folder: str) -> list[str]:
    """sys.path for a submission: its folder, then the standard library and site-packages only."""
    keep = {sysconfig.get_path(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    allowed = [p for p in sys.path if p and (p in keep or p.endswith((".zip", "lib-dynload", "site-packages")))
               and Path(p).is_absolute()]
    return [folder] + list(dict.fromkeys(allowed))


def _readable_roots() -> list[str]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    roots |= {sysconfig.get_path(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    roots |= {"/usr", "/lib", "/lib64", "/etc/ld.so.cache", "/etc/localtime", "/dev/null", "/dev/urandom",
              "/proc/cpuinfo", "/sys/devices/system/cpu"}  # torch's cpuinfo reads these
    return sorted(r for r in roots if r)


def _vm_size() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _close_inherited(keep: set[int]) -> None:
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _warm_up_torch() -> None:
    """Run a few operations, so that torch's lazy set-up (CPU detection, kernels) happens before
    the process is restricted."""
    a = torch.ones(3, 3, dtype=torch.float64)
    (a @ a).exp().log().tanh().sigmoid().relu().sum().item()
    torch.nn.functional.softmax(a, dim=-1)


def _seed() -> None:
    random.seed(0)
    numpy.random.seed(0)
    # the CPU generator only: torch.manual_seed also queues a lazy seeding of every accelerator
    # kind, with a formatted stack each (~3 ms per request, and a queue that keeps growing)
    torch.default_generator.manual_seed(0)


def forked() -> None:
    """The first step of every process forked from the forkserver (submissions, checkers, drawers).

    The objects it inherits (torch's, hypothesis's, the kit's: ~180,000) are never garbage;
    frozen, a full collection no longer walks them all (0.14 s each, copying their pages), which
    a submission that keeps many objects alive would otherwise trigger again and again.
    One thread, like the grader's references: tensors this small gain nothing from more, and
    the cores go to other students."""
    gc.freeze()
    torch.set_num_threads(1)


def child_main(sock: socket.socket, folder: str, capture: str, limits: Limits) -> None:
    """Runs in the forkserver child: lock the process down, then answer requests until EOF."""
    forked()
    os.setsid()
    _close_inherited({sock.fileno()})
    sock.settimeout(None)

    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    out = os.open(capture, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(null), os.close(out)
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # Python ignores it; passing the cap kills instead
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.output, limits.output))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    cpu = int(60 + 2 * limits.timeout * len(kit.registry.EXERCISES))  # a backstop: the grader keeps time
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))

    _warm_up_torch()
    os.chdir(folder)
    sys.path[:] = clean_path(folder)
    sys.path_importer_cache.clear()
    block_autograd()
    impl = Implementation(folder)
    budget = _vm_size() + limits.memory
    try:
        abi = landlock.restrict(_readable_roots(), [folder])
    except OSError:
        abi = 0  # the other limits still hold
    if abi >= 6:  # no submission can kill the forkserver: die with it, i.e. with the grader
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    resource.setrlimit(resource.RLIMIT_AS, (budget, budget))

    while True:
        try:
            request = pickle.loads(wire.recv(sock))  # from the grader, which it trusts
        except EOFError:
            return
        reply = _answer(impl, request)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()  # what the learner printed, into the capture file
            except Exception:
                pass  # a stream the learner replaced or closed
        wire.send(sock, wire.dumps(reply))


def _answer(impl: Implementation, request: tuple) -> dict:
    seq, kind, *rest = request
    try:
        os.ftruncate(1, 0)  # the capture file holds this request's output only
    except OSError:
        pass  # the learner closed or replaced stdout
    _seed()
    if kind == "load":
        result = _guarded(lambda: impl.module(rest[0]))
        return {"seq": seq, "stop": result.get("stop")}
    exercise = verdict.registered(rest[0])
    inputs = pickle.loads(rest[1])  # wire.pickle_arguments; a batch's are pickled once per class
    answers = []
    for args in inputs:
        result = _guarded(lambda: impl.call(exercise, args))
        if "stop" in result:
            return {"seq": seq, "answers": answers, "stop": result["stop"]}
        answer, changed = result["value"]
        try:
            answers.append([wire.encode(answer), changed])
        except Exception as error:  # too large, too deep, or an encoder the learner broke
            return {"seq": seq, "answers": answers,
                    "stop": {"status": "error", "text": f"{exercise.id}: the answer cannot be sent back "
                                                        f"to the grader: {wire.short(str(error), 300)}"}}
    return {"seq": seq, "answers": answers, "stop": None}


def _guarded(work) -> dict:
    """{"value": ...} or {"stop": {"status", "text", "in_call"}}: what the learner's code did."""
    global autograd_used
    autograd_used = False
    try:
        value = work()
    except LearnerError as error:
        cause, status, text = error.__context__, error.status, error.text
        if autograd_used or isinstance(cause, AutogradBlocked):
            status = AUTOGRAD
        elif _out_of_memory(cause):
            status, text = OUT_OF_MEMORY, f"the code ran out of memory:\n{text}"
        return _stop(status, text, bool(getattr(error, "in_call", False)))
    except SystemExit as error:
        return _stop(EXITED, f"the code called sys.exit({wire.short(repr(error.code), 200)}), which ends the process")
    except MemoryError:
        return _stop(OUT_OF_MEMORY, "the code ran out of memory (MemoryError)")
    except BaseException as error:  # KeyboardInterrupt, GeneratorExit, ... raised on purpose
        return _stop(CRASHED, f"the code raised {type(error).__name__}, which stops the process")
    if autograd_used:  # called and caught: still used
        return _stop(AUTOGRAD, "the code called torch's autograd (and caught the error it raised)")
    return {"value": value}


def _stop(status: str, text: str, in_call: bool = False) -> dict:
    return {"stop": {"status": status, "text": wire.short(text), "in_call": in_call}}


def _out_of_memory(error) -> bool:
    return isinstance(error, MemoryError) or (
        isinstance(error, RuntimeError) and any(s in str(error) for s in ALLOCATION_FAILED))


# ---- the grader's side ---------------------------------------------------------------------------

class Stopped(BaseException):
    """Grading was stopped (Ctrl-C): no new child is started."""


class Breach(Exception):
    """The child broke a limit or died: the request got no answer. `status` names which."""

    def __init__(self, status: str, text: str):
        super().__init__(text)
        self.status, self.text = status, text


class Sandbox:
    """One submission's child process: started on the first request, restarted after a death."""

    MAX_REPLY = 256 << 20
    _live: set = set()  # every Sandbox with a child, for kill_all
    _live_lock = threading.Lock()
    stopping = False  # set by kill_all: no child is started any more

    def __init__(self, folder: Path, capture: Path, limits: Limits):
        self.folder, self.capture, self.limits = folder, capture, limits
        self.process = None
        self.sock = None
        self.loaded: set[str] = set()  # modules imported by the current child
        self.seq = 0
        self.started = 0  # children started: 1 unless one died

    def request(self, kind: str, *payload, timeout: float | None = None) -> dict:
        """The child's reply to one request, parsed, or Breach. A breach kills the child."""
        body = self.request_raw(kind, *payload, timeout=timeout)
        try:
            return verdict.parse(body, self.seq)
        except wire.WireError as error:
            self.kill()
            raise Breach(CRASHED, f"sent the grader something unreadable ({error})") from None

    def request_raw(self, kind: str, *payload, timeout: float | None = None) -> bytes:
        """The child's reply to request number `self.seq`, unread, or Breach."""
        if self.process is None:
            self._start()
        self.seq += 1
        deadline = time.monotonic() + (timeout or self.limits.timeout)
        try:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            wire.send(self.sock, pickle.dumps((self.seq, kind, *payload), protocol=pickle.HIGHEST_PROTOCOL))
            body = wire.recv(self.sock, deadline, self.MAX_REPLY)
        except (socket.timeout, wire.Timeout):
            self.kill()
            raise Breach(TIMEOUT, f"did not finish within {self._seconds(timeout)} "
                                  f"(the time allowed for all the inputs of an exercise)") from None
        except (EOFError, OSError):
            raise self._death() from None
        except wire.WireError as error:
            self.kill()
            raise Breach(CRASHED, f"sent the grader something unreadable ({error})") from None
        return body

    def _seconds(self, timeout) -> str:
        return f"{timeout or self.limits.timeout:g} s"

    def output(self) -> str:
        """What the child printed during the last request (the first few thousand characters)."""
        try:
            fd = os.open(self.capture, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return ""
        try:
            data = os.read(fd, 8000)
        finally:
            os.close(fd)
        return data.decode("utf-8", "replace")

    def _start(self) -> None:
        if Sandbox.stopping:
            raise Stopped("grading was stopped")
        parent, child = socket.socketpair()
        process = context().Process(target=child_main, args=(child, str(self.folder), str(self.capture), self.limits),
                                    daemon=True, name="kit-grade-submission")
        process.start()
        child.close()
        self.process, self.sock = process, parent
        self.loaded = set()
        self.started += 1
        with Sandbox._live_lock:
            Sandbox._live.add(self)

    def _death(self) -> Breach:
        """The child closed its end: find out how it ended."""
        process = self.process
        process.join(2)
        code = process.exitcode
        self.kill()
        if code is None:
            return Breach(CRASHED, "closed its connection to the grader")
        if code >= 0:
            return Breach(EXITED, f"ended the process (exit status {code}), e.g. with os._exit or exit()")
        if -code == signal.SIGXFSZ:
            return Breach(OUTPUT_LIMIT, f"printed more than {self.limits.output} bytes")
        if -code == signal.SIGXCPU:
            return Breach(TIMEOUT, "used up the CPU time of its process")
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        return Breach(CRASHED, f"crashed: the process was killed by signal {name}")

    def kill(self) -> None:
        """End the child and everything it started (its process group), and forget it."""
        process, self.process = self.process, None
        with Sandbox._live_lock:
            Sandbox._live.discard(self)
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if process is None:
            return
        for kill in (os.killpg, os.kill):
            try:
                kill(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        process.join(5)
        self.loaded = set()

    def close(self) -> None:
        self.kill()

    @classmethod
    def kill_all(cls) -> None:
        """Kill every child (on Ctrl-C): the threads waiting for them see them die and finish."""
        with cls._live_lock:
            cls.stopping = True
            live = list(cls._live)
        for sandbox in live:
            process = sandbox.process
            if process is not None:
                for kill in (os.killpg, os.kill):
                    try:
                        kill(process.pid, signal.SIGKILL)
                    except OSError:
                        pass


def sweep_orphans(since: int) -> int:
    """Kill what a submission left running after its process group was killed.

    A child that starts a process in a new session or group escapes `killpg`. The grader is a
    child subreaper (`become_subreaper`), so such a process becomes the grader's child when the
    submission's process dies; the grader's own children (forkserver, resource tracker, any
    subprocess) stay in its process group, and every child outside that group started after
    `since` (`clock_ticks()` when grading began) is such an orphan.
    """
    mine, group, killed = os.getpid(), os.getpgrp(), 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid, pgid, started = int(name), int(fields[1]), int(fields[2]), int(fields[19])
        if ppid != mine or pgid == group or started < since:
            continue
        for kill, target in ((os.killpg, pgid), (os.kill, pid)):
            try:
                kill(target, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.waitpid(pid, 0)
        except OSError:
            pass
        killed += 1
    return killed


def clock_ticks() -> int:
    """Now, in the unit of a process's start time in /proc/<pid>/stat (ticks since boot)."""
    with open("/proc/uptime") as f:
        return int(float(f.read().split()[0]) * os.sysconf("SC_CLK_TCK"))


def become_subreaper() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass

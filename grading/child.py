"""A student's process: it locks itself down, then answers the grader with the learner's code.

It is forked from a zygote (grading/zygote.py) that holds torch, numpy and the few modules a
child needs (grading/isolation.py: CHILD_MODULES: this one, grading/wire.py,
kit/implementation.py, kit/drivers.py, its sentences in kit/messages/sandbox.py, the lockdown
and the autograd block) and nothing else of the kit: no references, no recorded answers, no
solutions. What it knows of an exercise is a `Target`: where the learner's code is and how to
drive it.

Requests come from the grader as pickles (the child trusts the grader); replies are JSON
(grading/wire.py), which the grader reads as plain data and never believes: a reply can
only lower a score (grading/verdict.py). Requests:
- ("load", module): import one module of the submission (a chapter served by notebooks:
  their definitions, grading/notebooks.py);
- ("sources",): the code taken from the notebooks, per chapter, for the grader's autograd scan;
  asked first, before any line of the submission has run in this process;
- ("batch", exercise id, pickled inputs[, driver source]): every answer, in order;
- ("call", exercise id, pickled (args,)): one answer, while the grader shrinks a failure.
A driver that knows answers (kit/known_engine.py) comes with its request, in a child that
runs nothing else: the grader ends that child after the exercise (grading/sandbox.py).
"""
from __future__ import annotations

import os
import pickle
import random
import signal
import socket
import sys
from dataclasses import dataclass

import numpy
import torch

from grading import landlock, lockdown, wire
from grading.boot import install
from grading.notebooks import NotebookImplementation
from kit.autograd import block as autograd_block
from kit.implementation import Implementation, LearnerError
from kit.messages import sandbox as said  # the sentences a student reads
from kit.statuses import Status

PR_SET_PDEATHSIG = 1
ALLOCATION_FAILED = ("can't allocate memory", "not enough memory", "out of memory", "std::bad_alloc")


@dataclass(frozen=True)
class Target:
    """What a child knows of an exercise: the learner's names and the driver, no answers."""

    id: str
    module: str
    attribute: str
    name: str
    params: tuple
    driver: tuple  # (module, function) of the driver, e.g. ("kit.drivers", "call_function")

    def parameter_names(self) -> list[str]:
        return list(self.params)

    @property
    def run(self):
        module, function = self.driver
        return getattr(sys.modules[module], function)


@dataclass(frozen=True)
class Spec:
    """How one child is started: sent by the grader through the zygote."""

    folder: str
    targets: dict  # exercise id -> Target
    policy: object  # lockdown.Policy
    cgroups: tuple = ()  # cgroup.procs files to join before the lockdown
    notebooks: tuple = ()  # ((file in the folder, name the student gave it), ...): grading/notebooks.py


def start(spec: Spec, sock: socket.socket) -> None:
    """The whole life of a child, from the fork to the grader's last request."""
    os.setsid()  # its own session and group: the zygote ends all it started with one killpg
    landlock.libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # dies with the zygote
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # Python ignores it; passing the output cap kills instead
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    for procs in spec.cgroups:
        with open(procs, "w") as f:
            f.write(str(os.getpid()))
    os.chdir(spec.folder)
    sys.path[:] = [spec.folder] + [p for p in sys.path if p != spec.folder]
    sys.path_importer_cache.clear()
    sys.dont_write_bytecode = True
    lockdown.apply(spec.policy, keep_fd=sock.fileno())
    wire.send(sock, wire.dumps({"ready": True}))  # the grader sends no request before this
    impl = NotebookImplementation(spec.folder, spec.notebooks, spec.targets) if spec.notebooks else \
        Implementation(spec.folder)
    serve(sock, impl, spec.targets)


def serve(sock: socket.socket, impl: Implementation, targets: dict) -> None:
    sock.settimeout(None)
    while True:
        try:
            request = pickle.loads(wire.recv(sock))  # from the grader, which it trusts
        except EOFError:
            return
        reply = answer(impl, targets, request)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()  # what the learner printed, into the capture file
            except Exception:
                pass  # a stream the learner replaced or closed
        wire.send(sock, wire.dumps(reply))


def answer(impl: Implementation, targets: dict, request: tuple) -> dict:
    seq, kind, *rest = request
    try:
        os.ftruncate(1, 0)  # the capture file holds this request's output only
    except OSError:
        pass  # the learner closed or replaced stdout
    seed()
    if kind == "load":
        result = guarded(lambda: impl.module(rest[0]))
        return {"seq": seq, "stop": result.get("stop")}
    if kind == "sources":  # before any line of the submission runs here: grading/notebooks.py
        result = guarded(lambda: impl.sources() if isinstance(impl, NotebookImplementation) else {})
        return {"seq": seq, "sources": result.get("value", {}), "stop": result.get("stop")}
    target = targets[rest[0]]
    for name, source in (rest[2] if len(rest) > 2 else ()):
        if name not in sys.modules:
            install(name, source)
    inputs = pickle.loads(rest[1])  # wire.pickle_arguments
    answers = []
    for args in inputs:
        result = guarded(lambda: impl.call(target, args))  # noqa: B023 -- called at once, in this iteration
        if "stop" in result:
            return {"seq": seq, "answers": answers, "stop": result["stop"]}
        value, changed = result["value"]
        try:
            answers.append([wire.encode(value), changed])
        except Exception as error:  # too large, too deep, or an encoder the learner broke
            return {"seq": seq, "answers": answers,
                    "stop": {"status": Status.ERROR,
                             "text": said.UNSENDABLE.format(exercise=target.id, why=wire.short(str(error), 300))}}
    return {"seq": seq, "answers": answers, "stop": None}


def seed() -> None:
    random.seed(0)
    numpy.random.seed(0)
    # the CPU generator only: torch.manual_seed also queues a lazy seeding of every accelerator
    # kind, with a formatted stack each (~3 ms per request, and a queue that keeps growing)
    torch.default_generator.manual_seed(0)


def guarded(work) -> dict:
    """{"value": ...} or {"stop": {"status", "text", "in_call"}}: what the learner's code did."""
    mark = autograd_block.uses()
    try:
        value = work()
    except LearnerError as error:
        cause, status, text = error.__context__, error.status, error.text
        if autograd_block.used_since(mark):
            status = Status.AUTOGRAD
        elif _out_of_memory(cause):
            status, text = Status.OUT_OF_MEMORY, said.RAN_OUT_OF_MEMORY.format(text=text)
        return _stop(status, text, bool(getattr(error, "in_call", False)))
    except SystemExit as error:
        return _stop(Status.EXITED, said.CALLED_EXIT.format(code=wire.short(repr(error.code), 200)))
    except MemoryError:
        return _stop(Status.OUT_OF_MEMORY, said.MEMORY_ERROR)
    except BaseException as error:  # KeyboardInterrupt, GeneratorExit, ... raised on purpose
        return _stop(Status.CRASHED, said.RAISED_FATAL.format(kind=type(error).__name__))
    if autograd_block.used_since(mark):  # called and caught: still used
        return _stop(Status.AUTOGRAD, said.CAUGHT_AUTOGRAD)
    return {"value": value}


def _stop(status: str, text: str, in_call: bool = False) -> dict:
    return {"stop": {"status": status, "text": wire.short(text), "in_call": in_call}}


def _out_of_memory(error) -> bool:
    return isinstance(error, MemoryError) or (
        isinstance(error, RuntimeError) and any(s in str(error) for s in ALLOCATION_FAILED))

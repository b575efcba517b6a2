"""The zygote: a clean process that forks the students' processes, one at a time.

Started by the grader (grading/isolation.py) as a fresh interpreter, inside bubblewrap's
namespaces where they are available, with an environment that holds nothing of the
grader's. It imports torch once, runs a few operations so that torch's lazy set-up is done,
blocks autograd (kit/autograd/block.py), and then only obeys the grader's commands:

- ("spawn", Spec), with the capture file passed as a descriptor: fork a child
  (grading/child.py), send the grader the other end of the child's socket and its pid;
- ("wait", pid, seconds): the child's exit status once it has ended, or None;
- ("kill", pid): end the child and everything that descends from it, and reap them.

It never runs a line of a submission, and no child can reach it: a child holds no descriptor
of the zygote's, is in a session of its own (and, as root, a user of its own), and may not
signal, trace or connect to anything (grading/lockdown.py). Replies are JSON.
"""
from __future__ import annotations

import gc
import os
import pickle
import signal
import socket
import sys
import time
import traceback

import torch

from grading import child, landlock, lockdown, processes, wire
from kit.autograd import block as autograd_block

PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
SWEEPS = 200  # rounds of ending descendants; a fork bomb is bounded by the process limit


def main(sock: socket.socket, settings: dict) -> None:
    libc = landlock.libc()
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # dies with the grader
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)  # orphans of a child become ours, to be ended
    torch.set_num_threads(1)  # tensors this small gain nothing from more; the cores go to students
    _warm_up_torch()
    child.seed()  # imports numpy.random now, once, not in every child
    lockdown.prepare()  # what a child's lockdown needs of ctypes, which block() closes
    # a leftover breakpoint() does nothing here (pdb's tracer would be refused as a way around the block)
    sys.breakpointhook = lambda *args, **kwargs: None
    autograd_block.block()
    gc.freeze()  # ~100,000 inherited objects a child's collections need not walk
    exits: dict[int, int] = {}
    while True:
        try:
            command, *args = pickle.loads(wire.recv(sock))  # from the grader, which it trusts
        except EOFError:
            _end_descendants(exits)
            return
        if command == "spawn":
            reply = _spawn(sock, *args)
        elif command == "wait":
            reply = {"status": _wait(exits, *args)}
        else:
            reply = {"status": _kill(exits, *args)}
        wire.send(sock, wire.dumps(reply))


def _warm_up_torch() -> None:
    """A few operations, so that torch's lazy set-up (CPU detection, kernels) happens here once,
    before any child is restricted."""
    a = torch.ones(3, 3, dtype=torch.float64)
    (a @ a).exp().log().tanh().sigmoid().relu().sum().item()
    torch.nn.functional.softmax(a, dim=-1)
    torch.einsum("ij,jk->ik", a, a)


def _spawn(sock: socket.socket, spec) -> dict:
    _, fds, _, _ = socket.recv_fds(sock, 1, 1)
    capture = fds[0]
    mine, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:  # the child: never returns into this loop
        code = 70
        try:
            mine.close()
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(capture, 1)
            os.dup2(capture, 2)
            child.start(spec, theirs)
            code = 0
        except BaseException:
            traceback.print_exc()  # into the capture file: the kit's own failure, for the instructor
        finally:
            os._exit(code)
    os.close(capture)
    theirs.close()
    socket.send_fds(sock, [b"s"], [mine.fileno()])
    mine.close()
    return {"pid": pid}


def _wait(exits: dict, pid: int, seconds: float) -> int | None:
    deadline = time.monotonic() + seconds
    while True:
        if pid in exits:
            return exits[pid]
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return exits.get(pid, -signal.SIGKILL)
        if done:
            exits[pid] = os.waitstatus_to_exitcode(status)
            return exits[pid]
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.005)


def _kill(exits: dict, pid: int) -> int:
    """End the child, everything it started, and anything an earlier child left behind."""
    _end_descendants(exits)
    return exits.pop(pid, -signal.SIGKILL)


def _end_descendants(exits: dict) -> None:
    """SIGKILL every process that descends from the zygote, and reap it. A descendant whose
    parent dies is handed to the zygote (a subreaper), so rounds go on until none is left."""
    me = os.getpid()
    for _ in range(SWEEPS):
        children = processes.children_of(me)
        if not children:
            break
        for pid, pgid, _ in children:
            processes.end(pid, pgid)
        time.sleep(0.002)  # SIGKILL takes effect at the target's next return to user space
        _reap(exits)
    _reap(exits)


def _reap(exits: dict) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        exits[pid] = os.waitstatus_to_exitcode(status)

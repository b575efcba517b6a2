"""Process utilities of the grader: its children, and the orphans a submission may leave.

The grader is a child subreaper (`become_subreaper`): a process a submission starts and
abandons is handed to the grader, not to init, and `sweep_orphans` ends it.
"""
from __future__ import annotations

import ctypes
import os
import signal


def sweep_orphans(since: int) -> int:
    """Kill what a submission left running after its process group was killed.

    A child that starts a process in a new session or group escapes `killpg`. The grader is a
    child subreaper (`become_subreaper`), so such a process becomes the grader's child when the
    submission's process dies; the grader's own children (forkserver, resource tracker, any
    subprocess) stay in its process group, and every child outside that group started after
    `since` (`clock_ticks()` when grading began) is such an orphan.
    """
    group, killed = os.getpgrp(), 0
    for pid, pgid, started in children_of(os.getpid()):
        if pgid == group or started < since:
            continue
        end(pid, pgid)
        try:
            os.waitpid(pid, 0)
        except OSError:
            pass
        killed += 1
    return killed


def children_of(parent: int) -> list[tuple[int, int, int]]:
    """(pid, process group, start time in clock ticks) of every child of `parent`, from /proc."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended meanwhile
        if int(fields[1]) == parent:
            found.append((int(name), int(fields[2]), int(fields[19])))
    return found


def end(pid: int, group: int) -> None:
    """SIGKILL a process and its process group; one that is gone already is no error."""
    for kill, target in ((os.killpg, group), (os.kill, pid)):
        try:
            kill(target, signal.SIGKILL)
        except OSError:
            pass


def clock_ticks() -> int:
    """Now, in the unit of a process's start time in /proc/<pid>/stat (ticks since boot)."""
    with open("/proc/uptime") as f:
        return int(float(f.read().split()[0]) * os.sysconf("SC_CLK_TCK"))


def become_subreaper() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def forked() -> None:
    """The first step of every trusted process forked from the forkserver (checkers, drawers).

    The objects it inherits (torch's, hypothesis's, the kit's: ~180,000) are never garbage;
    frozen, a full collection no longer walks them all (0.14 s each, copying their pages).
    One thread, like the grader's references: tensors this small gain nothing from more, and
    the cores go to other students."""
    import gc

    import torch

    gc.freeze()
    torch.set_num_threads(1)


def zygote_processes() -> list[int]:
    """Every process that runs a zygote's code (grading/boot.py): a zygote or a student's process,
    of this grading run or of an earlier one. None may outlive the grader; the self-tests look."""
    marker = b'sys.modules["grading.zygote"].main'
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != os.getpid():
            try:
                with open(f"/proc/{name}/cmdline", "rb") as f:
                    if marker in f.read():
                        found.append(int(name))
            except OSError:
                pass
    return found

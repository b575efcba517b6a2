"""A process's limits and privileges, set for good: scheduling, rlimits, no_new_privs, its user, capabilities.

Steps 2 to 4 of grading/lockdown.py's `apply` (its docstring says them in order), which a
student's process runs on itself before it imports the student's code. A step that is there
but does not hold raises `LockdownError`: the child must then run nothing. Imports only the
standard library: a student's process loads it from its source (grading/isolation.py:
CHILD_MODULES).
"""
from __future__ import annotations

import ctypes
import errno
import math
import os
import resource
import signal

PR_SET_PDEATHSIG, PR_GET_PDEATHSIG = 1, 2
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
CAPABILITY_LINES = ("CapInh", "CapPrm", "CapEff", "CapAmb", "CapBnd")


class LockdownError(RuntimeError):
    """A layer that should have taken effect did not: the child must not run student code."""


def prctl(libc, option: int, *args: int) -> None:
    args = (list(args) + [0, 0, 0, 0])[:4]
    if libc.prctl(option, *(ctypes.c_ulong(a) for a in args)) != 0:
        raise LockdownError(f"prctl({option}) failed: {os.strerror(ctypes.get_errno())}")


def normal_scheduling() -> None:
    """A grader run with a negative nice value or a real-time policy must not hand it on; raising
    the nice value and leaving a real-time policy are allowed to anyone."""
    if os.getpriority(os.PRIO_PROCESS, 0) < 0:
        os.setpriority(os.PRIO_PROCESS, 0, 0)
    if os.sched_getscheduler(0) in (os.SCHED_FIFO, os.SCHED_RR):
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))


def _limit(which: int, value: int) -> None:
    hard = resource.getrlimit(which)[1]
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)  # nobody may raise a hard limit
    resource.setrlimit(which, (value, value))


def set_limits(policy) -> None:
    """The rlimits of a lockdown.Policy: step 2 of grading/lockdown.py's docstring."""
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # Python ignores it: passing the output cap kills instead
    _limit(resource.RLIMIT_FSIZE, policy.output)
    _limit(resource.RLIMIT_CORE, 0)
    used = resource.getrusage(resource.RUSAGE_SELF)  # RLIMIT_CPU counts it too (a spawned child's imports)
    cpu = math.ceil(used.ru_utime + used.ru_stime) + policy.cpu_seconds
    soft_hard = (cpu, cpu + 5)  # SIGXCPU first, SIGKILL if it is ignored
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    if hard != resource.RLIM_INFINITY:
        soft_hard = (min(soft_hard[0], hard), min(soft_hard[1], hard))
    resource.setrlimit(resource.RLIMIT_CPU, soft_hard)
    _limit(resource.RLIMIT_RTPRIO, 0)
    _limit(resource.RLIMIT_NICE, 0)  # its nice value may go up only (the ceiling is 20 - 0)
    _limit(resource.RLIMIT_NOFILE, policy.files)
    _limit(resource.RLIMIT_MEMLOCK, 0)
    _limit(resource.RLIMIT_MSGQUEUE, 0)
    _limit(resource.RLIMIT_NPROC, _process_limit(policy))
    _limit(resource.RLIMIT_AS, _vm_size() + policy.memory)  # last: torch maps much on import, hence "now plus"


def _process_limit(policy) -> int:
    """RLIMIT_NPROC counts every task (process or thread) of the real uid. As root the student's uid
    runs nothing else; otherwise the grader's user's tasks count too, so they are added."""
    if policy.uid is not None:
        return policy.processes
    uid, others = os.getuid(), 0
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != os.getpid():
            try:
                status = read_status(f"/proc/{name}/status")
            except OSError:
                continue  # ended meanwhile
            if status.get("Uid", "").split()[:1] == [str(uid)]:
                others += int(status.get("Threads", "1"))
    return others + policy.processes


def read_status(path: str = "/proc/self/status") -> dict[str, str]:
    with open(path) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def _vm_size() -> int:
    return int(read_status()["VmSize"].split()[0]) * 1024


def caps(status: dict, *names: str) -> int:
    value = 0
    for name in names:
        value |= int(status[name], 16)
    return value


def drop(libc, uid: int, gid: int) -> None:
    """Root to `uid` for good: no capability remains (bounding and ambient sets emptied while root
    may still do it), none can come back, no group of root's stays."""
    pdeath = ctypes.c_int(0)
    libc.prctl(PR_GET_PDEATHSIG, ctypes.byref(pdeath), 0, 0, 0)
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            if ctypes.get_errno() == errno.EINVAL:
                break  # past the kernel's last capability
            raise LockdownError(f"cannot drop capability {cap} from the bounding set: "
                                f"{os.strerror(ctypes.get_errno())}")
    prctl(libc, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)  # clears the permitted and effective sets
    _clear_capabilities(libc)  # and the inheritable set, which setresuid keeps
    if pdeath.value:
        prctl(libc, PR_SET_PDEATHSIG, pdeath.value)  # a change of credentials cleared it
    status = read_status()
    if os.getresuid() != (uid,) * 3 or os.getresgid() != (gid,) * 3 or os.getgroups():
        raise LockdownError(f"the drop to uid {uid} did not hold: {os.getresuid()} {os.getresgid()}")
    left = {name: status[name] for name in CAPABILITY_LINES if int(status[name], 16)}
    if left:
        raise LockdownError(f"capabilities remain after the drop to uid {uid}: {left}")


def check_unprivileged(libc) -> None:
    if 0 in os.getresuid():
        raise LockdownError("the process is root: a Policy with a uid to drop to is needed")
    prctl(libc, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    _clear_capabilities(libc)
    status = read_status()
    held = caps(status, "CapInh", "CapPrm", "CapEff", "CapAmb")
    if held:
        raise LockdownError(f"the process holds capabilities ({held:#x}) and no uid to drop to")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _clear_capabilities(libc) -> None:
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3: two data structs
    data = (_CapData * 2)()
    if libc.capset(ctypes.byref(header), data) != 0:
        raise LockdownError(f"capset failed: {os.strerror(ctypes.get_errno())}")


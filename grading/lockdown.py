"""The last steps a student's process takes on itself, just before it imports the student's code.

`apply(policy, keep_fd)` runs in the forked child (torch and numpy imported, no student code
yet, one thread), which holds its socket to the grader (`keep_fd`) and the capture file on
fds 1 and 2. In order, each step using what the operating system gives:

1. every other file descriptor is closed; the process gets a session of its own;
2. scheduling is made normal (no inherited negative nice value or real-time policy), then
   rlimits: address space (what it maps now plus `memory`), processes, output file size,
   CPU time, open files, and none of: core dumps, real-time priority, raised priority,
   locked memory, POSIX message queues;
3. PR_SET_NO_NEW_PRIVS: nothing it executes can gain a privilege;
4. as root: drop to `uid`/`gid` for good. The bounding set and ambient set are emptied first
   and the supplementary groups cleared, so no capability remains or can come back; the result
   is checked in /proc/self/status, and the parent-death signal, which the change of
   credentials clears, is set again. Not root: no capability may be held (checked), and the
   process keeps the grader's uid, which is what Landlock and the filter are for;
5. Landlock (grading/landlock.py): read only `readable`, write only `writable`, no TCP bind or
   connect, no abstract unix socket or signal outside its own processes, as far as the kernel's
   ABI goes;
6. a seccomp filter (libseccomp's bindings): default allow, since torch needs many system calls,
   and a refusal (EPERM, EACCES for the disk, ENOSYS where a fallback exists) of what a
   child never needs: sockets, tracing, signals but to itself, namespaces, mounts, io_uring, bpf,
   kernel keys and modules, changing ids, priorities or the clock, SysV and POSIX IPC,
   memfd, execve, and every change to the disk (open for writing, create, rename, link,
   unlink, chmod, chown, xattrs, times). What it already holds keeps working: writing or
   truncating the capture file on fds 1 and 2 (bounded by the output limit) and the socket.

Steps 2 to 4 are grading/privileges.py's, step 6 grading/syscall_filter.py's; this module
runs them in order. What took effect is in the returned `Report`. A layer the kernel or
Python lacks (Landlock, the seccomp bindings) is reported absent, for the grader to say before
grading; a layer that is there but fails raises `LockdownError`, and the child must then run
nothing.
Not set: PR_SET_DUMPABLE. After the drop from root the kernel itself makes the process
non-dumpable (fs.suid_dumpable is 0 by default), so only root can read its /proc entries;
in the other setting ptrace and /proc/<pid>/mem of a same-uid process are refused by the filter
and Landlock, and staying dumpable keeps /proc/self readable to the child itself.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from grading import landlock
from grading.privileges import (
    PR_SET_NO_NEW_PRIVS,
    LockdownError,
    caps,
    check_unprivileged,
    drop,
    normal_scheduling,
    prctl,
    read_status,
    set_limits,
)
from grading.syscall_filter import load_filter, seccomp_module

__all__ = ["LockdownError", "Policy", "Report", "apply", "prepare", "seccomp_available", "unshared"]

NAMESPACE_KINDS = ("user", "pid", "net", "mnt", "ipc", "uts", "cgroup")


@dataclass(frozen=True)
class Policy:
    memory: int  # bytes of address space beyond what the process maps when it locks down, per process
    processes: int  # processes and threads the student may run at once, this one included
    output: int  # bytes: the largest file it may write (its capture file)
    cpu_seconds: int  # CPU seconds from now on, a backstop (SIGXCPU, SIGKILL 5 s later): the grader keeps wall time
    uid: int | None  # as root: run as this user, which owns nothing (None: not root, keep the uid)
    gid: int | None  # its group (None: the same number as uid)
    readable: tuple[str, ...]  # Landlock: roots it may read (and execute from)
    writable: tuple[str, ...] = ()  # Landlock: roots it may change (the filter refuses all writes anyway)
    files: int = 64  # open file descriptors at once


@dataclass(frozen=True)
class Report:
    """What took effect. Ids, capabilities and no_new_privs are read back from /proc/self/status after
    the drop (Landlock then hides /proc); Landlock's ABI and the filter are what the kernel accepted."""

    landlock: int  # the Landlock ABI used, 0 when the kernel has none
    seccomp: bool  # the system-call filter is loaded
    uid: int  # real = effective = saved uid now
    gid: int
    capabilities: int  # CapInh | CapPrm | CapEff | CapAmb now: 0
    bounding: int  # CapBnd: 0 after a drop from root; a non-root grader cannot empty it (no_new_privs covers it)
    no_new_privs: bool
    namespaces: tuple[tuple[str, int], ...]  # (kind, inode) of each namespace it runs in: compare with `unshared`
    unreachable: tuple[str, ...]  # readable/writable roots that its uid cannot even look up (so not readable)

    def absent(self) -> list[str]:
        """The layers that did not take effect, as the grader should say them."""
        missing = []
        if not self.landlock:
            missing.append("Landlock (the kernel lacks it)")
        if not self.seccomp:
            missing.append("the system-call filter (libseccomp's Python bindings are missing: python3-seccomp)")
        return missing



def prepare() -> None:
    """What `apply` needs of ctypes and of libseccomp, loaded now: the zygote calls this before it
    blocks autograd, after which a process may load no library and look up no symbol."""
    landlock.libc()
    seccomp_module()


def seccomp_available() -> bool:
    """Whether the filter can be had; a zygote calls it before it forks, so that its children
    find the bindings loaded (and need read no file for them)."""
    return seccomp_module() is not None


# ---- apply -------------------------------------------------------------------------------------------

def apply(policy: Policy, keep_fd: int) -> Report:
    """Lock this process down for good (see the module's docstring). Raises LockdownError when
    a layer that is there does not take effect."""
    if len(os.listdir("/proc/self/task")) != 1:
        # no_new_privs, Landlock and the filter bind the calling thread only
        raise LockdownError("the process must be single-threaded when it locks down")
    sc = seccomp_module()  # loaded now, so that its libraries count in the address space it starts with
    libc = landlock.libc()
    _close_all_but(keep_fd)
    if os.getsid(0) != os.getpid():
        os.setsid()  # its own session: no terminal, and the grader ends its group with one killpg
    namespaces = _namespaces()
    normal_scheduling()
    set_limits(policy)
    prctl(libc, PR_SET_NO_NEW_PRIVS, 1)
    if policy.uid is not None:
        drop(libc, policy.uid, policy.uid if policy.gid is None else policy.gid)
    else:
        check_unprivileged(libc)
    status = read_status()
    unreachable = tuple(p for p in (*policy.readable, *policy.writable) if not os.path.exists(p))
    try:
        abi = landlock.restrict(list(policy.readable), list(policy.writable))
    except OSError as error:
        raise LockdownError(f"Landlock is there but did not take effect: {error}") from None
    filtered = False
    if sc is not None:
        try:
            load_filter(sc, os.getpid())
        except (RuntimeError, ValueError, OSError) as error:
            raise LockdownError(f"the seccomp filter could not be loaded: {error}") from None
        filtered = True
    uid, gid = os.getresuid(), os.getresgid()
    return Report(landlock=abi, seccomp=filtered, uid=uid[0], gid=gid[0],
                  capabilities=caps(status, "CapInh", "CapPrm", "CapEff", "CapAmb"),
                  bounding=caps(status, "CapBnd"), no_new_privs=status.get("NoNewPrivs") == "1",
                  namespaces=namespaces, unreachable=unreachable)


def unshared(report: Report) -> list[str]:
    """The kinds of namespace the locked process does not share with the calling one."""
    mine = dict(_namespaces())
    return [kind for kind, inode in report.namespaces if kind in mine and mine[kind] != inode]


def _close_all_but(keep_fd: int) -> None:
    low = 3
    for fd in sorted({keep_fd} - {0, 1, 2}):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 30)  # close_range(2): no walk over the descriptor table


def _namespaces() -> tuple[tuple[str, int], ...]:
    found = []
    for kind in NAMESPACE_KINDS:
        try:
            found.append((kind, os.stat(f"/proc/self/ns/{kind}").st_ino))
        except OSError:
            pass
    return tuple(found)

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

What took effect is in the returned `Report`. A layer the kernel or Python lacks (Landlock,
the seccomp bindings) is reported absent, for the grader to say before grading; a layer that
is there but fails raises `LockdownError`, and the child must then run nothing.
Not set: PR_SET_DUMPABLE. After the drop from root the kernel itself makes the process
non-dumpable (fs.suid_dumpable is 0 by default), so only root can read its /proc entries;
in the other setting ptrace and /proc/<pid>/mem of a same-uid process are refused by the filter
and Landlock, and staying dumpable keeps /proc/self readable to the child itself.
"""
from __future__ import annotations

import ctypes
import errno
import importlib.machinery
import importlib.util
import math
import os
import resource
import signal
from dataclasses import dataclass

from grading import landlock

PR_SET_PDEATHSIG, PR_GET_PDEATHSIG = 1, 2
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
CAPABILITY_LINES = ("CapInh", "CapPrm", "CapEff", "CapAmb", "CapBnd")
NAMESPACE_KINDS = ("user", "pid", "net", "mnt", "ipc", "uts", "cgroup")
DIST_PACKAGES = "/usr/lib/python3/dist-packages"  # Debian's python3-seccomp


class LockdownError(RuntimeError):
    """A layer that should have taken effect did not: the child must not run student code."""


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


# ---- seccomp bindings ------------------------------------------------------------------------------

_seccomp = None
_seccomp_looked = False


def seccomp_module():
    """libseccomp's Python bindings, or None. Debian's python3-seccomp is built for Debian's
    CPython, which our interpreter (another build of the same version) does not see; the
    extension has the same ABI, so it is loaded from its file."""
    global _seccomp, _seccomp_looked
    if not _seccomp_looked:
        _seccomp_looked = True
        try:
            import seccomp
            _seccomp = seccomp
        except ImportError:
            _seccomp = _load_dist_packages()
    return _seccomp


def _load_dist_packages():
    # this interpreter's own suffix first (".cpython-311-x86_64-linux-gnu.so"): the same ABI.
    # EXTENSION_SUFFIXES, unlike sysconfig, reads no file: the process may already be unprivileged
    paths = [os.path.join(DIST_PACKAGES, "seccomp" + suffix) for suffix in importlib.machinery.EXTENSION_SUFFIXES]
    path = next((p for p in paths if os.path.exists(p)), None)
    if path is None:
        return None
    try:
        spec = importlib.util.spec_from_file_location("seccomp", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except (ImportError, OSError):
        return None
    return module


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
    _normal_scheduling()
    _limits(policy)
    _prctl(libc, PR_SET_NO_NEW_PRIVS, 1)
    if policy.uid is not None:
        _drop(libc, policy.uid, policy.uid if policy.gid is None else policy.gid)
    else:
        _check_unprivileged(libc)
    status = _status()
    unreachable = tuple(p for p in (*policy.readable, *policy.writable) if not os.path.exists(p))
    try:
        abi = landlock.restrict(list(policy.readable), list(policy.writable))
    except OSError as error:
        raise LockdownError(f"Landlock is there but did not take effect: {error}") from None
    filtered = False
    if sc is not None:
        try:
            _load_filter(sc, os.getpid())
        except (RuntimeError, ValueError, OSError) as error:
            raise LockdownError(f"the seccomp filter could not be loaded: {error}") from None
        filtered = True
    uid, gid = os.getresuid(), os.getresgid()
    return Report(landlock=abi, seccomp=filtered, uid=uid[0], gid=gid[0],
                  capabilities=_caps(status, "CapInh", "CapPrm", "CapEff", "CapAmb"),
                  bounding=_caps(status, "CapBnd"), no_new_privs=status.get("NoNewPrivs") == "1",
                  namespaces=namespaces, unreachable=unreachable)


def unshared(report: Report) -> list[str]:
    """The kinds of namespace the locked process does not share with the calling one."""
    mine = dict(_namespaces())
    return [kind for kind, inode in report.namespaces if kind in mine and mine[kind] != inode]


def _prctl(libc, option: int, *args: int) -> None:
    args = (list(args) + [0, 0, 0, 0])[:4]
    if libc.prctl(option, *(ctypes.c_ulong(a) for a in args)) != 0:
        raise LockdownError(f"prctl({option}) failed: {os.strerror(ctypes.get_errno())}")


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


def _normal_scheduling() -> None:
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


def _limits(policy: Policy) -> None:
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


def _process_limit(policy: Policy) -> int:
    """RLIMIT_NPROC counts every task (process or thread) of the real uid. As root the student's uid
    runs nothing else; otherwise the grader's user's tasks count too, so they are added."""
    if policy.uid is not None:
        return policy.processes
    uid, others = os.getuid(), 0
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != os.getpid():
            try:
                status = _status(f"/proc/{name}/status")
            except OSError:
                continue  # ended meanwhile
            if status.get("Uid", "").split()[:1] == [str(uid)]:
                others += int(status.get("Threads", "1"))
    return others + policy.processes


def _status(path: str = "/proc/self/status") -> dict[str, str]:
    with open(path) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def _vm_size() -> int:
    return int(_status()["VmSize"].split()[0]) * 1024


def _caps(status: dict, *names: str) -> int:
    value = 0
    for name in names:
        value |= int(status[name], 16)
    return value


def _drop(libc, uid: int, gid: int) -> None:
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
    _prctl(libc, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)  # clears the permitted and effective sets
    _clear_capabilities(libc)  # and the inheritable set, which setresuid keeps
    if pdeath.value:
        _prctl(libc, PR_SET_PDEATHSIG, pdeath.value)  # a change of credentials cleared it
    status = _status()
    if os.getresuid() != (uid,) * 3 or os.getresgid() != (gid,) * 3 or os.getgroups():
        raise LockdownError(f"the drop to uid {uid} did not hold: {os.getresuid()} {os.getresgid()}")
    left = {name: status[name] for name in CAPABILITY_LINES if int(status[name], 16)}
    if left:
        raise LockdownError(f"capabilities remain after the drop to uid {uid}: {left}")


def _check_unprivileged(libc) -> None:
    if 0 in os.getresuid():
        raise LockdownError("the process is root: a Policy with a uid to drop to is needed")
    _prctl(libc, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    _clear_capabilities(libc)
    status = _status()
    held = _caps(status, "CapInh", "CapPrm", "CapEff", "CapAmb")
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


# ---- the system-call filter ------------------------------------------------------------------------

# a child never needs these: EPERM
REFUSED = (
    # sockets: no TCP, UDP, unix or netlink socket can be made; the inherited socketpair still works
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    # reaching other processes
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_open", "pidfd_getfd",
    "pidfd_send_signal", "process_madvise", "process_mrelease", "get_robust_list", "move_pages", "migrate_pages",
    # priorities (lowering one's own too: nothing needs it)
    "setpriority", "sched_setscheduler", "sched_setattr", "sched_setparam", "ioprio_set",
    # namespaces and mounts
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "open_tree", "move_mount", "fsopen",
    "fsconfig", "fsmount", "fspick", "mount_setattr", "open_tree_attr",
    # kernel attack surface a child has no use for; io_uring can open sockets and files
    "io_uring_setup", "io_uring_enter", "io_uring_register", "bpf", "perf_event_open", "userfaultfd",
    "keyctl", "add_key", "request_key", "personality", "modify_ldt", "uselib", "ustat", "sysfs", "_sysctl",
    "lookup_dcookie", "fanotify_init", "name_to_handle_at", "open_by_handle_at", "vhangup", "syslog",
    "lsm_set_self_attr",
    # the machine's
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot", "swapon",
    "swapoff", "acct", "quotactl", "quotactl_fd", "ioperm", "iopl", "settimeofday", "clock_settime",
    "clock_adjtime", "adjtimex", "sethostname", "setdomainname", "nfsservctl",
    # ids and capabilities: after the drop there is nothing to change
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "setfsuid",
    "setfsgid", "capset",
    # memory and channels outside the address-space limit or shared with other processes:
    # a memfd's pages are not mapped, SysV segments outlive the process, queues reach other users
    "memfd_create", "memfd_secret", "shmget", "shmat", "shmctl", "shmdt", "msgget", "msgsnd", "msgrcv",
    "msgctl", "semget", "semop", "semtimedop", "semctl", "mq_open", "mq_unlink", "mq_timedsend",
    "mq_timedreceive", "mq_notify", "mq_getsetattr",
)
# the disk: EACCES, as for a file one may not write. Creating, renaming, linking, removing,
# truncating by name, and changing modes, owners, attributes or times are all refused; a child
# writes only to what it holds (the capture file, bounded by RLIMIT_FSIZE, and its socket), so
# write, ftruncate and fallocate stay allowed. execve: it runs nothing but Python.
DISK = (
    "creat", "mkdir", "mkdirat", "rmdir", "rename", "renameat", "renameat2", "link", "linkat", "symlink",
    "symlinkat", "unlink", "unlinkat", "truncate", "mknod", "mknodat", "chmod", "fchmod", "fchmodat",
    "fchmodat2", "chown", "fchown", "lchown", "fchownat", "setxattr", "lsetxattr", "fsetxattr", "setxattrat",
    "removexattr", "lremovexattr", "fremovexattr", "removexattrat", "utime", "utimes", "futimesat",
    "utimensat", "file_setattr", "execve", "execveat",
)
# ENOSYS: the C library then falls back to a call whose arguments the filter can read
# (clone3 -> clone: its flags are in memory; openat2 -> openat: its flags too)
FALLBACK = ("clone3", "openat2")
# numbers (the same on x86_64 and aarch64, whose tables agree from 424 on) of calls newer than
# the libseccomp this was written against; calls from a kernel newer still are ENOSYS
NEWER = {"fchmodat2": 452, "lsm_set_self_attr": 460, "setxattrat": 463, "removexattrat": 466,
         "open_tree_attr": 467, "file_setattr": 469}
UNREVIEWED = range(470, 512)

O_WRONLY, O_RDWR, O_CREAT, O_TRUNC = os.O_WRONLY, os.O_RDWR, os.O_CREAT, os.O_TRUNC
CLONE_PARENT = 0x00008000  # a sibling: a child of the zygote that its sweeps do not expect
CLONE_NAMESPACES = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)
F_SETOWN, F_SETSIG, F_SETOWN_EX = 8, 10, 15  # SIGIO to another process: a signal that is not kill()
FIOSETOWN, SIOCSPGRP, TIOCSTI = 0x8901, 0x8902, 0x5412


def _load_filter(sc, pid: int) -> None:
    """Build and load the filter. `pid` is this process: the one it may signal."""
    f = sc.SyscallFilter(sc.ALLOW)
    # another ABI (int 0x80 on x86_64: i386 numbers, or x32's) kills: its numbers are not these
    f.set_attr(sc.Attr.ACT_BADARCH, sc.KILL_PROCESS)
    arch = sc.Arch.NATIVE
    known_numbers = os.uname().machine in ("x86_64", "aarch64")

    def refuse(code: int, name: str, *args) -> None:
        number = sc.resolve_syscall(arch, name)
        if number < 0:  # not on this architecture, or newer than this libseccomp
            if name not in NEWER or not known_numbers:
                return
            number = NEWER[name]
        f.add_rule(sc.ERRNO(code), number, *args)

    for name in REFUSED:
        refuse(errno.EPERM, name)
    for name in DISK:
        refuse(errno.EACCES, name)
    for name in FALLBACK:
        refuse(errno.ENOSYS, name)
    if known_numbers:
        for number in UNREVIEWED:
            f.add_rule(sc.ERRNO(errno.ENOSYS), number)
    # opening for writing (or to create or truncate); flags are an int: only their low 32 bits count
    for name, flags in (("open", 1), ("openat", 2)):
        for bit in (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC):
            refuse(errno.EACCES, name, sc.Arg(flags, sc.MASKED_EQ, bit, bit))
    # signals to itself only (Python's and torch's own raise(), abort(), os.kill(os.getpid())).
    # The pid is compared whole: a value with garbage in the high bits is refused, never let through.
    # A child it forks inherits this filter, with this pid: it may signal this process only.
    for name in ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"):
        refuse(errno.EPERM, name, sc.Arg(0, sc.NE, pid))
    # itself only (0): the C library's getrlimit/setrlimit pass 0; another process could be starved
    for name in ("prlimit64", "sched_setaffinity"):
        refuse(errno.EPERM, name, sc.Arg(0, sc.NE, 0))
    # threads and forks are fine; new namespaces and siblings are not
    for flag in (*CLONE_NAMESPACES, CLONE_PARENT):
        refuse(errno.EPERM, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    # commands are unsigned ints: the mask keeps high garbage from hiding one
    for command in (F_SETOWN, F_SETSIG, F_SETOWN_EX):
        refuse(errno.EPERM, "fcntl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, command))
    for command in (FIOSETOWN, SIOCSPGRP, TIOCSTI):
        refuse(errno.EPERM, "ioctl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, command))
    try:
        f.set_attr(sc.Attr.CTL_OPTIMIZE, 2)  # a binary tree: a few comparisons per system call, not hundreds
    except (AttributeError, RuntimeError, ValueError, OSError):
        pass
    f.load()

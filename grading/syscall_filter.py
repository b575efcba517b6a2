"""The system-call filter a student's process loads last: libseccomp's bindings, and what the filter refuses.

Step 6 of grading/lockdown.py's `apply` (its docstring says what is refused and why the
default is to allow). `seccomp_module()` finds the bindings, also Debian's python3-seccomp
built for another CPython; `load_filter` builds and loads the filter. Imports only the
standard library (and the bindings): a student's process loads it from its source
(grading/isolation.py: CHILD_MODULES).
"""
from __future__ import annotations

import errno
import importlib.machinery
import importlib.util
import os

DIST_PACKAGES = "/usr/lib/python3/dist-packages"  # Debian's python3-seccomp


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


def load_filter(sc, pid: int) -> None:
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

"""Linux Landlock, when the kernel has it: a submission's process reads only what it needs.

Landlock lets an unprivileged process give up rights for good. The grader's child process
calls `restrict(read_only, read_write)` just before it imports the submission; from then on
it (and anything it starts) can read only the Python installation, system libraries and the
submission's own folder, write only in that folder, open no TCP connection, and send no
signal to a process outside itself: it cannot read solutions/, write the grade book, or kill
the grader. Kernels without Landlock (before 5.13, or where it is disabled) make `restrict`
a no-op that returns 0, and the other limits of the sandbox still hold.
"""
from __future__ import annotations

import ctypes
import functools
import os

# syscall numbers are the same on every architecture for these three
CREATE_RULESET, ADD_RULE, RESTRICT_SELF = 444, 445, 446
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
READ = EXECUTE | READ_FILE | READ_DIR
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE  # the rights that make sense on a single file


def _fs_rights(abi: int) -> int:
    """Every filesystem right the kernel's Landlock version knows."""
    bits = 13 + (abi >= 2) + (abi >= 3)  # REFER (abi 2), TRUNCATE (abi 3)
    rights = (1 << bits) - 1
    if abi >= 5:
        rights |= 1 << 15  # IOCTL_DEV
    return rights


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


@functools.cache
def libc():
    """The C library, with the functions the sandbox calls looked up once. A grading child locks
    itself down after autograd is blocked, when ctypes may look up no symbol any more
    (kit/autograd/block.py): the zygote calls this first (grading/lockdown.py: prepare)."""
    found = ctypes.CDLL(None, use_errno=True)
    for name in ("syscall", "prctl", "capset"):
        getattr(found, name)  # ctypes keeps what it looked up on the object
    return found


def abi_version() -> int:
    try:
        version = libc().syscall(CREATE_RULESET, None, ctypes.c_size_t(0), CREATE_RULESET_VERSION)
    except (OSError, AttributeError):
        return 0
    return max(version, 0)


def restrict(read_only: list[str], read_write: list[str]) -> int:
    """Apply the rules to this process for good; the Landlock version used, 0 when none."""
    abi = abi_version()
    if abi < 1:
        return 0
    lib = libc()
    every = _fs_rights(abi)
    attr = _RulesetAttr(handled_access_fs=every,
                        handled_access_net=3 if abi >= 4 else 0,  # BIND_TCP | CONNECT_TCP
                        scoped=3 if abi >= 6 else 0)  # ABSTRACT_UNIX_SOCKET | SIGNAL
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = lib.syscall(CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for paths, rights in ((read_only, READ), (read_write, every)):
            for path in paths:
                _allow(lib, ruleset, path, rights)
        if lib.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if lib.syscall(RESTRICT_SELF, ruleset, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    return abi


def _allow(lib, ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a path this system does not have
    try:
        if not os.path.isdir(path):
            rights &= FILE_RIGHTS
        rule = _PathBeneath(allowed_access=rights, parent_fd=fd)
        if lib.syscall(ADD_RULE, ruleset, RULE_PATH_BENEATH, ctypes.byref(rule), 0) != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
    finally:
        os.close(fd)

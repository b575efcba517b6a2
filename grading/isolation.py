"""Where students' code runs: the setting this machine gives, and the zygotes that fork it.

`Setting.detect()` finds what the operating system offers the grader, and `Setting.lines()`
says, before grading, what holds and what does not (the threat model in grading/__init__.py
lists every guarantee and the settings it holds in):

- root (CAP_SETUID): each student runs as a user of its own (UID_BASE + its number), which
  owns nothing and can read only its own folder;
- bubblewrap works: the zygote and every child run in new mount, network, PID, IPC and UTS
  namespaces (and a user namespace when the grader is not root), seeing only the system's
  libraries, Python, torch and the class's folders; no network device exists at all; when
  the grader ends, the PID namespace ends with every process in it;
- libseccomp's bindings and Landlock: grading/lockdown.py;
- cgroups: grading/cgroups.py.

A zygote (grading/zygote.py) is a fresh interpreter started here with `-I -S` and an
environment of a few fixed variables, so it holds nothing of the grader's; it gets the
sources of the modules a child needs, imports torch once, and forks one child per request.
Each grading thread has a zygote of its own, and grades one student at a time with it.
"""
from __future__ import annotations

import functools
import json
import os
import pickle
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy
import torch

from grading import landlock, lockdown, wire
from grading.cgroups import Cgroups

UID_BASE = 1_860_000_000  # as root, student i runs as uid and gid UID_BASE + i: they own no file
ENVIRONMENT = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/nonexistent",
               "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
# set by the machine, not by the grader: some processors need them for OpenBLAS to be right
MACHINE_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# what a child needs, in the order the zygote installs them; each imports only those before it
CHILD_MODULES = ("kit.statuses", "kit.messages.sandbox", "kit.messages.loading", "grading.wire",
                 "kit.autograd.refusal", "kit.autograd.process", "kit.autograd.routes",
                 "kit.autograd.operators", "kit.autograd.sweep", "kit.autograd.block", "kit.autograd.learner",
                 "kit.implementation", "grading.notebooks", "kit.drivers",
                 "grading.landlock", "grading.privileges", "grading.syscall_filter", "grading.lockdown",
                 "grading.child", "grading.processes", "grading.zygote")
# drivers that know answers: sent to a child only for their exercise (grading/child.py)
PRELOADED_DRIVERS = ("kit.drivers",)
BOOT = Path(__file__).with_name("boot.py")
NAMESPACES = ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts")


def source_of(module: str) -> str:
    package_root = Path(__file__).resolve().parent.parent
    return (package_root.joinpath(*module.split(".")).with_suffix(".py")).read_text(encoding="utf-8")


def library_folders() -> list[str]:
    """The site-packages folders torch and numpy come from (torch's dependencies lie beside it)."""
    return list(dict.fromkeys(str(Path(m.__file__).resolve().parent.parent) for m in (torch, numpy)))


@functools.cache
def readable_roots() -> tuple[str, ...]:
    """What a child may read (Landlock; bubblewrap binds the same): Python, libraries, system files."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             str(Path(sys.executable).resolve().parent.parent)}
    roots |= {sysconfig.get_path(k) for k in ("stdlib", "platstdlib")}
    roots |= set(library_folders())
    roots |= {"/usr", "/lib", "/lib64", "/etc/ld.so.cache", "/etc/localtime", "/dev/null", "/dev/urandom",
              "/proc/cpuinfo", "/sys/devices/system/cpu"}  # torch's cpuinfo reads these
    return tuple(sorted(r for r in roots if r and os.path.exists(r)))


def _can_setuid() -> bool:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                caps = int(line.split()[1], 16)
                return bool(caps & (1 << 6)) and bool(caps & (1 << 7))  # CAP_SETGID, CAP_SETUID
    except OSError:
        pass
    return False


@dataclass(frozen=True)
class Setting:
    root: bool  # each student gets a uid of its own
    bwrap: str | None  # a bubblewrap that works here, or None
    seccomp: bool
    landlock: int  # the kernel's Landlock ABI, 0 for none
    cgroups: bool  # the grader may make a cgroup per student (grading/cgroups.py)

    @classmethod
    def detect(cls, namespaces: bool = True) -> Setting:
        """`namespaces=False` grades as a container without CAP_SYS_ADMIN would (the self-tests)."""
        root = os.geteuid() == 0 and _can_setuid()
        found = shutil.which("bwrap") if namespaces else None
        if found:
            probe = [found, *cls._namespace_flags(root), "--ro-bind", "/", "/", "--", "/bin/true"]
            try:
                if subprocess.run(probe, capture_output=True, timeout=20).returncode != 0:
                    found = None
            except (OSError, subprocess.TimeoutExpired):
                found = None
        probe = Cgroups.make(f"kit-grade-probe-{os.getpid()}") if root else None
        if probe is not None:
            probe.remove()
        return cls(root, found, lockdown.seccomp_available(), landlock.abi_version(), probe is not None)

    @staticmethod
    def _namespace_flags(root: bool) -> list[str]:
        return [*NAMESPACES, *(() if root else ("--unshare-user",)), "--die-with-parent", "--new-session"]

    def uid(self, index: int) -> int | None:
        """The user (and group) student `index` runs as: its own as root, else the grader's (None)."""
        return UID_BASE + index if self.root else None

    def problem(self) -> str:
        """Why grading cannot start here, or "": as root without namespaces each student's own
        user must be able to read Python and the libraries where they are installed."""
        if not self.root or self.bwrap:
            return ""
        hidden = hidden_from_others(p for p in readable_roots() if not p.startswith(("/proc", "/sys", "/dev")))
        if not hidden:
            return ""
        return (f"each student runs as a user of its own, which cannot read {hidden[0]} (a folder above it "
                f"is closed to other users). Install Python and the kit where every user can read them, "
                f"open the folders for traversal (chmod o+x), or install bubblewrap")

    def lines(self) -> list[str]:
        """What holds in this setting, and what does not: printed before grading."""
        said = [
            "each student runs as a user of its own" if self.root else
            "students run as the grader's own user (not root): " + (
                "Landlock and the namespaces keep each to its own folder" if self.landlock or self.bwrap else
                "NOTHING keeps a student from reading files the grader's user can read"),
            f"namespaces (bubblewrap): {'yes' if self.bwrap else 'no: ' + self._why_no_bwrap()}",
            "system-call filter (seccomp): " + ("yes" if self.seccomp else
                                               "NO: install python3-seccomp; without it a student can open sockets "
                                               "(network, loopback), trace or signal processes of the same user"),
            f"Landlock: {f'ABI {self.landlock}' if self.landlock else 'no (the kernel lacks it)'}",
            "limits per submission (cgroups): " + ("memory and processes across all its processes" if self.cgroups else
                                                   "NO: memory is limited per process, processes per user"),
        ]
        return said

    def _why_no_bwrap(self) -> str:
        if not shutil.which("bwrap"):
            return "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
        return "bubblewrap cannot make namespaces here (a container without CAP_SYS_ADMIN or user namespaces)"

    def command(self, work: Path, binds: list[Path], environment: dict) -> list[str]:
        """The prefix that starts a zygote: bubblewrap and what it shows, or nothing."""
        if not self.bwrap:
            return []
        command = [self.bwrap, *self._namespace_flags(self.root), "--proc", "/proc", "--dev", "/dev",
                   "--tmpfs", "/tmp", "--clearenv"]
        shown = [r for r in readable_roots() if not r.startswith(("/proc", "/dev"))] + [str(work)]
        # folders above what is shown are made 0755: bubblewrap would copy /root's 0700, and a
        # student's user could not reach a Python installed below it
        above = {str(a) for r in shown + [str(b) for b in binds] for a in Path(r).parents if str(a) != "/"}
        for folder in sorted(above, key=lambda a: a.count("/")):
            command += ["--perms", "0755", "--dir", folder]
        for root in shown[:-1]:
            command += ["--ro-bind", root, root] if not os.path.islink(root) else \
                ["--symlink", os.readlink(root), root]
        command += ["--ro-bind", str(work), str(work)]
        for path in binds:
            command += ["--bind", str(path), str(path)]
        if self.root:  # the zygote sets each child's uid and may end them; nothing else
            command += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_KILL"]
        command += [a for k, v in environment.items() for a in ("--setenv", k, v)]
        return command + ["--"]


def hidden_from_others(paths) -> list[str]:
    """The paths another user cannot read: a folder above them, or they, lack the bits for others."""
    hidden = []
    for path in paths:
        chain = [Path(path), *Path(path).parents]
        try:
            if any(not os.stat(p).st_mode & 0o001 for p in chain[1:]) or not os.stat(path).st_mode & 0o004:
                hidden.append(str(path))
        except OSError:
            hidden.append(str(path))
    return hidden


class SettingError(RuntimeError):
    """This machine cannot run students' code as the setting requires (Setting.problem)."""


class ZygoteError(RuntimeError):
    """A zygote died or answered nonsense: the grader's fault, never a student's."""


class Zygote:
    """A grading thread's zygote: started once, asked for one child at a time."""

    def __init__(self, setting: Setting, work: Path, binds: list[Path] = ()):
        parent, child = socket.socketpair()
        environment = dict(ENVIRONMENT, **{k: os.environ[k] for k in MACHINE_VARIABLES if k in os.environ})
        command = setting.command(work, list(binds), environment)
        command += [sys.executable, "-I", "-S", "-c", BOOT.read_text(encoding="utf-8"), str(child.fileno())]
        self.log = Path(tempfile.mkstemp(prefix="zygote-", suffix=".log", dir=work / "captures")[1])
        with open(self.log, "wb") as log:  # the zygote's own errors; a child's output goes to its capture file
            self.process = subprocess.Popen(command, pass_fds=[child.fileno()], env=environment, cwd="/",
                                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
        child.close()
        self.sock = parent
        self.lock = threading.Lock()
        boot = {"path": library_folders(), "settings": {},
                "modules": [(m, source_of(m)) for m in CHILD_MODULES]}
        wire.send(self.sock, pickle.dumps(boot, protocol=pickle.HIGHEST_PROTOCOL))

    def _ask(self, command: tuple, capture: int | None = None) -> tuple[dict, list[int]]:
        """The zygote's reply to `command`, and the descriptors it passed (spawn: the child's socket)."""
        fds: list[int] = []
        with self.lock:
            try:
                self.sock.settimeout(120)  # its first answer waits for torch's import
                wire.send(self.sock, pickle.dumps(command, protocol=pickle.HIGHEST_PROTOCOL))
                if capture is not None:
                    socket.send_fds(self.sock, [b"c"], [capture])
                    _, fds, _, _ = socket.recv_fds(self.sock, 1, 1)
                    if len(fds) != 1:
                        raise ZygoteError("the zygote sent no socket for the child")
                reply = json.loads(wire.recv(self.sock, limit=1 << 16))
            except (OSError, EOFError, ValueError, wire.WireError) as error:
                raise ZygoteError(f"the grader's zygote process failed ({error}){self._last_words()}") from None
        if type(reply) is not dict:
            raise ZygoteError("the grader's zygote process answered nonsense")
        return reply, fds

    def _last_words(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return f": {lines[-1][:300]}" if lines else ""

    def spawn(self, spec, capture: int) -> tuple[socket.socket, int]:
        reply, fds = self._ask(("spawn", spec), capture)
        return socket.socket(fileno=fds[0]), int(reply["pid"])

    def wait(self, pid: int, seconds: float) -> int | None:
        return self._ask(("wait", pid, seconds))[0]["status"]

    def kill(self, pid: int) -> int | None:
        return self._ask(("kill", pid))[0]["status"]

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        try:
            self.sock.close()
        finally:
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

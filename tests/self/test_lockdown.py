"""grading/lockdown.py against hostile code: each test has a fresh child lock itself down, try one
forbidden thing and say what happened over its kept socket; the test then checks that nothing
arrived, changed or died. A child is forked, as in the grader, from a template: a fresh Python
that imported torch and numpy (and runs nothing of a test) started once for this module.

Two settings, each test in both where it makes sense:
- "root": the grader is root and `apply` drops the child to a uid of its own (61234);
- "user": the grader is not root: the child first drops itself to an unprivileged uid (61235)
  and calls `apply` with uid None. Here the "victim" (a process the child must not reach) runs
  as that same uid, as the grader's and the other students' processes would.
"""
from __future__ import annotations

import dataclasses
import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import numpy
import pytest
import torch

from grading import landlock, lockdown

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the lockdown is Linux's")
ROOT = os.geteuid() == 0
SECCOMP = lockdown.seccomp_available()
needs_seccomp = pytest.mark.skipif(not SECCOMP, reason="libseccomp bindings absent (Debian: python3-seccomp)")
needs_landlock = pytest.mark.skipif(not landlock.abi_version(), reason="the kernel has no Landlock")
STUDENT, SELF_DROPPED, OTHER_STUDENT = 61234, 61235, 61236
MACHINE = os.uname().machine
SYSCALLS = {"x86_64": {"clone": 56, "bpf": 321, "tgkill": 234},
            "aarch64": {"clone": 220, "bpf": 280, "tgkill": 131}}.get(MACHINE, {})
ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
       "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}  # one thread, as the zygote's
READABLE = tuple(sorted({sys.prefix, sys.base_prefix, sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib"),
                         str(Path(torch.__file__).resolve().parents[1]), str(Path(numpy.__file__).resolve().parents[1]),
                         "/usr", "/lib", "/lib64", "/etc/ld.so.cache", "/dev/null", "/dev/urandom", "/proc/cpuinfo",
                         "/sys/devices/system/cpu"}))

# The template: a fresh Python that imports what a child uses (as the zygote does), then forks
# one child per test, which gets the test's socket (kept) and capture file (fds 1 and 2), also
# holds the template's control socket (the lockdown must close it), locks down and runs the attempt.
TEMPLATE = r'''
import ctypes, dataclasses, errno, fcntl, json, mmap, os, resource, signal, socket, sys, threading, time
import numpy, torch
from grading import lockdown

control = socket.socket(fileno=int(sys.argv[1]))
libc = ctypes.CDLL(None, use_errno=True)
lockdown.seccomp_available()  # loaded once, before any child drops its privileges


def send(message):
    sock.sendall(json.dumps(message).encode() + b"\n")


def check(result):
    # a libc call's result, or the OSError (a PermissionError for EPERM...) it failed with
    if result == -1:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return result


def child(spec):
    global sock, keep, SPEC
    keep, SPEC = sock.fileno(), spec["world"]
    os.chdir(SPEC["folder"])
    if spec["self_drop"] is not None:  # the grader is not root: this process never was either
        uid = spec["self_drop"]
        os.setgroups([]); os.setresgid(uid, uid, uid); os.setresuid(uid, uid, uid)
    if spec["pdeathsig"]:
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)
    if spec["thread"]:
        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
    report = None
    if spec["apply"]:
        policy = {k: tuple(v) if isinstance(v, list) else v for k, v in spec["policy"].items()}
        try:
            report = dataclasses.asdict(lockdown.apply(lockdown.Policy(**policy), keep))
        except lockdown.LockdownError as error:
            send({"lockdown_error": str(error)})
            return
    send({"pid": os.getpid(), "report": report})
    sock.recv(1)  # the test looks at /proc/<pid> meanwhile
    space = dict(globals())
    exec(spec["attempt"], space)
    try:
        result = {"value": space["attempt"]()}
    except BaseException as error:
        result = {"error": type(error).__name__, "errno": getattr(error, "errno", None), "text": str(error)}
    sys.stdout.flush()
    send(result)


while True:
    message, fds, _, _ = socket.recv_fds(control, 1 << 20, 2)
    if not message:
        break
    pid = os.fork()
    if pid == 0:
        try:
            sock = socket.socket(fileno=fds[0])
            os.dup2(fds[1], 1)
            os.dup2(fds[1], 2)
            os.close(fds[1])
            child(json.loads(message))
        finally:
            sys.stdout.flush()
            os._exit(0)
    for fd in fds:
        os.close(fd)
    control.sendall(json.dumps({"pid": pid}).encode() + b"\n")
    control.sendall(json.dumps({"status": os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])}).encode() + b"\n")
'''


class Template:
    def __init__(self, prefix: tuple = ()):
        self.control, theirs = socket.socketpair()
        self.process = subprocess.Popen([*prefix, sys.executable, "-c", TEMPLATE, str(theirs.fileno())],
                                        pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, env=ENV)
        theirs.close()
        self.replies = self.control.makefile("rb")

    def fork(self, spec: dict, keep: socket.socket, capture: int) -> int:
        socket.send_fds(self.control, [json.dumps(spec).encode()], [keep.fileno(), capture])
        return json.loads(self.replies.readline())["pid"]

    def status(self) -> int:
        return json.loads(self.replies.readline())["status"]

    def close(self) -> None:
        self.replies.close()
        self.control.close()  # the template reads EOF and ends
        self.process.wait(30)


@pytest.fixture(scope="module")
def template():
    made = Template()
    yield made
    made.close()


@dataclasses.dataclass
class Outcome:
    pid: int | None
    report: dict | None
    result: dict | None  # {"value": ...} or {"error": name, "errno": n, "text": ...}; None: it died first
    returncode: int
    output: str  # what it printed (the capture file)
    sent: list  # the lines it sent on the kept socket before its result
    lockdown_error: str | None = None

    @property
    def error(self) -> tuple:
        assert self.result is not None, f"the child died ({self.returncode}) before it answered: {self.output}"
        assert "error" in self.result, f"the attempt worked: {self.result}"
        return self.result["error"], self.result["errno"]

    @property
    def value(self):
        assert self.result is not None, f"the child died ({self.returncode}) before it answered: {self.output}"
        assert "value" in self.result, f"the attempt failed: {self.result}"
        return self.result["value"]


@dataclasses.dataclass
class Setting:
    name: str
    uid: int  # the child's uid after the lockdown
    policy_uid: int | None
    self_drop: int | None


@pytest.fixture(params=["root", "user"])
def setting(request) -> Setting:
    if request.param == "root":
        if not ROOT:
            pytest.skip("dropping to a uid of its own needs root")
        return Setting("root", STUDENT, STUDENT, None)
    if ROOT:
        return Setting("user", SELF_DROPPED, None, SELF_DROPPED)
    return Setting("user", os.getuid(), None, None)


def drop_into(uid: int) -> dict:
    return {"user": uid, "group": uid, "extra_groups": []} if ROOT else {}


class World:
    """What a child must not reach: listeners on loopback, files, a process of its uid."""

    def __init__(self, setting: Setting):
        self.setting = setting
        if ROOT:
            wait_until_gone(setting.uid)  # a previous test's processes would count in this one's process limit
        self.folder = Path(tempfile.mkdtemp(prefix="kit-lockdown-", dir="/tmp"))
        self.existing = self.folder / "existing.txt"
        self.existing.write_text("the grader's\n")
        self.existing.chmod(0o666)
        self.marker = f"/tmp/kit-lockdown-{uuid.uuid4().hex}"
        if ROOT:  # the student's uid owns its folder: only the lockdown stands in the way
            for path in (self.folder, self.existing):
                os.chown(path, setting.uid, setting.uid)
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.unix_path = str(self.folder / "grader.sock")
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind(self.unix_path)
        os.chmod(self.unix_path, 0o777)
        self.unix.listen()
        self.abstract_name = f"\0kit-lockdown-{uuid.uuid4().hex}"
        self.abstract = socket.socket(socket.AF_UNIX)
        self.abstract.bind(self.abstract_name)
        self.abstract.listen()
        for s in (self.tcp, self.udp, self.unix, self.abstract):
            s.setblocking(False)
        # another student's process as root; the grader's own user's otherwise
        victim_uid = OTHER_STUDENT if setting.name == "root" else setting.uid
        self.victim = subprocess.Popen(["sleep", "120"], **drop_into(victim_uid))

    def spec(self) -> dict:
        return {"tcp": self.tcp.getsockname()[1], "udp": self.udp.getsockname()[1], "unix": self.unix_path,
                "abstract": self.abstract_name, "victim": self.victim.pid, "folder": str(self.folder),
                "existing": str(self.existing), "marker": self.marker, "parent": os.getpid(),
                "syscalls": SYSCALLS}

    def assert_untouched(self) -> None:
        for listener in (self.tcp, self.unix, self.abstract):
            with pytest.raises(BlockingIOError):
                listener.accept()
        with pytest.raises(BlockingIOError):
            self.udp.recv(100)
        assert self.victim.poll() is None, "the victim process was killed"
        assert not os.path.exists(self.marker)
        assert sorted(p.name for p in self.folder.iterdir()) == ["existing.txt", "grader.sock"]
        assert self.existing.read_text() == "the grader's\n"
        assert self.existing.stat().st_mode & 0o777 == 0o666

    def close(self) -> None:
        self.victim.kill()
        self.victim.wait()
        for s in (self.tcp, self.udp, self.unix, self.abstract):
            s.close()
        shutil.rmtree(self.folder, ignore_errors=True)
        if os.path.exists(self.marker):
            os.unlink(self.marker)


def tasks_of(uid: int) -> list[int]:
    """Processes whose real uid is `uid` (zombies too: they count in RLIMIT_NPROC until reaped)."""
    found = []
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{name}/status") as f:
                real = next(line.split()[1] for line in f if line.startswith("Uid:"))
        except (OSError, StopIteration):
            continue  # ended meanwhile
        if real == str(uid):
            found.append(int(name))
    return found


def wait_until_gone(uid: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while tasks_of(uid):
        assert time.monotonic() < deadline, f"processes of uid {uid} linger: {tasks_of(uid)}"
        time.sleep(0.01)


@pytest.fixture
def world(setting):
    made = World(setting)
    yield made
    made.close()


def run(template: Template, setting: Setting, world: World, attempt: str, inspect=None, apply: bool = True,
        thread: bool = False, pdeathsig: bool = False, world_extra: dict | None = None, **policy) -> Outcome:
    """Fork a child that locks down under `setting` and runs `attempt` (source defining attempt())."""
    fields = {"memory": 512 << 20, "processes": 8, "output": 1 << 20, "cpu_seconds": 60,
              "uid": setting.policy_uid, "gid": setting.policy_uid,
              "readable": READABLE + (str(world.folder),), "writable": ()}
    fields.update(policy)
    spec = {"policy": fields, "attempt": textwrap.dedent(attempt), "world": {**world.spec(), **(world_extra or {})},
            "apply": apply, "self_drop": setting.self_drop, "thread": thread, "pdeathsig": pdeathsig}
    parent, child = socket.socketpair()
    capture = world.folder.parent / f"{world.folder.name}.out"
    out = os.open(capture, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o600)  # as the grader opens it
    try:
        template.fork(spec, child, out)
    finally:
        child.close()
        os.close(out)
    parent.settimeout(120)
    lines = parent.makefile("rb")
    try:
        first = json.loads(lines.readline() or b"null")
        rest = []
        if first and "pid" in first:
            if inspect is not None:
                inspect(first["pid"])
            parent.sendall(b"g")
            rest = lines.read().splitlines()  # until the child (and all it forked) closed the socket
    finally:
        lines.close()
        parent.close()
        returncode = template.status()
    output = capture.read_text(errors="replace")
    capture.unlink()
    if first is None:
        raise AssertionError(f"the child ended ({returncode}) before the lockdown: {output}")
    result = json.loads(rest[-1]) if rest and rest[-1].startswith(b"{") else None
    sent = [line.decode(errors="replace") for line in (rest[:-1] if result is not None else rest)]
    return Outcome(first.get("pid"), first.get("report"), result, returncode, output, sent,
                   first.get("lockdown_error"))


# ---- what is refused -------------------------------------------------------------------------------

EPERM, EACCES = ("PermissionError", errno.EPERM), ("PermissionError", errno.EACCES)

# name -> (source of attempt(), the exact error). SPEC is the World's spec, `check` raises a libc failure.
REFUSED = {
    "tcp connect to 127.0.0.1": ("""
        def attempt():
            socket.socket().connect(("127.0.0.1", SPEC["tcp"]))""", EPERM),
    "udp sendto 127.0.0.1": ("""
        def attempt():
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"hello", ("127.0.0.1", SPEC["udp"]))""", EPERM),
    "unix socket connect to a path": ("""
        def attempt():
            socket.socket(socket.AF_UNIX).connect(SPEC["unix"])""", EPERM),
    "abstract unix socket connect": ("""
        def attempt():
            socket.socket(socket.AF_UNIX).connect(SPEC["abstract"])""", EPERM),
    "socketpair": ("""
        def attempt():
            socket.socketpair()""", EPERM),
    "netlink socket": ("""
        def attempt():
            socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)""", EPERM),
    "new file in /tmp": ("""
        def attempt():
            open(SPEC["marker"], "w").write("x")""", EACCES),
    "new file in its own folder": ("""
        def attempt():
            open(os.path.join(SPEC["folder"], "new.txt"), "w").write("x")""", EACCES),
    "new file with os.open O_CREAT only": ("""
        def attempt():
            os.open(os.path.join(SPEC["folder"], "new.txt"), os.O_CREAT | os.O_RDONLY, 0o666)""", EACCES),
    "writing into an existing file": ("""
        def attempt():
            open(SPEC["existing"], "r+").write("forged")""", EACCES),
    "appending to an existing file": ("""
        def attempt():
            open(SPEC["existing"], "a").write("forged")""", EACCES),
    "truncating an existing file": ("""
        def attempt():
            os.truncate(SPEC["existing"], 0)""", EACCES),
    "reopening the capture file through /proc": ("""
        def attempt():
            os.open("/proc/self/fd/1", os.O_WRONLY)""", EACCES),
    "mkdir": ("""
        def attempt():
            os.mkdir(os.path.join(SPEC["folder"], "d"))""", EACCES),
    "rename": ("""
        def attempt():
            os.rename(SPEC["existing"], os.path.join(SPEC["folder"], "moved.txt"))""", EACCES),
    "unlink": ("""
        def attempt():
            os.unlink(SPEC["existing"])""", EACCES),
    "symlink": ("""
        def attempt():
            os.symlink("/etc/passwd", os.path.join(SPEC["folder"], "link"))""", EACCES),
    "hard link": ("""
        def attempt():
            os.link(SPEC["existing"], os.path.join(SPEC["folder"], "link"))""", EACCES),
    "chmod of a file the uid owns": ("""
        def attempt():
            os.chmod(SPEC["existing"], 0o600)""", EACCES),
    "utime": ("""
        def attempt():
            os.utime(SPEC["existing"], (0, 0))""", EACCES),
    "mkfifo": ("""
        def attempt():
            os.mkfifo(os.path.join(SPEC["folder"], "fifo"))""", EACCES),
    "execve": ("""
        def attempt():
            os.execv("/bin/true", ["true"])""", EACCES),
    "kill(parent, 0)": ("""
        def attempt():
            os.kill(SPEC["parent"], 0)""", EPERM),
    "kill(parent, SIGTERM)": ("""
        def attempt():
            os.kill(SPEC["parent"], signal.SIGTERM)""", EPERM),
    "kill(a process of the same user, SIGTERM)": ("""
        def attempt():
            os.kill(SPEC["victim"], signal.SIGTERM)""", EPERM),
    "killpg of its own group": ("""
        def attempt():
            os.killpg(os.getpgrp(), 0)""", EPERM),
    "SIGIO ownership to another process": ("""
        def attempt():
            fcntl.fcntl(keep, fcntl.F_SETOWN, SPEC["victim"])""", EPERM),
    "prlimit on another process": ("""
        def attempt():
            resource.prlimit(SPEC["victim"], resource.RLIMIT_CPU, (1, 1))""", EPERM),
    "ptrace attach to the parent": ("""
        def attempt():
            check(libc.ptrace(16, SPEC["parent"], None, None))  # PTRACE_ATTACH""", EPERM),
    "ptrace attach to a process of the same user": ("""
        def attempt():
            check(libc.ptrace(16, SPEC["victim"], None, None))""", EPERM),
    "reading /proc/<parent>/environ": ("""
        def attempt():
            return open(f"/proc/{SPEC['parent']}/environ", "rb").read()[:20].decode()""", EACCES),
    "reading /proc/<parent>/mem": ("""
        def attempt():
            return len(open(f"/proc/{SPEC['parent']}/mem", "rb").read(1))""", EACCES),
    "reading /proc/<same user's process>/environ": ("""
        def attempt():
            return open(f"/proc/{SPEC['victim']}/environ", "rb").read()[:20].decode()""", EACCES),
    "setuid(0)": ("""
        def attempt():
            os.setuid(0)""", EPERM),
    "sched_setscheduler SCHED_FIFO": ("""
        def attempt():
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))""", EPERM),
    "nice(-5)": ("""
        def attempt():
            os.nice(-5)""", EPERM),
    "mount": ("""
        def attempt():
            check(libc.mount(b"none", SPEC["folder"].encode(), b"tmpfs", 0, None))""", EPERM),
    "unshare(CLONE_NEWUSER)": ("""
        def attempt():
            check(libc.unshare(0x10000000))""", EPERM),
    "clone(CLONE_NEWUSER)": ("""
        def attempt():
            pid = check(libc.syscall(SPEC["syscalls"]["clone"], 0x10000000 | signal.SIGCHLD, 0, 0, 0, 0))
            if pid == 0:
                os._exit(0)  # a child in a user namespace of its own: the filter failed
            os.waitpid(pid, 0)""", EPERM),
    "clone(CLONE_PARENT)": ("""
        def attempt():
            pid = check(libc.syscall(SPEC["syscalls"]["clone"], 0x8000 | signal.SIGCHLD, 0, 0, 0, 0))
            if pid == 0:
                os._exit(0)""", EPERM),
    "clone3(CLONE_NEWUSER)": ("""
        def attempt():
            args = (ctypes.c_uint64 * 11)()
            args[0], args[4] = 0x10000000, signal.SIGCHLD  # flags, exit_signal
            pid = check(libc.syscall(435, args, ctypes.sizeof(args)))
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)""", ("OSError", errno.ENOSYS)),  # the C library falls back to clone
    "openat2 for writing": ("""
        def attempt():
            how = (ctypes.c_uint64 * 3)(os.O_WRONLY | os.O_CREAT, 0o666, 0)  # flags, mode, resolve
            check(libc.syscall(437, -100, os.path.join(SPEC["folder"], "new.txt").encode(), how, 24))""",
                            ("OSError", errno.ENOSYS)),  # ... and to openat, whose flags the filter reads
    "fchmodat2 (newer than libseccomp)": ("""
        def attempt():
            check(libc.syscall(452, -100, SPEC["existing"].encode(), 0o600, 0))""", EACCES),
    "tgkill to a process of the same user": ("""
        def attempt():
            check(libc.syscall(SPEC["syscalls"]["tgkill"], SPEC["victim"], SPEC["victim"], signal.SIGTERM))""",
                                             EPERM),
    "io_uring_setup": ("""
        def attempt():
            params = ctypes.create_string_buffer(120)
            check(libc.syscall(425, 8, params))""", EPERM),
    "bpf": ("""
        def attempt():
            attr = ctypes.create_string_buffer(128)
            check(libc.syscall(SPEC["syscalls"]["bpf"], 0, attr, 128))  # BPF_MAP_CREATE""", EPERM),
    "memfd_create": ("""
        def attempt():
            os.memfd_create("hidden")""", EPERM),
    "SysV shared memory": ("""
        def attempt():
            check(libc.shmget(0, 1 << 20, 0o1000 | 0o600))  # IPC_PRIVATE, IPC_CREAT""", EPERM),
}


@needs_seccomp
@pytest.mark.parametrize("name", list(REFUSED))
def test_refused(template, setting, world, name):
    source, expected = REFUSED[name]
    if "syscalls" in source and not SYSCALLS:
        pytest.skip(f"no system-call numbers for {MACHINE} in this test")
    outcome = run(template, setting, world, source)
    assert outcome.error == expected, outcome.result
    world.assert_untouched()


@needs_seccomp
@pytest.mark.parametrize("name", ["new file in its own folder", "writing into an existing file", "mkdir",
                                  "unlink", "rename", "truncating an existing file"])
def test_the_filter_refuses_writes_where_landlock_would_allow_them(template, setting, world, name):
    source, expected = REFUSED[name]
    outcome = run(template, setting, world, source, writable=(str(world.folder),))
    assert outcome.error == expected, outcome.result
    world.assert_untouched()


@needs_seccomp
def test_a_forked_grandchild_is_refused_too(template, setting, world):
    outcome = run(template, setting, world, """
        def attempt():
            pid = os.fork()
            if pid == 0:
                said = []
                for step in (lambda: socket.socket().connect(("127.0.0.1", SPEC["tcp"])),
                             lambda: open(SPEC["marker"], "w"),
                             lambda: os.kill(SPEC["victim"], signal.SIGTERM),
                             lambda: os.kill(os.getppid(), 0)):  # the child that forked it: allowed
                    try:
                        step()
                        said.append("done")
                    except OSError as error:
                        said.append(errno.errorcode[error.errno])
                sock.sendall(json.dumps(said).encode() + b"\\n")
                os._exit(0)
            os.waitpid(pid, 0)
            return "waited"
        """)
    assert outcome.value == "waited"
    assert outcome.sent == [json.dumps(["EPERM", "EACCES", "EPERM", "done"])]
    world.assert_untouched()


@needs_seccomp
@pytest.mark.skipif(MACHINE != "x86_64", reason="x32 is an ABI of x86_64's")
def test_x32_system_calls_kill_the_process(template, setting, world):
    """x32's numbers are x86_64's with bit 30 set: the filter must not read them as unknown calls."""
    outcome = run(template, setting, world, """
        def attempt():
            return libc.syscall(0x40000000 | 41, 2, 1, 0)  # socket(AF_INET, SOCK_STREAM, 0)
        """)
    assert outcome.result is None and outcome.returncode == -signal.SIGSYS
    world.assert_untouched()


@needs_seccomp
@pytest.mark.skipif(MACHINE != "x86_64", reason="int 0x80 (the i386 system calls) is x86_64's")
@pytest.mark.parametrize("locked", [False, True], ids=["control", "locked"])
def test_i386_system_calls_kill_the_process(template, setting, world, locked):
    """int 0x80 reaches the kernel's i386 table, where the numbers differ: a filter that knew only
    x86_64's would let socket() through."""
    outcome = run(template, setting, world, """
        def attempt():
            # push rbx; mov eax, 359 (i386 socket); mov ebx, AF_INET; mov ecx, SOCK_STREAM; xor edx, edx;
            # int 0x80; pop rbx; ret
            code = bytes([0x53, 0xB8, 0x67, 0x01, 0, 0, 0xBB, 2, 0, 0, 0, 0xB9, 1, 0, 0, 0, 0x31, 0xD2,
                          0xCD, 0x80, 0x5B, 0xC3])
            memory = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
            memory.write(code)
            address = ctypes.addressof(ctypes.c_char.from_buffer(memory))
            return ctypes.CFUNCTYPE(ctypes.c_int)(address)()
        """, apply=locked)
    if locked:
        assert outcome.result is None and outcome.returncode == -signal.SIGSYS
    else:
        assert outcome.value >= 0  # the code does make a socket when nothing stops it
    world.assert_untouched()


# ---- limits ----------------------------------------------------------------------------------------

def test_memory_beyond_the_limit_is_refused(template, setting, world):
    outcome = run(template, setting, world, """
        def attempt():
            said = []
            try:
                bytearray(1 << 30)
                said.append("allocated")
            except MemoryError:
                said.append("MemoryError")
            try:
                torch.empty(1 << 27, dtype=torch.float64)  # 1 GiB
                said.append("allocated")
            except RuntimeError as error:
                said.append("RuntimeError" if "memory" in str(error) else str(error))
            said.append(len(bytearray(64 << 20)))  # within the limit: fine
            return said
        """, memory=512 << 20)
    assert outcome.value == ["MemoryError", "RuntimeError", 64 << 20]


def test_processes_beyond_the_limit_cannot_be_forked(template, setting, world):
    outcome = run(template, setting, world, """
        def attempt():
            r, w = os.pipe()
            pids, error = [], None
            for _ in range(20):
                try:
                    pid = os.fork()
                except OSError as e:
                    error = [type(e).__name__, e.errno]
                    break
                if pid == 0:
                    os.close(w)
                    os.read(r, 1)  # until the parent closes its end
                    os._exit(0)
                pids.append(pid)
            os.close(w)
            for pid in pids:
                os.waitpid(pid, 0)
            return [len(pids), error]
        """, processes=4)
    assert outcome.value == [3, ["BlockingIOError", errno.EAGAIN]]  # 4 with itself


def test_cpu_time_beyond_the_limit_kills(template, setting, world):
    outcome = run(template, setting, world, """
        def attempt():
            while True:
                pass
        """, cpu_seconds=1)
    assert outcome.result is None and outcome.returncode == -signal.SIGXCPU


def test_output_beyond_the_limit_kills(template, setting, world):
    outcome = run(template, setting, world, """
        def attempt():
            while True:
                os.write(1, b"x" * 1000)
        """, output=4096)
    assert outcome.result is None and outcome.returncode == -signal.SIGXFSZ
    assert outcome.output == "x" * 4096


# ---- what keeps working ----------------------------------------------------------------------------

HARMLESS = """
    def attempt():
        import dataclasses, functools, itertools, json, math, random
        said = {}
        x = torch.arange(12, dtype=torch.float64).reshape(3, 4) / 10
        said["matmul"] = (x @ x.T).sum().item()
        said["exp"] = x.exp().sum().item()
        said["softmax"] = torch.softmax(x, dim=1).sum().item()
        image, kernel = torch.ones(1, 1, 5, 5, dtype=torch.float64), torch.ones(1, 1, 3, 3, dtype=torch.float64)
        said["conv2d"] = torch.nn.functional.conv2d(image, kernel).sum().item()
        said["einsum"] = torch.einsum("ij,kj->ik", x, x).sum().item()
        said["numpy"] = float(numpy.linalg.inv(numpy.eye(3) * 2).sum())
        said["math"] = math.sqrt(16.0)
        print("printed by the student")
        sys.stdout.flush()
        box = []
        thread = threading.Thread(target=lambda: box.append(sum(range(10))))
        thread.start()
        thread.join()
        said["thread"] = box
        try:
            raise ValueError("caught")
        except ValueError as error:
            said["exception"] = str(error)
        said["stdlib"] = [json.dumps([1]), list(itertools.islice(itertools.count(), 3)),
                          functools.reduce(int.__add__, [1, 2, 3]), dataclasses.is_dataclass(1)]
        random.seed(1)
        said["random"] = random.random() == random.Random(1).random()
        start = time.monotonic()
        time.sleep(0.05)
        said["sleep"] = time.monotonic() - start >= 0.05
        got = []
        signal.signal(signal.SIGUSR1, lambda *args: got.append("signalled"))
        os.kill(os.getpid(), signal.SIGUSR1)
        said["own signal"] = got
        os.ftruncate(1, 0)  # what the child does before each request
        os.write(1, b"after truncate\\n")
        sock.sendall(b"on the kept socket\\n")
        return {key: round(value, 9) if isinstance(value, float) else value for key, value in said.items()}
"""
_x = torch.arange(12, dtype=torch.float64).reshape(3, 4) / 10
_image, _kernel = torch.ones(1, 1, 5, 5, dtype=torch.float64), torch.ones(1, 1, 3, 3, dtype=torch.float64)
HARMLESS_VALUES = {  # the same computations, here, unlocked
    "matmul": (_x @ _x.T).sum().item(), "exp": _x.exp().sum().item(), "softmax": torch.softmax(_x, dim=1).sum().item(),
    "conv2d": torch.nn.functional.conv2d(_image, _kernel).sum().item(),
    "einsum": torch.einsum("ij,kj->ik", _x, _x).sum().item(), "numpy": 1.5, "math": 4.0, "thread": [45],
    "exception": "caught", "stdlib": ["[1]", [0, 1, 2], 6, False], "random": True, "sleep": True,
    "own signal": ["signalled"]}
HARMLESS_VALUES = {key: round(value, 9) if isinstance(value, float) else value
                   for key, value in HARMLESS_VALUES.items()}


def test_correct_code_works(template, setting, world):
    outcome = run(template, setting, world, HARMLESS)
    assert outcome.value == HARMLESS_VALUES, outcome.output
    assert outcome.sent == ["on the kept socket"]
    assert outcome.output == "after truncate\n"
    assert outcome.returncode == 0


def test_correct_code_works_without_the_lockdown_too(template, setting, world):
    """The control: the same code, unlocked, gives the same answers (so the expected values are right)."""
    outcome = run(template, setting, world, HARMLESS, apply=False)
    assert outcome.value == HARMLESS_VALUES


def test_the_kept_socket_works(template, setting, world):
    outcome = run(template, setting, world, """
        def attempt():
            for i in range(2000):  # 2 MB: many times a socket buffer, so the test reads while it sends
                sock.sendall(b"%04d" % i + b"x" * 1000 + b"\\n")
            return "sent"
        """)
    assert outcome.value == "sent"
    assert outcome.sent == [f"{i:04d}" + "x" * 1000 for i in range(2000)]


# ---- the report, and refusals of the lockdown itself ---------------------------------------------

SOLUTION = Path(__file__).resolve().parents[2] / "solutions" / "ch1_sensitivity.py"  # world-readable


def report_of(outcome: Outcome) -> lockdown.Report:
    fields = dict(outcome.report)
    fields["namespaces"] = tuple(tuple(pair) for pair in fields["namespaces"])
    fields["unreachable"] = tuple(fields["unreachable"])
    return lockdown.Report(**fields)


def reachable_by_others(path: str, uid: int) -> bool:
    """Whether a uid that is neither owner nor group of the folders above `path` can look it up."""
    folders = Path(path).parents
    return os.path.exists(path) and all(os.stat(f).st_uid == uid or os.stat(f).st_mode & 0o001 for f in folders)


def test_the_report_is_truthful(template, setting, world):
    seen = {}

    def inspect(pid):
        with open(f"/proc/{pid}/status") as f:
            seen["status"] = dict(line.rstrip("\n").split(":", 1) for line in f)
        with open(f"/proc/{pid}/limits") as f:
            seen["limits"] = {line[:26].strip(): line[26:].split()[:2] for line in list(f)[1:]}

    outcome = run(template, setting, world, """
        def attempt():
            said = []
            for step in (lambda: socket.socket(), lambda: open(SPEC["solution"]).read(),
                         lambda: os.fstat(control.fileno())):  # the template's socket, inherited
                try:
                    step()
                    said.append("done")
                except OSError as error:
                    said.append(errno.errorcode[error.errno])
            return said
        """, inspect=inspect, world_extra={"solution": str(SOLUTION)})
    report = report_of(outcome)
    status = {k: v.strip() for k, v in seen["status"].items()}
    uid = setting.uid
    assert (report.uid, report.gid) == (uid, uid)
    assert status["Uid"].split() == [str(uid)] * 4 and status["Gid"].split() == [str(uid)] * 4
    assert status["Groups"] == ""
    assert report.no_new_privs and status["NoNewPrivs"] == "1"
    assert report.capabilities == 0
    assert [int(status[k], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapAmb")] == [0, 0, 0, 0]
    assert int(status["CapBnd"], 16) == report.bounding
    if setting.name == "root":
        assert report.bounding == 0
    assert report.seccomp == SECCOMP and status["Seccomp"] == ("2" if SECCOMP else "0")
    assert report.landlock == landlock.abi_version()
    assert outcome.value == ["EPERM" if SECCOMP else "done", "EACCES" if report.landlock else "done", "EBADF"]
    assert lockdown.unshared(report) == []
    assert report.absent() == [] if SECCOMP and report.landlock else report.absent()
    readable = READABLE + (str(world.folder),)
    if ROOT:
        assert report.unreachable == tuple(p for p in readable if not reachable_by_others(p, uid))

    limits = seen["limits"]
    memory = 512 << 20
    address_space = int(limits["Max address space"][0])
    vm_size = int(status["VmSize"].split()[0]) * 1024
    assert 0 <= vm_size - (address_space - memory) < 64 << 20  # "what it maps now plus memory"
    assert limits["Max address space"][1] == limits["Max address space"][0]
    if ROOT:  # as root the student's uid runs nothing else; otherwise the uid's other tasks (the victim) count
        assert limits["Max processes"] == ["8", "8"] if setting.name == "root" else ["9", "9"]
    assert limits["Max file size"] == [str(1 << 20)] * 2
    assert limits["Max core file size"] == ["0", "0"]
    assert limits["Max open files"] == ["64", "64"]
    assert limits["Max locked memory"] == ["0", "0"]
    assert limits["Max msgqueue size"] == ["0", "0"]
    assert limits["Max nice priority"] == ["0", "0"]
    assert limits["Max realtime priority"] == ["0", "0"]
    soft, hard = map(int, limits["Max cpu time"])
    assert soft in (60, 61) and hard == soft + 5  # 60 s beyond what it had used (rounded up)


@pytest.mark.skipif(not shutil.which("bwrap"), reason="bubblewrap is not installed")
def test_the_report_names_the_namespaces_it_runs_in(setting, world):
    command = ("bwrap", "--dev-bind", "/", "/", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--")
    probe = subprocess.run([*command, "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"bubblewrap cannot make namespaces here: {probe.stderr.decode()[:200]}")
    template = Template(command)
    try:
        outcome = run(template, setting, world, "def attempt():\n    return 'ran'\n")
    finally:
        template.close()
    assert outcome.value == "ran"
    assert sorted(lockdown.unshared(report_of(outcome))) == ["ipc", "mnt", "net", "uts"]  # bubblewrap's own mnt


@needs_landlock
def test_landlock_keeps_it_from_reading_the_solutions(template, setting, world):
    assert SOLUTION.stat().st_mode & 0o004  # readable by anyone: only Landlock stands in the way
    outcome = run(template, setting, world, """
        def attempt():
            return open(SPEC["solution"]).read()
        """, world_extra={"solution": str(SOLUTION)})
    assert outcome.error == EACCES


def test_it_keeps_the_parent_death_signal(template, setting, world):
    """A change of credentials clears PR_SET_PDEATHSIG: the drop must set it again, or a child
    outlives the zygote that should have taken it along."""
    outcome = run(template, setting, world, """
        def attempt():
            value = ctypes.c_int(0)
            check(libc.prctl(2, ctypes.byref(value), 0, 0, 0))  # PR_GET_PDEATHSIG
            return value.value
        """, pdeathsig=True)
    assert outcome.value == signal.SIGKILL


def test_a_root_process_without_a_uid_to_drop_to_is_refused(template, setting, world):
    if setting.name != "root":
        pytest.skip("only the root setting has a uid to drop to")
    outcome = run(template, setting, world, "def attempt():\n    return 'ran'\n", uid=None, gid=None)
    assert outcome.pid is None and "root" in outcome.lockdown_error


def test_a_process_with_threads_is_refused(template, setting, world):
    """no_new_privs, Landlock and the filter bind only the thread that sets them."""
    outcome = run(template, setting, world, "def attempt():\n    return 'ran'\n", thread=True)
    assert outcome.pid is None and "single-threaded" in outcome.lockdown_error


def test_a_fresh_import_of_the_standard_library_works(template, setting, world):
    stdlib = sysconfig.get_path("stdlib")
    if not reachable_by_others(stdlib, setting.uid):
        pytest.skip(f"the standard library ({stdlib}) is in a folder other users cannot enter: a student's "
                    f"uid cannot import from it (install Python where others can read it)")
    outcome = run(template, setting, world, """
        def attempt():
            assert "statistics" not in sys.modules
            import statistics
            return statistics.mean([1, 2, 3])
        """)
    assert outcome.value == 2

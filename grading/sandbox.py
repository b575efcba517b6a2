"""The grader's handle on one student's process (`Sandbox`): start it, ask it, time it, end it.

The process itself is grading/child.py, forked by a zygote (grading/isolation.py,
grading/zygote.py) and locked down before it imports a line of the submission
(grading/lockdown.py). Here, in the trusted grader:

- every request has a deadline; a child that overruns is ended ("timeout");
- a reply may weigh only what the exercise's answers can weigh (`reply_limit`); a longer one
  is not read ("crashed");
- a child that dies is classified by its exit status and its cgroup: "out of memory",
  "output limit" (SIGXFSZ), "exited", "crashed", "timeout" (SIGXCPU);
- what it says of a breach is kit/messages/sandbox.py's;
- ending a child ends everything it started: the zygote kills its descendants, and the
  student's cgroup is emptied;
- a new child carries on after a death, and after an exercise whose driver knows answers
  (grading/child.py), so that no other exercise runs beside that driver.
"""
from __future__ import annotations

import json
import os
import pickle
import signal
import time
from dataclasses import replace
from pathlib import Path

from grading import verdict, wire
from grading.isolation import ZygoteError
from grading.limits import Limits
from kit.messages import sandbox as said  # the sentences a student reads
from kit.statuses import Status

START_SECONDS = 120  # a zygote's first child waits for torch's import in the zygote


class Stopped(BaseException):
    """Grading was stopped (Ctrl-C): no new child is started."""


class Breach(Exception):
    """The child broke a limit or died: the request got no answer. `status` names which."""

    def __init__(self, status: str, text: str):
        super().__init__(text)
        self.status, self.text = status, text


def reply_limit(answers_bytes: int) -> int:
    """The most a reply may weigh: four times torch's answers as JSON, and room for messages."""
    return 4 * answers_bytes + (256 << 10)


class Sandbox:
    """One submission's child process: started on the first request, restarted after a death."""

    stopping = False  # set by stop(): no child is started any more

    def __init__(self, zygote, spec, capture: Path, limits: Limits, cgroup=None):
        self.zygote, self.spec, self.capture, self.limits, self.cgroup = zygote, spec, capture, limits, cgroup
        self.pid = None
        self.sock = None
        self.loaded: set[str] = set()  # modules imported by the current child
        self.seq = 0
        self.started = 0  # children started: 1 unless one died or a driver needed one of its own

    def request(self, kind: str, *payload, timeout: float | None = None, limit: int | None = None) -> dict:
        """The child's reply to one request, parsed, or Breach. A breach kills the child."""
        body = self.request_raw(kind, *payload, timeout=timeout, limit=limit)
        try:
            return verdict.parse(body, self.seq)
        except wire.WireError as error:
            self.kill()
            raise Breach(Status.CRASHED, said.UNREADABLE.format(error=error)) from None

    def request_raw(self, kind: str, *payload, timeout: float | None = None, limit: int | None = None) -> bytes:
        """The child's reply to request number `self.seq`, unread, or Breach."""
        if self.pid is None:
            self._start()
        self.seq += 1
        deadline = time.monotonic() + (timeout or self.limits.timeout)
        try:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            wire.send(self.sock, pickle.dumps((self.seq, kind, *payload), protocol=pickle.HIGHEST_PROTOCOL))
            body = wire.recv(self.sock, deadline, limit or reply_limit(0))
        except (TimeoutError, wire.Timeout):
            self.kill()
            raise Breach(Status.TIMEOUT, said.TIMED_OUT.format(seconds=timeout or self.limits.timeout)) from None
        except (EOFError, OSError):
            raise self._death() from None
        except wire.WireError as error:
            self.kill()
            raise Breach(Status.CRASHED, said.TOO_HEAVY.format(error=error)) from None
        return body

    def output(self) -> str:
        """What the child printed during the last request (the first few thousand characters)."""
        try:
            fd = os.open(self.capture, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return ""
        try:
            data = os.read(fd, 8000)
        finally:
            os.close(fd)
        return data.decode("utf-8", "replace")

    def _start(self) -> None:
        if Sandbox.stopping:
            raise Stopped("grading was stopped")
        # O_APPEND: the child empties the file before each request (ftruncate), and every write
        # then lands at its new end, not at the old offset after a hole of NUL bytes
        capture = os.open(self.capture, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        spec = replace(self.spec, cgroups=self.cgroup.procs if self.cgroup else ())
        try:
            self.sock, self.pid = self.zygote.spawn(spec, capture)
        finally:
            os.close(capture)
        self.loaded = set()
        self.started += 1
        try:  # the child says it is locked down before it reads a request
            self.sock.settimeout(START_SECONDS)
            ready = json.loads(wire.recv(self.sock, time.monotonic() + START_SECONDS, 1 << 12))
        except (OSError, EOFError, ValueError, wire.WireError) as error:
            self.kill()
            raise ZygoteError(f"a student's process could not be set up ({error})") from None
        if ready != {"ready": True}:
            self.kill()
            raise ZygoteError("a student's process could not be set up")

    def _death(self) -> Breach:
        """The child closed its end: find out how it ended."""
        code = self.zygote.wait(self.pid, 2)
        out_of_memory = self.cgroup is not None and self.cgroup.out_of_memory()
        self.kill()
        if out_of_memory:
            return Breach(Status.OUT_OF_MEMORY, said.OUT_OF_MEMORY.format(mebibytes=self.limits.memory >> 20))
        if code is None:
            return Breach(Status.CRASHED, said.HUNG_UP)
        if code >= 0:
            return Breach(Status.EXITED, said.EXITED.format(code=code))
        if -code == signal.SIGXFSZ:
            return Breach(Status.OUTPUT_LIMIT, said.PRINTED_TOO_MUCH.format(limit=self.limits.output))
        if -code == signal.SIGXCPU:
            return Breach(Status.TIMEOUT, said.CPU_TIME)
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        return Breach(Status.CRASHED, said.KILLED.format(signal=name))

    def kill(self) -> None:
        """End the child and everything it started, and forget it."""
        pid, self.pid = self.pid, None
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.loaded = set()
        if pid is None:
            return
        try:
            self.zygote.kill(pid)
        finally:
            if self.cgroup is not None:
                self.cgroup.kill_all()

    def close(self) -> None:
        self.kill()

    @classmethod
    def stop(cls) -> None:
        """On Ctrl-C: no new child is started (the grader ends the zygotes, and the children with them)."""
        cls.stopping = True

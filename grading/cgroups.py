"""Limits per submission, not per process: a cgroup for each student, where the grader may make one.

Memory and the number of processes count over everything a submission starts, so forking
does not multiply them. The grader makes, below its own cgroup, a folder for the class
(`kit-grade-<pid>`) and one per student; the student's child joins it before it locks itself
down (grading/child.py), and everything it starts stays in it. Both cgroup versions:
v2 (one hierarchy, memory.max, pids.max, memory.events) and v1 (a hierarchy per controller,
memory.limit_in_bytes, pids.max, memory.oom_control). Where neither can be written (not
root, a container without the cgroup file system writable), `Cgroups.make` returns None and
the limits are per process (grading/lockdown.py); the grader says so before grading.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


def _own(controller: str) -> Path | None:
    """This process's cgroup folder for a v1 controller ("memory"), or for v2 ("")."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers.split(",") == [controller] or (controller == "" and controllers == ""):
            base = ROOT / controller if controller else ROOT
            return base / path.lstrip("/")
    return None


class Cgroups:
    """The class's cgroup folders: one per controller hierarchy (v1), or one (v2)."""

    def __init__(self, version: int, classes: dict[str, Path]):
        self.version, self.classes = version, classes  # controller -> the class's folder

    @classmethod
    def make(cls, name: str) -> Cgroups | None:
        for attempt in (cls._make_v2, cls._make_v1):
            try:
                made = attempt(name)
            except OSError:
                made = None
            if made is not None:
                return made
        return None

    @classmethod
    def _make_v1(cls, name: str) -> Cgroups | None:
        folders = {}
        for controller in ("memory", "pids"):
            own = _own(controller)
            if own is None or not (own / "cgroup.procs").exists():
                return None
            folders[controller] = own / name
        for folder in folders.values():
            folder.mkdir()
        return cls(1, folders)

    @classmethod
    def _make_v2(cls, name: str) -> Cgroups | None:
        own = _own("")
        if own is None or not {"memory", "pids"} <= set((own / "cgroup.controllers").read_text().split()):
            return None
        # a v2 cgroup with processes in it cannot enable controllers for its children
        # ("no internal processes"): the class folder holds none, only the students' folders
        folder = own / name
        folder.mkdir()
        (folder / "cgroup.subtree_control").write_text("+memory +pids")
        return cls(2, {"": folder})

    def student(self, name: str, memory: int, processes: int) -> StudentCgroup:
        folders = {c: f / name for c, f in self.classes.items()}
        for folder in folders.values():
            folder.mkdir()
        if self.version == 2:
            folder = folders[""]
            (folder / "memory.max").write_text(str(memory))
            _try_write(folder / "memory.swap.max", "0")
            (folder / "pids.max").write_text(str(processes))
        else:
            (folders["memory"] / "memory.limit_in_bytes").write_text(str(memory))
            _try_write(folders["memory"] / "memory.memsw.limit_in_bytes", str(memory))
            (folders["pids"] / "pids.max").write_text(str(processes))
        return StudentCgroup(self.version, folders)

    def bind_paths(self) -> list[Path]:
        """The class folders a child must see to join its own (bubblewrap binds them)."""
        return list(self.classes.values())

    def remove(self) -> None:
        for folder in self.classes.values():
            for sub in folder.iterdir() if folder.is_dir() else ():
                if sub.is_dir():
                    StudentCgroup(self.version, {"": sub}).remove()
            _rmdir(folder)


class StudentCgroup:
    def __init__(self, version: int, folders: dict[str, Path]):
        self.version, self.folders = version, folders

    @property
    def procs(self) -> tuple[str, ...]:
        return tuple(str(f / "cgroup.procs") for f in self.folders.values())

    def out_of_memory(self) -> bool:
        """Whether the kernel killed a process of this student for passing the memory limit."""
        folder = self.folders.get("") if self.version == 2 else self.folders.get("memory")
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            for line in (folder / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
            return False
        except (OSError, ValueError):
            return False

    def kill_all(self) -> None:
        """SIGKILL every process in the student's cgroup, until none is left."""
        for _ in range(100):
            pids = set()
            for procs in self.procs:
                try:
                    pids |= {int(p) for p in Path(procs).read_text().split()}
                except (OSError, ValueError):
                    pass
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.005)

    def remove(self) -> None:
        self.kill_all()
        for folder in self.folders.values():
            _rmdir(folder)


def _try_write(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError:
        pass  # the kernel has no swap accounting: there is nothing to limit


def _rmdir(folder: Path) -> None:
    for _ in range(50):  # a cgroup is removable once its last process has been reaped
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)

"""What the machine, or the container the grader runs in, really gives it: the CPUs it may use, and its memory.

`os.cpu_count()` counts the host's cores; inside a container (Gradescope gives half a vCPU by
default) the grader may use far fewer. `cpus()` takes the smallest of the CPUs this process may
run on (its affinity) and its cgroup's CPU quota (cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us` over
`cpu.cfs_period_us`), in the root the container sees and in its own cgroup and that cgroup's
parents; a quota below one CPU still counts as one. `kit grade -j` defaults to it.

`memory()` is the smallest memory limit in the same folders (v2 `memory.max`, v1
`memory.limit_in_bytes`), or None: Gradescope gives 768 MB. grading/limits.py's `fitted` makes
the per-submission default fit in it.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

CGROUPS = Path("/sys/fs/cgroup")


def cpus(root: Path = CGROUPS, proc_cgroup: Path = Path("/proc/self/cgroup")) -> int:
    """The number of CPUs the grader may keep busy: at least 1."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    quotas = [q for q in (_quota(folder) for folder in _folders(root, proc_cgroup, "cpu")) if q is not None]
    if quotas:
        count = min(count, math.floor(min(quotas)))
    return max(1, count)


def memory(root: Path = CGROUPS, proc_cgroup: Path = Path("/proc/self/cgroup")) -> int | None:
    """Bytes of memory the grader's cgroup (or a parent of it) allows all its processes, or None."""
    found = [m for m in (_memory(folder) for folder in _folders(root, proc_cgroup, "memory")) if m is not None]
    return min(found) if found else None


def _folders(root: Path, proc_cgroup: Path, controller: str) -> list[Path]:
    """The cgroup folders that may hold this process's limit of a v1 `controller` (or of v2): the
    root, its own cgroup's and every parent's."""
    folders = [root, root / controller, root / f"{controller},{controller}acct"]
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:  # "0::/path" (v2) or "4:cpu,cpuacct:/path" (v1)
        _, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        parts = [p for p in path.strip("/").split("/") if p]
        for depth in range(1, len(parts) + 1):
            relative = Path(*parts[:depth])
            if controllers == "":
                folders.append(root / relative)
            elif controller in controllers.split(","):
                folders += [root / controllers / relative, root / controller / relative]
    return list(dict.fromkeys(folders))


def _memory(folder: Path) -> int | None:
    for name in ("memory.max", "memory.limit_in_bytes"):
        try:
            text = (folder / name).read_text().strip()
        except OSError:
            continue
        if text == "max" or not text.isdigit() or int(text) >= 1 << 60:  # v1 writes "unlimited" as ~2**63
            return None
        return int(text)
    return None


def _quota(folder: Path) -> float | None:
    """CPUs allowed by the quota in `folder`; None when it sets none or cannot be read."""
    try:
        quota, period = (folder / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError, ZeroDivisionError):
        pass
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
        return None if quota <= 0 or period <= 0 else quota / period
    except (OSError, ValueError):
        return None

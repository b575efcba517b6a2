"""What the machine, or the container the grader runs in, really gives it: the CPUs it may use.

`os.cpu_count()` counts the host's cores; inside a container (Gradescope gives half a vCPU by
default) the grader may use far fewer. `cpus()` takes the smallest of the CPUs this process may
run on (its affinity) and its cgroup's CPU quota (cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us` over
`cpu.cfs_period_us`), in its own cgroup and in the root the container sees; a quota below one CPU
still counts as one. `kit grade -j` defaults to it.
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
    quotas = [q for q in (_quota(folder) for folder in _folders(root, proc_cgroup)) if q is not None]
    if quotas:
        count = min(count, math.floor(min(quotas)))
    return max(1, count)


def _folders(root: Path, proc_cgroup: Path) -> list[Path]:
    """The cgroup folders that may hold this process's CPU quota: the root, and its own cgroup's."""
    folders = [root, root / "cpu", root / "cpu,cpuacct"]
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:  # "0::/path" (v2) or "4:cpu,cpuacct:/path" (v1)
        _, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        relative = path.strip("/")
        if not relative:
            continue
        if controllers == "":
            folders.append(root / relative)
        elif "cpu" in controllers.split(","):
            folders += [root / controllers / relative, root / "cpu" / relative]
    return folders


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

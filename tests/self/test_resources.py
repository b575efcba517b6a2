"""What the grader takes from the machine: the CPUs it may use (grading/resources.py), and that it
refuses at once where its isolation cannot exist (outside Linux)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from grading import resources
from kit.cli import main


def cgroup(tmp_path: Path, files: dict[str, str], own: str = "0::/\n") -> tuple[Path, Path]:
    root = tmp_path / "cgroup"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(own)
    return root, proc


def affinity() -> int:
    return len(os.sched_getaffinity(0))


@pytest.mark.parametrize("files, own, expected", [
    ({}, "0::/\n", None),  # no cgroup files: the affinity decides
    ({"cpu.max": "max 100000\n"}, "0::/\n", None),  # v2, no quota
    ({"cpu.max": "50000 100000\n"}, "0::/\n", 1),  # v2, half a CPU (Gradescope's default): one job
    ({"cpu.max": "100000 100000\n"}, "0::/\n", 1),
    ({"job/cpu.max": "150000 100000\n"}, "0::/job\n", 1),  # v2, the process's own cgroup below the root
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, "4:cpu,cpuacct:/\n", None),  # v1, none
    ({"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, "4:cpu,cpuacct:/\n", 1),
    ({"cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "100000\n", "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n"},
     "4:cpu,cpuacct:/docker/abc\n", 1),  # v1, the container's own cgroup
    ({"cpu.max": "garbage\n", "cpu/cpu.cfs_quota_us": "x\n"}, "0::/\n", None),  # unreadable: ignored
    ({"cpu.max": "0 0\n"}, "0::/\n", None),
])
def test_cpus_follow_the_affinity_and_the_cgroup_quota(tmp_path, files, own, expected):
    root, proc = cgroup(tmp_path, files, own)
    assert resources.cpus(root, proc) == (affinity() if expected is None else min(expected, affinity()))


def test_a_big_quota_does_not_raise_the_count_above_the_affinity(tmp_path):
    root, proc = cgroup(tmp_path, {"cpu.max": f"{1000 * 100000} 100000\n"})
    assert resources.cpus(root, proc) == affinity()


def test_this_machine_gives_at_least_one_cpu():
    assert 1 <= resources.cpus() <= (os.cpu_count() or 1)


def test_kit_grade_jobs_default_is_what_the_machine_gives():
    import argparse

    from grading.cli import add_parser

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    assert parser.parse_args(["grade", "x", "--out", "y"]).jobs == resources.cpus()


@pytest.mark.parametrize("platform", ["darwin", "win32", "cygwin"])
def test_outside_linux_kit_grade_refuses_at_once(platform, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr("sys.platform", platform)
    assert main(["grade", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "runs on Linux only" in err and platform in err and "container" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


# ---- memory ----------------------------------------------------------------------------------------

MiB = 1 << 20


@pytest.mark.parametrize("files, own, expected", [
    ({}, "0::/\n", None),
    ({"memory.max": "max\n"}, "0::/\n", None),  # v2, unlimited
    ({"memory.max": "805306368\n"}, "0::/\n", 768 * MiB),  # v2, Gradescope's default
    ({"a/memory.max": "max\n", "a/b/memory.max": "1073741824\n", "memory.max": "max\n"}, "0::/a/b\n", 1024 * MiB),
    ({"a/memory.max": "536870912\n", "a/b/memory.max": "max\n"}, "0::/a/b\n", 512 * MiB),  # a parent's limit
    ({"memory/memory.limit_in_bytes": "9223372036854771712\n"}, "4:memory:/\n", None),  # v1, unlimited
    ({"memory/docker/abc/memory.limit_in_bytes": "805306368\n"}, "4:memory:/docker/abc\n", 768 * MiB),
    ({"memory/x/memory.limit_in_bytes": "805306368\n"}, "4:cpu:/x\n", None),  # another controller's path
    ({"memory.max": "lots\n"}, "0::/\n", None),  # unreadable: ignored
])
def test_memory_is_the_smallest_limit_of_the_cgroup_and_its_parents(tmp_path, files, own, expected):
    root, proc = cgroup(tmp_path, files, own)
    assert resources.memory(root, proc) == expected


def test_the_memory_default_fits_the_container():
    from grading import limits

    assert limits.fitted(4, None) == (limits.DEFAULT, [])
    assert limits.fitted(2, 64 << 30) == (limits.DEFAULT, [])  # a big machine: the default
    fitted, notes = limits.fitted(1, 768 * MiB)  # Gradescope's container, with -j 1 (half a vCPU)
    assert fitted.memory == 768 * MiB - limits.GRADER_MEMORY and fitted.timeout == limits.DEFAULT.timeout
    assert "128M" in notes[0] and "768 MiB" in notes[0]
    two, _ = limits.fitted(2, 2048 * MiB)
    assert two.memory * 2 + limits.GRADER_MEMORY + limits.JOB_MEMORY <= 2048 * MiB
    assert two.memory % MiB == 0
    with pytest.raises(limits.LimitError, match="lower -j"):
        limits.fitted(2, 768 * MiB)
    kept, warned = limits.fitted(1, 768 * MiB, memory=1 << 30)  # --memory given: kept, with a warning
    assert kept == limits.DEFAULT and "reported as crashed" in warned[0]
    assert limits.fitted(1, 768 * MiB, memory=100 * MiB) == (limits.DEFAULT, [])


def test_kit_grade_refuses_jobs_the_container_cannot_hold(tmp_path, monkeypatch, capsys):
    (tmp_path / "class" / "ada").mkdir(parents=True)
    (tmp_path / "class" / "bob").mkdir(parents=True)
    monkeypatch.setattr(resources, "memory", lambda: 768 * MiB)
    assert main(["grade", str(tmp_path / "class"), "--out", str(tmp_path / "out"), "-j", "2", "--only", "1"]) == 2
    err = capsys.readouterr().err
    assert "lower -j" in err and "Traceback" not in err and not (tmp_path / "out").exists()

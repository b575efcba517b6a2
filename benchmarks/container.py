"""What kit grade itself needs in a container: its peak memory, grading a class in a cgroup with Gradescope's limits.

    python benchmarks/container.py [--memory 768M] [--cpus 0.5] [--only LIST] [-j N] [--students N]

Run as root (it makes a cgroup: v2, or v1's memory and cpu hierarchies). The class is copies
of solutions/, graded with the --memory the container leaves (grading/limits.py: fitted),
unless --student-memory is given. It prints the cgroup's peak memory charge (rss and shmem,
sampled; and v1's max_usage_in_bytes, page cache included) and the grades, so that
GRADER_MEMORY and JOB_MEMORY in grading/limits.py can be checked against a real run.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from grading.limits import size  # noqa: E402

CGROUPS = Path("/sys/fs/cgroup")


def make_cgroup(memory: int, cpus: float) -> list[Path]:
    name = f"kit-bench-{uuid.uuid4().hex[:8]}"
    if (CGROUPS / "cgroup.controllers").exists():
        folder = CGROUPS / name
        folder.mkdir()
        (folder / "memory.max").write_text(str(memory))
        (folder / "cpu.max").write_text(f"{int(cpus * 100000)} 100000")
        return [folder]
    memory_folder, cpu_folder = CGROUPS / "memory" / name, CGROUPS / "cpu" / name
    memory_folder.mkdir()
    cpu_folder.mkdir()
    (memory_folder / "memory.limit_in_bytes").write_text(str(memory))
    (cpu_folder / "cpu.cfs_period_us").write_text("100000")
    (cpu_folder / "cpu.cfs_quota_us").write_text(str(int(cpus * 100000)))
    return [memory_folder, cpu_folder]


def charged(folder: Path) -> int:
    """rss + shmem charged to the memory cgroup `folder` now (v1 total_*, v2 anon + shmem)."""
    stat = dict(line.split() for line in (folder / "memory.stat").read_text().splitlines())
    if "total_rss" in stat:
        return int(stat["total_rss"]) + int(stat.get("total_shmem", 0))
    return int(stat.get("anon", 0)) + int(stat.get("shmem", 0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory", type=size, default=size("768M"))
    parser.add_argument("--cpus", type=float, default=0.5)
    parser.add_argument("--only", default=None)
    parser.add_argument("-j", "--jobs", type=int, default=None)
    parser.add_argument("--students", type=int, default=2)
    parser.add_argument("--student-memory", default=None, help="kit grade --memory (default: fitted)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kit-bench-container-"))
    folders = make_cgroup(args.memory, args.cpus)
    try:
        for i in range(args.students):
            shutil.copytree(ROOT / "solutions", work / "class" / f"s{i:03d}", ignore=shutil.ignore_patterns("__*"))
        seed = work / "seed"
        seed.write_text(uuid.uuid4().hex + "\n")
        seed.chmod(0o600)
        command = [sys.executable, "-m", "kit.cli", "grade", str(work / "class"), "--out", str(work / "out"),
                   "--seed-file", str(seed), "-q"]
        command += ["--only", args.only] if args.only else []
        command += ["-j", str(args.jobs)] if args.jobs else []
        command += ["--memory", args.student_memory] if args.student_memory else []
        join = "; ".join(f"echo $$ > {folder / 'cgroup.procs'}" for folder in folders)
        peak, done = 0, threading.Event()

        def sample():
            nonlocal peak
            while not done.is_set():
                try:
                    peak = max(peak, charged(folders[0]))
                except (OSError, ValueError):
                    pass
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start = time.monotonic()
        run = subprocess.run(["sh", "-c", f'{join}; exec "$@"', "sh", *command], capture_output=True, text=True)
        seconds = time.monotonic() - start
        done.set()
        sampler.join()
        print(run.stderr.strip())
        usage = folders[0] / "memory.max_usage_in_bytes"
        extra = f"; max_usage_in_bytes {int(usage.read_text()) >> 20} MiB" if usage.exists() else ""
        print(f"container {args.memory >> 20} MiB, {args.cpus:g} CPUs: kit grade exited {run.returncode} in "
              f"{seconds:.1f} s; peak rss+shmem {peak >> 20} MiB{extra}")
        grades = work / "out" / "grades.csv"
        if grades.exists():
            print("\n".join(line.split(",", 3)[0] + "," + ",".join(line.split(",")[1:3])
                            for line in grades.read_text().splitlines()))
        return run.returncode
    finally:
        shutil.rmtree(work, ignore_errors=True)
        for folder in folders:
            try:
                folder.rmdir()
            except OSError:
                pass


if __name__ == "__main__":
    sys.exit(main())

"""The container that runs `kit grade` outside Linux (Dockerfile, .dockerignore), and the one command
that grades in it, which grading/cli.py's LINUX_ONLY, the README and the Dockerfile all name.

Docker is not on the kit's CI machines, so the recipe is checked without it: a small strict parser
reads the Dockerfile (every instruction known, continuation lines joined, JSON forms valid), and
the tests check what it says against what the kit says elsewhere: the base image pinned, the
system packages and the torch pin and index of the README and grading/platforms, the build context
kept to the kit's own files, the entrypoint that refuses to grade without the seed's folder (its
shell script is run here, in bubblewrap), and the command.

The last test builds the image and grades the sample class in it twice, with podman (or Docker,
where its daemon answers): about 4 minutes the first time, 1 minute once the layers are built, so
it runs only with KIT_CONTAINER_TEST=1, never in the default CI run.
"""
from __future__ import annotations

import fnmatch
import json
import os
import re
import resource
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from grading import platforms

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
README = (ROOT / "README.md").read_text()
# Dockerfile reference: https://docs.docker.com/reference/dockerfile/ (MAINTAINER is deprecated)
INSTRUCTIONS = {"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
                "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"}
FLAGS = ["--cap-add SYS_ADMIN", "--cap-add NET_ADMIN", "--security-opt seccomp=unconfined",
         "--security-opt apparmor=unconfined"]  # each explained in the Dockerfile's header
CONTEXT = {"pyproject.toml", "README.md", "kit", "grading"}  # all that `pip install` of the kit reads


class DockerfileError(ValueError):
    pass


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order. Comment and blank lines are skipped (inside a continued
    instruction too, as Docker does), a line ending in a backslash continues on the next; an
    unknown or lower-case instruction, a parser directive or a dangling continuation is an error."""
    found, pending = [], ""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not pending and re.match(r"#\s*\w+\s*=", stripped) and not found:
            raise DockerfileError(f"line {number}: a parser directive: {line!r}")
        if not stripped or stripped.startswith("#"):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip() + " "
            continue
        keyword, _, arguments = pending.strip().partition(" ")
        if keyword not in INSTRUCTIONS:
            raise DockerfileError(f"line {number}: not a Dockerfile instruction (in capitals): {keyword!r}")
        found.append((keyword, " ".join(arguments.split()) if keyword == "RUN" else arguments.strip()))
        pending = ""
    if pending:
        raise DockerfileError("the last instruction ends in a backslash")
    return found


STEPS = instructions(DOCKERFILE)


def only(keyword: str) -> str:
    values = [arguments for k, arguments in STEPS if k == keyword]
    assert len(values) == 1, f"one {keyword}, not {len(values)}"
    return values[0]


def runs() -> list[str]:
    return [arguments for keyword, arguments in STEPS if keyword == "RUN"]


def json_form(keyword: str) -> list[str]:
    value = json.loads(only(keyword))
    assert type(value) is list and all(type(v) is str for v in value), f"{keyword} in exec form"
    return value


def env() -> dict[str, str]:
    """ENV's KEY=VALUE pairs (none of the kit's values holds a space)."""
    return dict(pair.split("=", 1) for pair in only("ENV").split())


def the_command(text: str) -> str:
    """The one line of `text` that starts with `docker build` (after a comment's "#")."""
    lines = [line.lstrip("# ").rstrip() for line in text.splitlines() if line.lstrip("# ").startswith("docker build")]
    assert len(lines) == 1, lines
    return lines[0]


def command() -> tuple[list[str], list[str]]:
    """The command, split into its two parts: `docker build ...` and `docker run ...`."""
    build, run = the_command(linux_only()).split(" && ")
    return shlex.split(build), shlex.split(run)


def linux_only() -> str:
    from grading.cli import LINUX_ONLY

    return LINUX_ONLY.format(system="darwin")


# ---- the parser ------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "FROM debian\nrun echo\n",  # lower case
    "FROM debian\nMAINTAINER me\n",  # deprecated
    "FROM debian\nRUN echo \\\n",  # dangling
    "# syntax=docker/dockerfile:1\nFROM debian\n",  # a parser directive changes how the rest is read
    "FROM debian\nCOPIES . /x\n",
])
def test_the_parser_is_strict(text):
    with pytest.raises(DockerfileError):
        instructions(text)


def test_the_parser_joins_continuations_and_skips_comments_inside_them():
    assert instructions("FROM d\nRUN a \\\n  # said\n    && b\n") == [("FROM", "d"), ("RUN", "a && b")]


# ---- the Dockerfile --------------------------------------------------------------------------

def test_the_dockerfile_is_one_stage_from_a_pinned_debian_bookworm():
    assert STEPS[0][0] == "FROM"
    base = only("FROM")
    # a dated tag of Debian's official image is never moved to another build
    assert re.fullmatch(r"debian:bookworm-\d{8}-slim(@sha256:[0-9a-f]{64})?", base), base


def test_the_system_packages_are_those_the_readme_and_ci_install():
    readme = re.search(r"`apt-get install ([a-z0-9 .+-]+)`", README).group(1).split()
    ci = re.search(r"for package in ([a-z0-9 .+-]+); do", (ROOT / ".ci/run").read_text()).group(1).split()
    assert {"bubblewrap", "python3-seccomp"} <= set(readme) & set(ci)
    (install,) = [r for r in runs() if "apt-get install" in r]
    packages = set(install.split("apt-get install", 1)[1].split("&&")[0].split()) - {"-y", "--no-install-recommends"}
    assert set(readme) <= packages and {"python3", "python3-venv"} <= packages
    assert "apt-get update" in install.split("apt-get install")[0]  # in the same layer: never a stale list


def test_torch_is_the_readmes_pin_from_the_cpu_index_then_the_kit():
    readme_pins = set(re.findall(r"pip install -q (torch==[0-9.]+)", README))
    assert readme_pins == {platforms.TORCH}  # the learner's, CI's and the export's pin are one
    assert f"ARG TORCH_INDEX={platforms.TORCH_CPU_INDEX}" in [f"{k} {a}" for k, a in STEPS]
    order = runs()
    torch_step = next(i for i, r in enumerate(order) if platforms.TORCH in r)
    assert f'pip install --no-cache-dir {platforms.TORCH} --index-url "$TORCH_INDEX"' in order[torch_step]
    assert re.findall(r"torch==[0-9.]+", DOCKERFILE) == [platforms.TORCH]
    kit_step = next(i for i, r in enumerate(order) if "pip install --no-cache-dir /tmp/backprop-kit" in r)
    assert torch_step < kit_step  # torch first: the kit's torch>=2.1 is then already met
    assert "python3 -m venv /opt/backprop-kit" in order[torch_step]
    assert env()["PATH"].startswith("/opt/backprop-kit/bin:")


def test_the_image_runs_kit_and_keeps_the_seed_and_cache_in_state():
    entrypoint = json_form("ENTRYPOINT")
    assert entrypoint[:2] == ["/bin/sh", "-c"] and entrypoint[3:] == ["kit"]  # "$0" is kit, "$@" the CMD
    assert entrypoint[2].endswith('exec kit "$@"') and "mountpoint -q /state" in entrypoint[2]
    assert json_form("CMD") == ["grade", "/class", "--out", "/out/grades"]
    assert env()["XDG_CONFIG_HOME"].startswith("/state/") and env()["XDG_CACHE_HOME"].startswith("/state/")
    assert not any(k in ("USER", "VOLUME") for k, _ in STEPS)  # root: a user per student; /state: the user's own


def test_the_build_context_is_the_kit_and_nothing_else():
    """Docker's .dockerignore: the last pattern that matches decides. The class, the grade book
    and the seed's folder, as the command names them, never reach the image."""
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert patterns[0] == "*"

    def sent(name: str) -> bool:
        verdict = True
        for pattern in patterns:
            if fnmatch.fnmatchcase(name, pattern.removeprefix("!")):
                verdict = pattern.startswith("!")
        return verdict

    names = set(os.listdir(ROOT)) | {"submissions", "out", "grading-state", "solutions", ".git", ".venv"}
    assert {name for name in names if sent(name)} == CONTEXT
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["readme"] in CONTEXT
    assert {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]} <= CONTEXT
    assert ("COPY", ". /tmp/backprop-kit") in STEPS


def test_the_seccomp_bindings_are_found_from_a_plain_venv_as_in_the_image():
    """The image's venv, like .ci/run's, does not see Debian's dist-packages; the kit loads
    python3-seccomp's module from there by its file (grading/syscall_filter.py)."""
    from grading import syscall_filter

    if not list(Path(syscall_filter.DIST_PACKAGES).glob("seccomp*.so")):
        pytest.skip("python3-seccomp is not installed here (apt-get install python3-seccomp)")
    assert not any("--system-site-packages" in r for r in runs())
    assert syscall_filter.seccomp_module() is not None


# ---- the entrypoint's script, run here -------------------------------------------------------

def entrypoint(tmp_path: Path, mounted: bool) -> subprocess.CompletedProcess:
    """The ENTRYPOINT's script with the CMD, in bubblewrap: a root of the system's /usr, a /state
    that is a mount or only a folder, and a `kit` that says what it was given."""
    from grading.isolation import Setting

    bwrap = shutil.which("bwrap")
    if not bwrap or not Setting.detect().bwrap:
        pytest.skip("bubblewrap cannot make namespaces on this machine")
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    (fake / "kit").write_text('#!/bin/sh\necho "kit was given: $*"\n')
    (fake / "kit").chmod(0o755)
    (tmp_path / "state").mkdir(exist_ok=True)
    root = [bwrap, "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev", "--ro-bind", str(fake), "/fake"]
    for link in ("bin", "lib", "lib64", "sbin"):
        if Path(f"/{link}").is_symlink():
            root += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
    root += ["--bind", str(tmp_path / "state"), "/state"] if mounted else ["--dir", "/state"]
    script = json_form("ENTRYPOINT")
    return subprocess.run([*root, "--setenv", "PATH", "/fake:/usr/bin:/bin", "--", *script, *json_form("CMD")],
                          capture_output=True, text=True, timeout=60)


def test_the_entrypoint_refuses_without_a_folder_at_state(tmp_path):
    done = entrypoint(tmp_path, mounted=False)
    assert done.returncode == 2 and done.stdout == ""
    assert '-v "$PWD/grading-state:/state"' in done.stderr and "grading seed" in done.stderr


def test_the_entrypoint_runs_kit_with_the_cmd_when_state_is_mounted(tmp_path):
    done = entrypoint(tmp_path, mounted=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "kit was given: grade /class --out /out/grades\n"


# ---- the command -----------------------------------------------------------------------------

def test_the_message_the_readme_and_the_dockerfile_name_one_command():
    assert the_command(linux_only()) == the_command(README) == the_command(DOCKERFILE)
    assert f"\n\n{the_command(linux_only())}\n\n" in linux_only()  # on a line of its own, to copy


def test_the_command_builds_the_image_it_runs_with_the_mounts_the_image_expects():
    build, run = command()
    assert build[:3] == ["docker", "build", "-t"] and build[4:] == ["."]
    image = build[3]
    assert run[:4] == ["docker", "run", "--rm", "--network"] and run[4] == "none"
    at = run.index(image)
    options, after = run[5:at], run[at + 1:]
    assert after == json_form("CMD")  # what the image would run anyway, said in full
    flags = [f"{a} {b}" for a, b in zip(options[::2], options[1::2])]
    mounts = {b.split(":")[1]: b for a, b in zip(options[::2], options[1::2]) if a == "-v"}
    assert [f for f in flags if not f.startswith("-v ")] == FLAGS and "--privileged" not in run
    assert mounts == {"/class": "$PWD/submissions:/class:ro", "/state": "$PWD/grading-state:/state",
                      "/out": "$PWD/out:/out"}
    said = "\n".join(line for line in DOCKERFILE.splitlines() if line.startswith("#") and "docker run" not in line)
    for reason in ("CAP_SYS_ADMIN", "CAP_NET_ADMIN", "pivot_root", "AppArmor", "--network none", "--privileged"):
        assert reason in said  # the header says why each flag, and why not --privileged


def test_outside_linux_kit_grade_prints_the_command(monkeypatch, capsys, tmp_path):
    from kit.cli import main

    monkeypatch.setattr("sys.platform", "darwin")
    assert main(["grade", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert f"\n{the_command(linux_only())}\n" in capsys.readouterr().err


# ---- built and run (KIT_CONTAINER_TEST=1) -------------------------------------------------------

def engine(tmp_path: Path) -> tuple[str, list[str], list[str]] | None:
    """(the program, what its build needs on this machine, what its run needs), or None."""
    if shutil.which("podman"):
        build = ["--isolation", "chroot", *pip_of_this_machine(tmp_path)]  # RUN steps need no OCI runtime
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        hard = 1 << 20 if hard == resource.RLIM_INFINITY else hard
        run = ["--ulimit", f"nofile={hard}:{hard}", "--ulimit", "nproc=4096:4096"]  # podman's exceed ours
        if Path("/sys/fs/cgroup/unified").is_dir() and shutil.which("runc"):
            run += ["--runtime", "runc"]  # crun refuses cgroups in hybrid mode
        return "podman", build, run
    if shutil.which("docker") and subprocess.run(["docker", "info"], capture_output=True).returncode == 0:
        return "docker", [], []
    return None


def base_image(program: str) -> None:
    """The FROM image: already there, or made from Debian's packages by debootstrap (as Debian's own
    images are) where the registry cannot be reached, as from the kit's machines."""
    base = "docker.io/library/" + only("FROM")
    if program != "podman" or subprocess.run([program, "image", "exists", base]).returncode == 0:
        return  # there, or Docker's build pulls it
    if not shutil.which("debootstrap") or os.geteuid() != 0:
        return  # podman's build pulls it
    rootfs = Path(f"/tmp/kit-container-test-rootfs-{os.getpid()}")
    try:
        subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(rootfs), "http://deb.debian.org/debian"],
                       check=True, capture_output=True, timeout=900)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        subprocess.run([program, "import", "-", base], stdin=tar.stdout, check=True, capture_output=True, timeout=600)
        tar.wait()
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)


def pip_of_this_machine(tmp_path: Path) -> list[str]:
    """Build options that give pip in the image what pip has here: where this machine keeps
    wheels (torch's CPU build among them) and the certificates of its way to PyPI: volumes of the
    build, of which the image keeps only empty mount points."""
    links = os.environ.get("PIP_FIND_LINKS")
    if not links:
        return []
    config = ["[global]", f"find-links = {links}", "extra-index-url = https://pypi.org/simple"]
    options = ["--build-arg", "TORCH_INDEX=https://pypi.org/simple"]  # the CPU wheel comes from find-links
    for folder in links.split():
        options += ["-v", f"{folder}:{folder}:ro"]
    if os.environ.get("PIP_CERT"):
        config.append("cert = /etc/kit-test-ca.crt")
        options += ["-v", f"{os.environ['PIP_CERT']}:/etc/kit-test-ca.crt:ro"]
    (tmp_path / "pip.conf").write_text("\n".join(config) + "\n")
    return options + ["-v", f"{tmp_path / 'pip.conf'}:/etc/pip.conf:ro", "--network", "host"]


@pytest.mark.skipif(os.environ.get("KIT_CONTAINER_TEST") != "1",
                    reason="builds the image and grades in it (~4 min, ~1 min once built): set KIT_CONTAINER_TEST=1 "
                           "where podman (apt-get install podman) or Docker runs")
def test_the_image_builds_and_grades_the_sample_class_alike_twice(tmp_path):
    found = engine(tmp_path)
    if found is None:
        pytest.skip("neither podman nor a Docker daemon is on this machine")
    program, build_needs, run_needs = found
    base_image(program)
    build, run = command()
    build = [program, *build[1:2], *build_needs, *build[2:]]
    done = subprocess.run(build, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    here = tmp_path / "course"
    shutil.copytree(ROOT / "grading" / "sample_class", here / "submissions")
    for folder in ("out", "grading-state"):  # podman, unlike Docker, makes no missing folder
        (here / folder).mkdir()
    run = [program, run[1], *run_needs, *run[2:], "--only", "1-2"]
    line = " ".join(a if a.startswith("$PWD") else shlex.quote(a) for a in run)  # "$PWD/...": the shell's
    first = subprocess.run(["bash", "-c", line.replace("$PWD", '"$PWD"')], cwd=here, capture_output=True, text=True,
                           timeout=900)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "namespaces (bubblewrap): yes" in first.stderr and "made a new grading seed" in first.stderr
    assert (here / "grading-state/config/backprop-kit/grading-seed").is_file()
    grades = (here / "out/grades/grades.csv").read_text()
    again = subprocess.run(["bash", "-c", line.replace("$PWD", '"$PWD"') + " --force"], cwd=here,
                           capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "made a new grading seed" not in again.stderr  # the seed, and the inputs, kept in ./grading-state
    assert (here / "out/grades/grades.csv").read_text() == grades  # the same seed: the same grades
    assert grades.splitlines()[1].startswith("ada,4,4,")  # the sample class's right answers

    without = line.replace(" -v $PWD/grading-state:/state", "")
    assert without != line
    refused = subprocess.run(["bash", "-c", without.replace("$PWD", '"$PWD"')], cwd=here, capture_output=True,
                             text=True, timeout=300)
    assert refused.returncode == 2 and "mount a folder of yours at /state" in refused.stderr

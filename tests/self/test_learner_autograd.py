"""The learner's run checks autograd as grading does (kit/autograd/learner.py): the same scan, the same block.

An answer that uses torch's autograd fails the learner's own run with the grader's status,
"autograd", and the grader's sentence, followed by why it would score zero when graded; a right
answer (the solutions, chapter 7's own engine) is never flagged, and the kit's own references
keep using torch.autograd between the learner's calls.

- misuses: submissions made of solutions/ with one function replaced, checked in this process
  as `pytest --impl` checks them (kit.check.check on an Implementation), each found by the scan,
  by the block (what the scan cannot see), caught by the code, or on import;
- the gate against the grader's block: every route of tests/self/test_autograd_block.py, and
  every by-hand operation there, inside `learner_code()` (each in a forked child);
- the grader: the same submissions graded with `kit grade` give the same status and sentence;
- the child's sources (grading/isolation.py: CHILD_MODULES), and a grading child, unchanged.
"""
from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from hypothesis import settings

from kit.autograd import block, learner
from kit.autograd.learner import findings
from kit.check import ExerciseFailure, check
from kit.implementation import Implementation
from kit.messages import sandbox as said
from kit.registry import EXERCISES
from kit.statuses import Status

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
FAST = settings(settings.get_profile("grading"), max_examples=10)

sys.path.insert(0, str(Path(__file__).parent))  # the grader's routes and operations, shared
import test_autograd_block as grader_block  # noqa: E402


@dataclass(frozen=True)
class Misuse:
    module: str
    code: str  # appended to the solution's module: its definitions replace the solution's
    failing: tuple[str, ...]  # the exercises (names) that fail, every other passes
    found: str  # "scan", "block" (what the scan cannot see), "caught" (the code caught the error), "import"


# torch as a value, strings the scan cannot evaluate: only the block sees these
BYTES_BACKWARD = "bytes([98, 97, 99, 107, 119, 97, 114, 100]).decode()"
BYTES_REQUIRES_GRAD = "bytes([114, 101, 113, 117, 105, 114, 101, 115, 95, 103, 114, 97, 100]).decode()"

MISUSES = {
    "x.backward()": Misuse("ch6_functions", """
        def sigmoid_grad(x):
            t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            torch.sigmoid(t).backward()
            return t.grad.item()
        """, ("sigmoid_grad",), "scan"),
    "torch.autograd.grad": Misuse("ch6_functions", """
        def sigmoid_grad(x):
            t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            return torch.autograd.grad(torch.sigmoid(t), t)[0].item()
        """, ("sigmoid_grad",), "scan"),
    "requires_grad set with setattr, backward by getattr": Misuse("ch6_functions", """
        def sigmoid_grad(x):
            t = torch.tensor(x, dtype=torch.float64)
            setattr(t, "requires" + "_grad", True)
            getattr(torch.sigmoid(t), "back" "ward")()
            return t.grad.item()
        """, ("sigmoid_grad",), "scan"),
    "requires_grad_ by getattr": Misuse("ch6_functions", """
        def relu_grad(x):
            t = getattr(torch.tensor(x, dtype=torch.float64), "".join(["requires", "_grad_"]))()
            (g,) = torch.autograd.grad(torch.relu(t), t)
            return g.item()
        """, ("relu_grad",), "scan"),
    "torch.func.grad": Misuse("ch6_functions", """
        def sigmoid_grad(x):
            return torch.func.grad(torch.sigmoid)(torch.tensor(x, dtype=torch.float64)).item()
        """, ("sigmoid_grad",), "scan"),
    "from torch.func import grad as slope": Misuse("ch6_functions", """
        from torch.func import grad as slope

        def log_grad(x):
            return slope(torch.log)(torch.tensor(x, dtype=torch.float64)).item()
        """, ("log_grad",), "scan"),
    "import torch.autograd as ag": Misuse("ch6_functions", """
        import torch.autograd as ag

        def sigmoid_backward(x, upstream):
            x = x.detach().requires_grad_()
            return ag.grad(torch.sigmoid(x), x, upstream)[0]
        """, ("sigmoid_backward",), "scan"),
    "a hook on the input": Misuse("ch6_functions", """
        def sigmoid_grad(x):
            t = torch.tensor(x, dtype=torch.float64).requires_grad_()
            seen = []
            t.register_hook(lambda g: seen.append(g.item()))
            torch.sigmoid(t).backward()
            return seen[0]
        """, ("sigmoid_grad",), "scan"),
    "exec of a string": Misuse("ch6_functions", """
        def sigmoid_grad(x):
            space = {"torch": torch, "x": x}
            exec("t = torch.tensor(x, dtype=torch.float64, requires_grad=True)\\n"
                 "torch.sigmoid(t).backward()\\ng = t.grad.item()", space)
            return space["g"]
        """, ("sigmoid_grad",), "scan"),
    "eval of a string built from pieces": Misuse("ch6_functions", """
        def relu_grad(x):
            t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            return eval("torch." + "auto" + "grad.grad(torch.relu(t), t)")[0].item()
        """, ("relu_grad",), "scan"),
    "__import__ and sys.modules": Misuse("ch6_functions", """
        import sys

        def sigmoid_grad(x):
            t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            grad = __import__("torch.autograd", fromlist=["grad"]).grad
            return grad(torch.sigmoid(t), t)[0].item()

        def log_grad(x):
            t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            return sys.modules["torch"].autograd.grad(torch.log(t), t)[0].item()
        """, ("sigmoid_grad", "log_grad"), "scan"),
    "importlib.import_module and vars()": Misuse("ch6_functions", """
        import importlib

        def sigmoid_grad(x):
            return importlib.import_module("torch.func").grad(torch.sigmoid)(torch.tensor(x)).item()

        def scale_grad(a, x):
            t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            return vars(torch)["auto" + "grad"].grad(a * t, t)[0].item()
        """, ("sigmoid_grad", "scale_grad"), "scan"),
    "a helper that uses autograd": Misuse("ch6_functions", """
        def _derivative(f, x):
            t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            f(t).backward()
            return t.grad.item()

        def sigmoid_grad(x):
            return _derivative(torch.sigmoid, x)
        """, ("sigmoid_grad",), "scan"),
    "enable_grad and a Parameter": Misuse("ch6_functions", """
        def log_grad(x):
            p = torch.nn.Parameter(torch.tensor(x, dtype=torch.float64))
            with torch.enable_grad():
                torch.log(p).backward()
            return p.grad.item()
        """, ("log_grad",), "scan"),
    "autograd.functional and forward AD": Misuse("ch6_functions", """
        import torch.autograd.forward_ad as fwAD

        def dot_self_grad(x):
            return torch.autograd.functional.jacobian(lambda v: v @ v, x)

        def sigmoid_grad(x):
            with fwAD.dual_level():
                dual = fwAD.make_dual(torch.tensor(x, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))
                return fwAD.unpack_dual(torch.sigmoid(dual)).tangent.item()
        """, ("dot_self_grad", "sigmoid_grad"), "scan"),
    # what the scan does not follow (kit/autograd/scan: "What the scan does not follow")
    "torch passed as a value": Misuse("ch6_functions", """
        def _slope(t, f, x):
            return t.func.grad(f)(t.tensor(x, dtype=t.float64)).item()

        def sigmoid_grad(x):
            return _slope(torch, torch.sigmoid, x)
        """, ("sigmoid_grad",), "block"),
    "names the scan cannot spell": Misuse("ch6_functions", f"""
        def sigmoid_grad(x):
            t = torch.tensor(x, dtype=torch.float64, **{{{BYTES_REQUIRES_GRAD}: True}})
            getattr(torch.sigmoid(t), {BYTES_BACKWARD})()
            return t.grad.item()
        """, ("sigmoid_grad",), "block"),
    "a derivative operator": Misuse("ch6_functions", """
        def sigmoid_backward(x, upstream):
            return torch.ops.aten.sigmoid_backward(upstream, torch.sigmoid(x))
        """, ("sigmoid_backward",), "block"),
    "a thread (it would start with grad mode on)": Misuse("ch6_functions", """
        import threading

        def relu_grad(x):
            found = []
            worker = threading.Thread(target=lambda: found.append(1.0 if x > 0 else 0.0))
            worker.start()
            worker.join()
            return found[0]
        """, ("relu_grad",), "block"),
    "an error caught": Misuse("ch6_functions", """
        def _slope(t, f, x):
            return t.func.grad(f)(t.tensor(x, dtype=t.float64)).item()

        def relu_grad(x):
            try:
                return _slope(torch, torch.relu, x)
            except Exception:
                return 1.0 if x > 0 else 0.0
        """, ("relu_grad",), "caught"),
    "on import, seen by the scan": Misuse("ch3_power_rule", """
        import torch

        torch.ones(1, requires_grad=True).sum().backward()
        """, ("square_grad", "power_grad"), "scan"),
    "on import, seen by the block": Misuse("ch3_power_rule", """
        import torch

        def _warm(t):
            t.func.grad(lambda v: (v * v).sum())(t.ones(1))

        _warm(torch)
        """, ("square_grad", "power_grad"), "import"),
    "chapter 1 with torch.func": Misuse("ch1_sensitivity", """
        import torch

        def scale_sensitivity(x, k):
            return torch.func.grad(lambda t: k * t)(torch.tensor(x, dtype=torch.float64)).item()
        """, ("scale_sensitivity",), "scan"),
    "chapter 7: an operation's local derivative by torch": Misuse("ch7_engine", """
        import torch

        class Value(Value):
            def exp(self):
                t = torch.tensor(self.data, dtype=torch.float64, requires_grad=True)
                y = t.exp()
                out = Value(y.item(), (self,))

                def _backward():
                    (g,) = torch.autograd.grad(y, t, retain_graph=True)
                    self.grad += out.grad * g.item()
                out._backward = _backward
                return out
        """, ("exp", "backward"), "scan"),  # backward's graphs use every operation
    "chapter 8: tanh_backward by backward()": Misuse("ch8_tensors", """
        def tanh_backward(x, upstream):
            x = x.detach().requires_grad_()
            torch.tanh(x).backward(upstream)
            return x.grad
        """, ("tanh_backward",), "scan"),
    "chapter 8: torch's own softmax backward": Misuse("ch8_tensors", """
        def softmax_backward(x, upstream):
            return torch._softmax_backward_data(upstream, softmax(x), -1, x.dtype)
        """, ("softmax_backward",), "block"),
    "chapter 9: gradients by loss.backward()": Misuse("ch9_training", """
        def sgd_step(params, x, targets, lr):
            leaves = {k: v.detach().clone().requires_grad_() for k, v in params.items()}
            hidden = (x @ leaves["W1"].T + leaves["b1"]).clamp(min=0.0)
            loss = torch.nn.functional.cross_entropy(hidden @ leaves["W2"].T + leaves["b2"], targets)
            loss.backward()
            return loss.item(), {k: params[k] - lr * leaves[k].grad for k in params}
        """, ("sgd_step", "train"), "scan"),
}


def submission(folder: Path, module: str, code: str) -> Path:
    """solutions/ with `code` appended to `module`: a learner's folder with one function replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in SOLUTIONS.glob("*.py"):
        shutil.copy(path, folder / path.name)
    source = (folder / f"{module}.py").read_text() + "\n\n" + textwrap.dedent(code)
    ast.parse(source)
    (folder / f"{module}.py").write_text(source)
    return folder


def learner_run(folder: Path, module: str) -> dict[str, ExerciseFailure | None]:
    """{exercise name: its failure, or None when it passes} for the module, as `pytest --impl` runs it."""
    impl = Implementation(folder, time_limit=30)
    found: dict[str, ExerciseFailure | None] = {}
    for exercise in EXERCISES.values():
        if exercise.module == module:
            try:
                check(exercise, impl, FAST)
                found[exercise.name] = None
            except ExerciseFailure as failure:
                found[exercise.name] = failure
    return found


def expected_message(misuse: Misuse, exercise_id: str, message: str) -> None:
    """The grader's sentence for how the use was found, then AS_GRADED."""
    assert message.endswith("\n" + said.AS_GRADED), message
    grader = message[: -len(said.AS_GRADED) - 1]
    if misuse.found == "scan":
        assert grader.startswith(f"{exercise_id}: ") and " uses autograd at line " in grader, grader
        assert grader.endswith("Exercises derive gradients by hand; code that uses autograd scores zero."), grader
    elif misuse.found == "block":
        head = said.USED_AUTOGRAD.split("\n")[0].format(exercise=exercise_id)
        assert grader.startswith(head + "\n"), grader
        assert "AutogradBlocked: " in grader and f"{misuse.module}.py\", line" in grader, grader
    elif misuse.found == "caught":
        assert grader == said.USED_AUTOGRAD.format(exercise=exercise_id, text=said.CAUGHT_AUTOGRAD), grader
    else:
        assert grader.startswith(f"{misuse.module}.py: importing it, {misuse.module}.py could not be imported:"), grader
        assert "AutogradBlocked: " in grader, grader


@pytest.mark.parametrize("name", MISUSES)
def test_a_misuse_fails_the_learners_run_as_it_scores_zero_when_graded(tmp_path, name):
    misuse = MISUSES[name]
    folder = submission(tmp_path / "learner", misuse.module, misuse.code)
    if misuse.found == "scan":
        assert {e.split(".")[1] for e in findings(folder)} == set(misuse.failing)
    else:
        assert findings(folder) == {}, "the scan sees it: not a case for the block"
    results = learner_run(folder, misuse.module)
    failed = {name for name, failure in results.items() if failure is not None}
    assert failed == set(misuse.failing), {n: f.message for n, f in results.items() if f is not None}
    for exercise_name in misuse.failing:
        failure = results[exercise_name]
        assert failure.status == Status.AUTOGRAD, failure.message
        expected_message(misuse, f"{misuse.module}.{exercise_name}", failure.message)
    # and the kit's own torch.autograd, outside the learner's code, as before
    assert torch.is_grad_enabled() and torch._C._is_fwd_grad_enabled()  # both back on
    x = torch.tensor([0.5, 2.0], dtype=torch.float64, requires_grad=True)
    assert torch.allclose(torch.autograd.grad((x * x).sum(), x)[0], 2 * x.detach())


def test_the_kits_references_work_between_the_learners_calls(tmp_path):
    """Each exercise's reference is torch.autograd, computed right before the learner's call."""
    folder = submission(tmp_path / "learner", "ch6_functions", MISUSES["torch passed as a value"].code)
    impl = Implementation(folder)
    exercise = EXERCISES["ch6_functions.sigmoid_grad"]
    for x in (0.0, 1.5, -3.0):
        assert exercise.reference(x) == pytest.approx(torch.sigmoid(torch.tensor(x)).item() * (
            1 - torch.sigmoid(torch.tensor(x)).item()))
        with pytest.raises(Exception) as refused:
            impl.call(exercise, (x,))
        assert refused.value.status == Status.AUTOGRAD
        assert torch.is_grad_enabled()


# ---- right answers are never flagged ------------------------------------------------------------

RIGHT = {
    "chapter 7: an engine whose own names are torch's": ("ch7_engine", """
        Value.requires_grad = True  # a class attribute named like torch's, on the learner's own class
        _by_hand = Value.backward

        def backward(self, retain_graph=False):  # its own backward, with torch's keyword
            self.grad_fn = "root"
            self.next_functions = ()
            return _by_hand(self)

        Value.backward = backward

        def zero_grad(self):
            self.grad = 0.0

        setattr(Value, "zero_grad", zero_grad)
        """),
    "no_grad, detach, inference_mode, reading requires_grad": ("ch6_functions", """
        def sigmoid_backward(x, upstream):
            with torch.no_grad():
                s = torch.sigmoid(x.detach())
            if x.requires_grad or s.grad_fn is not None:
                raise AssertionError("no graph here")
            return upstream * s * (1 - s)

        @torch.inference_mode()
        def relu_backward(x, upstream):
            return upstream * (x > 0)

        def log_backward(x, upstream):
            with torch.set_grad_enabled(False):
                return upstream / x
        """),
    "the words in strings, comments and names": ("ch6_functions", """
        def sigmoid_grad(x):
            backward = "not torch's backward()"  # torch.autograd.grad is what this replaces
            step = {"requires_grad": True, "grad_fn": backward}
            s = sigmoid(x)
            return s * (1 - s) if step else 0.0
        """),
}


@pytest.mark.parametrize("name", RIGHT)
def test_a_right_answer_is_never_flagged(tmp_path, name):
    module, code = RIGHT[name]
    folder = submission(tmp_path / "learner", module, code)
    assert findings(folder) == {}
    results = learner_run(folder, module)
    assert {n: f.message for n, f in results.items() if f is not None} == {}


def test_the_scan_finds_nothing_in_the_solutions_the_variants_and_the_stubs():
    for folder in (SOLUTIONS, ROOT / "tests" / "self" / "variants", ROOT / "exercises"):
        assert findings(folder) == {}, folder


def test_the_scan_is_read_again_when_a_module_changes(tmp_path):
    folder = submission(tmp_path / "learner", "ch6_functions", "")
    assert findings(folder) == {}
    path = folder / "ch6_functions.py"
    path.write_text(path.read_text() + textwrap.dedent(MISUSES["x.backward()"].code))
    assert set(findings(folder)) == {"ch6_functions.sigmoid_grad"}


def test_the_learners_pytest_run_says_it(tmp_path):
    """`pytest --impl FOLDER`, as a learner runs it: the failure, its sentence, the progress."""
    folder = submission(tmp_path / "learner", "ch6_functions", MISUSES["x.backward()"].code
                        + MISUSES["a derivative operator"].code)
    done = subprocess.run([sys.executable, "-m", "pytest", "--impl", str(folder), "tests/test_ch6_functions.py",
                           "-p", "no:cacheprovider", "--html=/dev/null"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2 failed, 9 passed" in done.stdout, done.stdout
    for exercise in ("sigmoid_grad", "sigmoid_backward"):
        assert f"FAILED tests/test_ch6_functions.py::test_exercise[ch6_functions.{exercise}]" in done.stdout
    assert done.stdout.count(said.AS_GRADED) == 2, done.stdout
    assert "ch6_functions.sigmoid_grad: sigmoid_grad uses autograd at line" in done.stdout
    assert "ch6_functions.sigmoid_backward: the code called torch's autograd while it ran." in done.stdout


# ---- the gate against the grader's block ----------------------------------------------------------

GATED_CASE = """
import json, sys
import torch, numpy
from kit.autograd import block as ab
x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)
{setup}
ab.install_gate()
mark = ab.uses()
def route():
{route}
with ab.learner_code():
    try:
        value = route()
        outcome = "returned"
    except BaseException as error:  # the learner's code catches whatever it raises
        outcome, value = type(error).__name__, None
used = ab.uses() != mark
grad_mode = torch.is_grad_enabled()
try:
    after = torch.autograd.grad((x * x).sum(), x)[0].tolist()  # the kit's reference, after the learner's code
except BaseException as error:
    after = type(error).__name__
print("VERDICT " + json.dumps({{"outcome": outcome, "used": used, "value": repr(value)[:300],
                               "grad_mode": grad_mode, "after": after}}))
"""

# where the learner's run and the grader's block differ, on purpose: route -> (outcome, used)
LEARNER_DIFFERS = {
    "sys.settrace": ("returned", False),  # a debugger works in the learner's run (process.LEARNER_ALLOWED)
    "block() called again": ("RuntimeError", False),  # block() refuses after install_gate(): nothing to free
}
# the same verdict, for another reason: no Landlock under the gate, so the execve happens; the route
# raises PermissionError itself, with what the new program said (nothing)
SAME_VERDICT_OTHER_REASON = {grader_block.KERNEL_ONLY}
# routes that leave the process changed for good (torch's modules reloaded, sys.audit replaced, a
# dual level or the Python dispatcher left on): the kit's reference afterwards is not the point there
LEAVES_TORCH_CHANGED = {"importlib.reload of torch.autograd's Python modules", "torch.autograd.graph imported afresh",
                        "a dual tensor made before block()", "the Python dispatcher (Python kernels)",
                        "sys.audit replaced: still refused, but not counted", "forward_ad.dual_level",
                        "torch._C._enter_dual_level", "the predispatch copy of _enter_dual_level",
                        "torch._C._InferenceMode(False)", "reloading autograd_block to reset its count"}


@pytest.fixture(scope="module")
def zygote():
    z = grader_block.Zygote()
    yield z
    z.close()


@pytest.mark.parametrize("name", list(grader_block.ROUTES))
def test_a_route_the_grader_closes_is_closed_in_learner_code(zygote, name):
    setup, route, expected = grader_block.ROUTES[name]
    code = GATED_CASE.format(setup=textwrap.dedent(setup),
                             route=textwrap.indent(textwrap.dedent(route), "    "))
    found = grader_block.verdict(zygote, code)
    assert (found["outcome"], found["used"]) == LEARNER_DIFFERS.get(name, expected), found
    assert found["grad_mode"] is True, found
    if name not in LEAVES_TORCH_CHANGED:
        assert found["after"] == [1.0, -2.5, 4.0], found


LEGIT_GATED = r'''
import base64, json, pickle
from kit.autograd import block as ab
''' + grader_block.LEGIT + r'''
before = run_all()
ab.install_gate()
outside = run_all()
with ab.learner_code():
    inside = run_all()
after = run_all()
report = {}
for name in OPS:
    values = [before[name], outside[name], inside[name], after[name]]
    if any(isinstance(v, str) for v in values):
        report[name] = "failed: " + "; ".join(v if isinstance(v, str) else "ok" for v in values)
    elif all(torch.equal(values[0], v) and values[0].dtype == v.dtype for v in values) and inside[name].grad_fn is None:
        report[name] = "same"
    else:
        report[name] = f"different: {values!r}"[:400]
report["uses() stays 0"] = "same" if ab.uses() == 0 else f"uses() is {ab.uses()}"
print("VERDICT " + json.dumps(report))
'''


@pytest.fixture(scope="module")
def legit_report(zygote):
    return grader_block.verdict(zygote, LEGIT_GATED)


@pytest.mark.parametrize("name", grader_block.LEGIT_NAMES)
def test_a_by_hand_operation_gives_the_same_numbers_in_learner_code(legit_report, name):
    assert legit_report[name] == "same"


def test_the_block_applies_to_the_learners_thread_only(zygote):
    """Another thread (the kit's, pytest's) keeps torch's autograd while the learner's code runs."""
    found = grader_block.verdict(zygote, """
import json, threading, torch
from kit.autograd import block as ab
ab.install_gate()
x = torch.tensor([1.0, 3.0], dtype=torch.float64, requires_grad=True)
go, done, seen = threading.Event(), threading.Event(), {}
def reference():
    go.wait()
    seen["other thread"] = torch.autograd.grad((x * x).sum(), x)[0].tolist()
    done.set()
worker = threading.Thread(target=reference)
worker.start()  # (outside learner code)
with ab.learner_code():
    mark = ab.uses()
    go.set()
    done.wait(60)
    seen["other thread used"] = ab.uses() != mark
    try:
        torch.autograd.grad((x * x).sum(), x)
        seen["learner"] = "returned"
    except ab.AutogradBlocked:
        seen["learner"] = "refused"
worker.join()
print("VERDICT " + json.dumps(seen))
""")
    assert found == {"other thread": [2.0, 6.0], "other thread used": False, "learner": "refused"}


def test_a_grading_child_is_unchanged(zygote, tmp_path):
    """After block() (a grading child), the hooks only call through: the LearnerError is the
    kit's (status error), and uses() counts the use, as grading/child.py reads them."""
    folder = submission(tmp_path / "child", "ch6_functions", MISUSES["torch passed as a value"].code)
    found = grader_block.verdict(zygote, f"""
import json
from pathlib import Path
from kit.autograd import block as ab
from kit.implementation import Implementation, LearnerError
from kit.registry import EXERCISES
impl = Implementation(Path({str(folder)!r}))
ab.block()
mark = ab.uses()
try:
    impl.call(EXERCISES["ch6_functions.sigmoid_grad"], (0.5,))
    seen = {{"raised": None}}
except LearnerError as error:
    seen = {{"raised": error.status, "in_call": error.in_call, "blocked": "AutogradBlocked" in error.text}}
seen["used"] = ab.used_since(mark)
seen["gate"] = ab._gate is not None
seen["passes"] = impl.call(EXERCISES["ch6_functions.relu_grad"], (2.0,))[0]
print("VERDICT " + json.dumps(seen))
""")
    assert found == {"raised": "error", "in_call": True, "blocked": True, "used": True, "gate": False, "passes": 1.0}


# ---- the grader: the same status and sentence --------------------------------------------------------

GRADED = ("x.backward()", "a derivative operator", "an error caught", "on import, seen by the block")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One student per misuse of GRADED, graded with `kit grade` (only the exercises they touch)."""
    from kit.cli import main

    root = tmp_path_factory.mktemp("graded")
    submissions = root / "class"
    for index, name in enumerate(GRADED):
        misuse = MISUSES[name]
        submission(submissions / f"s{index}", misuse.module, misuse.code)
    only = ",".join(sorted({f"{MISUSES[name].module}.{e}" for name in GRADED for e in MISUSES[name].failing}))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(root / "cache"))
        status = main(["grade", str(submissions), "--out", str(root / "out"), "--only", only, "-j", "2", "-q"])
    assert status in (0, 1)
    found = {}
    for index, name in enumerate(GRADED):
        data = json.loads((root / "out" / "students" / f"s{index}" / "results.json").read_text())
        found[name] = {test["name"]: test for test in data["tests"]}
    return root, found


@pytest.mark.parametrize("name", GRADED)
def test_the_grader_says_what_the_learners_run_says(graded, tmp_path, name):
    root, found = graded
    misuse = MISUSES[name]
    folder = submission(tmp_path / "learner", misuse.module, misuse.code)
    results = learner_run(folder, misuse.module)
    for exercise_name in misuse.failing:
        exercise_id = f"{misuse.module}.{exercise_name}"
        grade = found[name][exercise_id]
        assert grade["extra_data"]["kit_status"] == Status.AUTOGRAD == results[exercise_name].status
        mine = results[exercise_name].message.removesuffix("\n" + said.AS_GRADED)
        theirs = grade["output"]
        # the same sentence; a traceback names the student's folder as each run knows it
        assert _lines(mine, folder) == _lines(theirs, f"s{GRADED.index(name)}"), (mine, theirs)


def _lines(text: str, folder) -> list[str]:
    """The lines of a message, its file names without the folder; without the frames of files that
    are no file (a grading child shows the kit's, "<kit kit.drivers>", as its own)
    and the carets under a line."""
    return [line.replace(f'"{folder}/', '"') for line in text.splitlines()
            if not line.strip().startswith(("^", 'File "<'))]


# ---- the child's sources ----------------------------------------------------------------------------

def test_each_child_module_imports_only_what_a_child_holds_before_it():
    """grading/isolation.py: CHILD_MODULES is the exact list a child holds, in the order the zygote
    installs them (grading/boot.py: each from its source, packages empty); what each imports
    when it is installed (its top level) is the standard library, torch, numpy, seccomp or a
    module listed before it. (Imports inside functions run later, and only where they can:
    kit/autograd/learner.py imports the scan in a learner's run only.)"""
    from grading.isolation import CHILD_MODULES, source_of

    allowed_roots = set(sys.stdlib_module_names) | {"torch", "numpy", "seccomp"}
    before = {"grading.boot"}  # the boot installs itself first (its `install`)
    for name in CHILD_MODULES:
        tree = ast.parse(source_of(name))
        for node in _top_level(tree.body):
            if isinstance(node, ast.Import):
                wanted = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
                assert node.level == 0, f"{name}: a relative import ({ast.unparse(node)})"
                wanted = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in CHILD_MODULES
                          else node.module for alias in node.names]
            else:
                continue
            for module in wanted:
                assert module.split(".")[0] in allowed_roots or module in before, \
                    f"{name} imports {module}, which a child does not hold before it ({ast.unparse(node)})"
        before.add(name)
    assert not any(m.startswith(("kit.autograd.scan", "kit.registry", "kit.chapters")) for m in CHILD_MODULES)


def _top_level(body):
    """The statements that run when a module is installed: all but those inside a function."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        yield node
        yield from _top_level([c for c in ast.iter_child_nodes(node) if isinstance(c, (ast.stmt, ast.excepthandler))])


def test_the_learner_hooks_are_the_implementations():
    """kit/implementation.py loads and runs the learner's code through kit/autograd/learner.py."""
    source = (ROOT / "kit" / "implementation.py").read_text()
    assert "@autograd.loads(LearnerError)" in source and "@autograd.calls(LearnerError)" in source
    assert source.count("autograd.run(") == 2
    assert learner.run(torch.is_grad_enabled) is False and torch.is_grad_enabled()  # off in learner code only
    assert block.blocked_for_good() is False

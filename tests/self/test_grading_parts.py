"""The grader's parts: its verdicts against kit.check in-process, the rubric, the command line,
reading submissions, finding autograd in source, and the wire between grader and submission."""
from __future__ import annotations

import csv
import io
import json
import math
import os
import zipfile
from pathlib import Path

import pytest
import torch
from hypothesis import settings

from grading import cases, generate, rubric, wire
from grading.submissions import Submission, discover, prepare
from kit.autograd import scan
from kit.check import ExerciseFailure, check
from kit.cli import main
from kit.implementation import Implementation
from kit.registry import CHAPTERS, EXERCISES

ROOT = Path(__file__).resolve().parents[2]
GRADING = settings.get_profile("grading")


def graded_settings(exercise):
    """The inputs kit grade draws for `exercise`: from the course's seed (tests/self/conftest.py)."""
    return cases.grading_settings(exercise, cases.load_seed())
SAMPLE = ROOT / "grading" / "sample_class"


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    """The drawn inputs go to a cache of this test module, not the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        yield


def grade(submissions: Path, out: Path, *options: str) -> int:
    return main(["grade", str(submissions), "--out", str(out), "-q", *options])


def grades(out: Path) -> dict[str, dict[str, str]]:
    return {row["student"]: row for row in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))}


def results(out: Path, student: str) -> dict[str, dict]:
    tests = json.loads((out / "students" / student / "results.json").read_text())["tests"]
    return {test["name"]: test for test in tests}


# ---- the grader's verdict is kit.check's -------------------------------------------------------

def chosen_variants() -> list[generate.Variant]:
    """Every variant of chapter 1, and a wrong and a right one of an exercise with tensors in its
    answer, of the engine of chapter 7, and of a tuple of tensors (chapter 8), when present."""
    everything = generate.variants()
    picked = [v for v in everything if v.module == "ch1_sensitivity"]
    for exercise in ("ch6_functions.sigmoid_backward", "ch7_engine.mul", "ch8_tensors.linear_backward"):
        for kind in ("WRONG", "RIGHT"):
            picked += [v for v in everything if v.exercise == exercise and v.kind == kind][:1]
    return picked


def test_verdicts_and_messages_are_kit_checks(tmp_path):
    picked = chosen_variants()
    submissions = tmp_path / "class"
    for variant in picked:
        generate.write_variant(submissions / variant.student, variant, with_solutions=False)
    only = ",".join(sorted({v.exercise for v in picked}))
    assert grade(submissions, tmp_path / "out", "--only", only, "--timeout", "20") == 0
    for variant in picked:
        try:
            check(EXERCISES[variant.exercise], Implementation(submissions / variant.student),
                  graded_settings(EXERCISES[variant.exercise]))
            expected, message = "passed", "passed"
        except ExerciseFailure as failure:
            expected, message = failure.status, failure.message
        found = results(tmp_path / "out", variant.student)[variant.exercise]
        assert found["extra_data"]["kit_status"] == expected, variant
        assert expected == "passed" if variant.kind == "RIGHT" else expected in ("wrong", "error"), variant
        if expected == "wrong":  # (an error's traceback names the file where it was found)
            assert found["output"] == message, found["output"]


def test_the_message_is_the_one_pytest_shows(tmp_path):
    variant = next(v for v in generate.variants(("WRONG",)) if v.module == "ch1_sensitivity")
    folder = tmp_path / "class" / "student"
    generate.write_variant(folder, variant, with_solutions=False)
    grade(tmp_path / "class", tmp_path / "out", "--only", variant.exercise)
    with pytest.raises(ExerciseFailure) as failure:
        check(EXERCISES[variant.exercise], Implementation(folder), graded_settings(EXERCISES[variant.exercise]))
    assert results(tmp_path / "out", "student")[variant.exercise]["output"] == failure.value.message


def test_an_error_shows_the_learners_frames_only_as_pytest_does(tmp_path):
    """The traceback in the grade book names the learner's lines, never the kit's own modules as a
    grading child holds them ("<kit kit.drivers>"), also for an error the kit's driver raises."""
    folder = tmp_path / "class" / "student"
    folder.mkdir(parents=True)
    (folder / "ch11_recurrence.py").write_text(
        (ROOT / "solutions" / "ch11_recurrence.py").read_text() + "\n\n"
        "def rnn_step_backward(*args):\n"
        "    return helper(args)\n\n\n"
        "def helper(x):\n"
        "    return 1 / 0\n\n\n"
        "def clip_grad_norm(grads, max_norm):\n"
        "    return grads\n")
    grade(tmp_path / "class", tmp_path / "out",
          "--only", "ch11_recurrence.rnn_step_backward,ch11_recurrence.clip_grad_norm")
    found = results(tmp_path / "out", "student")
    raised = found["ch11_recurrence.rnn_step_backward"]["output"]
    assert "return 1 / 0" in raised and "in helper" in raised and "ZeroDivisionError" in raised, raised
    given_back = found["ch11_recurrence.clip_grad_norm"]["output"]
    assert "GaveBackAnInput" in given_back and "g.clone()" in given_back, given_back
    for output in (raised, given_back):
        assert "<kit " not in output and "kit.implementation" not in output, output
    for eid, output in (("ch11_recurrence.rnn_step_backward", raised), ("ch11_recurrence.clip_grad_norm", given_back)):
        with pytest.raises(ExerciseFailure) as failure:
            check(EXERCISES[eid], Implementation(folder), graded_settings(EXERCISES[eid]))
        assert failure.value.status == found[eid]["extra_data"]["kit_status"] == "error"
        assert failure.value.message.splitlines()[-3:] == output.splitlines()[-3:]


def test_every_right_variant_keeps_full_marks_in_the_sandbox(tmp_path):
    """The kit's correct answers written differently, each graded by kit grade as a student's:
    none may lose a point to the sandbox, the autograd block or the scan."""
    right = generate.variants(("RIGHT",))
    submissions = tmp_path / "class"
    for variant in right:
        generate.write_variant(submissions / variant.student, variant, with_solutions=False)
    only = ",".join(sorted({v.exercise for v in right}))
    assert grade(submissions, tmp_path / "out", "--only", only, "--timeout", "30", "-j", "2") == 0
    for variant in right:
        found = results(tmp_path / "out", variant.student)[variant.exercise]
        assert found["extra_data"]["kit_status"] == "passed", (variant, found["output"][:500])


# ---- the rubric ------------------------------------------------------------------------------------

def test_default_rubric_covers_every_exercise():
    points = rubric.load()
    assert list(points) == list(EXERCISES)
    assert all(p >= 0 for p in points.values())


def test_rubric_points_override_chapters_override_defaults():
    first, second = list(EXERCISES)[:2]
    module = EXERCISES[first].module
    points = rubric.resolve({"chapters": {module: 3}, "points": {first: 0.5}})
    assert points[first] == 0.5
    assert points[second] == (3 if EXERCISES[second].module == module else EXERCISES[second].points)


@pytest.mark.parametrize(("text", "complaint"), [
    ('[points]\n"ch0_nothing.f" = 1\n', "unknown exercise id"),
    ('[chapters]\nch0_nothing = 1\n', "unknown chapter"),
    (f'[points]\n"{next(iter(EXERCISES))}" = -1\n', ">= 0"),
    (f'[points]\n"{next(iter(EXERCISES))}" = "two"\n', "must be a number"),
    (f'[points]\n"{next(iter(EXERCISES))}" = true\n', "must be a number"),
    (f'[points]\n"{next(iter(EXERCISES))}" = nan\n', "finite"),
    ('[bonus]\nx = 1\n', "unknown table"),
    ('[points\n', "not valid TOML"),
    ('points = 3\n', "must be a table"),
])
def test_a_bad_rubric_is_a_clear_error(tmp_path, text, complaint):
    path = tmp_path / "rubric.toml"
    path.write_text(text)
    with pytest.raises(rubric.RubricError, match=complaint):
        rubric.load(path)


def test_a_missing_rubric_is_a_clear_error(tmp_path):
    with pytest.raises(rubric.RubricError, match="cannot read"):
        rubric.load(tmp_path / "nowhere.toml")


# ---- the command line --------------------------------------------------------------------------------

def usage_error(capsys, *args: str) -> str:
    assert main(["grade", *args]) == 2
    return capsys.readouterr().err


def test_bad_usage_exits_2_with_a_message(tmp_path, capsys):
    assert "no such folder" in usage_error(capsys, str(tmp_path / "nowhere"), "--out", str(tmp_path / "o"))
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "holds no submissions" in usage_error(capsys, str(empty), "--out", str(tmp_path / "o"))
    (tmp_path / "rubric.toml").write_text("[points\n")
    assert "not valid TOML" in usage_error(capsys, str(SAMPLE), "--out", str(tmp_path / "o"),
                                           "--rubric", str(tmp_path / "rubric.toml"))
    beyond = str(len(CHAPTERS) + 1)
    assert f"no chapter {beyond}" in usage_error(capsys, str(SAMPLE), "--out", str(tmp_path / "o"), "--only", beyond)
    assert "must not be inside" in usage_error(capsys, str(SAMPLE), "--out", str(SAMPLE / "out"))
    twice = tmp_path / "twice"
    (twice / "alice").mkdir(parents=True)
    (twice / "alice.zip").write_bytes(b"")
    assert "two entries for student 'alice'" in usage_error(capsys, str(twice), "--out", str(tmp_path / "o"))
    assert not (tmp_path / "o").exists()


def test_a_full_out_is_refused_unless_forced(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("last week's grades")
    assert "is not empty" in usage_error(capsys, str(SAMPLE), "--out", str(out))
    assert (out / "precious.txt").read_text() == "last week's grades"
    assert grade(SAMPLE, out, "--force", "--only", "ch1_sensitivity.scale_sensitivity", "--timeout", "3") == 0
    assert not (out / "precious.txt").exists() and (out / "grades.csv").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_the_sample_class(tmp_path):
    """The command the README gives: the bundled class, chapters 1 and 2."""
    assert grade(SAMPLE, tmp_path / "out", "--only", "1-2", "--timeout", "3") == 0
    found = {s: row["score"] for s, row in grades(tmp_path / "out").items()}
    assert found == {"ada": "4", "grace": "3", "ken": "1", "linus": "0", "mallory": "2"}
    page = (tmp_path / "out" / "index.html").read_text()
    for student in found:
        assert f'href="students/{student}/report.html"' in page


GOLDEN = ROOT / "tests" / "self" / "golden"


def test_the_sample_class_gives_the_golden_grade_book(tmp_path):
    """grading/sample_class on a fixed seed: grades.csv and every results.json, message for message,
    as checked in under tests/self/golden/. After a deliberate change of wording or verdicts,
    rewrite them with `KIT_UPDATE_GOLDEN=1 pytest --self-tests -k golden` and read the diff."""
    seed = tmp_path / "grading-seed"
    seed.write_bytes((GOLDEN / "grading-seed").read_bytes())
    seed.chmod(0o600)
    out = tmp_path / "out"
    assert grade(SAMPLE, out, "--only", "1-2", "--timeout", "3", "--seed-file", str(seed)) == 0
    written = [out / "grades.csv", *sorted((out / "students").glob("*/results.json"))]
    for path in written:
        golden = GOLDEN / "sample_class" / path.relative_to(out)
        if os.environ.get("KIT_UPDATE_GOLDEN"):
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(path.read_text())
        assert path.read_text() == golden.read_text(), path.relative_to(out)
    expected = {p.relative_to(GOLDEN / "sample_class") for p in (GOLDEN / "sample_class").rglob("*") if p.is_file()}
    assert {p.relative_to(out) for p in written} == expected


def test_only_selects_chapters_and_exercises():
    from grading.cli import select

    modules = list(CHAPTERS)
    assert select(None) is None
    assert {EXERCISES[e].module for e in select("1-2")} == set(modules[:2])
    first = next(iter(EXERCISES))
    assert select(f"{first},{first}") == [first]
    assert {EXERCISES[e].module for e in select(modules[0])} == {modules[0]}


# ---- reading submissions ----------------------------------------------------------------------

def modules_of(tmp_path: Path, entry: Path) -> Submission:
    return prepare(Submission(entry.name.removesuffix(".zip"), entry), tmp_path.parent / f"{tmp_path.name}-clean")


def test_a_zip_is_read_one_folder_down_and_never_extracted(tmp_path):
    entry = tmp_path / "alice.zip"
    with zipfile.ZipFile(entry, "w") as z:
        z.writestr("alice/ch1_sensitivity.py", "X = 1\n")
        z.writestr("../../../escape/ch2_chain_rule.py", "X = 2\n")
        z.writestr("alice/conftest.py", "X = 3\n")
        z.writestr("alice/deeper/ch3_power_rule.py", "X = 4\n")
    sub = modules_of(tmp_path, entry)
    assert sub.problem == "" and sub.modules == ["ch1_sensitivity"] and sub.source == "alice.zip/alice/"
    assert sorted(p.name for p in sub.folder.iterdir()) == ["ch1_sensitivity.py"]
    assert not (tmp_path.parent / "escape").exists()


def test_modules_at_the_top_win_and_exercises_is_preferred(tmp_path):
    entry = tmp_path / "bob"
    for folder in ("", "exercises", "solutions"):
        (entry / folder).mkdir(parents=True, exist_ok=True)
    (entry / "exercises" / "ch1_sensitivity.py").write_text("A = 1\n")
    (entry / "solutions" / "ch1_sensitivity.py").write_text("A = 2\n")
    sub = modules_of(tmp_path, entry)
    assert sub.problem == "" and (sub.folder / "ch1_sensitivity.py").read_text() == "A = 1\n"
    (entry / "ch2_chain_rule.py").write_text("B = 1\n")
    sub = modules_of(tmp_path / "again", entry)
    assert sub.modules == ["ch2_chain_rule"] and sub.source == "bob"


def test_modules_in_several_folders_are_ambiguous(tmp_path):
    entry = tmp_path / "carol"
    for folder in ("mine", "theirs"):
        (entry / folder).mkdir(parents=True)
        (entry / folder / "ch1_sensitivity.py").write_text("A = 1\n")
    assert "several folders" in modules_of(tmp_path, entry).problem


def test_a_huge_module_or_a_broken_zip_is_a_problem_of_that_student(tmp_path):
    big = tmp_path / "dave"
    big.mkdir()
    (big / "ch1_sensitivity.py").write_text("#" * (2 << 20))
    assert "larger than" in modules_of(tmp_path, big).problem
    broken = tmp_path / "erin.zip"
    broken.write_bytes(b"not a zip")
    assert "could not be read" in modules_of(tmp_path, broken).problem
    subs, notes = discover(tmp_path)
    assert [s.student for s in subs] == ["dave", "erin"]


def test_a_symlink_is_not_followed(tmp_path):
    entry = tmp_path / "frank"
    entry.mkdir()
    (entry / "ch1_sensitivity.py").symlink_to(ROOT / "solutions" / "ch1_sensitivity.py")
    sub = modules_of(tmp_path, entry)
    assert sub.modules == [] and any("link" in s for s in sub.skipped)


# ---- finding autograd in source -----------------------------------------------------------------

def scan_source(tmp_path: Path, source: str, module: str = "ch1_sensitivity") -> dict[str, str]:
    (tmp_path / f"{module}.py").write_text(source)
    return scan.scan(tmp_path)


SCALE, NUMERIC = "ch1_sensitivity.scale_sensitivity", "ch1_sensitivity.numeric_sensitivity"


@pytest.mark.parametrize("body", [
    "import torch.autograd\n    return torch.autograd.grad(k, x)",
    "from torch.autograd import grad\n    return grad(k, x)",
    "from torch import func\n    return func.grad(k)(x)",
    "import torch\n    return torch.func.grad(k)(x)",
    "return x.backward()",
    "return torch.tensor(x, requires_grad=True)",
    "t = torch.tensor(x)\n    t.requires_grad = True\n    return t",
    "return torch.tensor(x).requires_grad_()",
    "return getattr(torch, 'autograd').grad",
    "return getattr(torch, 'auto' + 'grad').grad",
    "return getattr(torch, f'{\"auto\"}grad').grad",
    "return __import__('torch.autograd').autograd",
    "import importlib\n    return importlib.import_module('torch.func')",
    "return torch.autograd.forward_ad.make_dual(x, k)",
    "import functorch\n    return functorch",
])
def test_autograd_is_found_in_the_exercise_that_uses_it(tmp_path, body):
    source = (f"import torch\n\ndef scale_sensitivity(x, k):\n    {body}\n\n"
              "def numeric_sensitivity(f, x, h=1e-5):\n    return 1.0\n")
    assert set(scan_source(tmp_path, source)) == {SCALE}


def test_autograd_flows_through_helpers_and_module_names(tmp_path):
    source = '''
import torch
from torch.autograd import grad as g
slope = torch.autograd.grad

def helper(x):
    return g(x, x)

def scale_sensitivity(x, k):
    return helper(x)

def numeric_sensitivity(f, x, h=1e-5):
    return slope(f(x), x)
'''
    found = scan_source(tmp_path, source)
    assert set(found) == {SCALE, NUMERIC}
    assert "uses helper, which uses g, which uses autograd at line 3" in found[SCALE]


def test_autograd_is_found_through_another_module(tmp_path):
    (tmp_path / "ch1_sensitivity.py").write_text("import torch\n\ndef scale_sensitivity(x, k):\n"
                                                 "    return torch.func.grad(lambda t: k * t)(x)\n")
    source = "from ch1_sensitivity import scale_sensitivity\n\ndef chain_forward(x, ks):\n" \
             "    return scale_sensitivity(x, 1.0)\n\ndef chain_sensitivity(ks):\n    return 1.0\n"
    found = scan_source(tmp_path, source, "ch2_chain_rule")
    assert "ch2_chain_rule.chain_forward" in found and "ch2_chain_rule.chain_sensitivity" not in found


@pytest.mark.parametrize("source", [
    '"""Never use torch.autograd here: derive the gradient by hand."""\n'
    'def scale_sensitivity(x, k):\n    """No requires_grad, no .backward()."""\n'
    '    print("this does not use autograd")\n    return float(k)\n',
    'def scale_sensitivity(x, k):\n    return float(k)\n\nif __name__ == "__main__":\n'
    '    import torch\n    torch.tensor(1.0, requires_grad=True).backward()\n',
    'import torch\ndef scale_sensitivity(x, k):\n    return torch.tensor(x, requires_grad=False).item() * 0 + k\n',
])
def test_words_about_autograd_are_not_autograd(tmp_path, source):
    assert scan_source(tmp_path, source) == {}


def test_an_engine_of_ones_own_may_call_backward(tmp_path):
    source = ("class Value:\n    def backward(self):\n        pass\n\n"
              "def use(v):\n    v.backward()\n    return v\n")
    assert scan_source(tmp_path, source, "ch7_engine") == {}


# ---- the wire ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    1.5, -0.0, math.inf, -math.inf, 3, True, None, "text",
    (1.0, 2.0), [1.0, (2.0,)], {"a": 1.0, 2: (3.0,)}, (),
    torch.tensor([[1.0, -2.5], [3.0, 4.0]], dtype=torch.float64),
    torch.tensor(2.0, dtype=torch.float64), torch.zeros(0, 3, dtype=torch.float64),
    torch.tensor([1, 2], dtype=torch.int64), torch.tensor([True, False]),
    torch.tensor([1.0, 2.0], dtype=torch.float32), torch.tensor([1.0], dtype=torch.float64, requires_grad=True),
    torch.tensor([1.5, -2.0], dtype=torch.bfloat16), torch.tensor([1 + 2j], dtype=torch.complex128),
    torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64).t(),
])
def test_answers_cross_the_wire_unchanged(value):
    back = wire.decode(wire.loads(wire.dumps(wire.encode(value))))
    assert type(back) is type(value)
    if isinstance(value, torch.Tensor):
        assert back.dtype == value.dtype and back.shape == value.shape and torch.equal(back, value.detach())
        assert back.requires_grad == value.requires_grad
    else:
        assert back == value and repr(back) == repr(value)


def test_nan_and_other_kinds_cross_the_wire():
    assert math.isnan(wire.decode(wire.loads(wire.dumps(wire.encode(math.nan)))))
    import numpy

    back = wire.decode(wire.loads(wire.dumps(wire.encode(numpy.array([1.0, 2.0])))))
    assert type(back).__name__ == "ndarray" and repr(back) == "array([1., 2.])"
    assert wire.decode(wire.loads(wire.dumps(wire.encode(numpy.float64(2.5))))) == 2.5


@pytest.mark.parametrize("tensor", [
    torch.tensor([[1.0, -2.5], [3.0, 4.0]], dtype=torch.float64).t(), torch.tensor(2.0, dtype=torch.float64),
    torch.zeros(0, 3, dtype=torch.float64), torch.tensor([[3, 1]], dtype=torch.int64), torch.tensor([True, False]),
    torch.tensor([1.0, 2.0], dtype=torch.float32), torch.tensor([1 + 2j], dtype=torch.complex128),
])
def test_arguments_reach_the_submission_as_the_same_writable_tensors(tensor):
    import pickle

    original = tensor.clone()
    back, = pickle.loads(wire.pickle_arguments((tensor,)))
    assert back.dtype == tensor.dtype and back.shape == tensor.shape and torch.equal(back, tensor)
    back.zero_()  # the learner's copy may be changed in place, and the sender's stays
    assert not back.any() and torch.equal(tensor, original)


@pytest.mark.parametrize("text", [
    b'{"tensor": {"dtype": "float64", "shape": [3], "data": [1.0]}}',
    b'{"tensor": {"dtype": "evil", "shape": [1], "data": [1.0]}}',
    b'{"tensor": {"dtype": ["float64"], "shape": [1], "data": [1.0]}}',  # unhashable: still malformed
    b'{"tensor": {"dtype": {"a": 1}, "shape": [1], "data": [1.0]}}',
    b'{"tensor": {"dtype": null, "shape": [1], "data": [1.0]}}',
    b'{"tensor": {"dtype": "float64", "shape": [-1], "data": []}}',
    b'{"tensor": {"dtype": "float64", "shape": [1], "data": ["x"]}}',
    b'{"tensor": {"dtype": "float64", "shape": [2], "bytes": "AAAAAAAA8D8="}}',
    b'{"tensor": {"dtype": "float64", "shape": [1], "bytes": "not base64!"}}',
    b'{"unknown": 1}', b'{"a": 1, "b": 2}', b'{"dict": [[1]]}', b'[' * 100000, b'not json',
])
def test_anything_malformed_is_refused(text):
    with pytest.raises(wire.WireError):
        wire.decode(wire.loads(text))


def test_a_forged_reply_is_judged_malformed_not_a_crash():
    from grading.verdict import MALFORMED, judge, registered

    exercise = registered(next(iter(EXERCISES)))
    names = exercise.parameter_names()
    odd = b'{"seq": 1, "answers": [[{"opaque": {"type": "a\\u0000b", "repr": "x"}}, null]], "stop": null}'
    assert judge(exercise, (1.0,), odd, 1, names)[:2] == ("wrong", "wrong type")
    for body in (b'{"seq": 1, "answers": [[1.0, "not a parameter"]], "stop": null}',
                 b'{"seq": 2, "answers": [], "stop": null}', b'{"seq": 1, "answers": 3}', b'\xff'):
        assert judge(exercise, (1.0,), body, 1, names)[0] == MALFORMED, body
    assert wire.decode({"opaque": {"type": "a\u0000b", "repr": "x"}}).__class__.__name__ == "ab"


def test_an_answer_too_large_is_refused_in_the_child():
    with pytest.raises(ValueError):
        wire.encode(torch.zeros(wire.MAX_ELEMENTS + 1))
    deep = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(ValueError):
        wire.encode(deep)

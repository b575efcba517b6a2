"""What a student reads on Gradescope: each exercise a numbered, tagged test, its visibility, its feedback as written.

From the specification (https://gradescope-autograders.readthedocs.io/en/latest/specs/, "Output
format", "Controlling Test Case Visibility", "Output String Formatting"): a test's "number" and
"tags", a visibility per test that overrides the results' own, and the "text" format, under
which nothing is rendered as HTML, Markdown or ANSI. The first tests build results.json from
kit grade's documents directly; the last exports a zip and runs its run_autograder, once, on a
/autograder laid out in a temporary folder (as tests/self/test_export.py does).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from test_export import PYTHON, assert_valid_results, run_autograder, solution, unzip

from grading.platforms import ExportError, gradescope
from grading.platforms.gradescope import SHOWN_LATER, VISIBILITIES, Visibility, visibility_specs
from kit.cli import main
from kit.registry import CHAPTERS, EXERCISES

IDS = list(EXERCISES)
CH6 = [e for e in IDS if e.startswith("ch6_")]
CH7 = [e for e in IDS if e.startswith("ch7_")]

BEYOND = len(CHAPTERS) + 1  # a chapter number the curriculum does not have


def kit_results(ids=IDS, output="passed") -> dict:
    """kit grade's results.json (grading/report_json.py) for these exercises: the first passed, the rest wrong."""
    tests = [{"name": eid, "score": 1 if i == 0 else 0, "max_score": 1, "status": "passed" if i == 0 else "failed",
              "output": output, "extra_data": {"kit_status": "passed" if i == 0 else "wrong"}}
             for i, eid in enumerate(ids)]
    return {"score": 1, "max_score": len(tests), "output": f"1 of {len(tests)} points", "tests": tests}


# ---- names, numbers, tags ----------------------------------------------------------------------

def test_every_exercise_is_numbered_in_curriculum_order_and_tagged_with_its_chapter():
    labels = gradescope.exercise_labels()
    assert list(labels) == IDS
    numbers = [label["number"] for label in labels.values()]
    assert len(set(numbers)) == len(numbers)
    as_pairs = [tuple(int(part) for part in number.split(".")) for number in numbers]
    assert as_pairs == sorted(as_pairs)  # numerically: 6.2 before 6.10
    titles = list(CHAPTERS.items())
    for eid, label in labels.items():
        exercise = EXERCISES[eid]
        chapter, place = (int(part) for part in label["number"].split("."))
        assert titles[chapter - 1][0] == exercise.module
        in_chapter = [e for e in IDS if EXERCISES[e].module == exercise.module]
        assert in_chapter[place - 1] == eid  # its place in its chapter, counted from 1
        assert label["name"] == f"{label['number']} {exercise.name}"
        assert label["tags"] == [exercise.module, CHAPTERS[exercise.module]]
    assert labels["ch3_power_rule.power_grad"] == {"number": "3.2", "name": "3.2 power_grad",
                                                   "tags": ["ch3_power_rule", "The power rule"]}
    assert labels["ch1_sensitivity.scale_sensitivity"]["number"] == "1.1"
    assert labels["ch6_functions.sigmoid"]["name"] != labels["ch7_engine.sigmoid"]["name"]  # one name, two chapters


def test_the_numbers_do_not_depend_on_what_is_graded():
    document = gradescope.gradescope_results(kit_results(CH6[9:] + CH7[:1]))
    assert [(t["number"], t["name"]) for t in document["tests"]] == \
        [("6.10", "6.10 scale_backward"), ("6.11", "6.11 dot_self_backward"), ("7.1", "7.1 add")]


def test_each_test_keeps_kit_grades_fields_and_its_exercise_id():
    given = kit_results()
    document = gradescope.gradescope_results(given)
    labels = gradescope.exercise_labels()
    assert_valid_results(document)
    for ours, theirs in zip(document["tests"], given["tests"], strict=True):
        label = labels[theirs["name"]]
        assert (ours["number"], ours["name"], ours["tags"]) == (label["number"], label["name"], label["tags"])
        assert {k: ours[k] for k in ("score", "max_score", "status", "output")} == \
            {k: theirs[k] for k in ("score", "max_score", "status", "output")}
        assert ours["extra_data"] == {"kit_status": theirs["extra_data"]["kit_status"], "kit_exercise": theirs["name"]}
    assert document["score"] == 1 and document["extra_data"] == {"max_score": len(IDS)}
    # the labels exported in kit-gradescope.json are the ones used; an exercise without one keeps its id
    document = gradescope.gradescope_results(kit_results(IDS[:2]), "visible", {IDS[0]: labels[IDS[0]]})
    first, second = document["tests"]
    assert first["name"] == "1.1 scale_sensitivity" and first["number"] == "1.1"
    assert second["name"] == IDS[1] and "number" not in second and "tags" not in second  # Gradescope numbers it


def test_the_warm_up_still_reads_the_kit_status():
    document = gradescope.gradescope_results(kit_results(IDS[:2]))
    assert [t["extra_data"]["kit_status"] for t in document["tests"]] == ["passed", "wrong"]


# ---- visibility specs ------------------------------------------------------------------------------

def test_a_visibility_alone_is_the_default():
    assert visibility_specs("after_due_date") == Visibility("after_due_date", {})
    assert visibility_specs([]) == Visibility("visible", {})
    assert visibility_specs(["hidden", "visible"]).default == "visible"  # the last one given


@pytest.mark.parametrize("name", ["6", "ch6", "ch6_functions", "6-6"])
def test_a_chapter_by_number_tag_module_or_range(name):
    assert visibility_specs([f"{name}=hidden"]) == Visibility("visible", dict.fromkeys(CH6, "hidden"))


@pytest.mark.parametrize("name", ["sigmoid_grad", "ch6.sigmoid_grad", "ch6_functions.sigmoid_grad"])
def test_an_exercise_by_name_or_id(name):
    assert visibility_specs([f"{name}=after_published"]).exercises == {"ch6_functions.sigmoid_grad": "after_published"}


def test_a_range_and_a_list():
    shown = visibility_specs(["1-3=hidden", "ch7,ch6.relu_grad=after_due_date"])
    assert shown.exercises == {**{e: "hidden" for e in IDS if EXERCISES[e].module in list(CHAPTERS)[:3]},
                               "ch6_functions.relu_grad": "after_due_date", **dict.fromkeys(CH7, "after_due_date")}
    assert list(shown.exercises) == [e for e in IDS if e in shown.exercises]  # in curriculum order


def test_the_most_specific_wins_whatever_the_order_then_the_last():
    specs = ["visible", "sigmoid_grad=hidden", "ch6=after_due_date", "5-7=after_published"]
    for order in (specs, specs[::-1]):
        shown = visibility_specs(order)
        assert shown.default == "visible"
        assert shown.of("ch6_functions.sigmoid_grad") == "hidden"  # the exercise, over its chapter and the range
        assert shown.of("ch6_functions.relu_grad") == "after_due_date"  # the chapter, over the range
        assert shown.of("ch7_engine.add") == "after_published"  # the range, over the default
        assert shown.of("ch1_sensitivity.scale_sensitivity") == shown.default
    assert visibility_specs(["ch6=hidden", "6=visible"]).of("ch6_functions.relu_grad") == "visible"  # as specific
    assert visibility_specs(["6=visible", "ch6_functions=hidden"]).of("ch6_functions.relu_grad") == "hidden"
    assert visibility_specs(["1-6=hidden", "6-9=visible"]).of("ch6_functions.relu_grad") == "visible"
    assert visibility_specs(["relu_grad=hidden", "ch6.relu_grad=visible"]).of("ch6_functions.relu_grad") == "visible"


@pytest.mark.parametrize("specs, only, message", [
    (["soon"], None, "'soon' is not a visibility"),
    (["ch7=later"], None, "'later' is not a visibility"),
    (["ch7="], None, "'' is not a visibility"),
    (["=hidden"], None, "a name is missing"),
    (["ch6,,ch7=hidden"], None, "a name is missing"),
    (["ch99=hidden"], None, "no exercise or chapter 'ch99'"),
    ([f"{BEYOND}=hidden"], None, f"no chapter {BEYOND}"),
    ([f"3-{BEYOND}=hidden"], None, f"no chapters 3-{BEYOND}"),
    (["sigmoid=hidden"], None, "in several chapters"),
    (["sigmoid_grd=hidden"], None, "did you mean sigmoid_grad"),
    (["ch7=hidden"], "1-3", "names no exercise this autograder grades (--only 1-3)"),
    (["visible"], "99", "--only 99"),
])
def test_a_bad_spec_is_an_export_error(specs, only, message):
    with pytest.raises(ExportError, match=re.escape(message)) as error:
        visibility_specs(specs, only)
    assert "--visibility" in str(error.value) or "--only" in str(error.value)


def test_kit_export_refuses_a_bad_visibility_before_writing_anything(tmp_path, capsys):
    out = tmp_path / "autograder.zip"
    for spec in ("ch7=later", "ch99=hidden", "after_deadline"):
        assert main(["export", "gradescope", "--out", str(out), "--visibility", "visible", "--visibility", spec]) == 2
        assert f"--visibility {spec}:" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_the_command_line_takes_the_option_repeatedly():
    from kit.cli import parser

    args = parser().parse_args(["export", "gradescope", "--out", "a.zip", "--visibility", "after_due_date",
                                "--visibility", "ch7=hidden"])
    assert args.visibility == ["after_due_date", "ch7=hidden"]
    assert parser().parse_args(["export", "gradescope", "--out", "a.zip"]).visibility is None  # export: "visible"
    done = subprocess.run([sys.executable, "-m", "kit.cli", "export", "gradescope", "--help"], capture_output=True,
                          text=True, check=True)
    assert "NAMES=WHEN" in done.stdout and "sigmoid_grad=hidden" in done.stdout


# ---- the results' visibility and the tests' -----------------------------------------------------------

def test_each_test_has_its_visibility_and_the_results_the_latest_of_theirs():
    shown = visibility_specs(["visible", "ch1_sensitivity.numeric_sensitivity=after_due_date"])
    document = gradescope.gradescope_results(kit_results(IDS[:4]), shown)
    assert [t["visibility"] for t in document["tests"]] == ["visible", "after_due_date", "visible", "visible"]
    assert document["visibility"] == "after_due_date"  # its "1 of 4 points" counts the test shown after the due date
    assert document["stdout_visibility"] == "hidden"  # run_autograder's log: every verdict, for the instructor only
    # every mix of two: the results never show before a test they count
    for first in VISIBILITIES:
        for second in VISIBILITIES:
            mixed = Visibility("visible", {IDS[0]: first, IDS[1]: second})
            top = gradescope.gradescope_results(kit_results(IDS[:2]), mixed)["visibility"]
            assert top == max(first, second, key=SHOWN_LATER.index)
            assert SHOWN_LATER.index(top) >= max(SHOWN_LATER.index(first), SHOWN_LATER.index(second))
    assert Visibility("hidden", {}).overall(["visible", "visible"]) == "visible"  # nothing the tests hide
    assert Visibility("after_due_date", {}).overall([]) == "after_due_date"


def test_a_single_visibility_is_as_before():
    for visibility in VISIBILITIES:
        document = gradescope.gradescope_results(kit_results(IDS[:3]), visibility)
        assert {document["visibility"]} | {t["visibility"] for t in document["tests"]} == {visibility}


def test_partial_results_take_the_same_visibilities_and_names(tmp_path):
    log = tmp_path / "progress.jsonl"
    graded = kit_results(CH6[:3])["tests"]
    log.write_text("".join(json.dumps({"student": "submission", **t}) + "\n" for t in graded)
                   + '{"student": "submission", "name": "ch6_fun')  # the line the stop cut
    shown = visibility_specs(["after_due_date", "sigmoid_grad=visible", "ch7=hidden"])
    document = gradescope.gradescope_results(gradescope.partial_results(log, 60.0), shown)
    assert_valid_results(document)
    assert [(t["name"], t["visibility"]) for t in document["tests"]] == \
        [("6.1 sigmoid", "after_due_date"), ("6.2 sigmoid_grad", "visible"), ("6.3 relu_grad", "after_due_date")]
    assert document["visibility"] == "after_due_date"  # ch7's hidden tests were not graded: nothing to hide
    assert "ran out after 3 exercises" in document["output"]


def test_a_failure_has_the_default_visibility_and_no_tests():
    shown = visibility_specs(["after_due_date", "ch7=hidden"])
    document = gradescope.failure_results("kit grade could not grade this submission", shown)
    assert_valid_results(document)
    assert document["tests"] == [] and document["visibility"] == "after_due_date"
    assert document["output_format"] == "text" and document["stdout_visibility"] == "hidden"
    assert gradescope.failure_results("why")["visibility"] == "visible"


def test_run_autograder_reads_the_exported_visibilities(capsys):
    config = {"visibility": "after_due_date", "exercise_visibility": {IDS[0]: "hidden", IDS[1]: "soon"}}
    shown = gradescope._bundle_visibility(config, None)
    assert shown == Visibility("after_due_date", {IDS[0]: "hidden", IDS[1]: "hidden"})  # a bad value hides
    assert "'soon' is not one of" in capsys.readouterr().out
    assert gradescope._bundle_visibility(config, "visible").default == "visible"  # KIT_VISIBILITY: the default only
    assert gradescope._bundle_visibility(config, "visible").of(IDS[0]) == "hidden"
    assert gradescope._bundle_visibility(config, "later").default == "after_due_date"  # a bad one: the export's
    assert gradescope._bundle_visibility({}, None) == Visibility("visible", {})
    assert gradescope._bundle_visibility({"visibility": "soon"}, None).default == "hidden"


# ---- feedback as written ----------------------------------------------------------------------------

PICTURE = """ch6_functions.relu_grad: relu_grad(x=-1.0) is wrong.
  yours: 1.0
  torch: 0.0
    |        /
    |       /
  __|______/____ x
  tolerance: |yours - torch| <= 1e-12 + 1e-09·|torch|
\tprinted output:
<b>not bold</b> **not bold** # not a heading
| a | b |
1. not a list"""


def test_the_feedback_is_plain_text_shown_exactly_as_written():
    given = kit_results(IDS[:1], output=PICTURE)
    given["output"] = "0 of 1 points. <i>a problem</i>\n  indented"
    document = gradescope.gradescope_results(given)
    # "text": no HTML, Markdown or ANSI rendered, for the results' output (default "simple_format",
    # HTML) and for every test's output and name
    assert {k: document[k] for k in ("output_format", "test_output_format", "test_name_format")} == \
        dict.fromkeys(("output_format", "test_output_format", "test_name_format"), "text")
    assert document["tests"][0]["output"] == PICTURE  # lines, indentation, tabs, markup: as written
    assert document["output"] == given["output"]
    assert_valid_results(document)


def test_what_a_browser_would_act_on_is_shown_instead():
    given = kit_results(IDS[:1], output="red \x1b[31mtext\x1b[0m\r\nover\rwritten \u202etxt.exe\n\tend")
    output = gradescope.gradescope_results(given)["tests"][0]["output"]
    assert output == "red \\x1b[31mtext\\x1b[0m\\r\nover\\rwritten \\u202etxt.exe\n\tend"
    failure = gradescope.failure_results("its last words:\n\x1b[2Kgone")
    assert failure["output"].endswith("its last words:\n\\x1b[2Kgone")


# ---- end to end: the exported zip's run_autograder ---------------------------------------------------

SPECS = ["after_due_date", "chain_forward=after_published", "2=hidden", "ch1.scale_sensitivity=visible"]
SHOWN = {"ch1_sensitivity.scale_sensitivity": "visible", "ch1_sensitivity.numeric_sensitivity": "after_due_date",
         "ch2_chain_rule.chain_forward": "after_published", "ch2_chain_rule.chain_sensitivity": "hidden"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("gradescope-results")
    bundle = base / "autograder.zip"
    assert main(["export", "gradescope", "--out", str(bundle), "--only", "1-2",
                 *(f"--visibility={spec}" for spec in SPECS)]) == 0
    root = base / "autograder"
    unzip(bundle, root / "source")
    (root / "run_autograder").write_bytes((root / "source" / "run_autograder").read_bytes())
    (root / "run_autograder").chmod(0o755)
    return root


def test_the_zip_records_the_visibilities_and_the_names(exported):
    config = json.loads((exported / "source" / "kit-gradescope.json").read_text())
    assert config["visibility"] == "after_due_date"
    assert config["exercise_visibility"] == {k: v for k, v in SHOWN.items() if v != "after_due_date"}
    assert config["test_labels"] == gradescope.exercise_labels()


def test_run_autograder_writes_numbered_tagged_tests_with_their_visibility_and_feedback_as_written(exported):
    wrong = solution("ch1_sensitivity").replace("return float(k)", "return float(k * x)")
    files = {"ch1_sensitivity.py": wrong, "ch2_chain_rule.py": solution("ch2_chain_rule")}
    document, _ = run_autograder(exported, files, KIT_VISIBILITY="visible")  # the default only
    assert_valid_results(document)
    tests = document["tests"]
    assert [(t["number"], t["name"]) for t in tests] == [("1.1", "1.1 scale_sensitivity"),
                                                         ("1.2", "1.2 numeric_sensitivity"),
                                                         ("2.1", "2.1 chain_forward"), ("2.2", "2.2 chain_sensitivity")]
    assert [t["tags"] for t in tests] == [["ch1_sensitivity", "Sensitivity"]] * 2 + [["ch2_chain_rule",
                                                                                    "The chain rule"]] * 2
    assert {t["extra_data"]["kit_exercise"]: t["visibility"] for t in tests} == \
        {**SHOWN, "ch1_sensitivity.numeric_sensitivity": "visible"}  # KIT_VISIBILITY replaced the default
    assert document["visibility"] == "hidden" and document["stdout_visibility"] == "hidden"
    assert [t["extra_data"]["kit_status"] for t in tests] == ["wrong", "passed", "passed", "passed"]
    assert document["output_format"] == document["test_output_format"] == document["test_name_format"] == "text"
    # the feedback as kit grade wrote it for the same submission, with the same seed and inputs
    klass, out = exported.parent / "class", exported.parent / "direct"
    (klass / "submission").mkdir(parents=True)
    for name, text in files.items():
        (klass / "submission" / name).write_text(text)
    source = exported / "source"
    done = subprocess.run([PYTHON, "-m", "kit.cli", "grade", str(klass), "--out", str(out), "--only", "1-2", "-q",
                           "--seed-file", str(source / "grading-seed"), "--inputs", str(source / "inputs")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    direct = json.loads((out / "students" / "submission" / "results.json").read_text())
    assert [t["output"] for t in tests] == [t["output"] for t in direct["tests"]]
    message = tests[0]["output"]
    assert "\n  yours: 6.0\n  torch: 3.0\n" in message  # several lines, indented, as kit grade wrote them

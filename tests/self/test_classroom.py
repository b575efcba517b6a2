"""GitHub Classroom: the workflow `kit export github-classroom` writes, its steps run as the runner runs
them, and the results read as GitHub Classroom's reporter reads them; the students' README.

The reporter (classroom-resources/autograding-grading-reporter@v1) is re-implemented here, from its
source (src/main.js, src/notify-classroom.js, src/console-results.js, src/helpers/test-helpers.js),
independently of kit/classroom.py: for each id of its `runners` input it base64-decodes the
environment variable <ID>_RESULTS and parses the JSON; the points it sends to Classroom are, over
the runners whose max_score is not 0, the sum of every test's score out of the sum of max_scores;
its log counts a runner as (tests passed / tests) x max_score; any runner with status "fail" or
"error" fails its step. The workflow's `run:` steps are run with bash as GitHub's runner runs them
(`bash --noprofile --norc -eo pipefail`), in the exported template, with GITHUB_OUTPUT and
GITHUB_STEP_SUMMARY files, with the template's own kit and no grading package importable; the
install step is not run (its pip commands need the network): this virtualenv stands for it.
"""
from __future__ import annotations

import base64
import json
import math
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from test_one_way import BLOCKER  # tests/self: no grading package, for the students' template

from grading import pins, rubric
from grading.platforms import TORCH, TORCH_CPU_INDEX
from grading.platforms import github_classroom as classroom
from grading.render import yaml
from kit import classroom as kit_classroom
from kit.cli import main
from kit.registry import CHAPTERS, EXERCISES

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
WORKFLOW = Path(".github/workflows/classroom.yml")
POINTS = Path(".github/classroom/points.json")
# the inputs the actions' action.yml declare (read at their repositories, tag v1 and v4)
REPORTER_INPUTS = {"runners", "token"}
UPLOAD_INPUTS = {"name", "path", "if-no-files-found", "retention-days", "compression-level", "overwrite",
                 "include-hidden-files"}
STEP_KEYS = {"name", "id", "if", "uses", "with", "env", "run", "shell", "working-directory", "timeout-minutes",
             "continue-on-error"}  # a step's keys in GitHub's workflow syntax
RUNNERS_PATTERN = re.compile(r"([a-zA-Z0-9]+,)*[a-zA-Z0-9]+")  # the reporter's own check of its input, on errors


class MiniYaml:
    """A reader for the YAML subset the workflow's template writes (block mappings and sequences, plain,
    JSON-quoted and literal |- scalars, ints), to check that what is written reads back as the data."""

    def __init__(self, text: str):
        self.lines = [line for line in text.split("\n") if line.strip() and not line.lstrip().startswith("#")]
        self.i = 0

    def read(self):
        value = self.node(self.indent())
        assert self.i == len(self.lines), f"left over: {self.lines[self.i]!r}"
        return value

    def indent(self, i=None) -> int:
        line = self.lines[self.i if i is None else i]
        return len(line) - len(line.lstrip(" "))

    def more(self, indent: int) -> bool:
        return self.i < len(self.lines) and self.indent() == indent

    def node(self, indent: int):
        return self.sequence(indent) if self.lines[self.i].lstrip().startswith("- ") else self.mapping(indent)

    def sequence(self, indent: int) -> list:
        items = []
        while self.more(indent) and self.lines[self.i].lstrip().startswith("- "):
            content = self.lines[self.i][indent + 2:]
            if content.startswith("- ") or self.key(content) is not None:  # a block that starts on the dash's line
                self.lines[self.i] = " " * (indent + 2) + content
                items.append(self.node(indent + 2))
            else:
                items.append(self.scalar(content))
                self.i += 1
        return items

    def mapping(self, indent: int) -> dict:
        found = {}
        while self.more(indent) and not self.lines[self.i].lstrip().startswith("- "):
            key, rest = self.key(self.lines[self.i].strip())
            assert key not in found, key
            self.i += 1
            if rest == "":
                assert self.i < len(self.lines) and self.indent() > indent, f"nothing under {key}"
                found[key] = self.node(self.indent())
            elif rest == "|-":
                block = []
                while self.i < len(self.lines) and self.indent() > indent:
                    block.append(self.lines[self.i][indent + 2:])
                    self.i += 1
                found[key] = "\n".join(block)
            else:
                found[key] = self.scalar(rest)
        return found

    @staticmethod
    def key(text: str):
        """(key, the rest after ": ") of a mapping entry, or None."""
        if text.startswith('"'):
            key, end = json.JSONDecoder().raw_decode(text)
            if text[end:end + 1] != ":":
                return None
        else:
            end = text.find(":")
            if end <= 0 or (end + 1 < len(text) and text[end + 1] != " "):
                return None
            key = text[:end]
        assert text[end] == ":", text
        return key, text[end + 1:].strip()

    @staticmethod
    def scalar(text: str):
        if text.startswith('"'):
            return json.loads(text)
        if text in ("{}", "[]"):
            return {} if text == "{}" else []
        if text.lstrip("-").isdigit():
            return int(text)
        assert text.lower() not in ("yes", "no", "on", "off", "true", "false", "null", "y", "n", "~"), text
        assert ": " not in text and " #" not in text and text[0] not in "[]{}&*!|>'%@`,?:", text
        return text


TRICKY = ["yes", "No", "3.12", "007", "", "a: b", "#x", "- x", "[x]", "x #y", "it's", "ümlaut", "~", "on", "null",
          "line one\nline two", "${{steps.x.outputs.result}}", "Chapter 1: x", '"quoted"', "tab\there", " lead",
          "trail ", "{x}", "*x", "&x", "!x", "|x", ">x", "%x", "@x", "`x", ",x", "?x"]


def test_the_yaml_filter_quotes_what_yaml_would_misread():
    for value in [*TRICKY, 0, -3, 12]:
        assert MiniYaml(f"k: {yaml(value)}\n").read() == {"k": value}, value
        assert MiniYaml(f"- {yaml(value)}\n").read() == [value], value
        if isinstance(value, str) and value:
            assert MiniYaml(f"{yaml(value)}: 1\n").read() == {value: 1}, value


# ---- the reporter, from its source --------------------------------------------------------------------

def reporter(runners: str, env: dict[str, str]) -> dict:
    """What GitHub Classroom's reporter makes of the runners' results: the points it sends to
    Classroom, the points its log shows per runner, and whether it fails its step."""
    found = {}
    for runner in runners.split(","):
        encoded = env[f"{runner.strip().upper()}_RESULTS"]
        found[runner] = json.loads(base64.b64decode(encoded, validate=True).decode("utf-8"))
    points = max_points = 0
    for result in found.values():
        assert set(result) >= {"version", "status", "max_score", "tests"}, set(result)
        assert result["status"] in ("pass", "fail", "error") and isinstance(result["tests"], list) and result["tests"]
        for test in result["tests"]:
            assert isinstance(test["name"], str) and test["name"] and test["status"] in ("pass", "fail", "error")
            assert isinstance(test["score"], (int, float)) and not isinstance(test["score"], bool), test
            assert math.isfinite(test["score"]) and test["score"] >= 0, test
            assert test["line_no"] == 0, test  # else the log prints " - line <line_no>"
            assert isinstance(test["message"], str) and isinstance(test["test_code"], str)
        if result["max_score"]:
            max_points += result["max_score"]
            points += sum(test["score"] for test in result["tests"])
    logged = {runner: sum(t["status"] == "pass" for t in r["tests"]) / len(r["tests"]) * (r["max_score"] or 0)
              for runner, r in found.items()}
    failed = any(r["status"] in ("fail", "error") for r in found.values())
    return {"points": points, "max_points": max_points, "logged": logged, "failed": failed, "results": found}


def by_exercise(outcome: dict) -> dict[str, dict]:
    """{exercise id: its test in the results}, from the test's name "<id> (N points)"."""
    return {test["name"].split(" ")[0]: test for result in outcome["results"].values() for test in result["tests"]}


# ---- the workflow as data ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    out = tmp_path_factory.mktemp("classroom")
    assert main(["export", "github-classroom", "--out", str(out)]) == 0
    text = (out / WORKFLOW).read_text()
    return out, text, MiniYaml(text).read()


def expected_workflow(points: dict, timeout: int = 10, python: str | None = None) -> dict:
    """The workflow as data, written here from GitHub Classroom's own autograding workflows: the
    install, one grading step whose outputs are the runners' results, the reporter, the upload."""
    ids = [runner["id"] for runner in kit_classroom.runners(points)]
    steps = [
        {"name": "Check out the student's repository", "uses": "actions/checkout@v4"},
        {"name": "Set up Python", "uses": "actions/setup-python@v5",
         "with": {"python-version": python or pins.python()}},
        {"name": "Install the kit, with a CPU build of torch",  # exactly the instructor's versions, nothing else
         "run": f"python -m pip install --no-deps torch=={pins.pinned()['torch']} "
                f"--index-url https://download.pytorch.org/whl/cpu\n"
                f"python -m pip install --no-deps -r .github/classroom/requirements.txt\n"
                f"python -m pip install --no-deps --no-build-isolation -e .\n"
                f"python -m pip check"},
        {"name": "Grade every exercise: one pytest run, points per exercise", "id": "grade",
         "run": f"python -m kit.classroom --points .github/classroom/points.json --timeout {timeout} "
                f"--report report.html",
         "timeout-minutes": timeout + 5},
        {"name": "Autograding Reporter", "uses": "classroom-resources/autograding-grading-reporter@v1",
         "env": {f"{i.upper()}_RESULTS": f"${{{{ steps.grade.outputs.{i} }}}}" for i in ids},
         "with": {"runners": ",".join(ids)}},
        {"name": "Keep report.html, as the run's artifact report", "if": "always()",
         "uses": "actions/upload-artifact@v4", "with": {"name": "report", "path": "report.html",
                                                         "if-no-files-found": "warn"}},
    ]
    return {"name": "Autograding Tests", "on": ["push", "workflow_dispatch", "repository_dispatch"],
            "permissions": {"checks": "write", "actions": "read", "contents": "read"},
            "jobs": {"run-autograding-tests": {"runs-on": "ubuntu-latest",
                                               "if": "github.actor != 'github-classroom[bot]'", "steps": steps}}}


def test_the_workflow_reads_back_as_the_data_it_was_written_from(workflow):
    _, _, data = workflow
    assert data == expected_workflow(rubric.load())


def test_the_workflow_reads_back_whatever_the_python_version():
    points = rubric.load()
    for python in ("3.12", "No", "3.13: x", "~", "'3'", *TRICKY[:8]):
        assert MiniYaml(classroom.workflow_text(points, 9, python)).read() == expected_workflow(points, 9, python)


def test_pyyaml_reads_the_workflow_as_written(workflow):
    pyyaml = pytest.importorskip("yaml", reason="PyYAML is not a dependency of the kit; MiniYaml checks the "
                                                "round trip above, and PyYAML does too where it is installed")
    _, text, data = workflow
    assert pyyaml.safe_load(text) == data


def test_every_step_is_one_github_knows_with_the_inputs_its_action_declares(workflow):
    _, text, data = workflow
    assert list(data["jobs"]) == [classroom.JOB]  # the reporter's annotations go on this job's check run
    steps = data["jobs"][classroom.JOB]["steps"]
    assert len({s.get("id") for s in steps if "id" in s}) == sum("id" in s for s in steps)
    for step in steps:
        assert set(step) <= STEP_KEYS and ("uses" in step) != ("run" in step), step
    names = [s["name"] for s in steps]
    grade = steps[names.index("Grade every exercise: one pytest run, points per exercise")]
    report = next(s for s in steps if s.get("uses", "").startswith("classroom-resources/autograding-grading-reporter@"))
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert steps.index(grade) < steps.index(report) < steps.index(upload) == len(steps) - 1
    assert set(report["with"]) <= REPORTER_INPUTS and "runners" in report["with"]
    assert set(upload["with"]) <= UPLOAD_INPUTS and upload["with"]["path"] == kit_classroom.REPORT
    assert upload["if"] == "always()"  # after a red reporter too: the report is wanted most then
    assert isinstance(grade["timeout-minutes"], int) and grade["timeout-minutes"] > 10  # after kit.classroom's own
    # every expression is a step output of the grading step, as the reporter's environment
    expressions = re.findall(r"\$\{\{(.*?)\}\}", text)
    assert expressions and all(re.fullmatch(r" steps\.grade\.outputs\.[a-z0-9]+ ", e) for e in expressions)
    # the grading command is kit.classroom's, with options it has
    command = shlex.split(grade["run"])
    assert command[:3] == ["python", "-m", "kit.classroom"]
    options = kit_classroom.parser().parse_args(command[3:])
    assert options.points == POINTS and options.report == upload["with"]["path"] and options.timeout == 10


def test_the_runners_hold_every_exercise_once_at_equal_points(workflow):
    out, _, data = workflow
    points = rubric.load()
    document = json.loads((out / POINTS).read_text())
    assert document["version"] == 1
    runners = document["runners"]
    ids = [runner["id"] for runner in runners]
    steps = data["jobs"][classroom.JOB]["steps"]
    report = next(s for s in steps if s["name"] == "Autograding Reporter")
    assert report["with"]["runners"] == ",".join(ids) and RUNNERS_PATTERN.fullmatch(report["with"]["runners"])
    assert report["env"] == {f"{i.upper()}_RESULTS": f"${{{{ steps.grade.outputs.{i} }}}}" for i in ids}
    assert [eid for runner in runners for eid in runner["exercises"]] == list(EXERCISES)  # once each, in order
    for runner in runners:
        assert len({EXERCISES[eid].module for eid in runner["exercises"]}) == 1, runner  # one chapter
        assert len(set(runner["exercises"].values())) == 1, runner  # of equal points: the log counts tests
        assert all(runner["exercises"][eid] == points[eid] for eid in runner["exercises"])
    assert ids == [module.split("_")[0] for module in CHAPTERS]  # the default rubric: a chapter's are equal


def results_for(layout: list[dict], failing: set[str]) -> dict[str, str]:
    """The runners' results, base64 in the reporter's environment, when every exercise passes but `failing`."""
    verdicts = {eid: kit_classroom.Verdict("fail" if eid in failing else "pass", "wrong" if eid in failing else "",
                                           nodes=[f"tests/test_{EXERCISES[eid].module}.py::test_exercise"])
                for runner in layout for eid in runner["exercises"]}
    documents = kit_classroom.results(layout, verdicts)
    return {f"{runner.upper()}_RESULTS": kit_classroom.encode(document) for runner, document in documents.items()}


def test_a_rubric_of_mixed_points_splits_a_chapter_so_the_reporters_counts_agree(tmp_path):
    mixed = tmp_path / "mixed.toml"
    mixed.write_text('[chapters]\nch8_tensors = 2\n[points]\n"ch8_tensors.mlp_backward" = 4\n'
                     '"ch1_sensitivity.scale_sensitivity" = 0.25\n"ch6_functions.relu_grad" = 0.5\n')
    out = tmp_path / "out"
    assert main(["export", "github-classroom", "--out", str(out), "--rubric", str(mixed)]) == 0
    points = rubric.load(mixed)
    layout = json.loads((out / POINTS).read_text())["runners"]
    ids = [runner["id"] for runner in layout]
    assert {"ch1a", "ch1b", "ch6a", "ch6b", "ch8a", "ch8b", "ch9"} <= set(ids) and "ch8" not in ids
    assert layout[ids.index("ch8b")]["exercises"] == {"ch8_tensors.mlp_backward": 4}
    data = MiniYaml((out / WORKFLOW).read_text()).read()
    runners = next(s for s in data["jobs"][classroom.JOB]["steps"] if s["name"] == "Autograding Reporter")
    assert runners["with"]["runners"] == ",".join(ids)
    for failing in ({"ch8_tensors.mlp_backward"}, {"ch1_sensitivity.scale_sensitivity", "ch8_tensors.unbroadcast"},
                    set(), set(EXERCISES)):
        outcome = reporter(",".join(ids), results_for(layout, failing))
        expected = sum(value for eid, value in points.items() if eid not in failing)
        assert outcome["points"] == expected and outcome["max_points"] == sum(points.values())
        assert sum(outcome["logged"].values()) == expected  # the log shows what Classroom records
        assert outcome["failed"] == bool(failing)


def test_classroom_export_refuses_tenths_no_points_and_overwriting(workflow, tmp_path, capsys):
    out, _, _ = workflow
    assert main(["export", "github-classroom", "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    only_points = tmp_path / "only-points"
    (only_points / POINTS).parent.mkdir(parents=True)
    (only_points / POINTS).write_text("{}")
    assert main(["export", "github-classroom", "--out", str(only_points)]) == 2
    assert "points.json exists" in capsys.readouterr().err
    tenth = tmp_path / "tenth.toml"
    tenth.write_text('[points]\n"ch1_sensitivity.scale_sensitivity" = 0.1\n')
    assert main(["export", "github-classroom", "--out", str(tmp_path / "x"), "--rubric", str(tenth)]) == 2
    assert "quarters" in capsys.readouterr().err
    nothing = tmp_path / "nothing.toml"
    nothing.write_text("[chapters]\n" + "".join(f"{module} = 0\n" for module in CHAPTERS))
    assert main(["export", "github-classroom", "--out", str(tmp_path / "x"), "--rubric", str(nothing)]) == 2
    assert "0 points" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    assert main(["export", "github-classroom", "--out", str(out), "--force", "--timeout", "7"]) == 0
    steps = MiniYaml((out / WORKFLOW).read_text()).read()["jobs"][classroom.JOB]["steps"]
    grade = next(s for s in steps if s.get("id") == "grade")
    assert "--timeout 7 " in grade["run"] and grade["timeout-minutes"] == 12


# ---- the steps, run as GitHub's runner runs them ------------------------------------------------------

@pytest.fixture(scope="module")
def student(tmp_path_factory):
    """The students' repository, exported, and an environment in which no grading package exists."""
    base = tmp_path_factory.mktemp("student")
    repository = base / "student"
    assert main(["export", "github-classroom", "--out", str(repository), "--template"]) == 0
    blocker = base / "no-grader"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCKER)
    env = {"PATH": f"{Path(PYTHON).parent}{os.pathsep}/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"),
           "PYTHONPATH": f"{repository}{os.pathsep}{blocker}", "PYTHONDONTWRITEBYTECODE": "1",
           "GITHUB_WORKSPACE": str(repository), "XDG_CACHE_HOME": str(base / "cache")}
    return repository, env


def use_exercises(repository: Path, folder: Path, broken: dict[str, str] | None = None) -> None:
    """exercises/ as `folder`'s modules, with `broken` ({module: code}) appended to some."""
    for module in CHAPTERS:
        text = (folder / f"{module}.py").read_text()
        (repository / "exercises" / f"{module}.py").write_text(text + (broken or {}).get(module, ""))
    (repository / "report.html").unlink(missing_ok=True)


def read_outputs(path: Path) -> dict[str, str]:
    """A step's outputs from its GITHUB_OUTPUT file: `name=value` lines, or `name<<DELIMITER` blocks."""
    outputs, lines = {}, path.read_text().splitlines()
    while lines:
        line = lines.pop(0)
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            while lines[0] != delimiter:
                value.append(lines.pop(0))
            lines.pop(0)
            outputs[name] = "\n".join(value)
        else:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


def run_workflow(student, scratch: Path) -> dict:
    """Each `run:` step in order (but the install: this virtualenv is the installed kit), with bash as
    GitHub's runner runs it; then the reporter's environment from the steps' outputs, and its verdict."""
    repository, env = student
    steps = MiniYaml((repository / WORKFLOW).read_text()).read()["jobs"][classroom.JOB]["steps"]
    outputs: dict[str, dict[str, str]] = {}
    logs = []
    scratch.mkdir(exist_ok=True)
    summary = scratch / "summary.md"
    summary.write_text("")
    for number, step in enumerate(steps):
        if "run" not in step or step["name"].startswith("Install the kit"):
            continue
        script, output = scratch / f"step{number}.sh", scratch / f"output{number}"
        script.write_text(step["run"])
        output.write_text("")
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=repository,
                              env={**env, **step.get("env", {}), "GITHUB_OUTPUT": str(output),
                                   "GITHUB_STEP_SUMMARY": str(summary)},
                              capture_output=True, text=True, timeout=60 * step.get("timeout-minutes", 10))
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]  # the job goes on
        logs.append(done.stdout)
        if "id" in step:
            outputs[step["id"]] = read_outputs(output)
    report = next(s for s in steps if s["name"] == "Autograding Reporter")
    expression = re.compile(r"\$\{\{ steps\.([a-z0-9_-]+)\.outputs\.([a-z0-9_-]+) \}\}")
    reporter_env = {}
    for name, value in report["env"].items():
        found = expression.fullmatch(value)
        assert found, value
        reporter_env[name] = outputs.get(found.group(1), {}).get(found.group(2), "")  # GitHub: "" when missing
    outcome = reporter(report["with"]["runners"], reporter_env)
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    outcome.update(log="\n".join(logs), summary=summary.read_text(), report=repository / upload["with"]["path"])
    return outcome


def test_the_workflow_gives_full_credit_for_the_reference_answers(student, tmp_path):
    repository, _ = student
    use_exercises(repository, ROOT / "solutions")
    outcome = run_workflow(student, tmp_path)
    points = rubric.load()
    assert outcome["points"] == outcome["max_points"] == sum(points.values())
    assert sum(outcome["logged"].values()) == outcome["points"]
    tests = by_exercise(outcome)
    assert list(tests) == list(EXERCISES)
    for eid, test in tests.items():
        assert test["status"] == "pass" and test["score"] == points[eid] and test["test_code"] == "", test
    assert not outcome["failed"]
    assert outcome["report"].is_file() and "backprop-kit" in outcome["report"].read_text()
    total = f"{sum(points.values()):g} of {sum(points.values()):g} points"
    assert total in outcome["log"] and total in outcome["summary"]


def test_one_wrong_exercise_costs_only_its_own_points(student, tmp_path):
    repository, _ = student
    use_exercises(repository, ROOT / "solutions", {"ch6_functions": "\n\ndef sigmoid_grad(x: float) -> float:\n"
                                                                   "    return 0.5\n"})
    outcome = run_workflow(student, tmp_path)
    points = rubric.load()
    wrong = "ch6_functions.sigmoid_grad"
    assert outcome["points"] == sum(points.values()) - points[wrong] and outcome["max_points"] == sum(points.values())
    assert sum(outcome["logged"].values()) == outcome["points"]
    assert outcome["logged"]["ch6"] == outcome["results"]["ch6"]["max_score"] - points[wrong]  # 10 of 11
    tests = by_exercise(outcome)
    assert tests[wrong]["status"] == "fail" and tests[wrong]["score"] == 0
    assert "sigmoid_grad" in tests[wrong]["message"] and "wrong" in tests[wrong]["message"]
    assert tests[wrong]["test_code"] == f"kit check {wrong}"
    assert all(test["status"] == "pass" for eid, test in tests.items() if eid != wrong)
    assert outcome["results"]["ch6"]["status"] == "fail" and outcome["failed"]  # red, and the points count
    assert outcome["report"].is_file()


def test_the_untouched_stubs_score_nothing_and_still_leave_a_report(student, tmp_path):
    repository, _ = student
    use_exercises(repository, ROOT / "exercises")
    outcome = run_workflow(student, tmp_path)
    assert outcome["points"] == 0 and outcome["max_points"] == sum(rubric.load().values())
    assert sum(outcome["logged"].values()) == 0 and outcome["failed"]
    for eid, test in by_exercise(outcome).items():
        assert test["status"] == "fail" and test["score"] == 0 and test["message"].startswith("not attempted"), test
        assert test["test_code"] == f"kit check {eid}"
    assert outcome["report"].is_file()


def graded_with_a_hang(student, tmp_path, timeout: str, *pytest_args: str) -> tuple[dict, Path]:
    """kit.classroom's outcome, as the reporter reads it, with chain_forward an endless loop."""
    repository, env = student
    use_exercises(repository, ROOT / "solutions", {"ch2_chain_rule": "\n\ndef chain_forward(x, ks):\n"
                                                                     "    while True:\n        pass\n"})
    output = tmp_path / "output"
    output.write_text("")
    done = subprocess.run([PYTHON, "-m", "kit.classroom", "--timeout", timeout, "--output", str(output), "--",
                           *pytest_args], cwd=repository, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    layout = json.loads((repository / POINTS).read_text())["runners"]
    outcome = reporter(",".join(r["id"] for r in layout),
                       {f"{k.upper()}_RESULTS": v for k, v in read_outputs(output).items()})
    return outcome, repository


def test_a_hanging_exercise_is_stopped_and_what_ran_before_it_counts(student, tmp_path):
    outcome, repository = graded_with_a_hang(
        student, tmp_path, "0.4", "-k", "ch1_sensitivity or ch2_chain_rule",
        "--kit-timeout", "0")  # no limit per call: the whole run's timeout is what stops it
    tests = by_exercise(outcome)
    assert all(tests[e]["status"] == "pass" for e in EXERCISES if e.startswith("ch1_"))
    assert tests["ch2_chain_rule.chain_forward"]["status"] == "error"
    assert "stopped after 0.4 minutes" in tests["ch2_chain_rule.chain_forward"]["message"]
    assert tests["ch3_power_rule.square_grad"]["status"] == "error"  # deselected: not collected
    assert outcome["points"] == sum(rubric.load()[e] for e in EXERCISES if e.startswith("ch1_"))
    assert outcome["results"]["ch2"]["status"] == "error" and outcome["failed"]
    assert "scale_sensitivity" in (repository / "report.html").read_text()  # the report as far as it got


def test_a_hanging_exercise_meets_the_time_limit_per_call_and_the_run_goes_on(student, tmp_path):
    outcome, _ = graded_with_a_hang(student, tmp_path, "5", "-k", "ch2_chain_rule or ch3_power_rule",
                                    "--kit-timeout", "1")
    tests = by_exercise(outcome)
    assert tests["ch2_chain_rule.chain_forward"]["status"] == "fail"
    assert "did not finish within 1 s" in tests["ch2_chain_rule.chain_forward"]["message"]
    assert tests["ch2_chain_rule.chain_sensitivity"]["status"] == "pass"
    assert all(tests[e]["status"] == "pass" for e in EXERCISES if e.startswith("ch3_"))  # graded after it


def test_verdicts_of_runs_that_went_wrong():
    ids = ["ch1_sensitivity.scale_sensitivity", "ch1_sensitivity.numeric_sensitivity"]
    node = "tests/test_ch1_sensitivity.py::test_exercise[{}]".format
    files = [ROOT / "tests" / "test_ch1_sensitivity.py"]
    nothing = kit_classroom.verdicts(ids, [], files, "pytest stopped before the end of the run (exit status -9)")
    assert {v.status for v in nothing.values()} == {"error"}
    assert all("stopped before the end of the run" in v.message for v in nothing.values())
    missing = kit_classroom.verdicts(ids, [], [], None)
    assert all("tests/test_ch1_sensitivity.py is missing" in v.message for v in missing.values())
    collected = {node("scale_sensitivity"): ids[0], node("numeric_sensitivity"): ids[1]}
    entries = [{"event": "collected", "tests": collected},
               {"event": "test", "nodeid": node("scale_sensitivity"), "when": "setup", "outcome": "failed",
                "duration": 0.1, "message": "fixture 'impl' not found"},
               {"event": "test", "nodeid": node("numeric_sensitivity"), "when": "setup", "outcome": "passed",
                "duration": 0.1},
               {"event": "test", "nodeid": node("numeric_sensitivity"), "when": "call", "outcome": "skipped",
                "duration": 0.1, "message": "not today"}]
    found = kit_classroom.verdicts(ids, entries, files, None)
    assert found[ids[0]].status == "error" and "fixture 'impl' not found" in found[ids[0]].message
    assert found[ids[1]].status == "fail" and "not today" in found[ids[1]].message


def test_a_broken_points_file_stops_the_step_with_the_reason(student, tmp_path):
    repository, env = student
    broken = tmp_path / "points.json"
    broken.write_text('{"version": 1, "runners": [{"id": "ch-1", "exercises": {}}]}')
    done = subprocess.run([PYTHON, "-m", "kit.classroom", "--points", str(broken)], cwd=repository, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "a runner must have a unique id" in done.stderr, done.stderr


# ---- the students' README ----------------------------------------------------------------------------

FORBIDDEN = ("--impl", "solutions", "kit grade", "kit export", "grading/", "new-exercise", "seed", "rubric")


def commands_in(markdown: str) -> list[list[str]]:
    """Every command the page shows: each line of its code blocks, and each code span, split at `&&`."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", markdown, flags=re.S)
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"```[a-z]*\n.*?```", "", markdown, flags=re.S))
    found = []
    for text in [line for block in blocks for line in block.splitlines()] + spans:
        for part in text.split("&&"):
            words = shlex.split(part)
            if words and words[0] in ("kit", "pytest", "python", "python3", "pip", "."):
                found.append(words)
    return found


def test_the_students_readme_shows_only_the_students_commands_and_each_works(student):
    from kit.cli import parser
    from kit.names import select

    repository, env = student
    text = (repository / "README.md").read_text()
    assert text != (ROOT / "README.md").read_text()
    for word in FORBIDDEN:
        assert word not in text, word
    pytest_help = subprocess.run([PYTHON, "-m", "pytest", "--help"], cwd=repository, env=env, capture_output=True,
                                 text=True, timeout=120)
    assert pytest_help.returncode == 0, pytest_help.stderr
    commands = commands_in(text)
    kit_commands = set()
    for words in commands:
        if words[0] == "kit":
            args, rest = parser().parse_known_args(words[1:])  # argparse exits on an unknown command
            assert not rest or getattr(args, "passes_on", False), words
            assert args.command in ("hint", "check", "watch"), words  # the learner's commands only
            kit_commands.add(args.command)
            names = getattr(args, "exercises", None) or ([args.exercise] if hasattr(args, "exercise") else [])
            if names:
                assert select(names), words
            for option in rest:
                assert option in pytest_help.stdout, words  # `kit check` hands the rest to pytest
        elif words[0] == "pytest":
            for word in words[1:]:
                if word.startswith("-"):
                    assert re.search(rf"(^|\s){re.escape(word.split('=')[0])}[\s=,]", pytest_help.stdout), word
                elif word.endswith(".py"):
                    assert (repository / word).is_file(), word
                elif words[words.index(word) - 1] == "-k":
                    assert select(word), word
        elif words[:3] == ["python", "-m", "kit.classroom"]:
            kit_classroom.parser().parse_args(words[3:])
        elif words[0] == "pip":
            assert words[1] == "install" and TORCH in words, words
            assert "--index-url" not in words or words[words.index("--index-url") + 1] == TORCH_CPU_INDEX
    assert kit_commands == {"hint", "check", "watch"}
    assert ["pytest"] in commands and ["python", "-m", "kit.classroom"] in commands


def test_the_students_readme_names_the_workflows_steps_and_artifact(student):
    repository, _ = student
    text = (repository / "README.md").read_text()
    steps = MiniYaml((repository / WORKFLOW).read_text()).read()["jobs"][classroom.JOB]["steps"]
    names = [step["name"] for step in steps]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    for quoted in re.findall(r"(?<!\*)\*([A-Z][^*]+)\*(?!\*)", text):  # the steps and the workflow, in italics
        assert any(name.startswith(quoted) for name in names) or quoted == "Autograding Tests", quoted
    assert "*Grade every exercise*" in text and "*Autograding Reporter*" in text
    assert f"`{upload['with']['name']}` artifact" in text and "report.html" in text
    assert "after 10 minutes" in text
    for number, (module, title) in enumerate(CHAPTERS.items(), start=1):
        assert f"| {number}. {title} | `exercises/{module}.py` |" in text

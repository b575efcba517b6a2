"""The pytest plugin: `--impl`, the `impl` fixture, the learner profile, short failure reports.

Installed as a pytest11 entry point (pyproject.toml), so pytest loads it in every run of every
project that shares the virtualenv. It acts only in a kit project: a run whose pytest
configuration says `backprop_kit = true`, or that is given `--impl`. Anywhere else its options
and its ini key are known but inert, and nothing of the kit is imported (no torch, no profile):
the run is as if the plugin were not installed. Options and hooks live here and nowhere else;
the hooks of a kit run are those of `KitRun`, registered only in one.

What a kit run does beyond pytest's own:
- `pytest` started anywhere inside the project tests the whole project, as from its root; the
  report (report.html, when pytest-html is loaded and no --html is given) and hypothesis'
  .hypothesis/ are the root's, whatever folder the run starts in.
- Test ids are the exercises' ids (`test_exercise[ch6_functions.sigmoid]`), and in `-k` a word
  that names an exercise (`forward`, `ch6_functions.sigmoid`) selects that exercise only, not
  every exercise whose name contains it (chain_forward); other words match as pytest matches.
- Each exercise's outcome travels on its report (`report.backprop_kit`), so the progress is
  the same under pytest-xdist, where the controller sees only the workers' reports.
- Exercises still as shipped are one mark each ("·"), not a failure section each; a module
  that does not import is told once, its exercises one line each in the short summary; the
  output a learner's function printed is shown for the failing call, the rest counted.
"""
from __future__ import annotations

import glob
import html
import re
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from kit.fixtures import Printed
    from kit.implementation import Implementation

MARKER = "backprop_kit"  # the ini key that makes a project a kit project
IMPL: pytest.StashKey[Implementation] = pytest.StashKey()
PRINTED: pytest.StashKey[Printed] = pytest.StashKey()  # the `impl` fixture: IMPL, recording what it printed
PROGRESS = pytest.StashKey[dict]()  # exercise id -> "done" | "failing" | "not attempted"
BROKEN = pytest.StashKey[dict]()  # module -> where and why it does not import, and its first exercise reported
SHORT = pytest.StashKey[list]()  # the failures pytest's short summary lists
DEFAULT_REPORTCHARS = "fE"  # pytest's -r when none is given
REPORT = "report.html"  # pytest-html's report, in the project's root folder, unless --html says otherwise
# the options of runs that run no test: they write no report (pytest --co would write an empty one)
NO_TESTS_RUN = ("collectonly", "showfixtures", "show_fixtures_per_test", "setuponly", "setupplan")


def pytest_addoption(parser):
    group = parser.getgroup("backprop-kit")
    group.addoption("--impl", default=None, metavar="PATH",
                    help="folder whose curriculum modules are tested (default: exercises); "
                         "makes the run a backprop-kit run")
    group.addoption("--self-tests", action="store_true",
                    help="also run the kit's own tests in tests/self (the README's test command)")
    group.addoption("--kit-timeout", type=float, default=None, metavar="SECONDS",
                    help="stop a call of the learner's code after SECONDS, and fail its exercise saying where it "
                         "was (default: kit.implementation.DEFAULT_TIME_LIMIT, 5; 0: no limit)")
    parser.addini(MARKER, type="bool", default=False,
                  help="this project's tests are backprop-kit's: the kit's plugin acts in its runs")


def is_kit_run(config) -> bool:
    """A kit project's run: its configuration has the marker, or --impl was given."""
    return config.getoption("impl", None) is not None or bool(config.getini(MARKER))


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """Run again with the kit's configuration when `--impl PATH` was taken for the root folder;
    in a kit run, register the kit's hooks (before any plugin is configured).

    pytest looks for its configuration around the paths on the command line before any
    plugin can say that PATH belongs to --impl; for a folder outside the repository it then
    finds none (no testpaths, no report). Such a run is started again, in this process, with
    the repository's pyproject.toml named explicitly.
    """
    if config.getoption("impl") is not None and config.inipath is None:
        ini = _kit_configuration(config.invocation_params.dir)
        if ini is not None:
            return pytest.main(["-c", str(ini), "--rootdir", str(ini.parent), *config.invocation_params.args],
                               plugins=list(config.invocation_params.plugins or ()))
    if is_kit_run(config) and not config.pluginmanager.has_plugin(KitRun.NAME):
        from kit import fixtures

        _whole_project(config)
        _default_report(config)
        config.pluginmanager.register(KitRun(), KitRun.NAME)
        config.pluginmanager.register(fixtures, "backprop_kit.fixtures")
    return None


def _kit_configuration(start: Path) -> Path | None:
    for folder in (start, *start.parents, Path(__file__).resolve().parents[1]):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and "[tool.pytest.ini_options]" in candidate.read_text():
            return candidate
    return None


def _hypothesis_home(folder: Path) -> None:
    """hypothesis' folder (.hypothesis/: the failing inputs it remembers, its caches) at the project's
    root, not in the folder pytest was started in."""
    try:
        from hypothesis.configuration import set_hypothesis_home_dir
    except ImportError:  # a hypothesis without it reads its environment variable, when it first needs the folder
        import os

        os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = str(folder)
        return
    set_hypothesis_home_dir(folder)


def _whole_project(config) -> None:
    """`pytest` with no paths, started in a folder below the root (exercises/, tests/, ...), tests
    what it tests from the root: the configuration's testpaths. pytest itself would test only
    the folder it was started in (exercises/: nothing, exit status 5)."""
    start, root = config.invocation_params.dir, config.rootpath
    if config.args_source != pytest.Config.ArgsSource.INVOCATION_DIR or start == root \
            or not start.is_relative_to(root):
        return
    found = [match for path in config.getini("testpaths") for match in sorted(glob.iglob(str(root / path)))]
    config.args = found or [str(root)]
    if found:
        config.args_source = pytest.Config.ArgsSource.TESTPATHS


def _default_report(config) -> None:
    """The report, when pytest-html is loaded: one self-contained file in the root folder; an
    --html given wins. A run that runs no test (--co, --fixtures) writes none."""
    if not config.pluginmanager.hasplugin("html") or not hasattr(config.option, "htmlpath"):
        return  # `-p no:html`, or pytest-html not installed: no report
    if config.option.htmlpath is None:
        if any(getattr(config.option, name, False) for name in NO_TESTS_RUN):
            return
        config.option.htmlpath = str(config.rootpath / REPORT)
    config.option.self_contained_html = True  # one file: the pictures and styles inlined


def _curriculum_order(items) -> None:
    """Sort the exercise tests (each_exercise's, marked kit_exercise) among the places they hold
    by the registry's order of chapters (and their own order within one); every other test,
    a self-test parametrized over exercises too, keeps its place."""
    from kit.registry import CHAPTERS

    rank = {module: number for number, module in enumerate(CHAPTERS)}

    def exercise(item):
        if item.get_closest_marker("kit_exercise") is None:
            return None
        return getattr(getattr(item, "callspec", None), "params", {}).get("exercise")
    places = [i for i, item in enumerate(items) if getattr(exercise(items[i]), "module", None) in rank]
    ordered = sorted((items[i] for i in places), key=lambda item: rank[exercise(item).module])
    for place, item in zip(places, ordered):
        items[place] = item


def param_id(exercise) -> str:
    """The id of an exercise's test (`test_exercise[<this>]`): the exercise's id, chapter and name."""
    return exercise.id


def each_exercise(module: str):
    """Parametrize a test over a chapter's exercises; the node id ends in the exercise's id
    (`test_exercise[ch6_functions.sigmoid]`). Only such tests count in the learner's progress."""
    from kit.registry import chapter

    def mark(test):
        test = pytest.mark.parametrize("exercise", chapter(module), ids=param_id)(test)
        return pytest.mark.kit_exercise(test)
    return mark


class KitRun:
    """The hooks of a kit run (its fixtures: kit/fixtures.py): registered by pytest_cmdline_main, only in one."""

    NAME = "backprop_kit.run"

    def __init__(self):
        import kit.profiles  # noqa: F401  (registers the profiles before hypothesis loads one)

    @pytest.hookimpl(trylast=True)  # after hypothesis' own configuration, as when this was the plugin
    def pytest_configure(self, config):
        import os

        import torch
        from hypothesis import settings

        from kit.fixtures import Printed
        from kit.implementation import Implementation, learner_time_limit

        # the exercises' tensors are tiny: one thread is faster than two, and far faster on a busy machine
        torch.set_num_threads(1)
        given = config.getoption("impl")
        if given is None:  # the repository's exercises/, wherever pytest is started from
            folder = config.rootpath / "exercises"
        else:
            folder = Path(given).expanduser()
            if not folder.is_absolute():
                folder = config.invocation_params.dir / folder
            if not folder.is_dir():
                raise pytest.UsageError(f"--impl {given}: no such folder ({folder})")
        self.config = config
        config.pluginmanager.register(Inner(), Inner.NAME)
        config.stash[IMPL] = Implementation(folder, time_limit=learner_time_limit(config.getoption("kit_timeout")))
        config.stash[PRINTED] = Printed(config.stash[IMPL], capture=config.getoption("capture") in ("fd", "sys"))
        config.stash[PROGRESS] = {}
        config.stash[BROKEN] = {}
        config.addinivalue_line("markers", "kit_exercise: an exercise test; it counts in the learner's progress")
        if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
            _hypothesis_home(config.rootpath / ".hypothesis")
        if not config.getoption("hypothesis_profile", None):
            settings.load_profile("learner")
        terminal = config.pluginmanager.get_plugin("terminalreporter")
        if terminal is not None and config.get_verbosity() == 0:
            # one line of marks, not a line per chapter's file: the progress table says it per chapter
            terminal.showfspath = False

    def pytest_report_header(self, config):
        return f"backprop-kit: testing the modules in {config.stash[IMPL].folder}"

    def pytest_ignore_collect(self, collection_path, config):
        if not config.getoption("self_tests") and collection_path.name == "self" \
                and collection_path.parent.name == "tests":
            return True
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session, config, items):
        """Exercises run in the curriculum's order (pytest would take tests/test_ch10_*.py before
        test_ch1_*), and `-k` with an exercise's name or id selects that exercise, not all whose
        names contain it."""
        _curriculum_order(items)
        expression = (config.option.keyword or "").strip()
        if expression and _select_exercises(expression, items, config):
            config.option.keyword = ""  # applied: pytest's own -k would select by substring again
            config.add_cleanup(partial(setattr, config.option, "keyword", expression))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        printed = getattr(item, "funcargs", {}).get("impl")
        if printed is not None and hasattr(printed, "calls"):
            printed.calls = []  # this test's calls only
        return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        from kit import progress
        from kit.check import ExerciseFailure

        report = yield
        failure = call.excinfo.value if call.excinfo is not None else None
        if isinstance(failure, ExerciseFailure):
            report.longrepr = Feedback(failure.message)  # the learner's message, not a traceback
        exercise = _exercise_of(item)
        if call.when == "call" and exercise is not None:
            status = progress.status_of(report.outcome, getattr(failure, "status", None))
            report.backprop_kit = {"exercise": exercise.id, "status": status,
                                   "module error": _module_error(item.config.stash[IMPL], exercise, failure)}
            _add_printed(item, exercise, report, failure)
            _add_picture(item, exercise, report)
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report):
        """The progress, from the reports: in this process, or under xdist in the controller, which
        gets the workers' reports (and their messages as plain text)."""
        info = getattr(report, "backprop_kit", None)
        config = self.config
        if info is None or report.when != "call" or hasattr(config, "workerinput"):
            return
        from kit.registry import EXERCISES

        if isinstance(report.longrepr, str):  # from a worker: the message, without its summary line
            report.longrepr = Feedback(report.longrepr)
        exercise = EXERCISES[info["exercise"]]
        config.stash[PROGRESS][exercise.id] = info["status"]
        error = info.get("module error")
        if error:
            broken = config.stash[BROKEN]
            if exercise.module in broken:  # told once, with the first of its exercises: a line for the others
                first = broken[exercise.module]["first"]
                path = config.stash[IMPL].path(exercise.module)
                report.longrepr = Feedback(f"not checked: {path} does not import (the error is under {first})")
                info["told"] = True
            else:
                broken[exercise.module] = {"first": exercise.id, **_where(error)}

    def pytest_report_teststatus(self, report, config):
        from kit.progress import MARKS

        info = getattr(report, "backprop_kit", None)
        if info is not None and report.when == "call" and info["status"] == "not attempted":
            return "failed", MARKS["not attempted"], ("NOT ATTEMPTED", {"yellow": True})
        return None

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter, config):
        """pytest's summaries without the exercises not attempted, which the progress counts (with
        them at -v, and in the short summary when -r is given), and with a broken module's error
        told once (its exercises each a line of the short summary); then the progress, last."""
        from kit import progress

        stats = terminalreporter.stats
        failed = list(stats.get("failed", ()))
        full = config.get_verbosity() >= 1  # -v: every failure in full
        asked = config.getoption("reportchars", DEFAULT_REPORTCHARS) != DEFAULT_REPORTCHARS
        if "failed" in stats:
            stats["failed"] = [r for r in failed if full or not (_status(r) == "not attempted" or _info(r).get("told"))]
            config.stash[SHORT] = [r for r in failed if full or asked or _status(r) != "not attempted"]
        try:
            yield
        finally:
            if "failed" in stats:
                stats["failed"] = failed
        lines = progress.summary(config.stash.get(PROGRESS, {}), config.get_verbosity(), broken=_broken(config),
                                 files=partial(_file, config))
        if lines:
            terminalreporter.write_sep("=", "your progress")
            for line in lines:
                terminalreporter.write_line(line)

    @pytest.hookimpl(optionalhook=True)  # pytest-html's hooks: known only when it is loaded (not `-p no:html`)
    def pytest_html_results_summary(self, prefix, summary, postfix, session):
        from kit import progress

        config = session.config
        lines = progress.summary(config.stash.get(PROGRESS, {}), broken=_broken(config), files=partial(_file, config))
        if lines:
            prefix.append(progress_html(config, lines))

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report):
        report.title = "backprop-kit: your answers against torch.autograd"


class Inner:
    """The inside of pytest's terminal summary: after its failure sections, before its short
    summary, the failures that summary lists are put back (KitRun.pytest_terminal_summary)."""

    NAME = "backprop_kit.summary"

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_terminal_summary(self, terminalreporter, config):
        if SHORT in config.stash and "failed" in terminalreporter.stats:
            terminalreporter.stats["failed"] = config.stash[SHORT]
        return (yield)


def _info(report) -> dict:
    return getattr(report, "backprop_kit", None) or {}


def _status(report) -> str | None:
    return _info(report).get("status")


def _exercise_of(item):
    if item.get_closest_marker("kit_exercise") is None:
        return None
    return item.callspec.params["exercise"]


def _module_error(impl, exercise, failure) -> str | None:
    """The learner's module could not be imported: the message saying why (its file and line)."""
    from kit.implementation import LearnerError
    from kit.statuses import Status

    if getattr(failure, "status", None) != Status.ERROR:
        return None
    try:
        impl.module(exercise.module)  # imported once per run: this asks the run's first import
    except LearnerError as error:
        return error.text if error.status == Status.ERROR else None
    return None


_LOCATION = re.compile(r'File "([^"]+)", line (\d+)')


def _where(error: str) -> dict:
    """Where a module's import failed: the innermost of the learner's lines its message names, and the error."""
    found = _LOCATION.findall(error)
    lines = [line for line in error.splitlines() if line.strip()]
    where = {"error": lines[-1].strip() if lines else error}
    if found:
        path, line = found[-1]
        try:
            path = str(Path(path).relative_to(Path.cwd()))
        except ValueError:
            pass
        where.update(file=path, line=int(line))
    return where


def _broken(config) -> dict:
    broken = config.stash.get(BROKEN, {})
    return {module: {k: v for k, v in found.items() if k != "first"} for module, found in broken.items()}


def _file(config, module: str) -> str:
    return str(config.stash[IMPL].path(module))


def _add_printed(item, exercise, report, failure) -> None:
    """What the learner's code printed, as pytest's captured output: the failing call's own."""
    printed = getattr(item, "funcargs", {}).get("impl")
    if printed is None or not hasattr(printed, "report"):
        return
    text = printed.report(exercise, failure if report.failed else None)
    if text:
        report.sections.append(("Captured stdout call", text))


def _add_picture(item, exercise, report) -> None:
    """An exercise's picture (e.g. loss curves) in the pytest-html report, when it has one."""
    import contextlib
    import io

    from kit import pictures

    picture = exercise.picture or (partial(pictures.scalar_curve, exercise) if exercise.curve else None)
    if picture is None or not item.config.pluginmanager.hasplugin("html"):
        return
    from pytest_html import extras

    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            fragment = picture(item.config.stash[IMPL])  # the learner's prints, once more: not wanted
    except Exception as error:  # a learner's broken code must not break the report
        fragment = f"<p>No picture: {html.escape(str(error))[:300]}</p>"
    if fragment:
        report.extras = [*getattr(report, "extras", []), extras.html(fragment)]


PROGRESS_STYLE = ("<style>.progress{font-size:15px;line-height:1.6}.progress td{padding:0 1.2em 0 0}"
                  ".progress .mark{font-size:22px;font-weight:bold;letter-spacing:2px}"
                  ".progress .done{color:#1a7f37}.progress .failing{color:#cf222e}"
                  ".progress .not-attempted{color:#6e7781}</style>")


def progress_html(config, lines: list[str]) -> str:
    """The progress for the report: the chapters as a table, their ✔, ✘ and · large and coloured,
    then the rest of the lines (the count and the next step, or the welcome)."""
    from kit.progress import MARKS, chapters, table

    statuses = config.stash.get(PROGRESS, {})
    rows = []
    for module, title, of_chapter in chapters(statuses):
        marks = "".join(f"<span class='mark {s.replace(' ', '-')}'>{MARKS[s]}</span>" for s in of_chapter)
        rows.append(f"<tr><td>{html.escape(module)}</td><td>{html.escape(title)}</td><td>{marks}</td>"
                    f"<td>{of_chapter.count('done')}/{len(of_chapter)}</td></tr>")
    in_table = set(table(statuses))
    rows_at = next((i for i, line in enumerate(lines) if line in in_table), len(lines))
    head = [line for line in lines[:rows_at] if line not in in_table]
    tail = [line for line in lines[rows_at:] if line not in in_table]
    return (f"{PROGRESS_STYLE}<div class='progress'>{_marked(head)}<table>{''.join(rows)}</table>"
            f"{_marked(tail)}</div>")


def _marked(lines: list[str]) -> str:
    """Lines as preformatted HTML, their marks large and coloured."""
    from kit.progress import MARKS

    if not lines:
        return ""
    kinds = {mark: status.replace(" ", "-") for status, mark in MARKS.items()}
    text = re.sub("|".join(map(re.escape, kinds)),
                  lambda found: f"<span class='mark {kinds[found.group()]}'>{found.group()}</span>",
                  html.escape("\n".join(lines)))
    return f"<pre class='progress'>{text}</pre>"


class Feedback:
    """A failure report that is only the learner's message; its first line goes in the summary."""

    def __init__(self, message: str):
        self.message = message
        self.reprcrash = SimpleNamespace(message=message.splitlines()[0] if message else "")

    def toterminal(self, out) -> None:
        out.line(self.message)

    def __str__(self) -> str:
        return self.message


def _select_exercises(expression: str, items: list, config) -> bool:
    """pytest's `-k`, except that a word naming an exercise (its name or id) matches the exercise
    tests of that exercise only. False (nothing done: pytest's -k applies) when no word of the
    expression names an exercise, or when pytest's matching cannot be reused."""
    try:
        from _pytest.mark import KeywordMatcher
        from _pytest.mark.expression import Expression
    except ImportError:  # a pytest without them: its own -k, by substring
        return False
    from kit.registry import EXERCISES

    names = {e.name.lower() for e in EXERCISES.values()} | {e.id.lower() for e in EXERCISES.values()}
    try:
        compiled = Expression.compile(expression)
    except SyntaxError:
        return False  # pytest says what is wrong with it
    idents = compiled.idents() if hasattr(compiled, "idents") else set(re.findall(r"[\w.]+", expression))
    if not any(ident.lower() in names for ident in idents):
        return False

    def matcher(item):
        exercise = _exercise_of(item)
        substring = KeywordMatcher.from_item(item)

        def match(name: str, /, **kwargs) -> bool:
            if exercise is not None and name.lower() in names:
                return name.lower() in (exercise.name.lower(), exercise.id.lower())
            return substring(name, **kwargs)
        return match

    remaining, deselected = [], []
    for item in items:
        (remaining if compiled.evaluate(matcher(item)) else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = remaining
    return True

"""The pytest plugin: `--impl`, the `impl` fixture, the learner profile, short failure reports.

Installed as a pytest11 entry point (pyproject.toml). Options and hooks live here and nowhere else.
"""
from __future__ import annotations

import html
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from hypothesis import settings

import kit.profiles  # noqa: F401  (registers the profiles before hypothesis loads one)
from kit import pictures, progress
from kit.check import ExerciseFailure
from kit.implementation import Implementation
from kit.registry import chapter

IMPL = pytest.StashKey[Implementation]()
PROGRESS = pytest.StashKey[dict]()  # exercise id -> "done" | "failing" | "not attempted"


def pytest_addoption(parser):
    group = parser.getgroup("backprop-kit")
    group.addoption("--impl", default=None, metavar="PATH",
                    help="folder whose curriculum modules are tested (default: exercises)")
    group.addoption("--self-tests", action="store_true",
                    help="also run the kit's own tests in tests/self (the README's test command)")


def pytest_configure(config):
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
    config.stash[IMPL] = Implementation(folder)
    config.stash[PROGRESS] = {}
    config.addinivalue_line("markers", "kit_exercise: an exercise test; it counts in the learner's progress")
    if not config.getoption("hypothesis_profile", None):
        settings.load_profile("learner")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """Run again with the kit's configuration when `--impl PATH` was taken for the root folder.

    pytest looks for its configuration around the paths on the command line before any
    plugin can say that PATH belongs to --impl; for a folder outside the repository it then
    finds none (no testpaths, no report). Such a run is started again, in this process, with
    the repository's pyproject.toml named explicitly.
    """
    if config.getoption("impl") is None or config.inipath is not None:
        return None
    ini = _kit_configuration(config.invocation_params.dir)
    if ini is None:
        return None
    return pytest.main(["-c", str(ini), "--rootdir", str(ini.parent), *config.invocation_params.args],
                       plugins=list(config.invocation_params.plugins or ()))


def _kit_configuration(start: Path) -> Path | None:
    for folder in (start, *start.parents, Path(__file__).resolve().parents[1]):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and "[tool.pytest.ini_options]" in candidate.read_text():
            return candidate
    return None


def pytest_report_header(config):
    return f"backprop-kit: testing the modules in {config.stash[IMPL].folder}"


def pytest_ignore_collect(collection_path, config):
    if not config.getoption("self_tests") and collection_path.name == "self" \
            and collection_path.parent.name == "tests":
        return True
    return None


def each_exercise(module: str):
    """Parametrize a test over a chapter's exercises; the node id ends in the function's name.
    Only such tests count in the learner's progress."""
    def mark(test):
        test = pytest.mark.parametrize("exercise", chapter(module), ids=lambda exercise: exercise.name)(test)
        return pytest.mark.kit_exercise(test)
    return mark


@pytest.fixture(scope="session")
def impl(pytestconfig) -> Implementation:
    """The implementation under test: the folder given by --impl."""
    return pytestconfig.stash[IMPL]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if call.excinfo is not None and isinstance(call.excinfo.value, ExerciseFailure):
        report.longrepr = Feedback(call.excinfo.value.message)  # the learner's message, not a traceback
    exercise = _exercise_of(item)
    if call.when == "call" and exercise is not None:
        failure = call.excinfo.value if call.excinfo is not None else None
        status = getattr(failure, "status", None)
        item.config.stash[PROGRESS][exercise.id] = progress.status_of(report.outcome, status)
        _add_picture(item, exercise, report)
    return report


def _exercise_of(item):
    if item.get_closest_marker("kit_exercise") is None:
        return None
    return item.callspec.params["exercise"]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter, config):
    yield  # after pytest's own summaries, so the progress and the next step are what is read last
    lines = progress.summary(config.stash.get(PROGRESS, {}), config.get_verbosity())
    if lines:
        terminalreporter.write_sep("=", "your progress")
        for line in lines:
            terminalreporter.write_line(line)


def pytest_html_results_summary(prefix, summary, postfix, session):
    lines = progress.summary(session.config.stash.get(PROGRESS, {}))
    if lines:
        prefix.append(f"<pre class='progress'>{html.escape(chr(10).join(lines))}</pre>")


def _add_picture(item, exercise, report) -> None:
    """An exercise's picture (e.g. loss curves) in the pytest-html report, when it has one."""
    picture = exercise.picture or (partial(pictures.scalar_curve, exercise) if exercise.curve else None)
    if picture is None or not item.config.pluginmanager.hasplugin("html"):
        return
    from pytest_html import extras

    try:
        fragment = picture(item.config.stash[IMPL])
    except Exception as error:  # a learner's broken code must not break the report
        fragment = f"<p>No picture: {html.escape(str(error))[:300]}</p>"
    if fragment:
        report.extras = [*getattr(report, "extras", []), extras.html(fragment)]


class Feedback:
    """A failure report that is only the learner's message; its first line goes in the summary."""

    def __init__(self, message: str):
        self.message = message
        self.reprcrash = SimpleNamespace(message=message.splitlines()[0])

    def toterminal(self, out) -> None:
        out.line(self.message)

    def __str__(self) -> str:
        return self.message


def pytest_html_report_title(report):
    report.title = "backprop-kit: your answers against torch.autograd"

"""The pytest plugin: `--impl`, the `impl` fixture, the learner profile, short failure reports.

Installed as a pytest11 entry point (pyproject.toml), so pytest loads it in every run of every
project that shares the virtualenv. It acts only in a kit project: a run whose pytest
configuration says `backprop_kit = true`, or that is given `--impl`. Anywhere else its options
and its ini key are known but inert, and nothing of the kit is imported (no torch, no profile):
the run is as if the plugin were not installed. Options and hooks live here and nowhere else;
the hooks of a kit run are those of `KitRun`, registered only in one.
"""
from __future__ import annotations

import html
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from kit.implementation import Implementation

MARKER = "backprop_kit"  # the ini key that makes a project a kit project
IMPL: pytest.StashKey[Implementation] = pytest.StashKey()
PROGRESS = pytest.StashKey[dict]()  # exercise id -> "done" | "failing" | "not attempted"


def pytest_addoption(parser):
    group = parser.getgroup("backprop-kit")
    group.addoption("--impl", default=None, metavar="PATH",
                    help="folder whose curriculum modules are tested (default: exercises); "
                         "makes the run a backprop-kit run")
    group.addoption("--self-tests", action="store_true",
                    help="also run the kit's own tests in tests/self (the README's test command)")
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

        config.pluginmanager.register(KitRun(), KitRun.NAME)
        config.pluginmanager.register(fixtures, "backprop_kit.fixtures")
    return None


def _kit_configuration(start: Path) -> Path | None:
    for folder in (start, *start.parents, Path(__file__).resolve().parents[1]):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and "[tool.pytest.ini_options]" in candidate.read_text():
            return candidate
    return None


def each_exercise(module: str):
    """Parametrize a test over a chapter's exercises; the node id ends in the function's name.
    Only such tests count in the learner's progress."""
    from kit.registry import chapter

    def mark(test):
        test = pytest.mark.parametrize("exercise", chapter(module), ids=lambda exercise: exercise.name)(test)
        return pytest.mark.kit_exercise(test)
    return mark


class KitRun:
    """The hooks of a kit run (its fixtures: kit/fixtures.py): registered by pytest_cmdline_main, only in one."""

    NAME = "backprop_kit.run"

    def __init__(self):
        import kit.profiles  # noqa: F401  (registers the profiles before hypothesis loads one)

    @pytest.hookimpl(trylast=True)  # after hypothesis' own configuration, as when this was the plugin
    def pytest_configure(self, config):
        import torch
        from hypothesis import settings

        from kit.implementation import Implementation

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

    def pytest_report_header(self, config):
        return f"backprop-kit: testing the modules in {config.stash[IMPL].folder}"

    def pytest_ignore_collect(self, collection_path, config):
        if not config.getoption("self_tests") and collection_path.name == "self" \
                and collection_path.parent.name == "tests":
            return True
        return None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        from kit import progress
        from kit.check import ExerciseFailure

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

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter, config):
        from kit import progress

        yield  # after pytest's own summaries, so the progress and the next step are what is read last
        lines = progress.summary(config.stash.get(PROGRESS, {}), config.get_verbosity())
        if lines:
            terminalreporter.write_sep("=", "your progress")
            for line in lines:
                terminalreporter.write_line(line)

    def pytest_html_results_summary(self, prefix, summary, postfix, session):
        from kit import progress

        lines = progress.summary(session.config.stash.get(PROGRESS, {}))
        if lines:
            prefix.append(f"<pre class='progress'>{html.escape(chr(10).join(lines))}</pre>")

    def pytest_html_report_title(self, report):
        report.title = "backprop-kit: your answers against torch.autograd"


def _exercise_of(item):
    if item.get_closest_marker("kit_exercise") is None:
        return None
    return item.callspec.params["exercise"]


def _add_picture(item, exercise, report) -> None:
    """An exercise's picture (e.g. loss curves) in the pytest-html report, when it has one."""
    from kit import pictures

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

"""The kit's one build step beyond pyproject.toml (which holds all its metadata): a built kit (a wheel,
a non-editable `pip install .`) carries a copy of the learner's workspace, for `kit init DIR` where
no clone is at hand: kit/workspace/ gets the stubs (exercises/ch*.py), the exercise tests
(tests/test_ch*.py) and pyproject.toml (whose pytest table a workspace takes). The copy is made
from those files at build time, so they stay the one source; an editable install reads them in the
clone itself (kit/learner_cli.py: workspace_files). MANIFEST.in puts them in an sdist too.
"""
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
WORKSPACE = Path("kit", "workspace")  # kit/learner_cli.py: WORKSPACE
FILES = ("exercises/ch*.py", "tests/test_ch*.py", "pyproject.toml")  # kit/learner_cli.py: STUBS, TESTS


class BuildWithWorkspace(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for pattern in FILES:
            for source in sorted(HERE.glob(pattern)):
                target = Path(self.build_lib, WORKSPACE, source.relative_to(HERE))
                self.mkpath(str(target.parent))
                self.copy_file(str(source), str(target))


setup(cmdclass={"build_py": BuildWithWorkspace})

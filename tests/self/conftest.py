"""The self-tests grade classes: their grading seed is made in a folder of their own, never in
the running user's ~/.config (grading/cases.py: load_seed)."""
import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def own_grading_seed(tmp_path_factory):
    config = tmp_path_factory.mktemp("config")
    os.chmod(config, 0o755)  # an unprivileged user's kit grade (test_redteam.py) sets its own
    before = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(config)
    yield config
    if before is None:
        del os.environ["XDG_CONFIG_HOME"]
    else:
        os.environ["XDG_CONFIG_HOME"] = before

"""The fixtures of a kit run: `impl`, the implementation under test. kit/plugin.py registers this
module only in a kit project (or a run given --impl), so other projects never see them."""
from __future__ import annotations

import pytest

from kit.implementation import Implementation


@pytest.fixture(scope="session")
def impl(pytestconfig) -> Implementation:
    """The implementation under test: the folder given by --impl (default: exercises/)."""
    from kit.plugin import IMPL

    return pytestconfig.stash[IMPL]

"""report.html as a learner opens it: one file, rendered by headless Chromium, with its pictures.

Chromium is a system package (Debian: `apt-get install chromium`); CI installs it. Without it,
the test is skipped with that reason, since nothing else can render the page.
"""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs headless Chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A report of a learner with a wrong sigmoid_grad and the rest of chapters 5, 6, 7 and 9 right."""
    folder = tmp_path_factory.mktemp("learner")
    for module in ("ch5_backprop_by_hand", "ch6_functions", "ch7_engine", "ch9_training"):
        shutil.copy(ROOT / "solutions" / f"{module}.py", folder)
    functions = folder / "ch6_functions.py"
    functions.write_text(functions.read_text() + "\n\ndef sigmoid_grad(x):\n    return 1 - sigmoid(x)\n")
    page = folder / "report.html"
    subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--impl", str(folder),
                    f"--html={page}", "tests/test_ch5_backprop_by_hand.py", "tests/test_ch7_engine.py",
                    "tests/test_ch9_training.py",
                    "tests/test_ch6_functions.py::test_exercise[ch6_functions.sigmoid_grad]"],
                   cwd=ROOT, capture_output=True, timeout=600)
    return page


def render(page: Path, *flags: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={cwd / 'profile'}", *flags, page.as_uri()],
                          cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_rendered_report_shows_curves_graphs_and_the_diagnosis(report, tmp_path):
    dom = render(report, "--virtual-time-budget=5000", "--dump-dom", cwd=tmp_path).stdout
    assert dom.count("<svg") >= 4  # sigmoid_grad's curve, ch5's and ch7's graphs, the loss curves
    assert "sigmoid_grad(x): yours and torch's" in dom
    assert "a = x·y, b = a + z, c = b² at x=5.0" in dom and "Your engine on a = x·y" in dom
    assert "train: the loss before each step" in dom
    assert "Diagnosis: The square in the denominator is missing" in dom


def test_a_screenshot_of_the_report_is_taken_offline(report, tmp_path):
    shot = tmp_path / "report.png"
    render(report, "--window-size=1200,3000", f"--screenshot={shot}", cwd=tmp_path)
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(header[16:20], "big") == 1200 and int.from_bytes(header[20:24], "big") == 3000
    assert shot.stat().st_size > 50_000  # a page with pictures, not a blank one
    assert not list(report.parent.glob("assets")), "the report must be one file"

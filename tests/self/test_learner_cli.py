"""The learner's commands: `kit hint`, `kit check`, `kit watch` and `kit init`, in a clone and after a plain install."""
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kit.cli import main
from kit.registry import EXERCISES

ROOT = Path(__file__).resolve().parents[2]


def test_hint_gives_the_hint_and_more_gives_the_direct_one(capsys):
    assert main(["hint", "ch6_functions.sigmoid_grad"]) == 0
    out = capsys.readouterr().out
    assert EXERCISES["ch6_functions.sigmoid_grad"].hint in out and "More:" not in out
    assert main(["hint", "--more", "sigmoid_grad"]) == 0
    assert EXERCISES["ch6_functions.sigmoid_grad"].more in capsys.readouterr().out


@pytest.mark.parametrize("exercise", EXERCISES.values(), ids=str)
def test_every_exercise_has_two_hints(exercise):
    assert exercise.hint and exercise.more and exercise.hint != exercise.more


def test_an_ambiguous_or_unknown_name_is_a_clear_error():
    with pytest.raises(SystemExit, match="ch5_backprop_by_hand.backward, ch7_engine.backward"):
        main(["hint", "backward"])
    with pytest.raises(SystemExit, match="no exercise or chapter 'nothing'"):
        main(["hint", "nothing"])


def test_check_runs_the_same_tests_narrowed():
    done = subprocess.run([sys.executable, "-m", "kit.cli", "check", "ch4", "sigmoid_grad", "-rA",
                           "-p", "no:cacheprovider", "--html=/dev/null"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "test_exercise[ch4_product_rule.product_grads]" in done.stdout
    assert "test_exercise[ch6_functions.sigmoid_grad]" in done.stdout
    assert "2 failed" in done.stdout and "not attempted" in done.stdout


def test_watch_reruns_on_save_and_moves_on_when_it_passes(tmp_path):
    for stub in (ROOT / "exercises").glob("ch*.py"):
        shutil.copy(stub, tmp_path)
    watcher = subprocess.Popen([sys.executable, "-m", "kit.cli", "watch", "--impl", str(tmp_path),
                                "--interval", "0.1"], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        seen = read_until(watcher, "Watching")
        assert "✘ ch1_sensitivity.scale_sensitivity: not attempted" in seen
        time.sleep(0.2)
        shutil.copy(ROOT / "solutions" / "ch1_sensitivity.py", tmp_path)  # the learner saves
        seen = read_until(watcher, "Watching")
        assert "change seen; rerunning ch1_sensitivity.scale_sensitivity" in seen
        assert "✔ ch1_sensitivity.scale_sensitivity passes" in seen
        assert "✔ ch1_sensitivity.numeric_sensitivity passes" in seen
        assert "✘ ch2_chain_rule.chain_forward: not attempted" in seen
    finally:
        watcher.kill()
        watcher.wait()


def read_until(process, marker: str, timeout: float = 240.0) -> str:
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            return "".join(lines)
    raise AssertionError(f"no {marker!r} from kit watch; it said:\n{''.join(lines)}")


# ---- kit hint without an exercise, and typos -------------------------------------------------------

def test_hint_without_a_name_gives_the_hint_of_the_exercise_you_are_on(tmp_path, capsys):
    for stub in (ROOT / "exercises").glob("ch*.py"):
        shutil.copy(stub, tmp_path)
    assert main(["hint", "--impl", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "You are on ch1_sensitivity.scale_sensitivity (not attempted)" in out
    assert f"ch1_sensitivity.scale_sensitivity: {EXERCISES['ch1_sensitivity.scale_sensitivity'].hint}" in out
    for done in ("ch1_sensitivity", "ch2_chain_rule"):
        shutil.copy(ROOT / "solutions" / f"{done}.py", tmp_path)
    (tmp_path / "ch3_power_rule.py").write_text("def square_grad(b):\n    return b\n")
    assert main(["hint", "--more", "--impl", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    square = EXERCISES["ch3_power_rule.square_grad"]
    assert "You are on ch3_power_rule.square_grad (failing)" in out
    assert square.hint in out and square.more in out
    (tmp_path / "ch3_power_rule.py").write_text("def square_grad(b)\n    return b\n")
    assert main(["hint", "--impl", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "First fix" in out and "ch3_power_rule.py" in out and "SyntaxError" in out and square.hint in out


def test_a_typo_in_a_name_gets_the_nearest_names():
    with pytest.raises(SystemExit, match="did you mean sigmoid_grad"):
        main(["hint", "sigmod_grad"])
    with pytest.raises(SystemExit, match="did you mean add"):
        main(["hint", "ch7.ad"])


# ---- the project, wherever the kit is installed ------------------------------------------------------

def test_init_makes_a_workspace_where_pytest_and_kit_check_work_from_any_folder_in_it(tmp_path, capsys):
    workspace = tmp_path / "my work"
    assert main(["init", str(workspace)]) == 0
    assert "Next: cd" in capsys.readouterr().out
    stubs = sorted(p.name for p in (workspace / "exercises").iterdir())
    assert stubs == sorted(p.name for p in (ROOT / "exercises").glob("ch*.py"))
    assert (workspace / "exercises" / "ch6_functions.py").read_bytes() == \
        (ROOT / "exercises" / "ch6_functions.py").read_bytes()
    assert sorted(p.name for p in (workspace / "tests").iterdir()) == \
        sorted(p.name for p in (ROOT / "tests").glob("test_ch*.py"))
    assert "backprop_kit = true" in (workspace / "pyproject.toml").read_text()
    with pytest.raises(SystemExit, match="already has exercises/ch1_sensitivity.py"):
        main(["init", str(workspace)])
    done = subprocess.run([sys.executable, "-m", "kit.cli", "check", "ch1", "-p", "no:cacheprovider"],
                          cwd=workspace / "exercises", capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2 failed" in done.stdout and str(workspace) in done.stdout  # the workspace's, not the kit's
    assert (workspace / "report.html").exists() and not (ROOT / "exercises" / "report.html").exists()


@pytest.fixture(scope="module")
def plain_install(tmp_path_factory):
    """A non-editable `pip install .` of a clone of the kit, in a virtualenv of its own (its other
    packages: this one's, through a .pth file, added after the install so that pip sees none of them)."""
    import sysconfig

    base = tmp_path_factory.mktemp("plain")
    clone = base / "clone"
    clone.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy(ROOT / name, clone / name)
    for folder in ("kit", "grading", "exercises"):
        shutil.copytree(ROOT / folder, clone / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (clone / "tests").mkdir()
    for test in (ROOT / "tests").glob("test_ch*.py"):
        shutil.copy(test, clone / "tests")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps"]
    import setuptools

    subprocess.run(pip + [f"setuptools=={setuptools.__version__}"], check=True, timeout=600)
    subprocess.run(pip + ["--no-build-isolation", str(clone)], check=True, timeout=600)
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = subprocess.run([str(venv / "bin" / "python"), "-c", where], capture_output=True, text=True,
                          check=True).stdout.strip()
    Path(site, "this-venvs-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin", clone


def test_after_a_plain_install_check_hint_and_watch_work_from_inside_the_project(plain_install, tmp_path):
    bin_, clone = plain_install
    found = subprocess.run([str(bin_ / "python"), "-c", "import kit; print(kit.__file__)"], cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout
    assert "site-packages" in found and str(ROOT) not in found  # the installed kit, not this clone
    for where in (clone, clone / "exercises"):
        done = subprocess.run([str(bin_ / "kit"), "check", "ch1", "-p", "no:cacheprovider"], cwd=where,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 1 and "2 failed" in done.stdout, done.stdout + done.stderr
    done = subprocess.run([str(bin_ / "kit"), "check", "ch2", "-p", "no:cacheprovider", "--impl",
                           str(ROOT / "solutions")], cwd=clone / "exercises", capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0 and "2 passed" in done.stdout, done.stdout + done.stderr
    done = subprocess.run([str(bin_ / "kit"), "hint"], cwd=clone / "tests", capture_output=True, text=True, timeout=300)
    assert "You are on ch1_sensitivity.scale_sensitivity" in done.stdout, done.stdout + done.stderr
    watcher = subprocess.Popen([str(bin_ / "kit"), "watch", "--interval", "0.1"], cwd=clone / "exercises",
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert "✘ ch1_sensitivity.scale_sensitivity: not attempted" in read_until(watcher, "Watching")
    finally:
        watcher.kill()
        watcher.wait()
    work = tmp_path / "work"
    shutil.copytree(clone / "exercises", work)
    shutil.copy(ROOT / "solutions" / "ch1_sensitivity.py", work)
    watcher = subprocess.Popen([str(bin_ / "kit"), "watch", "--interval", "0.1", "--impl", str(work)],
                               cwd=clone / "exercises", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:  # hypothesis draws for ch1: what it remembers goes to the project's root, as in its pytest runs
        assert "✔ ch1_sensitivity.numeric_sensitivity passes" in read_until(watcher, "Watching")
    finally:
        watcher.kill()
        watcher.wait()
    assert not (clone / "exercises" / ".hypothesis").exists() and (clone / ".hypothesis").is_dir()
    outside = subprocess.run([str(bin_ / "kit"), "check", "ch1"], cwd=tmp_path, capture_output=True, text=True,
                             timeout=300)
    assert outside.returncode == 1 and "no backprop-kit project in" in outside.stderr and "kit init" in outside.stderr


def test_after_a_plain_install_init_makes_a_workspace_from_the_copy_the_kit_carries(plain_install, tmp_path):
    bin_, _ = plain_install
    done = subprocess.run([str(bin_ / "kit"), "init", "work"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    workspace = tmp_path / "work"
    stub = "exercises/ch7_engine.py"
    assert (workspace / stub).read_bytes() == (ROOT / stub).read_bytes()
    done = subprocess.run([str(bin_ / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=workspace,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 1 and f"{len(EXERCISES)} failed" in done.stdout, done.stdout + done.stderr


def test_check_passes_its_timeout_and_exact_test_ids_to_pytest(monkeypatch):
    ran = []
    monkeypatch.setattr(subprocess, "run", lambda command, **_: ran.append(command) or subprocess.CompletedProcess(
        command, 0))
    assert main(["check", "chain_forward", "--timeout", "2.5", "-x"]) == 0
    [command] = ran
    assert command[-3:] == ["--kit-timeout", "2.5", "-x"]
    from kit.plugin import param_id  # the plugin's own test ids: kit check selects exactly one test

    test_id = param_id(EXERCISES["ch2_chain_rule.chain_forward"])
    assert command[3].endswith(f"tests/test_ch2_chain_rule.py::test_exercise[{test_id}]")

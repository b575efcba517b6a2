"""The graded inputs (grading/cases.py): drawn from the instructor's seed, cached in a format that
cannot run code (grading/casefile.py), and never trusted: whatever is found in the cache, the
class is graded on the inputs a fresh draw gives.

Threat model, guarantees 4 and 5: a cache file replaced by a pickle, truncated, forged for
another exercise, kit or seed, with tensors that do not fill their shapes or declare huge ones,
a symbolic link, a FIFO, a folder or file of another user or writable by others: each is
ignored (with a warning line), the exercise is drawn again, and the cases equal a fresh draw.
The seed: same seed, same inputs in any process; another seed, other drawn inputs but the
same worked examples; the seed file is made 0600 and never named by a cache file.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import shutil
import stat
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import settings

from grading import case_cache, casefile, cases
from grading.seed import seed_hash
from kit.drivers import Curve
from kit.implementation import copy_args
from kit.registry import EXERCISES

ROOT = Path(__file__).resolve().parents[2]
SEED = bytes.fromhex("0123456789abcdef0123456789abcdef")
OTHER_SEED = bytes.fromhex("fedcba9876543210fedcba9876543210")
# one exercise of each kind of input: a Curve, Held and SameAsA, a Graph, int64 and float64
# tensors, dicts of tensors
IDS = ["ch1_sensitivity.numeric_sensitivity", "ch7_engine.mul", "ch7_engine.backward",
       "ch8_tensors.embedding_backward", "ch9_training.sgd_step"]
CHEAP = "ch7_engine.mul"  # the exercise the tampering tests spoil, as it is quick to draw again
TENSORS = "ch8_tensors.embedding_backward"


# ---- bit identity of recorded values --------------------------------------------------------

def same(a, b) -> bool:
    """a and b are the same value, bit for bit: types, tensor dtypes and shapes and every value."""
    if type(a) is not type(b):
        return False
    if type(a) is float:  # bit identity is meant: -0.0 and NaN's bits too
        return struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, torch.Tensor):
        return a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad \
            and torch.equal(a.detach(), b.detach())
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if dataclasses.is_dataclass(a):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, Curve):
        return a.kind == b.kind and same(a.coefficients, b.coefficients)
    return a == b  # None, bool, int, str


def same_cases(a: cases.Cases, b: cases.Cases) -> bool:
    return a.exercise is b.exercise and a.examples == b.examples and same(a.inputs, b.inputs) \
        and same(a.expected, b.expected) and same(pickle.loads(a.pickled), pickle.loads(b.pickled))


def test_same_tells_values_apart():  # the check every other test relies on can fail
    t = torch.tensor([1.0, 2.0], dtype=torch.float64)
    assert same((t, 1.0, {"a": [1]}), (t.clone(), 1.0, {"a": [1]}))
    assert not same(t, t.to(torch.float32))
    assert not same(t, torch.tensor([1.0, 2.5], dtype=torch.float64))
    assert not same((1.0,), (1,))
    assert not same(0.0, -0.0)
    assert not same([1.0], (1.0,))


# ---- fixtures --------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    """Seeds and caches in this test's folders, never the user's."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture(scope="module")
def fresh():
    """The cases of IDS drawn in this process from SEED, never encoded, cached or decoded."""
    return {eid: cases.record(EXERCISES[eid], SEED) for eid in IDS}


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """A cache folder that record_all filled with the cases of IDS."""
    folder = tmp_path_factory.mktemp("filled") / "cache"
    cases.record_all(IDS, 1, folder, SEED)
    return folder


@pytest.fixture
def cache(tmp_path, filled):
    """A copy of the filled cache, for one test to spoil."""
    folder = tmp_path / "cache"
    shutil.copytree(filled, folder)
    return folder


def cache_file(folder: Path, eid: str, seed: bytes = SEED) -> Path:
    return folder / case_cache.cache_name(EXERCISES[eid], seed)


def forge(meta: dict, value: str, blob: bytes = b"", version: int = casefile.VERSION) -> bytes:
    """A case file with a valid header and checksum around whatever meta, value and blob."""
    parts = [json.dumps(meta).encode(), value.encode(), blob]
    digest = hashlib.sha256(b"".join(parts)).digest()
    return casefile.HEADER.pack(casefile.MAGIC, version, *map(len, parts), digest) + b"".join(parts)


def meta_of(eid: str, **changes) -> dict:
    exercise = EXERCISES[eid]
    meta = {"exercise": eid, "fingerprint": case_cache.fingerprint(exercise.module, seed_hash(SEED)),
            "examples": len(exercise.examples)}
    return {**meta, **changes}


def lying(eid: str, fresh: dict) -> bytes:
    """A well-formed case file for `eid` whose last answer is wrong: if it were trusted, the
    cases would differ from a fresh draw (and a wrong answer would be graded right)."""
    inputs, expected = fresh[eid].inputs, fresh[eid].expected
    return casefile.dumps(meta_of(eid), (inputs, expected[:-1] + ({"out.data": 123.0},)))


def regraded(folder: Path, fresh: dict, ids=IDS) -> dict:
    """record_all on the folder; asserts it gave exactly the fresh cases."""
    found = cases.record_all(ids, 1, folder, SEED)
    assert list(found) == list(ids)
    for eid in ids:
        assert same_cases(found[eid], fresh[eid]), eid
    return found


def assert_redrawn(folder: Path, eid: str) -> None:
    """The spoiled file was replaced by a good one: a regular file, ours, 0600, that reads back."""
    path = cache_file(folder, eid)
    st = os.lstat(path)
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    cases._decode(path.read_bytes(), EXERCISES[eid], SEED)


# ---- the cache as it should be ------------------------------------------------------------------

def test_a_fresh_draw_and_the_cache_give_the_same_cases(fresh, filled):
    regraded(filled, fresh)


def test_cache_files_are_case_files_only_the_grader_can_read(filled):
    assert stat.S_IMODE(os.stat(filled).st_mode) == 0o700
    names = sorted(p.name for p in filled.iterdir())
    assert names == sorted(cache_file(filled, eid).name for eid in IDS)
    for path in filled.iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert path.read_bytes().startswith(casefile.MAGIC)


def test_the_seed_is_in_no_cache_file_name_nor_file(filled):
    for path in filled.iterdir():
        for spelling in (SEED.hex(), SEED.hex().upper()):
            assert spelling not in path.name
            assert spelling.encode() not in path.read_bytes()
        assert SEED not in path.read_bytes()


def test_two_seeds_never_share_a_cache_file():
    exercise = EXERCISES[CHEAP]
    assert case_cache.cache_name(exercise, SEED) != case_cache.cache_name(exercise, OTHER_SEED)


def test_an_existing_open_folder_is_tightened_to_0700(tmp_path, fresh):
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)  # as an older kit made it: readable by all, writable by none
    regraded(folder, fresh, [CHEAP])
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700


def test_the_drawing_processes_send_the_same_cases(tmp_path, fresh):
    """-j 2: drawn in worker processes, sent back as case files."""
    ids = [CHEAP, TENSORS]
    found = cases.record_all(ids, 2, tmp_path / "cache", SEED)
    for eid in ids:
        assert same_cases(found[eid], fresh[eid]), eid
    regraded(tmp_path / "cache", fresh, ids)


# ---- whatever is in the cache, it is not trusted ---------------------------------------------------

class Bomb:
    """Unpickling this makes a folder: the proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.mkdir, (str(self.marker),)


def test_a_pickle_in_the_cache_never_runs(cache, fresh, tmp_path, capsys):
    marker = tmp_path / "the-pickle-ran"
    payload = pickle.dumps(([Bomb(marker)], []))
    for eid in IDS:  # every file, so that no reader of any exercise could miss it
        cache_file(cache, eid).write_bytes(payload)
    regraded(cache, fresh)
    assert not marker.exists()
    for eid in IDS:
        assert_redrawn(cache, eid)
    assert capsys.readouterr().err.count("warning: ignoring the cached inputs") == len(IDS)
    pickle.loads(payload)  # and the payload was live: unpickled, it does run
    assert marker.exists()


def test_a_truncated_file_is_drawn_again(cache, fresh):
    path = cache_file(cache, CHEAP)
    data = path.read_bytes()
    for size in (0, 10, casefile.HEADER.size, len(data) // 2, len(data) - 1):
        path.write_bytes(data[:size])
        regraded(cache, fresh, [CHEAP])
        assert_redrawn(cache, CHEAP)


def test_a_damaged_file_is_drawn_again(cache, fresh):
    path = cache_file(cache, TENSORS)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x40  # a bit of the last tensor: only the checksum sees it
    path.write_bytes(bytes(data))
    regraded(cache, fresh)
    assert_redrawn(cache, TENSORS)


def test_a_file_of_another_version_is_drawn_again(cache, fresh):
    path = cache_file(cache, CHEAP)
    meta, value = casefile.loads(path.read_bytes())
    text = json.dumps(casefile._Writer().value(value, 0))
    path.write_bytes(forge(meta, text, version=casefile.VERSION + 1))
    regraded(cache, fresh)
    assert_redrawn(cache, CHEAP)


@pytest.mark.parametrize("changes", [
    {"exercise": "ch7_engine.add"},  # another exercise's file, copied under this name
    {"fingerprint": "0" * 32},  # another kit, library version or seed
    {"examples": 0},
    {"extra": 1},
], ids=["exercise", "fingerprint", "examples", "extra-key"])
def test_a_file_made_for_something_else_is_drawn_again(cache, fresh, changes):
    path = cache_file(cache, CHEAP)
    _, value = casefile.loads(path.read_bytes())
    path.write_bytes(casefile.dumps(meta_of(CHEAP, **changes), value))
    regraded(cache, fresh)
    assert_redrawn(cache, CHEAP)


def test_another_exercises_file_under_this_name_is_drawn_again(cache, fresh):
    shutil.copy(cache_file(cache, TENSORS), cache_file(cache, CHEAP))
    regraded(cache, fresh)
    assert_redrawn(cache, CHEAP)


TENSOR_3 = '{"T":[{"T":[{"T":[{"A":["float64",[3],false]}]}]},{"T":[1.0]}]}'  # one input, one answer


@pytest.mark.parametrize(("value", "blob"), [
    (TENSOR_3, bytes(16)),  # 3 float64 need 24 bytes
    (TENSOR_3, bytes(32)),  # bytes left over
    (TENSOR_3.replace("[3]", "[2147483647,2147483647]"), bytes(24)),  # 2^65 bytes declared
    (TENSOR_3.replace("[3]", "[4294967296]"), bytes(24)),  # a dimension beyond any tensor's
    (TENSOR_3.replace("[3]", "[-3]"), bytes(24)),
    (TENSOR_3.replace("[3]", "[3.0]"), bytes(24)),
    (TENSOR_3.replace("float64", "object"), bytes(24)),
    (TENSOR_3.replace("float64", "bool").replace("[3]", "[8]"), bytes([2] * 8)),  # not a bool's byte
    (TENSOR_3.replace("float64", "int64").replace("false", "true"), bytes(24)),  # an int tensor with grad
    (TENSOR_3.replace("[3]", "[" + ",".join(["1"] * 40) + "]"), bytes(8)),  # too many dimensions
], ids=["short", "long", "huge", "huge-dim", "negative", "float-dim", "dtype", "bool-bytes",
        "int-grad", "dims"])
def test_tensors_that_do_not_fill_their_shapes_are_refused(cache, fresh, value, blob):
    assert casefile.loads(forge(meta_of(CHEAP), TENSOR_3, bytes(24)))  # the same, well-formed, reads
    with pytest.raises(casefile.CaseFileError):
        casefile.loads(forge(meta_of(CHEAP), value, blob))
    cache_file(cache, CHEAP).write_bytes(forge(meta_of(CHEAP), value, blob))
    regraded(cache, fresh)
    assert_redrawn(cache, CHEAP)


@pytest.mark.parametrize("value", [
    '{"T":[{"T":[]},{"T":[]}]}',  # fewer inputs than the worked examples
    '{"T":[{"T":[{"T":[1.0]}]},{"T":[]}]}',  # an input without an answer
    '{"T":[{"T":[[1.0]]},{"T":[1.0]}]}',  # arguments in a list, not a tuple
    '{"T":[{"T":[{"T":[1.0]}]}]}',
    '[1.0, 2.0]',
    '{"os.system":["echo hello"]}',  # a tag the format does not know
    '{"T":[1],"L":[2]}',  # an object of two tags
    '{"D":[1,2]}',  # a dict key that is not a str
    '{"Held":[1.0,2.0,3.0]}',  # too many fields for the class
    '{"N":"zz"}',
    '[' * 100000 + ']' * 100000,  # deeper than any parser goes
    'not json',
], ids=["few", "unanswered", "list-args", "no-expected", "list", "unknown-tag", "two-tags",
        "int-key", "fields", "nan", "deep", "text"])
def test_a_malformed_value_is_drawn_again(cache, fresh, value):
    cache_file(cache, CHEAP).write_bytes(forge(meta_of(CHEAP), value))
    regraded(cache, fresh)
    assert_redrawn(cache, CHEAP)


def test_huge_declared_lengths_are_refused_before_anything_is_read(cache, fresh):
    path = cache_file(cache, CHEAP)
    data = bytearray(path.read_bytes())
    struct.pack_into("<Q", data, 12, 1 << 62)  # the meta's length, in the header
    path.write_bytes(bytes(data))
    regraded(cache, fresh)
    assert_redrawn(cache, CHEAP)


def test_a_file_larger_than_any_case_file_is_not_read(cache, fresh, capsys):
    path = cache_file(cache, CHEAP)
    os.truncate(path, casefile.MAX_FILE + 1)  # sparse: a gigabyte on the file's size only
    regraded(cache, fresh, [CHEAP])
    assert "bytes long" in capsys.readouterr().err
    assert_redrawn(cache, CHEAP)


def test_a_lying_file_of_our_own_is_believed(cache, fresh):
    """The control of the tests below: a well-formed file, ours and 0600, is used as it is, so
    only the link, the owner or the mode can make them draw again."""
    cache_file(cache, CHEAP).write_bytes(lying(CHEAP, fresh))
    found = cases.record_all([CHEAP], 1, cache, SEED)[CHEAP]
    assert same(found.inputs, fresh[CHEAP].inputs)
    assert not same(found.expected, fresh[CHEAP].expected)


def test_a_symlinked_cache_file_is_not_followed(cache, fresh, tmp_path, capsys):
    path = cache_file(cache, CHEAP)
    elsewhere = tmp_path / "elsewhere.cases"
    elsewhere.write_bytes(lying(CHEAP, fresh))  # well-formed and ours: only the link makes it foreign
    os.chmod(elsewhere, 0o600)
    path.unlink()
    path.symlink_to(elsewhere)
    regraded(cache, fresh)
    assert "a symbolic link" in capsys.readouterr().err
    assert_redrawn(cache, CHEAP)
    assert elsewhere.read_bytes() == lying(CHEAP, fresh)  # the link was replaced, its target untouched


def test_a_fifo_in_place_of_a_file_does_not_hang(cache, fresh, capsys):
    path = cache_file(cache, CHEAP)
    path.unlink()
    os.mkfifo(path, 0o600)
    regraded(cache, fresh)
    assert "not a regular file" in capsys.readouterr().err
    assert_redrawn(cache, CHEAP)


def another_users(path: Path, monkeypatch) -> None:
    """Make `path` belong to another user: chown it when we may, else make us another user."""
    if os.geteuid() == 0:
        os.chown(path, 12345, 12345, follow_symlinks=False)
    else:
        me = os.geteuid()
        monkeypatch.setattr(cases.os, "geteuid", lambda: me + 1)


def test_another_users_cache_file_is_ignored(cache, fresh, monkeypatch, capsys):
    cache_file(cache, CHEAP).write_bytes(lying(CHEAP, fresh))
    another_users(cache_file(cache, CHEAP), monkeypatch)
    regraded(cache, fresh)
    assert "owned by user" in capsys.readouterr().err
    assert_redrawn(cache, CHEAP)


def test_a_group_writable_cache_file_is_ignored(cache, fresh, capsys):
    cache_file(cache, CHEAP).write_bytes(lying(CHEAP, fresh))
    os.chmod(cache_file(cache, CHEAP), 0o620)
    regraded(cache, fresh)
    assert "writable by group or others" in capsys.readouterr().err
    assert_redrawn(cache, CHEAP)


@pytest.mark.parametrize("spoil", ["group-writable", "others-writable", "another-user"])
def test_an_unsafe_cache_folder_is_neither_read_nor_written(cache, fresh, tmp_path, monkeypatch, capsys, spoil):
    marker = tmp_path / "the-pickle-ran"
    cache_file(cache, CHEAP).write_bytes(pickle.dumps(Bomb(marker)))
    before = {p.name: p.read_bytes() for p in cache.iterdir()}
    if spoil == "another-user":
        another_users(cache, monkeypatch)
    else:
        os.chmod(cache, 0o770 if spoil == "group-writable" else 0o707)
    regraded(cache, fresh, [CHEAP])
    assert not marker.exists()
    assert {p.name: p.read_bytes() for p in cache.iterdir()} == before  # nothing written into it
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "not using the cache" in warnings[0], warnings


def test_a_cache_that_cannot_be_made_costs_only_time(tmp_path, fresh):
    (tmp_path / "file").write_text("a file where the cache's parent should be\n")
    regraded(tmp_path / "file" / "cache", fresh, [CHEAP])


# ---- the format ---------------------------------------------------------------------------------

def test_every_kind_of_value_reads_back_bit_for_bit():
    nan = struct.unpack("<d", bytes.fromhex("0100000000f8ffff"))[0]  # a NaN with a payload and sign
    value = (None, True, 0, -7, 2 ** 70, 0.0, -0.0, 1e-310, float("inf"), float("-inf"), nan, "é\udc80",
             [1, [2.0]], {"a": (1,), "b": {}}, (), [],
             torch.tensor([[1.5, -2.0]], dtype=torch.float64), torch.arange(5), torch.zeros(0, 3),
             torch.tensor([True, False]), torch.tensor([1 + 2j], dtype=torch.complex128),
             torch.tensor([1.0, 2.0], dtype=torch.float32).requires_grad_(),
             torch.arange(6.0, dtype=torch.float64).reshape(2, 3).t(),  # not contiguous
             Curve("sine", 1.0, 2.0), EXERCISES["ch7_engine.backward"].examples[0][0])
    meta, back = casefile.loads(casefile.dumps({"m": 1}, value))
    assert meta == {"m": 1}
    assert same(back, value)


def test_every_exercises_worked_examples_read_back(tmp_path):
    """Every kind of input of every exercise, without drawing any (kept in step with the kit)."""
    for exercise in EXERCISES.values():
        examples = tuple(copy_args(args) for args in exercise.examples)
        assert same(casefile.loads(casefile.dumps({}, examples))[1], examples), exercise.id


@pytest.mark.parametrize("value", [object(), {1: 2}, (lambda: 0,), torch.tensor([1.0], dtype=torch.bfloat16)],
                         ids=["object", "int-key", "function", "bfloat16"])
def test_a_kind_the_format_does_not_hold_is_refused_when_written(value):
    with pytest.raises(casefile.EncodeError):
        casefile.dumps({}, value)


# ---- the seed ---------------------------------------------------------------------------------------

def test_the_default_seed_is_made_once_0600_with_128_random_bits(tmp_path, capsys):
    seed = cases.load_seed()
    path = tmp_path / "config" / "backprop-kit" / "grading-seed"
    assert path == cases.default_seed_file()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert len(seed) == 16 and path.read_text().strip() == seed.hex()
    assert "made a new grading seed" in capsys.readouterr().err
    assert cases.load_seed() == seed and cases.load_seed(path) == seed
    assert "made a new grading seed" not in capsys.readouterr().err
    os.unlink(path)
    assert cases.load_seed() != seed  # random, not derived from anything


def test_a_given_seed_file_is_used_as_it_is(tmp_path):
    path = tmp_path / "course-seed"
    path.write_text(SEED.hex() + "\n")
    os.chmod(path, 0o600)
    assert cases.load_seed(path) == SEED
    assert not cases.default_seed_file().exists()  # a given file: no default one made


@pytest.mark.parametrize(("text", "mode", "complaint"), [
    (None, 0o600, "cannot read"),
    ("", 0o600, "hex digits"),
    ("0123", 0o600, "hex digits"),  # 16 bits: guessable
    ("not a seed at all, just words here", 0o600, "hex digits"),
    (SEED.hex(), 0o620, "writable by group or others"),  # someone else could choose the inputs
    (SEED.hex(), 0o602, "writable by group or others"),
])
def test_a_bad_seed_file_is_a_clear_error(tmp_path, text, mode, complaint):
    path = tmp_path / "seed"
    if text is not None:
        path.write_text(text)
        os.chmod(path, mode)
    with pytest.raises(cases.SeedError, match=complaint):
        cases.load_seed(path)


def test_another_users_seed_file_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "seed"
    path.write_text(SEED.hex())
    os.chmod(path, 0o600)
    another_users(path, monkeypatch)
    with pytest.raises(cases.SeedError, match="owned by user"):
        cases.load_seed(path)


def test_a_seed_file_others_can_read_is_used_with_a_warning(tmp_path, capsys):
    path = tmp_path / "seed"
    path.write_text(SEED.hex())
    os.chmod(path, 0o644)
    assert cases.load_seed(path) == SEED
    assert "readable by other users" in capsys.readouterr().err


def test_another_seed_draws_other_inputs_after_the_same_worked_examples(fresh):
    for eid in IDS:
        mine, other = fresh[eid], cases.record(EXERCISES[eid], OTHER_SEED)
        n = mine.examples
        assert n == len(EXERCISES[eid].examples) and n > 0
        assert same(mine.inputs[:n], other.inputs[:n]) and same(mine.inputs[:n], EXERCISES[eid].examples)
        assert not same(mine.inputs[n:], other.inputs[n:]), eid


def test_the_public_rehearsal_does_not_see_the_graded_inputs(fresh):
    """`pytest --hypothesis-profile grading` stays derandomized, and draws other inputs."""
    assert settings.get_profile("grading").derandomize
    for eid in (CHEAP, TENSORS):
        rehearsal = cases.record(EXERCISES[eid], None)
        assert not same(rehearsal.inputs[rehearsal.examples:], fresh[eid].inputs[fresh[eid].examples:])


def test_check_with_the_cases_settings_asks_exactly_the_recorded_inputs(fresh):
    """What the grader relies on when it runs kit.check against a student after a failure."""
    from kit.check import check

    class Asked:
        def __init__(self):
            self.inputs = []

        def call(self, exercise, args):
            self.inputs.append(copy_args(args))
            return exercise.reference(*args), None

    for eid in (CHEAP, TENSORS):
        asked = Asked()
        check(EXERCISES[eid], asked, fresh[eid].settings)
        assert same(tuple(asked.inputs), fresh[eid].inputs), eid
    assert str(SEED.hex()) not in repr(fresh[CHEAP].settings)


SCRIPT = """
import importlib, sys
from pathlib import Path
from grading import cases
for name in sys.argv[4:]:  # more of the kit's modules: hypothesis must not draw their literals
    importlib.import_module(name)
cases.record_all(sys.argv[3].split(","), 1, Path(sys.argv[2]), cases.load_seed(Path(sys.argv[1])))
"""


def test_the_same_seed_draws_the_same_inputs_in_other_processes(tmp_path, fresh):
    seed_file = tmp_path / "course-seed"
    seed_file.write_text(SEED.hex() + "\n")
    os.chmod(seed_file, 0o600)
    ids = [CHEAP, TENSORS]
    folders = []
    # str hashing differs between the two, and so do the modules they imported: nothing may
    # depend on either
    for hash_seed, imports in (("1", []), ("2", ["grading.platforms.gradescope", "kit.learner_cli", "grading.rubric"])):
        folder = tmp_path / f"cache-{hash_seed}"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", SCRIPT, str(seed_file), str(folder), ",".join(ids), *imports],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        folders.append(folder)
    for eid in ids:
        first, second = (cache_file(f, eid).read_bytes() for f in folders)
        assert first == second, eid
        assert same_cases(cases._decode(first, EXERCISES[eid], SEED), fresh[eid]), eid

"""Fuzzed files given to the CLI: IDX data files, PNG/JPEG images, safetensors checkpoints and
exported weights, ``model.json``, ``metrics.json`` and ``stats.jsonl``. Each file starts as a
valid one and gets a few byte-level or JSON-level edits. Every example ends with exit 0, or exit
2 and exactly one ``gankit: error:`` line, and no output file left half-written: a refused
command leaves its output absent (or, for a file it updates, byte for byte as it was) and no temp
file behind. An exception escaping ``main`` (a traceback) fails the test.

Examples per target: ``GANKIT_FUZZ_EXAMPLES`` (default 25, derandomized, for CI); the recorded
reliability run (``benchmarks/fuzz_inputs.py``) uses 1,000 or more."""

import contextlib
import gzip
import io
import json
import os
import shutil
import tempfile

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image
from safetensors import safe_open
from safetensors.torch import save_file

from gankit.cli import main
from gankit.data.idx import encode_idx
from gankit.runs import train
from gankit.runs.export import export_run
from gankit.train.checkpoint import META_KEY
from tests.helpers import tiny

EXAMPLES = int(os.environ.get("GANKIT_FUZZ_EXAMPLES", "25"))  # each example runs a CLI command: 25 keeps CI fast
FUZZ = settings(
    max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
)  # fmt: skip
WARNING = "gankit: warning: "


def run_cli(args, keep=(), absent=()):
    """``main(args)`` with its output captured. Exit 0, or exit 2 with one error line (warning
    lines aside); after exit 2 each path in ``keep`` is byte for byte as before, each in
    ``absent`` does not exist, and no atomic-write temp file is left next to either."""
    before = {p: _read(p) for p in keep}
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    assert code in (0, 2), (args, code, err.getvalue())
    lines = [ln for ln in err.getvalue().splitlines() if not ln.startswith(WARNING)]
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("gankit: error: "), (args, err.getvalue())
        for path in keep:
            assert _read(path) == before[path], f"{path} changed by a refused command"
        for path in absent:
            assert not os.path.exists(path), f"{path} written by a refused command"
    for path in (*keep, *absent):
        folder = os.path.dirname(path) or "."
        if os.path.isdir(folder):
            assert not [n for n in os.listdir(folder) if n.endswith(".tmp")], (args, os.listdir(folder))
    return code


def _read(path):
    return open(path, "rb").read() if os.path.isfile(path) else None


# ------------------------------------------------------------------ byte-level edits


@st.composite
def mutated(draw, original: bytes, header: int = 64) -> bytes:
    """``original`` with 1-4 edits, most of them inside its first ``header`` bytes: set a byte,
    overwrite a range with random bytes, delete a range, insert bytes, truncate, append."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        what = draw(st.sampled_from(["set", "overwrite", "delete", "insert", "truncate", "append"]))
        limit = max(1, min(len(data), header) if draw(st.integers(0, 3)) else len(data))
        at = draw(st.integers(0, max(0, limit - 1)))
        if what == "set" and data:
            data[at] = draw(st.integers(0, 255))
        elif what == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=16))
            data[at : at + len(chunk)] = chunk
        elif what == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif what == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif what == "truncate":
            del data[at:]
        else:
            data += draw(st.binary(min_size=1, max_size=16))
    return bytes(data)


def _write(path, data):
    with open(path, "wb") as fh:
        fh.write(data)


# ------------------------------------------------------------------ fixtures: small valid files

RNG = np.random.default_rng(0)
N_IMAGES = 12
IMAGES = RNG.integers(0, 256, size=(N_IMAGES, 28, 28), dtype=np.uint8)
LABELS = (np.arange(N_IMAGES) % 10).astype(np.uint8)
IDX_FILES = {"t10k-images-idx3-ubyte": encode_idx(IMAGES), "t10k-labels-idx1-ubyte": encode_idx(LABELS)}


def make_fake_digits(tmp):
    """An .npz of generated 28x28 images in [-1, 1], the --fake side of the data-file targets."""
    path = os.path.join(tmp, "fake.npz")
    np.savez(path, samples=RNG.uniform(-1, 1, size=(N_IMAGES, 1, 28, 28)).astype(np.float32))
    return path


def make_ring_run(tmp):
    """A finished 2-step ring-gan run directory."""
    return train(tiny("ring-gan", tmp, "train.steps=2", "train.run_name=r")).run_dir


def make_exported(tmp):
    """A 1-step digits-dcgan run exported with `gankit export`."""
    run = train(tiny("digits-dcgan", tmp, "train.steps=1", "train.run_name=d", "train.ema_bn_batches=1"))
    out = os.path.join(tmp, "model")
    export_run(run.run_dir, out)
    return out


@contextlib.contextmanager
def unrelated_plots_skipped():
    """Resume's closing density and histogram plots skipped:
    they cost seconds per example and read neither a fuzzed stats file nor a checkpoint; the loss
    curves are drawn (and the final sample scatter of the resumed generator)."""
    from gankit.runs import artifacts

    names = ("plot_sample_histograms", "plot_density_2d")
    saved = {name: getattr(artifacts, name) for name in names}
    for name in names:
        setattr(artifacts, name, lambda *args, **kwargs: None)
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(artifacts, name, fn)


# the fixtures every target may take, by name (benchmarks/fuzz_inputs.py builds the same ones)
FIXTURES = {"fake_digits": make_fake_digits, "ring_run": make_ring_run, "exported": make_exported}


@pytest.fixture(scope="module")
def fake_digits(tmp_path_factory):
    return make_fake_digits(str(tmp_path_factory.mktemp("fake")))


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    return make_ring_run(str(tmp_path_factory.mktemp("runs")))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return make_exported(str(tmp_path_factory.mktemp("export")))


# ------------------------------------------------------------------ IDX data files


def _eval_mnist(data_dir, fake, out):
    return ["eval", "--real", "mnist", "--data-dir", data_dir, "--split", "test", "--fake", fake, "--features",
            "identity", "--metrics", "nn1", "--no-cache", "--out", out]


@FUZZ
@given(name=st.sampled_from(sorted(IDX_FILES)), data=st.data(), compress=st.sampled_from(["no", "before", "after"]))
@example(name="t10k-labels-idx1-ubyte", data=None, compress="no")  # the valid files: exit 0
def test_idx_files(fake_digits, name, data, compress):
    files = dict(IDX_FILES)
    if data is not None:
        original = gzip.compress(files[name], mtime=0) if compress == "after" else files[name]
        edited = data.draw(mutated(original, header=20))
        files[name] = gzip.compress(edited, mtime=0) if compress == "before" else edited
    with tempfile.TemporaryDirectory() as tmp:
        for file, content in files.items():
            gz = compress != "no" and file == name
            _write(os.path.join(tmp, file + (".gz" if gz else "")), content)
        out = os.path.join(tmp, "out", "metrics.json")
        code = run_cli(_eval_mnist(tmp, fake_digits, out), absent=[out])
        assert data is not None or code == 0


idx_headers = st.tuples(
    st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0xFF]),  # dtype code
    st.lists(st.one_of(st.integers(0, 40), st.sampled_from([2**32 - 1, 2**31, 2**16])), min_size=0, max_size=4),
)


@FUZZ
@given(name=st.sampled_from(sorted(IDX_FILES)), header=idx_headers, extra=st.integers(-8, 8))
@example(name="t10k-images-idx3-ubyte", header=(0x08, [2**32 - 1, 2**32 - 1, 2**32 - 1]), extra=0)
def test_idx_headers(fake_digits, name, header, extra):
    """A well-formed IDX header of any dtype and shape (huge dimensions too) over a payload of
    the size it declares (capped at 64 KiB), give or take ``extra`` bytes."""
    code, shape = header
    itemsize = {0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}.get(code, 1)
    size = min(int(np.prod(shape, dtype=object)) * itemsize if shape else 0, 1 << 16)
    payload = RNG.integers(0, 256, size=max(0, size + extra), dtype=np.uint8).tobytes()
    content = bytes([0, 0, code, len(shape)]) + b"".join(d.to_bytes(4, "big") for d in shape) + payload
    files = dict(IDX_FILES, **{name: content})
    with tempfile.TemporaryDirectory() as tmp:
        for file, data in files.items():
            _write(os.path.join(tmp, file), data)
        out = os.path.join(tmp, "out", "metrics.json")
        run_cli(_eval_mnist(tmp, fake_digits, out), absent=[out])


# ------------------------------------------------------------------ PNG / JPEG images


def _image_bytes(fmt, mode, size):
    arr = RNG.integers(0, 256, size=(size, size, 3 if mode == "RGB" else 1), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr[..., 0] if mode == "L" else arr, mode).save(buf, format=fmt)
    return buf.getvalue()


GOOD_IMAGES = {(fmt, mode): _image_bytes(fmt, mode, 28) for fmt in ("PNG", "JPEG") for mode in ("L", "RGB")}


@FUZZ
@given(kind=st.sampled_from(sorted(GOOD_IMAGES)), data=st.data(), side=st.sampled_from(["real", "fake"]))
@example(kind=("PNG", "L"), data=None, side="real")
def test_image_files(fake_digits, kind, data, side):
    content = GOOD_IMAGES[kind]
    if data is not None:
        content = data.draw(mutated(content, header=64))
    ext = ".png" if kind[0] == "PNG" else ".jpg"
    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(tmp, "images")
        os.makedirs(folder)
        for i in range(3):
            _write(os.path.join(folder, f"good{i}.png"), GOOD_IMAGES[("PNG", "L")])
        _write(os.path.join(folder, "fuzzed" + ext), content)
        out = os.path.join(tmp, "metrics.json")
        real, fake = (folder, fake_digits) if side == "real" else (fake_digits, folder)
        args = ["eval", "--real", real, "--fake", fake, "--features", "identity", "--metrics", "nn1", "--no-cache",
                "--out", out]
        code = run_cli(args, absent=[out])
        assert data is not None or code == 0


# ------------------------------------------------------------------ safetensors


def _copy_tree(src, dst):
    shutil.copytree(src, dst)
    return dst


@FUZZ
@given(data=st.data())
def test_checkpoint_given_to_resume(ring_run, data):
    path = os.path.join(ring_run, "checkpoint.safetensors")
    original = _read(path)
    header = 8 + int.from_bytes(original[:8], "little")
    edited = data.draw(mutated(original, header=header))
    with tempfile.TemporaryDirectory() as tmp:
        run = _copy_tree(ring_run, os.path.join(tmp, "run"))
        _write(os.path.join(run, "checkpoint.safetensors"), edited)
        files = [os.path.join(run, n) for n in ("checkpoint.safetensors", "config.json", "stats.jsonl")]
        run_cli(["resume", run, "train.steps=2", "train.progress=false"], keep=files)


def _checkpoint_parts(path):
    with safe_open(path, framework="pt") as fh:
        return {k: fh.get_tensor(k) for k in fh.keys()}, fh.metadata()


@FUZZ
@given(data=st.data())
def test_checkpoint_metadata_given_to_resume(ring_run, data):
    """The checkpoint's JSON metadata (step, config, optimizer groups, RNG, loader, recipe state)
    edited as JSON and saved as a well-formed safetensors file."""
    tensors, header = _checkpoint_parts(os.path.join(ring_run, "checkpoint.safetensors"))
    meta = data.draw(edited_json(json.loads(header[META_KEY])))
    with tempfile.TemporaryDirectory() as tmp, unrelated_plots_skipped():
        run = _copy_tree(ring_run, os.path.join(tmp, "run"))
        path = os.path.join(run, "checkpoint.safetensors")
        save_file(tensors, path, metadata={META_KEY: meta.decode("utf-8", "replace")})
        files = [path, os.path.join(run, "config.json"), os.path.join(run, "stats.jsonl")]
        run_cli(["resume", run, "train.steps=2", "train.progress=false"], keep=files)


tensor_edits = st.sampled_from(["drop", "shape", "dtype", "nan", "rename", "extra"])


def _edit_tensors(data, tensors):
    """1-3 tensors dropped, reshaped, cast, filled with NaN, renamed, or an extra one added."""
    tensors = dict(tensors)
    for _ in range(data.draw(st.integers(1, 3))):
        key = data.draw(st.sampled_from(sorted(tensors)))
        what = data.draw(tensor_edits)
        t = tensors.pop(key)
        if what == "shape":
            tensors[key] = torch.zeros(data.draw(st.lists(st.integers(0, 5), max_size=3)))
        elif what == "dtype":
            tensors[key] = t.to(data.draw(st.sampled_from([torch.int64, torch.float16, torch.uint8, torch.bool])))
        elif what == "nan":
            tensors[key] = torch.full_like(t, float("nan")) if t.is_floating_point() else t
        elif what == "rename":
            tensors[key + data.draw(st.sampled_from(["x", "/0", ".weight"]))] = t
        elif what == "extra":
            tensors[key], tensors[f"extra/{key}"] = t, torch.zeros(2)
        if not tensors:
            break
    return tensors


@FUZZ
@given(data=st.data())
def test_checkpoint_tensors_given_to_resume(ring_run, data):
    tensors, header = _checkpoint_parts(os.path.join(ring_run, "checkpoint.safetensors"))
    with tempfile.TemporaryDirectory() as tmp, unrelated_plots_skipped():
        run = _copy_tree(ring_run, os.path.join(tmp, "run"))
        path = os.path.join(run, "checkpoint.safetensors")
        save_file(_edit_tensors(data, tensors), path, metadata=header)
        files = [path, os.path.join(run, "config.json"), os.path.join(run, "stats.jsonl")]
        run_cli(["resume", run, "train.steps=3", "train.progress=false"], keep=files)


@FUZZ
@given(data=st.data())
def test_exported_weight_tensors(exported, data):
    tensors, header = _checkpoint_parts(os.path.join(exported, "generator.safetensors"))
    with tempfile.TemporaryDirectory() as tmp:
        model = _copy_tree(exported, os.path.join(tmp, "model"))
        save_file(_edit_tensors(data, tensors), os.path.join(model, "generator.safetensors"), metadata=header)
        out = os.path.join(tmp, "samples.npz")
        run_cli(["sample", model, "--n", "4", "--out", out], absent=[out])


@FUZZ
@given(data=st.data())
def test_exported_weights(exported, data):
    path = os.path.join(exported, "generator.safetensors")
    original = _read(path)
    edited = data.draw(mutated(original, header=8 + int.from_bytes(original[:8], "little")))
    with tempfile.TemporaryDirectory() as tmp:
        model = _copy_tree(exported, os.path.join(tmp, "model"))
        _write(os.path.join(model, "generator.safetensors"), edited)
        out = os.path.join(tmp, "samples.npz")
        run_cli(["sample", model, "--n", "4", "--out", out], absent=[out])


# ------------------------------------------------------------------ JSON files

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False, allow_infinity=False),
              st.text(max_size=8), st.sampled_from(["mlp", "dcgan", "normal", "uniform", "gankit-model/1"])),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)


@st.composite
def edited_json(draw, original):
    """``original`` (a JSON object) with 1-3 values replaced or keys dropped at any depth, or
    its text cut, or random text."""
    what = draw(st.sampled_from(["values", "values", "values", "text", "random"]))
    if what == "random":
        return draw(st.binary(max_size=64))
    if what == "text":
        return draw(mutated(json.dumps(original).encode(), header=10_000))
    tree = json.loads(json.dumps(original))
    for _ in range(draw(st.integers(1, 3))):
        node = tree
        while isinstance(node, (dict, list)) and node and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else list(range(len(node)))))
            if not isinstance(node[key], (dict, list)) or not node[key]:
                break
            node = node[key]
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node)))
            if draw(st.booleans()):
                del node[key]
            else:
                node[key] = draw(json_values)
        elif isinstance(node, list) and node:
            node[draw(st.integers(0, len(node) - 1))] = draw(json_values)
    return json.dumps(tree).encode()


@FUZZ
@given(data=st.data())
def test_exported_model_json(exported, data):
    original = json.loads(_read(os.path.join(exported, "model.json")))
    edited = data.draw(edited_json(original))
    with tempfile.TemporaryDirectory() as tmp:
        model = _copy_tree(exported, os.path.join(tmp, "model"))
        _write(os.path.join(model, "model.json"), edited)
        out = os.path.join(tmp, "samples.png")
        run_cli(["sample", model, "--n", "4", "--out", out], absent=[out])


METRICS_JSON = {"format": "gankit-metrics/1", "entries": {"mmd|identity": {"metric": "mmd", "value": 0.5}}}


@FUZZ
@given(data=st.data())
def test_metrics_json_of_a_run(ring_run, data):
    edited = data.draw(edited_json(METRICS_JSON))
    with tempfile.TemporaryDirectory() as tmp:
        run = _copy_tree(ring_run, os.path.join(tmp, "run"))
        path = os.path.join(run, "metrics.json")
        _write(path, edited)
        run_cli(["eval", run, "--metrics", "mmd", "--n", "64"], keep=[path])


@FUZZ
@given(data=st.data())
def test_stats_jsonl_of_a_resumed_run(ring_run, data):
    lines = _read(os.path.join(ring_run, "stats.jsonl")).decode().splitlines()
    record = json.loads(lines[-1])
    edited = [data.draw(edited_json(record)).decode("utf-8", "surrogateescape") for _ in range(data.draw(
        st.integers(1, 3)))]
    text = "\n".join([*lines[:-1], *edited]) + data.draw(st.sampled_from(["\n", ""]))
    with tempfile.TemporaryDirectory() as tmp, unrelated_plots_skipped():
        run = _copy_tree(ring_run, os.path.join(tmp, "run"))
        _write(os.path.join(run, "stats.jsonl"), text.encode("utf-8", "surrogateescape"))
        files = [os.path.join(run, n) for n in ("checkpoint.safetensors", "config.json")]
        run_cli(["resume", run, "train.steps=2", "train.progress=false"], keep=files)

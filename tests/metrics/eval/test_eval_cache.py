"""The real-feature cache: hits skip extraction, files are plain safetensors, corrupt or
foreign files are recomputed (never unpickled), a changed folder is a new key."""

import json
import os
import pickle

import numpy as np
import pytest
from PIL import Image
from safetensors import safe_open

from gankit.data import load_digits_arrays
from gankit.metrics.cache import CacheWarning, FeatureCache, make_key, stats_cache_dir
from gankit.metrics.classifier import features as clf_features
from gankit.metrics.classifier import load_classifier
from gankit.metrics.evaluate import evaluate
from gankit.metrics.extractors import ClassifierExtractor


class CountingClassifier(ClassifierExtractor):
    """The digits classifier, counting how many images it was asked to embed."""

    def __init__(self):
        super().__init__("digits")
        self.calls = 0
        self.images = 0

    def features_and_probabilities(self, x):
        self.calls += 1
        self.images += x.shape[0]
        return super().features_and_probabilities(x)

    def features(self, x):
        self.calls += 1
        self.images += x.shape[0]
        return super().features(x)


@pytest.fixture()
def folders(tmp_path):
    digits, _ = load_digits_arrays("all")
    u8 = np.round(digits * (255.0 / 16.0)).astype(np.uint8)
    out = {}
    for name, imgs in (("real", u8[:24]), ("fake", u8[200:224])):
        root = tmp_path / name
        root.mkdir()
        for i, img in enumerate(imgs):
            Image.fromarray(img).save(root / f"{i:03d}.png")
        out[name] = str(root)
    out["real_images"] = u8[:24]
    return out


def _eval(folders, ext, cache):
    return evaluate(folders["real"], folders["fake"], ["mmd", "pr"], features=ext, cache=cache)


def _only_file(directory):
    files = sorted(p for p in directory.iterdir() if p.suffix == ".safetensors")
    assert len(files) == 1, files
    return files[0]


def test_default_directory_follows_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert stats_cache_dir() == tmp_path / "gankit" / "stats"


def test_second_call_reads_the_cache_and_the_file_is_plain_safetensors(folders, tmp_path):
    cache = FeatureCache(tmp_path / "stats")
    ext = CountingClassifier()
    first = _eval(folders, ext, cache)
    assert ext.calls == 2 and ext.images == 48  # real (cached) + fake
    assert first.settings["real_cache"]["hit"] is False
    second = _eval(folders, ext, cache)
    assert ext.calls == 3 and ext.images == 72  # only the fake set again
    assert second.settings["real_cache"]["hit"] is True
    assert second["mmd"] == first["mmd"] and second["pr"] == first["pr"]

    path = _only_file(tmp_path / "stats")
    with safe_open(str(path), framework="numpy") as fh:
        meta = json.loads(fh.metadata()["gankit"])
        feats = fh.get_tensor("features")
        probs = fh.get_tensor("probs")
    assert meta["rows"] == 24 and meta["key"]["extractor"]["classifier"] == "digits"
    assert meta["key"]["source"]["kind"] == "folder" and meta["key"]["source"]["n"] == 24
    assert feats.dtype == np.float32  # network features are float32: stored losslessly as such
    x = folders["real_images"][:, None].astype(np.float32) / 127.5 - 1.0
    np.testing.assert_array_equal(feats.astype(np.float64), clf_features(load_classifier("digits"), x))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign_key", "pickle"])
def test_a_damaged_cache_file_is_recomputed_with_a_warning(folders, tmp_path, damage):
    cache = FeatureCache(tmp_path / "stats")
    ext = CountingClassifier()
    reference = _eval(folders, ext, cache)
    path = _only_file(tmp_path / "stats")
    good = path.read_bytes()
    marker = tmp_path / "pwned"
    if damage == "garbage":
        path.write_bytes(b"\x00" * 64)
    elif damage == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "foreign_key":  # valid safetensors, but made from something else
        other = FeatureCache(tmp_path / "other")
        key = make_key({"kind": "dataset", "name": "mnist"}, {"name": "classifier"})
        other.save(key, {"features": np.ones((24, 128))})
        path.write_bytes(_only_file(tmp_path / "other").read_bytes())
    else:  # a pickle that would run code if it were ever unpickled
        class Boom:
            def __reduce__(self):
                return (os.system, (f"touch {marker}",))

        path.write_bytes(pickle.dumps(Boom()))
    with pytest.warns(CacheWarning, match="unusable.*recomputing"):
        again = _eval(folders, ext, cache)
    assert ext.calls == 4  # real recomputed, fake again
    assert again["mmd"] == reference["mmd"] and again.settings["real_cache"]["hit"] is False
    assert not marker.exists()
    assert path.read_bytes() == good  # rewritten with the same, valid contents


def test_a_changed_folder_is_a_different_key(folders, tmp_path):
    cache = FeatureCache(tmp_path / "stats")
    ext = CountingClassifier()
    _eval(folders, ext, cache)
    img = os.path.join(folders["real"], "000.png")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(img)
    os.utime(img, ns=(1, 1))
    _eval(folders, ext, cache)
    assert ext.calls == 4  # nothing reused
    assert len(list((tmp_path / "stats").glob("*.safetensors"))) == 2


def test_disabled_cache_writes_nothing(folders, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    res = _eval(folders, CountingClassifier(), False)
    assert "real_cache" not in res.settings and not (tmp_path / "xdg").exists()

"""Inception features through evaluate() on at most 4 images per pass: the real FID weights
(skipped when unavailable), and a random-weights network with the 1008-way layer for IS."""

import hashlib

import numpy as np
import pytest
import torch

from gankit.errors import GankitError, MetricError
from gankit.metrics import inception_score, mmd2, mode_score, sliced_wasserstein_distance
from gankit.metrics.cache import FeatureCache
from gankit.metrics.evaluate import evaluate
from gankit.metrics.extractors import ExtractorOptions, InceptionFeatureExtractor, build_extractor
from gankit.metrics.features import NO_LOGITS_MESSAGE, FIDInceptionV3, InceptionExtractor, load_inception_weights


def _images(tmp_path, name, seed, n=2):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 28, 28, generator=g) * 2 - 1  # (n, 1, 28, 28) in [-1, 1]
    np.savez(tmp_path / f"{name}.npz", samples=x.numpy())
    return str(tmp_path / f"{name}.npz"), x


@pytest.fixture(scope="module")
def fid_weights():
    try:
        return load_inception_weights(None, allow_download=False)
    except GankitError as exc:
        pytest.skip(f"FID Inception weights unavailable here: {exc}")


def test_real_inception_weights_features_equal_the_statistics(tmp_path, fid_weights):
    ex = InceptionExtractor(fid_weights, allow_download=False)
    real, xr = _images(tmp_path, "r", 0)
    fake, xf = _images(tmp_path, "f", 1)
    feats = ex.features(torch.cat([xr, xf]))  # the 4 images, one pass
    # (FID itself on 2048-d features costs ~10 s of eigh per call on one thread: MMD and SWD
    # exercise the same feature path in milliseconds)
    res = evaluate(real, fake, ["mmd", "swd"], features=InceptionFeatureExtractor(extractor=ex),
                   cache=FeatureCache(tmp_path / "stats"))
    assert res["mmd"] == pytest.approx(mmd2(feats[:2], feats[2:]), rel=1e-4, abs=1e-8)
    assert res["swd"] == pytest.approx(sliced_wasserstein_distance(feats[:2], feats[2:]), rel=1e-4)
    desc = res.settings["extractor"]
    sha = hashlib.sha256(fid_weights.path.read_bytes()).hexdigest()
    assert desc["weights_sha256"] == sha and desc["resize"] == "pytorch-fid" and desc["name"] == "inception"
    if not ex.has_logits:  # the TorchScript weights: IS says why it cannot be computed
        with pytest.raises(MetricError, match="no 1008-way classification layer"):
            evaluate(fake=fake, metrics=["is"], features=InceptionFeatureExtractor(extractor=ex))
        assert "1008" in NO_LOGITS_MESSAGE


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory):
    from safetensors.torch import save_file

    torch.manual_seed(0)
    net = FIDInceptionV3(with_fc=True).eval()
    path = tmp_path_factory.mktemp("w") / "random_inception.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    return str(path)


def test_inception_score_and_lazy_network_with_a_weights_file(tmp_path, random_weights):
    real, xr = _images(tmp_path, "r", 2)
    fake, xf = _images(tmp_path, "f", 3)
    direct = InceptionExtractor(random_weights, allow_download=False)
    feats, logits = direct.features_and_logits(torch.cat([xr, xf]))
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)

    cache = FeatureCache(tmp_path / "stats")
    opts = ExtractorOptions(inception_weights=random_weights, allow_download=False)
    res = evaluate(real, fake, ["is", "mode_score", "mmd"], features=build_extractor("inception", opts),
                   options={"is": {"splits": 2}, "mode_score": {"splits": 2}}, cache=cache)
    assert res["is"]["mean"] == pytest.approx(inception_score(probs[2:], splits=2).mean, rel=1e-4)
    assert res["mode_score"]["mean"] == pytest.approx(mode_score(probs[2:], probs[:2], splits=2).mean, rel=1e-4)
    assert res["mmd"] == pytest.approx(mmd2(feats[:2], feats[2:]), rel=1e-4, abs=1e-8)

    # cache hit: the real features are read back and the network is never built for them
    again = build_extractor("inception", opts)
    assert isinstance(again, InceptionFeatureExtractor) and again._ex is None
    key_before = again.describe()
    assert again._ex is None  # describing (hashing the weights file) does not build it
    res2 = evaluate(real, fake, ["mmd"], features=again, cache=cache)
    assert res2.settings["real_cache"]["hit"] is True and res2["mmd"] == pytest.approx(res["mmd"], rel=1e-9)
    assert key_before["weights_sha256"] == hashlib.sha256(open(random_weights, "rb").read()).hexdigest()


def test_inception_refuses_vectors(tmp_path, random_weights):
    np.savez(tmp_path / "v.npz", samples=np.zeros((4, 2)))
    ext = build_extractor("inception", ExtractorOptions(inception_weights=random_weights, allow_download=False))
    with pytest.raises(MetricError, match="need images"):
        evaluate(str(tmp_path / "v.npz"), str(tmp_path / "v.npz"), ["mmd"], features=ext)

"""evaluate(): each metric equals its statistic computed directly on independently drawn
samples / features; inapplicable metrics and too few samples are clear errors."""

import numpy as np
import pytest
import scipy.linalg
import torch
from PIL import Image

from gankit.config import DataConfig
from gankit.data import build_dataset, load_digits_arrays
from gankit.errors import ConfigError, GankitError, MetricError
from gankit.metrics import (
    class_accuracy,
    density_coverage,
    frechet_distance,
    inception_score,
    kid,
    mmd2,
    mode_coverage,
    mode_score,
    one_nn_two_sample,
    parzen_log_likelihood,
    precision_recall,
    sliced_wasserstein_distance,
    stacked_mnist_modes,
)
from gankit.metrics.classifier import features as clf_features
from gankit.metrics.classifier import load_classifier, predict
from gankit.metrics.evaluate import evaluate
from gankit.runs import load_run, train
from gankit.runs.samples import evaluate as evaluate_run
from tests.helpers import tiny


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    ring = train(tiny("ring-gan", out, "train.steps=3", "train.run_name=ring")).run_dir
    cond = train(tiny("digits-dcgan", out, "train.steps=3", "train.run_name=cond", "model.conditional=true")).run_dir
    return {"ring": ring, "cond": cond}


def _npz(path, arr, **extra):
    np.savez(path, samples=arr, **extra)
    return str(path)


def test_ring_run_mode_coverage_equals_the_statistic_on_run_samples(runs):
    res = evaluate_run(fake=runs["ring"], metrics=["mode_coverage"], n=500, seed=3)
    run = load_run(runs["ring"])
    x = run.sample(500, seed=3)
    centres = torch.as_tensor(run.data["mode_centres"])
    direct = mode_coverage(x, centres, run.data["mode_std"])
    got = res["mode_coverage"]
    assert got["modes"] == direct.modes and got["histogram"] == list(direct.histogram)
    assert got["high_quality_fraction"] == direct.high_quality_fraction
    assert got["reverse_kl"] == direct.reverse_kl and got["n_modes"] == 8
    assert res.metrics["mode_coverage"].settings == {"n": 500, "seed": 3, "protocol_n": 2500}


def test_ring_run_identity_metrics_equal_the_statistics_with_the_default_real(runs):
    res = evaluate_run(fake=runs["ring"], metrics=["mmd", "swd", "nn1", "emc", "parzen"], n=200, seed=1)
    fake = load_run(runs["ring"]).sample(200, seed=1).double().numpy()
    # documented default real: the run's dataset, a fresh draw (data.seed + 1), subset with seed
    ring = build_dataset(DataConfig(name="ring", n_samples=512, seed=1)).x.double().numpy()
    real = ring[np.sort(np.random.default_rng(1).choice(len(ring), 200, replace=False))]
    assert res["mmd"] == pytest.approx(mmd2(real, fake), rel=1e-12, abs=1e-15)
    assert res["swd"] == pytest.approx(sliced_wasserstein_distance(real, fake), rel=1e-12)
    nn = one_nn_two_sample(real, fake)
    assert res["nn1"]["accuracy"] == nn.accuracy and res["nn1"]["real_accuracy"] == nn.real_accuracy
    assert res["emc"]["mse"] == pytest.approx(2 * np.mean(np.min(((real[:, None] - fake[None]) ** 2).sum(-1), 1)))
    pz = parzen_log_likelihood(fake, real[0::2], real[1::2])
    assert res["parzen"]["log_likelihood"] == pytest.approx(pz.log_likelihood, rel=1e-12)
    assert res.settings["real_identity"]["data_seed"] == 1 and res.settings["extractor"]["name"] == "identity"


def _frechet_reference(a, b):
    """FID in plain NumPy/SciPy (pytorch-fid's formula)."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def test_npz_files_fid_with_identity_features(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(80, 3))
    b = rng.normal(loc=0.5, scale=1.3, size=(60, 3))
    res = evaluate(_npz(tmp_path / "a.npz", a), _npz(tmp_path / "b.npz", b), ["fid", "kid"],
                   features="identity", options={"kid": {"subset_size": 50, "subsets": 10}})
    # documented default: n_real = min(n, available) -> a seeded subset of 60 of the 80 reals
    a60 = a[np.sort(np.random.default_rng(0).choice(80, 60, replace=False))]
    assert res["fid"] == pytest.approx(_frechet_reference(a60, b), rel=1e-8)
    assert res["fid"] == pytest.approx(frechet_distance(a60, b), rel=1e-12)
    k = kid(a60, b, subset_size=50, subsets=10)
    assert res["kid"] == {"mean": pytest.approx(k.mean, rel=1e-12), "std": pytest.approx(k.std, rel=1e-12)}
    full = evaluate(_npz(tmp_path / "a.npz", a), _npz(tmp_path / "b.npz", b), ["fid"], features="identity", n_real=80)
    assert full["fid"] == pytest.approx(_frechet_reference(a, b), rel=1e-8)
    assert res.metrics["fid"].settings["n"] == 60 and res.metrics["fid"].settings["n_real"] == 60


def _digit_folder(root, images):
    root.mkdir()
    for i, img in enumerate(images):
        Image.fromarray(img).save(root / f"{i:03d}.png")
    return str(root)


def test_image_folders_with_digits_classifier_features(tmp_path):
    digits, _ = load_digits_arrays("all")  # (N, 8, 8) in 0..16
    u8 = np.round(digits * (255.0 / 16.0)).astype(np.uint8)
    real_imgs, fake_imgs = u8[:30], u8[100:130]
    real = _digit_folder(tmp_path / "real", real_imgs)
    fake = _digit_folder(tmp_path / "fake", fake_imgs)
    res = evaluate(real, fake, ["pr", "dc", "mmd", "kid", "is", "mode_score"], features="classifier",
                   classifier="digits",
                   options={"kid": {"subset_size": 20}, "is": {"splits": 3}, "mode_score": {"splits": 3}}, cache=False)
    clf = load_classifier("digits")
    to_x = lambda u: torch.from_numpy(u[:, None].astype(np.float32) / 127.5 - 1.0)  # noqa: E731
    fr, ff = clf_features(clf, to_x(real_imgs)), clf_features(clf, to_x(fake_imgs))
    pr = precision_recall(fr, ff)
    assert res["pr"] == {"precision": pr.precision, "recall": pr.recall}
    dc = density_coverage(fr, ff)
    assert res["dc"] == {"density": pytest.approx(dc.density), "coverage": dc.coverage}
    assert res["mmd"] == pytest.approx(mmd2(fr, ff), rel=1e-6)
    assert res["kid"]["mean"] == pytest.approx(kid(fr, ff, subset_size=20).mean, rel=1e-6)
    _, pf = predict(clf, to_x(fake_imgs))
    _, preal = predict(clf, to_x(real_imgs))
    assert res["is"]["mean"] == pytest.approx(inception_score(pf, splits=3).mean, rel=1e-9)
    assert res["mode_score"]["mean"] == pytest.approx(mode_score(pf, preal, splits=3).mean, rel=1e-9)
    ext = res.settings["extractor"]
    assert ext["name"] == "classifier" and ext["classifier"] == "digits" and len(ext["weights_sha256"]) == 64


def test_class_accuracy_of_a_conditional_run(runs):
    res = evaluate_run(fake=runs["cond"], metrics=["class_acc"], n=40, seed=2)
    x = load_run(runs["cond"]).sample(40, seed=2)
    predicted, _ = predict(load_classifier("digits"), x)
    direct = class_accuracy(predicted, np.arange(40) % 10, n_classes=10)
    assert res["class_acc"]["accuracy"] == direct.accuracy
    np.testing.assert_array_equal(res["class_acc"]["per_class"], direct.per_class)
    assert res["class_acc"]["classifier"] == "digits"
    with pytest.raises(MetricError, match="conditional run"):
        evaluate_run(fake=runs["ring"], metrics=["class_acc"], n=10)


def test_stacked_mnist_counts_modes_per_channel(tmp_path, real_data):
    mnist = build_dataset(DataConfig(name="mnist", split="test", path=str(real_data), limit=90)).x
    stacked = torch.cat([mnist[0:30], mnist[30:60], mnist[60:90]], dim=1)  # (30, 3, 28, 28)
    res = evaluate(fake=_npz(tmp_path / "s.npz", stacked.numpy()), metrics=["stacked_mnist"])
    clf = load_classifier("mnist")
    labels = np.stack([predict(clf, stacked[:, c : c + 1])[0] for c in range(3)], axis=1)
    direct = stacked_mnist_modes(labels)
    assert res["stacked_mnist"] == {"modes": direct.modes, "kl": pytest.approx(direct.kl),
                                    "channel_kl": pytest.approx(list(direct.channel_kl)), "n_modes": 1000,
                                    "channel_counts": [np.bincount(c, minlength=10).tolist() for c in labels.T]}
    with pytest.raises(MetricError, match=r"\(N, 3, 28, 28\)"):
        evaluate(fake=_npz(tmp_path / "one.npz", mnist[:5].numpy()), metrics=["stacked_mnist"])


@pytest.mark.parametrize(
    "metrics, kwargs, error, match",
    [
        (["fid", "nope"], {}, ConfigError, "unknown metric 'nope'.*fid.*kid"),
        (["is"], {"features": "identity"}, MetricError, "no class probabilities"),
        (["kid"], {"features": "identity", "options": {"kid": {"subset_size": 1000}}}, MetricError,
         "subset_size=1000 is larger"),
        (["fid"], {"features": "identity"}, MetricError, "more samples than feature dimensions"),
        (["mode_coverage"], {}, MetricError, "mode centres"),
        (["kid"], {"options": {"kid": {"subset": 3}}}, ConfigError, "unknown option 'subset'"),
        (["fid"], {"features": "nope"}, ConfigError, "unknown feature extractor"),
    ],
)
def test_errors(tmp_path, metrics, kwargs, error, match):
    rng = np.random.default_rng(0)
    real = _npz(tmp_path / "r.npz", rng.normal(size=(20, 30)))
    fake = _npz(tmp_path / "f.npz", rng.normal(size=(20, 30)))
    with pytest.raises(error, match=match):
        evaluate(real, fake, metrics, **kwargs)


def test_real_data_is_required_and_n_real_is_checked(tmp_path):
    fake = _npz(tmp_path / "f.npz", np.random.default_rng(0).normal(size=(10, 2)))
    with pytest.raises(ConfigError, match="needs real data"):
        evaluate(None, fake, ["mmd"])
    with pytest.raises(GankitError, match="fewer than the n=11"):
        evaluate(fake, fake, ["mmd"], n_real=11)

"""Too few samples for FID / KID / PR is refused before any feature is extracted, naming the
option as the CLI spells it; with ``partial=True`` (the CLI) the other metrics are still computed."""

import contextlib
import io
import json

import numpy as np
import pytest
import torch

from gankit.cli import main
from gankit.errors import MetricError
from gankit.metrics import statistics as S
from gankit.metrics.evaluate import evaluate

DIM = 2048  # as Inception's pool features
N_REAL, N_FAKE = 297, 400  # the digits test split, and a generated set


class CountingProjection:
    """A fixed random projection of 8x8 images to 2048-d features that counts its calls."""

    name = "projection"
    cacheable = False
    needs_same_shape = True

    def __init__(self):
        self.calls = 0
        self.weight = np.random.default_rng(0).normal(size=(64, DIM))  # (64, D)

    def describe(self):
        return {"name": self.name}

    def feature_dim(self, sample_shape):
        return DIM

    def check_input(self, x, what):
        return None

    def has_probabilities(self):
        return False

    def features(self, x):
        self.calls += 1
        return self.project(x)

    def project(self, x):
        return x.reshape(x.shape[0], -1).double().numpy() @ self.weight  # (N, D)


@pytest.fixture
def samples():
    gen = torch.Generator().manual_seed(0)
    return torch.rand(N_REAL, 1, 8, 8, generator=gen) * 2 - 1, torch.rand(N_FAKE, 1, 8, 8, generator=gen) * 2 - 1


def test_fid_with_fewer_samples_than_dimensions_is_refused_before_extraction(samples):
    real, fake = samples
    ext = CountingProjection()
    with pytest.raises(MetricError, match=r"--metric-opt fid\.allow_singular=true") as err:
        evaluate(real, fake, ["fid", "kid", "pr", "nn1"], features=ext)
    assert "297 real and 400 generated samples of 2048-d features" in str(err.value)
    assert ext.calls == 0


def test_partial_computes_the_other_metrics(samples):
    real, fake = samples
    ext = CountingProjection()
    result = evaluate(real, fake, ["fid", "kid", "pr", "nn1"], features=ext, partial=True)
    assert list(result.refused) == ["fid"] and "fid.allow_singular=true" in result.refused["fid"]
    assert list(result.metrics) == ["kid", "pr", "nn1"]
    assert ext.calls == 2  # the real set once, the generated set once
    real_f, fake_f = ext.project(real), ext.project(fake)
    # KID's subset size falls to the smaller set (297 < torch-fidelity's 1000) and is recorded
    assert result.metrics["kid"].settings["options"] == {"subset_size": N_REAL}
    expected = S.kid(real_f, fake_f, subset_size=N_REAL)
    torch.testing.assert_close(result["kid"]["mean"], expected.mean, rtol=1e-12, atol=0)
    pr = S.precision_recall(real_f, fake_f)
    assert (result["pr"]["precision"], result["pr"]["recall"]) == (pr.precision, pr.recall)
    assert "refused" in result.to_dict() and "fid" in result.to_dict()["refused"]


def test_every_metric_refused_is_an_error_even_when_partial(samples):
    real, fake = samples
    ext = CountingProjection()
    with pytest.raises(MetricError) as err:
        evaluate(real, fake, ["fid", "pr"], features=ext, partial=True, options={"pr": {"k": N_REAL}})
    assert "fid.allow_singular=true" in str(err.value) and "--metric-opt pr.k=296" in str(err.value)
    assert ext.calls == 0


@pytest.mark.parametrize("metric, option, spelled", [
    ("kid", {"subset_size": 500}, "--metric-opt kid.subset_size=297"),
    ("pr", {"k": 297}, "--metric-opt pr.k=296"),
    ("dc", {"k": 400}, "--metric-opt dc.k=296"),
])
def test_explicit_options_too_large_for_the_sample_are_refused(samples, metric, option, spelled):
    real, fake = samples
    ext = CountingProjection()
    with pytest.raises(MetricError, match=spelled):
        evaluate(real, fake, [metric], features=ext, options={metric: option})
    assert ext.calls == 0


def test_allow_singular_computes_fid(samples):
    real, fake = samples
    ext = CountingProjection()
    result = evaluate(real, fake, ["fid"], features=ext, options={"fid": {"allow_singular": True}})
    expected = S.frechet_distance(ext.project(real), ext.project(fake), allow_singular=True)
    torch.testing.assert_close(result["fid"], expected, rtol=1e-9, atol=0)


def test_cli_reports_the_others_writes_them_and_exits_2(tmp_path):
    rng = np.random.default_rng(1)
    for name, n in (("real", 40), ("fake", 50)):
        np.savez(tmp_path / f"{name}.npz", samples=rng.uniform(-1, 1, size=(n, 1, 8, 8)).astype(np.float32))
    out_json = tmp_path / "out.json"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["eval", "--real", str(tmp_path / "real.npz"), "--fake", str(tmp_path / "fake.npz"), "--features",
                     "identity", "--metrics", "fid,kid,pr,nn1", "--out", str(out_json)])
    assert code == 2
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gankit: error: fid needs more samples than feature dimensions")
    assert "40 real and 50 generated samples of 64-d features" in lines[0]
    assert "--metric-opt fid.allow_singular=true" in lines[0]
    written = {entry["metric"] for entry in json.loads(out_json.read_text())["entries"].values()}
    assert written == {"kid", "pr", "nn1"}
    assert all(name in out.getvalue() for name in ("kid", "pr", "nn1"))

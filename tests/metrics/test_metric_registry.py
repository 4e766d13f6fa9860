"""One registry: every metric names its statistic, what it needs and a description, and
`gankit eval --help` lists every registered name."""

import pytest

from gankit.cli import main
from gankit.data.oracle import nll_oracle
from gankit.errors import ConfigError
from gankit.metrics import METRICS, list_metrics, register_metric
from gankit.metrics import statistics as stats
from gankit.metrics.evaluate import parse_metrics
from gankit.metrics.statistics import paired

EXPECTED = {
    "fid": (stats.frechet_distance, "features"),
    "kid": (stats.kid, "features"),
    "is": (stats.inception_score, "probs"),
    "mode_score": (stats.mode_score, "probs+real"),
    "mmd": (stats.mmd2, "features"),
    "wasserstein": (stats.wasserstein_distance, "features"),
    "swd": (stats.sliced_wasserstein_distance, "features"),
    "nn1": (stats.one_nn_two_sample, "features"),
    "pr": (stats.precision_recall, "features"),
    "dc": (stats.density_coverage, "features"),
    "parzen": (stats.parzen_log_likelihood, "features"),
    "emc": (stats.emc, "features"),
    "mode_coverage": (stats.mode_coverage, "fake"),
    "stacked_mnist": (stats.stacked_mnist_modes, "fake"),
    "class_acc": (stats.class_accuracy, "fake"),
    "matched_acc": (stats.matched_accuracy, "fake"),
    "psnr": (paired.psnr, "fake"),
    "ssim": (paired.ssim, "fake"),
    "l1": (paired.paired_l1, "fake"),
    "bleu": (stats.bleu, "fake"),
    "self_bleu": (stats.self_bleu, "fake"),
    "nll_oracle": (nll_oracle, "fake"),
    "discriminative_score": (stats.discriminative_score, "fake"),
    "predictive_score": (stats.predictive_score, "fake"),
}


def test_every_statistic_is_one_registered_metric():
    assert sorted(EXPECTED) == METRICS.names()
    assert list_metrics() == [(name, EXPECTED[name][1]) for name in sorted(EXPECTED)]
    for name, (fn, needs) in EXPECTED.items():
        spec = METRICS.get(name)
        assert spec.name == name and spec.statistic is fn and spec.needs == needs
        assert METRICS.describe(name)
        assert fn.__doc__ and len(fn.__doc__) > 100


def test_every_registered_metric_is_accepted_and_listed_by_gankit_eval(capsys):
    assert parse_metrics(",".join(METRICS.names())) == METRICS.names()
    assert main(["eval", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    listed = help_text.split("comma-separated, from: ")[1].split(" --")[0]
    assert [s.strip() for s in listed.split(",")] == METRICS.names()


def test_unknown_and_duplicate_names():
    with pytest.raises(ConfigError, match="unknown metric"):
        METRICS.get("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_metric("fid", "features", stats.frechet_distance, 2, description="again")(lambda ctx, n, o: 0.0)
    with pytest.raises(ValueError, match="needs must be one of"):
        register_metric("new", "pixels", stats.frechet_distance, 2, description="?")

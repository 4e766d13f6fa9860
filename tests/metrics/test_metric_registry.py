"""Every statistic is registered under its short name with a description."""

import pytest

from gankit.errors import ConfigError
from gankit.metrics import METRICS, register_metric
from gankit.metrics import statistics as stats

EXPECTED = {
    "fid": stats.frechet_distance,
    "kid": stats.kid,
    "is": stats.inception_score,
    "mode_score": stats.mode_score,
    "mmd": stats.mmd2,
    "wasserstein": stats.wasserstein_distance,
    "swd": stats.sliced_wasserstein_distance,
    "nn1": stats.one_nn_two_sample,
    "pr": stats.precision_recall,
    "dc": stats.density_coverage,
    "parzen": stats.parzen_log_likelihood,
    "emc": stats.emc,
    "mode_coverage": stats.mode_coverage,
    "stacked_mnist": stats.stacked_mnist_modes,
    "class_acc": stats.class_accuracy,
    "matched_acc": stats.matched_accuracy,
}


def test_all_statistics_registered():
    assert set(EXPECTED) <= set(METRICS.names())
    for name, fn in EXPECTED.items():
        assert METRICS.get(name) is fn
        assert METRICS.describe(name)
        assert fn.__doc__ and len(fn.__doc__) > 100


def test_unknown_and_duplicate_names():
    with pytest.raises(ConfigError, match="unknown metric"):
        METRICS.get("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_metric("fid", "again")(lambda: None)

"""Pure metric statistics: arrays (NumPy or torch) in, float64 numbers out.

Each is a plain function (no registration, no I/O); ``gankit.metrics.registry.METRICS``
names them and says how ``evaluate`` feeds them samples. SciPy and POT are imported inside
the functions that use them, so importing this package stays light.
"""

from gankit.metrics.statistics.bleu import BLEUResult, bleu, self_bleu
from gankit.metrics.statistics.class_accuracy import ClassAccuracy, class_accuracy
from gankit.metrics.statistics.emc import EMCResult, emc
from gankit.metrics.statistics.frechet import (
    feature_statistics,
    frechet_distance,
    frechet_distance_from_stats,
)
from gankit.metrics.statistics.inception_score import (
    InceptionScoreResult,
    ModeScoreResult,
    inception_score,
    mode_score,
)
from gankit.metrics.statistics.kid import KIDResult, kid
from gankit.metrics.statistics.matched_accuracy import MatchedAccuracy, matched_accuracy
from gankit.metrics.statistics.mmd import mmd2
from gankit.metrics.statistics.mode_coverage import ModeCoverage, mode_coverage
from gankit.metrics.statistics.nn_two_sample import NNTwoSample, one_nn_two_sample
from gankit.metrics.statistics.parzen import ParzenResult, kde_log_density, parzen_log_likelihood
from gankit.metrics.statistics.precision_recall import (
    DensityCoverage,
    PrecisionRecall,
    density_coverage,
    precision_recall,
)
from gankit.metrics.statistics.stacked_mnist import StackedMNISTModes, stacked_mnist_modes
from gankit.metrics.statistics.timeseries import DiscriminativeScore, discriminative_score, predictive_score
from gankit.metrics.statistics.wasserstein import sliced_wasserstein_distance, wasserstein_distance

__all__ = [
    "BLEUResult",
    "ClassAccuracy",
    "DensityCoverage",
    "DiscriminativeScore",
    "EMCResult",
    "InceptionScoreResult",
    "KIDResult",
    "MatchedAccuracy",
    "ModeCoverage",
    "ModeScoreResult",
    "NNTwoSample",
    "ParzenResult",
    "PrecisionRecall",
    "StackedMNISTModes",
    "bleu",
    "class_accuracy",
    "density_coverage",
    "discriminative_score",
    "emc",
    "feature_statistics",
    "frechet_distance",
    "frechet_distance_from_stats",
    "inception_score",
    "kde_log_density",
    "kid",
    "matched_accuracy",
    "mmd2",
    "mode_coverage",
    "mode_score",
    "one_nn_two_sample",
    "parzen_log_likelihood",
    "precision_recall",
    "predictive_score",
    "self_bleu",
    "sliced_wasserstein_distance",
    "stacked_mnist_modes",
    "wasserstein_distance",
]

"""Stacked-MNIST mode counting (Metz et al. 2017; VEEGAN; PacGAN), the pure statistic.

A Stacked-MNIST sample has 3 channels, each an MNIST digit; a pretrained MNIST classifier
labels each channel, and the triple of labels is one of 10^3 = 1,000 modes. The protocol
generates ``PROTOCOL_SAMPLES`` = 26,000 samples. Classification happens elsewhere; this
module only counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gankit.errors import MetricError
from gankit.metrics.statistics._validation import ArrayLike, as_labels, check_positive_int
from gankit.metrics.statistics.mode_coverage import mode_histogram_kl

PROTOCOL_SAMPLES = 26000
MNIST_CLASSES = 10
MAX_MODES = 10**7


@dataclass(frozen=True)
class StackedMNISTModes:
    """Modes covered, KL(mode histogram || uniform) in nats, each channel's KL(label
    histogram || uniform over the classes), counts per mode id, and each channel's counts per
    class (which digits a channel over- or under-draws)."""

    modes: int
    kl: float
    channel_kl: tuple[float, ...]
    histogram: tuple[int, ...]
    channel_counts: tuple[tuple[int, ...], ...]

    @property
    def dependence(self) -> float:
        """``kl − Σ_c channel_kl``: the total correlation of the channels' labels (≥ 0; 0 when
        the mode histogram is the product of its marginals), the part of ``kl`` that uneven
        digit frequencies do not explain."""
        return self.kl - sum(self.channel_kl)


def stacked_mnist_modes(channel_labels: ArrayLike, *, n_classes: int = MNIST_CLASSES) -> StackedMNISTModes:
    """Count Stacked-MNIST modes from per-channel predicted labels (N, C), C = 3 usually.

    Mode id = sum_c label_c * n_classes^(C-1-c) (first channel most significant: labels
    (1, 2, 3) -> mode 123), K = n_classes^C modes (1,000). ``modes`` = number of ids with
    at least one sample; ``kl = sum_k q_k log(K q_k)`` with q the normalised histogram,
    i.e. KL(generated mode distribution || uniform) in nats (0 for a perfectly uniform
    histogram, log K for total collapse). The protocol uses N = 26,000; any N >= 1 works.
    ``channel_kl[c]`` is the same KL for channel c's labels against ``n_classes`` uniform
    classes; since the uniform over modes is the product of uniform channels,
    ``kl = Σ_c channel_kl[c] + total correlation`` (``dependence``); ``channel_counts[c][k]``
    = samples whose channel c is labelled k.
    """
    labels = as_labels(channel_labels, "channel_labels", ndim=2)
    classes = check_positive_int(n_classes, "n_classes", minimum=2)
    n, channels = labels.shape
    if n == 0 or channels == 0:
        raise MetricError(f"channel_labels must be non-empty (N >= 1, C >= 1), got {labels.shape}")
    if labels.max() >= classes:
        raise MetricError(f"channel_labels must lie in [0, {classes}), got {int(labels.max())}")
    n_modes = classes**channels
    if n_modes > MAX_MODES:
        raise MetricError(f"{classes}^{channels} = {n_modes} modes is too many to histogram")
    weights = classes ** np.arange(channels - 1, -1, -1, dtype=np.int64)  # (C,)
    ids = labels @ weights  # (N,)
    counts = np.bincount(ids, minlength=n_modes)  # (K,)
    per_channel = [np.bincount(labels[:, c], minlength=classes) for c in range(channels)]  # C x (n_classes,)
    return StackedMNISTModes(
        modes=int(np.count_nonzero(counts)),
        kl=mode_histogram_kl(counts),
        channel_kl=tuple(mode_histogram_kl(c) for c in per_channel),
        histogram=tuple(int(v) for v in counts),
        channel_counts=tuple(tuple(int(v) for v in c) for c in per_channel),
    )

"""Auxiliary discriminator heads over D's penultimate features ``φ(x)`` ``(N, F)``
(extra heads come back as named fields of ``DOutput``, not as new forward signatures).

* **Class head** (ACGAN, Odena et al. 2017, "Conditional Image Synthesis with Auxiliary
  Classifier GANs"): ``class_logits = W φ + b`` ``(N, K)`` → ``DOutput.class_logits``.
* **Q head** (InfoGAN, Chen et al. 2016, "InfoGAN: Interpretable Representation Learning by
  Information Maximizing Generative Adversarial Nets"): ``Q(c | x)`` shares D's trunk; one
  linear layer over ``φ`` gives the logits of a categorical code ``(N, K_cat)`` →
  ``extra["q_categorical"]``, and a factorised Gaussian over ``n`` continuous codes,
  ``extra["q_mean"]`` and ``extra["q_logstd"]`` ``(N, n)``.

Both are single linear layers by default (a pure readout of the shared trunk); ``hidden > 0``
gives Q the paper's hidden layer (Chen et al., App. C: FC 128, BN, leaky ReLU before Q's
outputs). A D built with no heads has no head parameters at all, so its ``state_dict`` is
unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from gankit.errors import ConfigError
from gankit.nets.base import DOutput

Q_CATEGORICAL, Q_MEAN, Q_LOGSTD = "q_categorical", "q_mean", "q_logstd"  # DOutput.extra keys
Q_LEAK = 0.1  # LeakyReLU slope of Q's hidden layer (the authors' InfoGAN code uses 0.01; D's layers 0.2)


class ClassHead(nn.Module):
    """``φ (N, F) -> class logits (N, K)``: one linear layer (ACGAN's auxiliary classifier)."""

    def __init__(self, features: int, num_classes: int) -> None:
        super().__init__()
        if features <= 0 or num_classes <= 0:
            raise ConfigError(f"a class head needs features > 0 and classes > 0, got {features}, {num_classes}")
        self.num_classes = num_classes
        self.linear = nn.Linear(features, num_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear(features)  # (N, K)


class QHead(nn.Module):
    """``φ (N, F) -> {q_categorical (N, K_cat), q_mean (N, n), q_logstd (N, n)}``.

    One linear layer ``F -> K_cat + 2n`` (after ``Linear(F, hidden)`` → BatchNorm → LeakyReLU
    when ``hidden > 0``) whose outputs are split in that order (categorical logits, means, log
    standard deviations). Keys with a zero size are left out.
    """

    def __init__(self, features: int, categorical: int = 0, continuous: int = 0, hidden: int = 0) -> None:
        super().__init__()
        if features <= 0 or categorical < 0 or continuous < 0 or categorical + continuous == 0:
            raise ConfigError(
                f"a Q head needs features > 0 and at least one code, got {features}, {categorical}, {continuous}"
            )
        self.categorical = categorical
        self.continuous = continuous
        self.hidden = None
        if hidden > 0:
            self.hidden = nn.Sequential(nn.Linear(features, hidden, bias=False), nn.BatchNorm1d(hidden),
                                        nn.LeakyReLU(Q_LEAK))
            features = hidden
        self.linear = nn.Linear(features, categorical + 2 * continuous)

    def forward(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.hidden is not None:
            features = self.hidden(features)  # (N, hidden)
        out = self.linear(features)  # (N, K_cat + 2n)
        k, n = self.categorical, self.continuous
        result: dict[str, torch.Tensor] = {}
        if k:
            result[Q_CATEGORICAL] = out[:, :k]  # (N, K_cat)
        if n:
            result[Q_MEAN] = out[:, k : k + n]  # (N, n)
            result[Q_LOGSTD] = out[:, k + n :]  # (N, n)
        return result


class AuxHeads(nn.Module):
    """The optional class and Q heads of one discriminator; ``fill(out)`` writes their
    outputs into a ``DOutput`` computed from ``out.features`` (or from ``features`` when given:
    a D whose heads see a noisy copy of its reported features)."""

    def __init__(self, features: int, class_head: int = 0, q_categorical: int = 0, q_continuous: int = 0,
                 q_hidden: int = 0) -> None:
        super().__init__()
        self.classes = ClassHead(features, class_head) if class_head else None
        self.q = QHead(features, q_categorical, q_continuous, q_hidden) if q_categorical or q_continuous else None

    def fill(self, out: DOutput, features: torch.Tensor | None = None) -> DOutput:
        features = out.features if features is None else features  # (N, F)
        if self.classes is not None:
            out.class_logits = self.classes(features)  # (N, K)
        if self.q is not None:
            out.extra.update(self.q(features))
        return out


def aux_heads(features: int, class_head: int = 0, q_categorical: int = 0, q_continuous: int = 0,
              q_hidden: int = 0) -> AuxHeads | None:
    """The heads a D asks for, or None when it asks for none (so it gets no extra parameters)."""
    if not (class_head or q_categorical or q_continuous):
        return None
    return AuxHeads(features, class_head, q_categorical, q_continuous, q_hidden)

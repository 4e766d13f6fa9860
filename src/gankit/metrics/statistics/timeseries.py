"""TimeGAN's post-hoc scores of continuous sequences (Yoon, Jarrett & van der Schaar,
"Time-series Generative Adversarial Networks", NeurIPS 2019, §5 and their released metrics code).

* discriminative score: a GRU classifier (hidden width ``D // 2``, its last state -> one logit)
  is trained to tell real from generated sequences on 80 % of each set (Adam, batches of
  ``batch_size`` real + ``batch_size`` generated, ``iterations`` steps, BCE); on the other 20 %
  ``score = |accuracy - 0.5|`` (0: indistinguishable, 0.5: perfectly told apart).
* predictive score ("train on synthetic, test on real"): a GRU (hidden ``D // 2``) reads the
  first ``D - 1`` features of steps ``1 .. T-1`` and predicts the last feature at the next step,
  trained on generated sequences with the mean absolute error; ``score`` = its MAE on the real
  sequences (lower is better). ``own_past=True`` (not in TimeGAN) lets the predictor read all ``D``
  features, the predicted one's own past included: on data whose features are independent (the
  sines) TimeGAN's predictor cannot beat the naive MAE, whatever the generated data.

Sequences are ``(N, T, D)`` of equal length. As in the released code: one GRU layer, Adam's
default step 1e-3, 2000 / 5000 iterations. Simplified: the predictor's output is linear, not a
sigmoid (the data here are not min-max scaled to [0, 1]); batches are drawn with a seeded
generator, so a score is a deterministic function of its inputs and ``seed``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from gankit.errors import MetricError
from gankit.metrics.statistics._validation import ArrayLike, to_numpy

DISCRIMINATIVE_ITERATIONS = 2000
PREDICTIVE_ITERATIONS = 5000
BATCH_SIZE = 128
TRAIN_FRACTION = 0.8
LEARNING_RATE = 1e-3


@dataclass(frozen=True)
class DiscriminativeScore:
    score: float  # |accuracy - 0.5| on the held-out split
    accuracy: float  # held-out accuracy of the post-hoc classifier
    n_test: int  # held-out sequences (real + generated)


def _sequences(x: ArrayLike, name: str, min_steps: int = 1) -> torch.Tensor:
    arr = np.asarray(to_numpy(x), dtype=np.float32)
    if arr.ndim != 3 or arr.shape[0] < 2 or arr.shape[1] < min_steps or arr.shape[2] < 1:
        raise MetricError(f"{name} must be sequences (N >= 2, T >= {min_steps}, D >= 1), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise MetricError(f"{name} contains NaN or infinite values")
    return torch.from_numpy(arr)


class _GRUHead(nn.Module):
    """GRU(in, hidden) -> Linear(hidden, 1), on the last state (``per_step=False``) or every step."""

    def __init__(self, features: int, hidden: int, per_step: bool) -> None:
        super().__init__()
        self.gru = nn.GRU(features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)
        self.per_step = per_step

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, last = self.gru(x)  # (B, T, H), (1, B, H)
        return self.head(out if self.per_step else last[-1]).squeeze(-1)  # (B, T) or (B,)


def _batch(x: torch.Tensor, size: int, gen: torch.Generator) -> torch.Tensor:
    return x[torch.randperm(x.shape[0], generator=gen)[:size]]


def _split(x: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    order = torch.randperm(x.shape[0], generator=gen)
    cut = max(1, min(x.shape[0] - 1, int(round(TRAIN_FRACTION * x.shape[0]))))
    return x[order[:cut]], x[order[cut:]]


def discriminative_score(real: ArrayLike, fake: ArrayLike, *, iterations: int = DISCRIMINATIVE_ITERATIONS,
                         batch_size: int = BATCH_SIZE, hidden: int = 0, lr: float = LEARNING_RATE,
                         seed: int = 0) -> DiscriminativeScore:
    """TimeGAN's discriminative score of ``fake`` ``(M, T, D)`` against ``real`` ``(N, T, D)`` (see
    the module docstring); ``hidden = 0``: ``max(1, D // 2)`` as in TimeGAN; ``lr``: Adam's step."""
    x_real, x_fake = _sequences(real, "real"), _sequences(fake, "fake")
    if x_real.shape[1:] != x_fake.shape[1:]:
        raise MetricError(f"real and fake sequences differ in shape: {tuple(x_real.shape[1:])} vs "
                          f"{tuple(x_fake.shape[1:])}")
    gen = torch.Generator().manual_seed(seed)
    (train_r, test_r), (train_f, test_f) = _split(x_real, gen), _split(x_fake, gen)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = _GRUHead(x_real.shape[2], hidden or max(1, x_real.shape[2] // 2), per_step=False)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    bce = nn.functional.binary_cross_entropy_with_logits
    for _ in range(iterations):
        r, f = model(_batch(train_r, batch_size, gen)), model(_batch(train_f, batch_size, gen))  # (b,) each
        loss = bce(r, torch.ones_like(r)) + bce(f, torch.zeros_like(f))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        correct = int((model(test_r) > 0).sum()) + int((model(test_f) <= 0).sum())
    n_test = test_r.shape[0] + test_f.shape[0]
    accuracy = correct / n_test
    return DiscriminativeScore(score=abs(accuracy - 0.5), accuracy=accuracy, n_test=n_test)


def predictive_score(real: ArrayLike, fake: ArrayLike, *, iterations: int = PREDICTIVE_ITERATIONS,
                     batch_size: int = BATCH_SIZE, hidden: int = 0, lr: float = LEARNING_RATE,
                     own_past: bool = False, seed: int = 0) -> float:
    """TimeGAN's predictive score: the MAE on ``real`` ``(N, T, D)`` of a next-step predictor of
    the last feature trained on ``fake`` ``(M, T, D)`` (see the module docstring). ``D = 1`` or
    ``own_past``: the predictor reads that feature's past too. ``hidden = 0``: ``max(1, D // 2)``."""
    x_real, x_fake = _sequences(real, "real", min_steps=2), _sequences(fake, "fake", min_steps=2)
    if x_real.shape[1:] != x_fake.shape[1:]:
        raise MetricError(f"real and fake sequences differ in shape: {tuple(x_real.shape[1:])} vs "
                          f"{tuple(x_fake.shape[1:])}")
    features = x_real.shape[2]
    inputs = features if own_past else max(1, features - 1)

    def pair(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x[:, :-1, :inputs], x[:, 1:, -1]  # (N, T-1, D-1), (N, T-1)

    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = _GRUHead(inputs, hidden or max(1, features // 2), per_step=True)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(iterations):
        x, y = pair(_batch(x_fake, batch_size, gen))
        loss = (model(x) - y).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        x, y = pair(x_real)
        return float((model(x) - y).abs().mean())

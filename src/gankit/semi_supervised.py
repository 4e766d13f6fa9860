"""What the semi-supervised recipes (``ssgan``, ``triplegan``) share: the fixed labelled
subset with its deterministic minibatches, the classifier interface, and the classifier's
error on a dataset split.

Semi-supervised protocol (Salimans et al. 2016, "Improved Techniques for Training GANs", §5;
Li et al. 2017, "Triple Generative Adversarial Nets", §4): ``n`` class-balanced labelled
examples of the training set (``data.labelled.labelled_subset``), every training example as
unlabelled data, the error of the trained classifier on the test set.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any, Iterator, Mapping, Protocol, runtime_checkable

import torch
from torch import nn

from gankit.data.base import Dataset
from gankit.data.labelled import labelled_subset
from gankit.errors import ConfigError


def minibatch_seed(seed: int, step: int, draw: int) -> int:
    """A 63-bit generator seed that is a pure function of ``(seed, step, draw)``."""
    digest = hashlib.sha256(f"labelled/{seed}/{step}/{draw}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


class LabelledPool:
    """The ``n`` labelled training examples ``(x, y)`` of a semi-supervised run.

    The subset is ``labelled_subset(train_set.y, n, K, seed)`` (class-balanced, a function of
    the seed only). The tensors are plain attributes of the recipe, not module buffers, so
    they are not in the checkpoint: a resumed run rebuilds the same subset from its config.
    ``draw(step, size)`` returns a minibatch of ``size`` distinct examples chosen by a
    ``torch.Generator`` seeded from ``(seed, step, i)``, ``i`` counting the draws within the
    step; so every draw is a function of the step, and an exact resume draws the same ones.
    """

    def __init__(self, train_set: Dataset | None, n: int, num_classes: int, seed: int) -> None:
        if train_set is None:
            raise ConfigError("semi-supervised training needs the training set (DataInfo.train_set)")
        self.indices = labelled_subset(train_set.y, n, num_classes, seed)  # (n,)
        self.x = train_set.x[self.indices]  # (n, *sample_shape)
        self.y = train_set.y[self.indices]  # (n,)
        self.seed = seed
        self._step, self._draws = -1, 0

    def __len__(self) -> int:
        return self.indices.shape[0]

    def draw(self, step: int, size: int, device: torch.device | str) -> tuple[torch.Tensor, torch.Tensor]:
        """``size`` (<= n) distinct labelled examples ``(x (size, ...), y (size,))`` on ``device``."""
        if not 1 <= size <= len(self):
            raise ConfigError(f"a labelled minibatch needs 1 <= size <= {len(self)}, got {size}")
        if step != self._step:
            self._step, self._draws = step, 0
        gen = torch.Generator().manual_seed(minibatch_seed(self.seed, step, self._draws))
        self._draws += 1
        idx = torch.randperm(len(self), generator=gen)[:size]  # (size,)
        if self.x.device != torch.device(device):
            self.x, self.y = self.x.to(device), self.y.to(device)
        idx = idx.to(self.x.device)
        return self.x.index_select(0, idx), self.y.index_select(0, idx)


def check_classifier_ema(decay: float) -> None:
    """``recipe.classifier_ema``, the decay of the classifier's weight average, must be in [0, 1)."""
    if not 0 <= decay < 1:
        raise ConfigError(f"recipe.classifier_ema must be in [0, 1), got {decay}")


@runtime_checkable
class Classifier(Protocol):
    """A recipe that trains a classifier: ``class_logits(nets, x)`` gives its ``K`` logits
    ``(N, K)`` for data ``x`` (D's class head for ssgan, the classifier C for triplegan)."""

    def class_logits(self, nets: Mapping[str, nn.Module], x: torch.Tensor) -> torch.Tensor: ...


@contextlib.contextmanager
def eval_mode(nets: Mapping[str, nn.Module]) -> Iterator[None]:
    """Every module of ``nets`` in eval mode inside the block; training modes restored after."""
    modes = {name: m.training for name, m in nets.items()}
    for m in nets.values():
        m.eval()
    try:
        yield
    finally:
        for name, m in nets.items():
            m.train(modes[name])


@torch.no_grad()
def classifier_error(
    run: Any, split: str = "test", batch_size: int = 500, dataset: Dataset | None = None, use_ema: bool = True
) -> float:
    """Error rate ``mean_i [argmax_k l_k(x_i) != y_i]`` of the classifier trained by ``run``
    (a ``runs.LoadedRun`` of a recipe that is a ``Classifier``) on ``split`` of the run's
    dataset, all of it (``data.limit`` is ignored), or on ``dataset`` when given. Batched,
    without gradients, networks in eval mode (batch-norm running statistics). With
    ``use_ema`` the averaged weights of every module the run keeps an average of (``ssgan``'s
    D, ``triplegan``'s C: ``recipe.classifier_ema``); without, the weights as last trained."""
    if not isinstance(run.recipe, Classifier):
        raise ConfigError(f"recipe {run.cfg.recipe.name!r} trains no classifier (ssgan, triplegan and ss-infogan do)")
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    if dataset is None:
        dataset = run.dataset(split)
    if dataset.y is None:
        raise ConfigError(f"dataset {dataset.name!r} has no labels to score a classifier against")
    nets = run.nets(use_ema)
    wrong = 0
    with eval_mode(nets):
        for start in range(0, len(dataset), batch_size):
            x = dataset.x[start : start + batch_size].to(run.device)  # (b, *sample_shape)
            y = dataset.y[start : start + batch_size].to(run.device)  # (b,)
            wrong += int((run.recipe.class_logits(nets, x).argmax(1) != y).sum())
    return wrong / len(dataset)

"""Recipe ``ss-infogan``: semi-supervised InfoGAN (Spurr, Aksan & Hilliges 2017, "Guiding
InfoGAN with Semi-Supervision").

InfoGAN (``gankit.recipes.infogan``) with its categorical code ``c_cat ~ Cat(K)`` made the
semi-supervised code ``c_ss`` of the paper: a small class-balanced labelled subset
``X_L = {(x_i, y_i)}`` of the training set (``recipe.supervised_labels = N`` examples,
``N / K`` per class, picked once by ``gankit.data.labelled.labelled_subset`` from the
training seed, so a run and its resume use the same ones) teaches Q which value of the code
means which class. Each D/Q update adds the supervised term of the paper's ``L_IS``,

    L_D = L_adv,D + λ · L_info(D(x_fake)) + w_sup · CE(Q_cat(x_lab), y_lab)

on a labelled minibatch ``(x_lab, y_lab)`` of ``recipe.supervised_batch`` examples drawn
from ``X_L`` without replacement by a ``torch.Generator`` seeded from (train seed, step, D
repeat) — deterministic, so resuming is exact. The generated-data half of ``L_IS`` (Q and G
on fakes with code ``c_ss = y``) is InfoGAN's own categorical term, so G's loss is
unchanged. ``K`` (``recipe.categorical``) must equal the dataset's number of classes.
Reported: ``Loss/D/supervised`` (the CE) and ``SSInfoGAN/acc_labelled`` (Q's accuracy on
the labelled minibatch). ``supervised_labels = 0`` is plain InfoGAN.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gankit.config import ExperimentConfig
from gankit.data.labelled import labelled_subset
from gankit.errors import ConfigError
from gankit.nets.base import DOutput
from gankit.nets.heads import Q_CATEGORICAL
from gankit.recipes.base import RECIPES, DataInfo, StepContext
from gankit.recipes.infogan import Codes, InfoGANConfig, InfoGANRecipe

SEED_STRIDE = 1_000_003  # decorrelates the labelled-batch seeds of nearby train seeds


@dataclass(frozen=True)
class SSInfoGANConfig(InfoGANConfig):
    name: str = "ss-infogan"
    supervised_labels: int = 0  # N: labelled examples (a multiple of K, N/K per class); 0 = plain InfoGAN
    supervised_weight: float = 1.0  # w_sup: weight of CE(Q_cat(x_lab), y_lab) in D's loss
    supervised_batch: int = 0  # labelled examples per D step; 0 = train.batch_size (at most N)

    def validate(self) -> None:
        super().validate()
        for key in ("supervised_labels", "supervised_weight", "supervised_batch"):
            if getattr(self, key) < 0:
                raise ConfigError(f"recipe.{key} must be >= 0, got {getattr(self, key)}")
        if self.supervised_labels and not self.categorical:
            raise ConfigError("recipe.supervised_labels > 0 needs a categorical code (recipe.categorical = classes)")


def labelled_batch_indices(
    n_labelled: int, size: int, seed: int, step: int, repeat: int, repeats: int
) -> torch.Tensor:
    """Positions ``(min(size, n_labelled),)`` in the labelled subset for D repeat ``repeat``
    of step ``step``: ``randperm(n_labelled)[:size]`` from a generator seeded with
    ``(seed · SEED_STRIDE + step) · repeats + repeat`` (a pure function of its arguments)."""
    gen = torch.Generator().manual_seed((seed * SEED_STRIDE + step) * repeats + repeat)
    return torch.randperm(n_labelled, generator=gen)[:size]


@RECIPES.register("ss-infogan", "ss-InfoGAN (Spurr et al. 2017): InfoGAN whose categorical code learns from N labels")
class SSInfoGANRecipe(InfoGANRecipe):
    """InfoGAN + ``w_sup · CE(Q_cat(x_lab), y_lab)`` in every D/Q update (Spurr et al. 2017);
    ``labelled`` holds the indices of the balanced labelled subset (None when sampling)."""

    config_class = SSInfoGANConfig

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.rc: SSInfoGANConfig = cfg.recipe
        n, k = self.rc.supervised_labels, self.rc.categorical
        if n and k != data.num_classes:
            raise ConfigError(
                f"recipe ss-infogan: recipe.categorical ({k}) must equal the dataset's number of classes "
                f"({data.num_classes})"
            )
        self.labelled: torch.Tensor | None = None  # indices (N,) into the training set
        self.x_labelled: torch.Tensor | None = None
        self.y_labelled: torch.Tensor | None = None
        if n and data.train_set is not None:  # None when a saved run is loaded for sampling
            self.labelled = labelled_subset(data.train_set.y, n, k, cfg.train.seed)
            self.x_labelled = data.train_set.x[self.labelled]  # (N, *sample_shape)
            self.y_labelled = data.train_set.y[self.labelled]  # (N,)
        self.batch_size = min(self.rc.supervised_batch or cfg.train.batch_size, n) if n else 0
        self._step, self._repeat = -1, 0  # which D repeat of which step is running

    def supervised_batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The labelled minibatch ``(x_lab, y_lab)`` of the next D update at ``step``."""
        if step != self._step:
            self._step, self._repeat = step, 0
        pos = labelled_batch_indices(
            len(self.labelled), self.batch_size, self.cfg.train.seed, step, self._repeat, self.rc.n_critic
        )
        self._repeat += 1
        return self.x_labelled[pos], self.y_labelled[pos]

    def info_loss(self, out: DOutput, codes: Codes, ctx: StepContext, who: str) -> torch.Tensor:
        """InfoGAN's ``L_info``, plus ``w_sup · CE(Q_cat(x_lab), y_lab)`` in D's update."""
        loss = super().info_loss(out, codes, ctx, who)
        if who != "D" or self.labelled is None:
            return loss
        dev = out.logits.device
        x_lab, y_lab = (t.to(dev) for t in self.supervised_batch(ctx.step))
        logits = self.modules["D"](x_lab).extra[Q_CATEGORICAL]  # (b, K)
        ce = F.cross_entropy(logits, y_lab)
        ctx.report("Loss/D/supervised", ce)
        with torch.no_grad():
            ctx.report("SSInfoGAN/acc_labelled", (logits.argmax(1) == y_lab).float().mean())
        return loss + self.rc.supervised_weight * ce

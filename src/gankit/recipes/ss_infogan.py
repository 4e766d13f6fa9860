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
from ``X_L`` by ``gankit.semi_supervised.LabelledPool`` (seeded from train seed, step and
draw) — deterministic, so resuming is exact. The generated-data half of ``L_IS`` (Q and G
on fakes with code ``c_ss = y``) is InfoGAN's own categorical term, so G's loss is
unchanged. ``K`` (``recipe.categorical``) must equal the dataset's number of classes.
Reported: ``Loss/D/supervised`` (the CE) and ``SSInfoGAN/acc_labelled`` (Q's accuracy on
the labelled minibatch). ``supervised_labels = 0`` is plain InfoGAN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from gankit.config import ExperimentConfig
from gankit.errors import ConfigError
from gankit.nets.base import DOutput
from gankit.nets.heads import Q_CATEGORICAL
from gankit.recipes.base import RECIPES, DataInfo, StepContext
from gankit.recipes.infogan import Codes, InfoGANConfig, InfoGANRecipe
from gankit.semi_supervised import LabelledPool


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


@RECIPES.register("ss-infogan", "ss-InfoGAN (Spurr et al. 2017): InfoGAN whose categorical code learns from N labels")
class SSInfoGANRecipe(InfoGANRecipe):
    """InfoGAN + ``w_sup · CE(Q_cat(x_lab), y_lab)`` in every D/Q update (Spurr et al. 2017);
    ``pool`` holds the balanced labelled subset (None when sampling or with N = 0); the trained
    categorical head of Q is a classifier (``class_logits``), scored by
    ``gankit.semi_supervised.classifier_error``."""

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
        # None when a saved run is loaded for sampling (no training set) or N = 0
        self.pool = LabelledPool(data.train_set, n, k, cfg.train.seed) if n and data.train_set is not None else None
        self.batch_size = min(self.rc.supervised_batch or cfg.train.batch_size, n) if n else 0

    def class_logits(self, nets: Mapping[str, nn.Module], x: torch.Tensor) -> torch.Tensor:
        """Q's categorical logits ``(N, K)``: after ss training, code value k is class k."""
        return nets["D"](x).extra[Q_CATEGORICAL]

    def info_loss(self, out: DOutput, codes: Codes, ctx: StepContext, who: str) -> torch.Tensor:
        """InfoGAN's ``L_info``, plus ``w_sup · CE(Q_cat(x_lab), y_lab)`` in D's update."""
        loss = super().info_loss(out, codes, ctx, who)
        if who != "D" or self.pool is None:
            return loss
        x_lab, y_lab = self.pool.draw(ctx.step, self.batch_size, out.logits.device)
        logits = self.modules["D"](x_lab).extra[Q_CATEGORICAL]  # (b, K)
        ce = F.cross_entropy(logits, y_lab)
        ctx.report("Loss/D/supervised", ce)
        with torch.no_grad():
            ctx.report("SSInfoGAN/acc_labelled", (logits.argmax(1) == y_lab).float().mean())
        return loss + self.rc.supervised_weight * ce

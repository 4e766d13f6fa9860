"""Recipe ``mle-continuous``: an autoregressive Gaussian LSTM on continuous sequences ``(T, D)``,
trained by teacher forcing (maximum likelihood) — the likelihood baseline of ``rnngan``.

``L = (1/(B T D)) sum_{b,t,d} [log sigma_{b,t,d} + (x_{b,t,d} - mu_{b,t,d})^2 / (2 sigma_{b,t,d}^2)
+ log(2 pi)/2]`` with ``(mu_t, sigma_t)`` predicted from ``x_{<t}`` (``gankit.nets.recurrent_gan.
GaussianLSTM``, width ``model.g_width``, ``model.rnn_layers`` layers of ``model.arch=crnn``).
A sample feeds its own draws back: ``x_t = mu_t + sigma_t · eps_t``, the latent being ``eps ~ N(0, I)``
``(T · D,)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import torch
from torch import nn

from gankit.config import ExperimentConfig
from gankit.nets import NetSpec
from gankit.nets.recurrent_gan import build_gaussian_lstm
from gankit.recipes.base import RECIPES, DataInfo, OptimizerSpec, Recipe, StepContext
from gankit.train.loader import Batch
from gankit.train.phases import Phase


@dataclass(frozen=True)
class MLEContinuousConfig:
    name: str = "mle-continuous"

    def validate(self) -> None:
        pass


@RECIPES.register("mle-continuous", "autoregressive Gaussian LSTM by teacher forcing on sequences (T, D) (baseline)")
class MLEContinuousRecipe(Recipe):
    """One phase ``G``: the Gaussian negative log-likelihood of a batch of real sequences."""

    config_class = MLEContinuousConfig
    d_scores = None
    model_arch = ("crnn", "continuous sequences")

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.modules["G"] = build_gaussian_lstm(cfg.model, NetSpec(data.sample_shape))

    @property
    def z_dim(self) -> int:
        return self.modules["G"].z_dim  # T · D

    def phases(self) -> list[Phase]:
        return [Phase("G", ("G",), "G")]

    def optimizers(self) -> dict[str, OptimizerSpec]:
        return {"G": OptimizerSpec(("G",), self.cfg.optim.lr_g)}

    def accumulate_gradients(self, phase: str, batch: Batch, ctx: StepContext) -> None:
        loss = self.modules["G"].nll(batch.x)
        ctx.report("Loss/G", loss)
        ctx.backward(loss)

    def generate(self, nets: Mapping[str, nn.Module], z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return nets["G"](z)

"""Recipe ``rnngan``: C-RNN-GAN (Mogren, "C-RNN-GAN: Continuous recurrent neural networks with
adversarial training", NIPS 2016 workshop) on continuous sequences ``(T, D)``.

Networks of ``model.arch=crnn`` (``gankit.nets.recurrent_gan``): an LSTM G fed fresh noise at
every step (and its own previous output) and a bidirectional-LSTM D with a logit per step.

* D (``n_critic`` updates per step): the BCE of every step's logit, averaged over batch and
  time as in the paper: ``L_D = (1/(B T)) sum_{b,t} [softplus(-r_{b,t}) + softplus(f_{b,t})]``
  for real / fake step logits ``r``, ``f``.
* G: feature matching on D's last hidden layer (the paper's choice, after Salimans et al. 2016):
  ``L_FM = || mean_b phi(x_b) - mean_b phi(G(z_b)) ||_2^2`` with ``phi`` the last bidirectional
  layer's outputs at every step, ``(T · 2 d_width)``, real features held fixed; optionally plus
  the non-saturating adversarial term ``(1/(B T)) sum softplus(-f_{b,t})``:
  ``L_G = fm_weight · L_FM + adv_g_weight · L_adv`` (defaults 1 and 0: feature matching alone).

Left out from the paper: its freezing of whichever player is far ahead, and L2 weight decay
(``optim.weight_decay`` gives the latter).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gankit.config import ExperimentConfig
from gankit.errors import ConfigError
from gankit.losses.adversarial import ns_d_loss, ns_g_loss
from gankit.losses.stabilizers import feature_matching_loss
from gankit.nets.base import DOutput
from gankit.recipes.base import RECIPES, DataInfo, StepContext
from gankit.recipes.gan import TwoPlayerRecipe
from gankit.train.loader import Batch


def step_logits(out: DOutput) -> torch.Tensor:
    """D's per-step logits ``(B, T)`` (``DOutput.extra["step_logits"]``)."""
    return out.extra["step_logits"]


@dataclass(frozen=True)
class RNNGANConfig:
    name: str = "rnngan"
    n_critic: int = 1  # D updates per G update
    fm_weight: float = 1.0  # feature matching on D's last hidden layer (C-RNN-GAN)
    adv_g_weight: float = 0.0  # non-saturating adversarial term added to G's loss; 0 = feature matching alone
    reuse_fake: bool = True  # the G step reuses the last D step's G(z) (G unchanged in between)

    def validate(self) -> None:
        if self.n_critic < 1:
            raise ConfigError(f"recipe.n_critic must be >= 1, got {self.n_critic}")
        for key in ("fm_weight", "adv_g_weight"):
            if getattr(self, key) < 0:
                raise ConfigError(f"recipe.{key} must be >= 0, got {getattr(self, key)}")
        if self.fm_weight == 0 and self.adv_g_weight == 0:
            raise ConfigError("recipe.fm_weight and recipe.adv_g_weight are both 0: G would have no loss")


@RECIPES.register("rnngan", "C-RNN-GAN (Mogren 2016): LSTM G, bidirectional-LSTM D, feature matching, sequences (T, D)")
class RNNGANRecipe(TwoPlayerRecipe):
    config_class = RNNGANConfig
    model_arch = ("crnn", "continuous sequences")

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.rc: RNNGANConfig = cfg.recipe

    @property
    def z_dim(self) -> int:
        return self.modules["G"].z_dim  # T · model.z_dim

    def d_loss(self, batch: Batch, fake: torch.Tensor, c: torch.Tensor | None, ctx: StepContext) -> torch.Tensor:
        D = self.modules["D"]
        real_steps, fake_steps = step_logits(D(batch.x)), step_logits(D(fake))  # (B, T) each
        ctx.report("D/real", real_steps.mean())
        ctx.report("D/fake", fake_steps.mean())
        return ns_d_loss(real_steps.flatten(), fake_steps.flatten())

    def g_loss(self, batch: Batch, fake: torch.Tensor, c: torch.Tensor | None, ctx: StepContext) -> torch.Tensor:
        D = self.modules["D"]
        fake_out = D(fake)
        loss = fake.new_zeros(())
        if self.rc.fm_weight > 0:
            fm = feature_matching_loss(D(batch.x).features, fake_out.features)
            ctx.report("Loss/G/fm", fm)
            loss = loss + self.rc.fm_weight * fm
        if self.rc.adv_g_weight > 0:
            adv = ns_g_loss(step_logits(fake_out).flatten())
            ctx.report("Loss/G/adv", adv)
            loss = loss + self.rc.adv_g_weight * adv
        ctx.report("Loss/G", loss)
        return loss

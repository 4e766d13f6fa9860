"""Recipe ``magan``: Margin Adaptation GAN (Wang, Cully, Chang & Demiris 2017). The EBGAN
losses with an autoencoder D (``model.d_arch=autoencoder``) whose margin ``m`` follows
the expected real energy (``gankit.losses.energy.MAGANMargin``)::

    L_D = E[D(x)] + E[(m - D(G(z)))^+]        L_G = E[D(G(z))]
    end of epoch: if E_real < m and E_real < E_fake and E_fake,prev <= E_fake:  m <- E_real

The first ``pretrain_steps`` steps train D as a plain autoencoder on real data (G is not
updated); ``m`` is then initialised to the real energy of the first adversarial D batch.
An epoch is ``epoch_steps`` steps; 0 takes the data loader's batches per epoch when the
data info carries ``num_examples``, else ``DEFAULT_EPOCH_STEPS``. Epoch boundaries are a
function of the step counter, so exact resume only needs the margin's own state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from gankit.config import ExperimentConfig
from gankit.errors import ConfigError
from gankit.losses.energy import MAGANMargin, magan_d_loss, magan_g_loss
from gankit.recipes.base import RECIPES, DataInfo, StepContext, warn_if_only_pretraining
from gankit.recipes.gan import TwoPlayerRecipe
from gankit.train.loader import Batch

DEFAULT_EPOCH_STEPS = 100  # epoch length when neither the config nor the data info gives one


@dataclass(frozen=True)
class MAGANConfig:
    name: str = "magan"
    epoch_steps: int = 0  # steps per margin-adaptation epoch; 0 = one pass over the data (see module doc)
    pretrain_steps: int = 0  # initial steps training D as an autoencoder only (G frozen)
    n_critic: int = 1  # D updates per G update
    reuse_fake: bool = True  # G step reuses the last D step's G(z)

    def validate(self) -> None:
        for key in ("epoch_steps", "pretrain_steps"):
            if getattr(self, key) < 0:
                raise ConfigError(f"recipe.{key} must be >= 0, got {getattr(self, key)}")
        if self.n_critic < 1:
            raise ConfigError(f"recipe.n_critic must be >= 1, got {self.n_critic}")


@RECIPES.register("magan", "MAGAN (Wang et al. 2017): autoencoder D, EBGAN losses with an adaptive margin")
class MAGANRecipe(TwoPlayerRecipe):
    config_class = MAGANConfig
    d_arch = "autoencoder"
    d_scores = "energy"

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        rc: MAGANConfig = cfg.recipe
        self.epoch_steps = rc.epoch_steps or self._steps_per_pass(data, cfg.train.batch_size, rc.n_critic)
        self.margin = MAGANMargin()
        warn_if_only_pretraining(cfg, data, rc.pretrain_steps, "D as an autoencoder")

    @staticmethod
    def _steps_per_pass(data: DataInfo, batch_size: int, n_critic: int) -> int:
        """Steps per pass of the loader: each step draws n_critic D batches and one G batch."""
        n = data.num_examples
        if n == 0:
            return DEFAULT_EPOCH_STEPS
        return max((n // batch_size) // (n_critic + 1), 1)

    def _pretraining(self, step: int) -> bool:
        return step < self.rc.pretrain_steps

    def d_loss(self, batch: Batch, fake: torch.Tensor, c: torch.Tensor | None, ctx: StepContext) -> torch.Tensor:
        D = self.modules["D"]
        real_e = D(batch.x).logits  # (B,)
        if self._pretraining(ctx.step):
            loss = real_e.mean()  # autoencoder pre-training on real data
            ctx.report("Loss/D", loss)
            return loss
        if self.margin.margin is None:
            self.margin.initialise(real_e.detach().mean())
        fake_e = D(fake).logits  # (B,)
        loss = magan_d_loss(real_e, fake_e, self.margin.margin)
        self.margin.observe(real_e, fake_e)
        ctx.report("MAGAN/margin", self.margin.margin)
        ctx.report("D/real_energy", real_e.mean())
        ctx.report("D/fake_energy", fake_e.mean())
        ctx.report("Loss/D", loss)
        return loss

    def g_loss(
        self, batch: Batch, fake: torch.Tensor, c: torch.Tensor | None, ctx: StepContext
    ) -> torch.Tensor | None:
        if self._pretraining(ctx.step):
            return None  # no backward: G keeps its parameters (and optimizer state)
        loss = magan_g_loss(self.modules["D"](fake).logits)
        ctx.report("Loss/G", loss)
        if (ctx.step - self.rc.pretrain_steps + 1) % self.epoch_steps == 0:
            self.margin.end_epoch()
        return loss

    def state_dict(self) -> dict[str, Any]:
        return {"margin": self.margin.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.margin.load_state_dict(state["margin"])

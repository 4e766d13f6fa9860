"""Recipe ``began``: Boundary Equilibrium GAN (Berthelot, Schumm & Metz 2017). D is an
autoencoder (``model.d_arch=autoencoder``; ``model.ae_energy=l1`` is the paper's eta = 1)::

    L_D = L(x) - k_t L(G(z))      L_G = L(G(z))
    k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1)

``k_t`` is advanced after every D step from that step's losses and checkpointed; the
convergence measure ``M = L(x) + |gamma L(x) - L(G(z))|`` is reported as ``BEGAN/M``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from gankit.config import ExperimentConfig
from gankit.errors import ConfigError
from gankit.losses.energy import BEGANBalance, began_g_loss
from gankit.recipes.base import RECIPES, DataInfo, StepContext
from gankit.recipes.gan import TwoPlayerRecipe
from gankit.train.loader import Batch


@dataclass(frozen=True)
class BEGANConfig:
    name: str = "began"
    gamma: float = 0.5  # diversity ratio gamma = E[L(G(z))] / E[L(x)] targeted (paper: 0.3-0.7)
    lambda_k: float = 1e-3  # learning rate of k_t (paper: 0.001)
    k0: float = 0.0  # initial k_t (paper: 0)
    n_critic: int = 1  # D updates per G update
    reuse_fake: bool = True  # G step reuses the last D step's G(z)

    def validate(self) -> None:
        if not 0.0 <= self.gamma <= 1.0 or not 0.0 <= self.k0 <= 1.0:
            raise ConfigError(f"recipe.gamma and recipe.k0 must be in [0, 1], got {self.gamma}, {self.k0}")
        if self.lambda_k < 0:
            raise ConfigError(f"recipe.lambda_k must be >= 0, got {self.lambda_k}")
        if self.n_critic < 1:
            raise ConfigError(f"recipe.n_critic must be >= 1, got {self.n_critic}")


@RECIPES.register("began", "BEGAN (Berthelot et al. 2017): autoencoder D, equilibrium k_t, convergence M")
class BEGANRecipe(TwoPlayerRecipe):
    config_class = BEGANConfig
    d_arch = "autoencoder"
    d_scores = "energy"

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        rc: BEGANConfig = cfg.recipe
        self.balance = BEGANBalance(rc.gamma, rc.lambda_k, rc.k0)
        self._losses: tuple[torch.Tensor, torch.Tensor] | None = None

    def d_loss(self, batch: Batch, fake: torch.Tensor, c: torch.Tensor | None, ctx: StepContext) -> torch.Tensor:
        D = self.modules["D"]
        real_e, fake_e = D(batch.x).logits, D(fake).logits  # (B,) energies
        loss = self.balance.d_loss(real_e, fake_e)
        real_l, fake_l = real_e.detach().mean(), fake_e.detach().mean()
        self._losses = (real_l, fake_l)
        ctx.report("BEGAN/k", self.balance.k)  # the k_t of this D step
        ctx.report("BEGAN/M", self.balance.convergence(real_l, fake_l))
        ctx.report("Loss/D", loss)
        return loss

    def g_loss(self, batch: Batch, fake: torch.Tensor, c: torch.Tensor | None, ctx: StepContext) -> torch.Tensor:
        loss = began_g_loss(self.modules["D"](fake).logits)
        ctx.report("Loss/G", loss)
        return loss

    def after_step(self, phase: str) -> None:
        if phase == "D" and self._losses is not None:
            self.balance.update(*self._losses)
            self._losses = None

    def state_dict(self) -> dict[str, Any]:
        return {"balance": self.balance.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.balance.load_state_dict(state["balance"])

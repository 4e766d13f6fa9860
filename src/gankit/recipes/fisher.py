"""Recipe ``fisher``: Fisher GAN (Mroueh & Sercu 2017, "Fisher GAN"), an IPM critic under
the second-moment constraint ``Omega = 1/2 (E_P[f^2] + E_Q[f^2]) = 1``, trained with an
augmented Lagrangian (Algorithm 1, ``gankit.losses.fisher``). The multiplier lambda is
updated after every critic step and checkpointed with the run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from gankit.config import ExperimentConfig
from gankit.errors import ConfigError
from gankit.losses.fisher import FisherMultiplier, fisher_g_loss
from gankit.recipes.base import RECIPES, DataInfo, StepContext
from gankit.recipes.gan import TwoPlayerRecipe
from gankit.train.loader import Batch


@dataclass(frozen=True)
class FisherConfig:
    name: str = "fisher"
    rho: float = 1e-6  # augmented-Lagrangian penalty weight and multiplier step (paper: 1e-6)
    n_critic: int = 2  # critic updates per generator update (paper: 2)
    reuse_fake: bool = True  # G step reuses the last critic step's G(z)

    def validate(self) -> None:
        if self.rho < 0:
            raise ConfigError(f"recipe.rho must be >= 0, got {self.rho}")
        if self.n_critic < 1:
            raise ConfigError(f"recipe.n_critic must be >= 1, got {self.n_critic}")


@RECIPES.register("fisher", "Fisher GAN (Mroueh & Sercu 2017): constrained IPM critic, augmented Lagrangian")
class FisherRecipe(TwoPlayerRecipe):
    config_class = FisherConfig

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.multiplier = FisherMultiplier(cfg.recipe.rho)
        self._constraint: torch.Tensor | None = None

    def d_loss(self, batch: Batch, fake: torch.Tensor, c: torch.Tensor | None, ctx: StepContext) -> torch.Tensor:
        D = self.modules["D"]
        real_f, fake_f = D(batch.x, c).logits, D(fake, c).logits  # (B,)
        loss, constraint = self.multiplier.loss(real_f, fake_f)
        self._constraint = constraint
        ctx.report("Fisher/lambda", self.multiplier.lam)  # the lambda of this critic step
        ctx.report("Fisher/constraint", constraint)  # 1 - Omega
        ctx.report("Fisher/ipm", (real_f.mean() - fake_f.mean()).detach())
        ctx.report("Loss/D", loss)
        return loss

    def g_loss(self, batch: Batch, fake: torch.Tensor, c: torch.Tensor | None, ctx: StepContext) -> torch.Tensor:
        loss = fisher_g_loss(self.modules["D"](fake, c).logits)
        ctx.report("Loss/G", loss)
        return loss

    def after_step(self, phase: str) -> None:
        if phase == "D" and self._constraint is not None:
            self.multiplier.update(self._constraint)  # lambda <- lambda - rho (1 - Omega)
            self._constraint = None

    def state_dict(self) -> dict[str, Any]:
        return {"multiplier": self.multiplier.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.multiplier.load_state_dict(state["multiplier"])

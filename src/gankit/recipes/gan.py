"""Recipe ``gan``: the vanilla / DCGAN family with the objective chosen by config.

Goodfellow et al. 2014 (Algorithm 1: k discriminator steps per generator step), Radford et
al. 2016 (DCGAN), with the losses of ``gankit.losses`` (minimax, non-saturating, LSGAN, WGAN,
hinge) and the regularizers WGAN weight clipping (Arjovsky et al. 2017), WGAN-GP
(Gulrajani et al. 2017) and R1 (Mescheder et al. 2018). TTUR (Heusel et al. 2017) is
``optim.lr_d != optim.lr_g``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import torch
from torch import nn

from gankit.config import ExperimentConfig
from gankit.errors import ConfigError
from gankit.losses import LOSSES
from gankit.nets import NetSpec, build_networks
from gankit.nets.conditioning import conditional_classes
from gankit.recipes.base import RECIPES, DataInfo, OptimizerSpec, Recipe, StepContext
from gankit.regularizers import clip_weights_, gradient_penalty, r1_penalty
from gankit.train.loader import Batch
from gankit.train.phases import Phase


@dataclass(frozen=True)
class GANConfig:
    name: str = "gan"
    loss: str = "ns"  # minimax | ns | lsgan | wgan | hinge (`gankit losses` lists them)
    n_critic: int = 1  # discriminator updates per generator update (k in Algorithm 1)
    gp_weight: float = 0.0  # WGAN-GP lambda (10 in Gulrajani et al.); 0 disables
    gp_target: float = 1.0  # gradient-norm target of the penalty
    r1_gamma: float = 0.0  # R1 weight gamma: adds gamma/2 * E||grad D(x)||^2; 0 disables
    clip_value: float = 0.0  # WGAN weight clipping c (0.01 in Arjovsky et al.); 0 disables
    reuse_fake: bool = True  # G step reuses the last D step's G(z) (G is unchanged in between): one G forward saved

    def validate(self) -> None:
        LOSSES.get(self.loss)
        if self.n_critic < 1:
            raise ConfigError(f"recipe.n_critic must be >= 1, got {self.n_critic}")
        for key in ("gp_weight", "r1_gamma", "clip_value"):
            if getattr(self, key) < 0:
                raise ConfigError(f"recipe.{key} must be >= 0, got {getattr(self, key)}")


@RECIPES.register("gan", "vanilla/DCGAN family: loss by config, n_critic, TTUR, GP/R1/clipping, EMA")
class GANRecipe(Recipe):
    config_class = GANConfig

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.rc: GANConfig = cfg.recipe
        spec = NetSpec(data.sample_shape, data.num_classes)
        self._classes = conditional_classes(cfg.model, spec)  # 0 unless model.conditional
        G, D = build_networks(cfg.model, spec)
        self.modules["G"] = G
        self.modules["D"] = D
        self.loss = LOSSES.get(self.rc.loss)
        self._reusable: tuple[torch.Tensor, torch.Tensor | None] | None = None

    @property
    def z_dim(self) -> int:
        return self.cfg.model.z_dim

    @property
    def num_classes(self) -> int:
        return self._classes

    def phases(self) -> list[Phase]:
        # with reuse_fake the D phase keeps G's graph so the G phase can backpropagate through it
        track = ("G",) if self.rc.reuse_fake else ()
        return [Phase("D", ("D",), "D", repeats=self.rc.n_critic, track=track), Phase("G", ("G",), "G")]

    def optimizers(self) -> dict[str, OptimizerSpec]:
        return {
            "D": OptimizerSpec(("D",), self.cfg.optim.lr_d),
            "G": OptimizerSpec(("G",), self.cfg.optim.lr_g),
        }

    def _critic(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.modules["D"](x, c).logits

    def accumulate_gradients(self, phase: str, batch: Batch, ctx: StepContext) -> None:
        G, D = self.modules["G"], self.modules["D"]
        c = batch.y if self._classes else None
        if phase == "D":
            z = torch.randn(batch.x.shape[0], self.z_dim, device=batch.x.device)  # (B, z_dim)
            fake_with_graph = G(z, c)  # (B, *sample_shape); has a graph only when G is tracked
            self._reusable = (fake_with_graph, c) if self.rc.reuse_fake else None
            fake = fake_with_graph.detach()
            real_logits = D(batch.x, c).logits
            fake_logits = D(fake, c).logits
            loss = self.loss.d_loss(real_logits, fake_logits)
            ctx.report("D/real", real_logits.mean())
            ctx.report("D/fake", fake_logits.mean())
            if self.rc.gp_weight > 0 or self.rc.r1_gamma > 0:
                ctx.report("Loss/D/adv", loss)
            if self.rc.gp_weight > 0:
                gp = gradient_penalty(self._critic, batch.x, fake, target=self.rc.gp_target, c=c)
                ctx.report("Loss/D/gp", gp)
                loss = loss + self.rc.gp_weight * gp
            if self.rc.r1_gamma > 0:
                r1 = r1_penalty(self._critic, batch.x, c=c)
                ctx.report("Loss/D/r1", r1)
                loss = loss + 0.5 * self.rc.r1_gamma * r1
            ctx.report("Loss/D", loss)
            ctx.backward(loss)
        elif phase == "G":
            if self._reusable is not None:
                fake, c = self._reusable
                self._reusable = None
            else:
                z = torch.randn(batch.x.shape[0], self.z_dim, device=batch.x.device)  # (B, z_dim)
                fake = G(z, c)
            loss = self.loss.g_loss(D(fake, c).logits)
            ctx.report("Loss/G", loss)
            ctx.backward(loss)
        else:  # pragma: no cover - phases() declares only D and G
            raise ValueError(f"unknown phase {phase}")

    def after_step(self, phase: str) -> None:
        if phase == "D" and self.rc.clip_value > 0:
            clip_weights_(self.modules["D"], self.rc.clip_value)

    def generate(self, nets: Mapping[str, nn.Module], z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return nets["G"](z, c if self._classes else None)

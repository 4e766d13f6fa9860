"""Recipe ``mrgan``: Mode-Regularized GAN (Che et al. 2017, "Mode Regularized Generative
Adversarial Networks"), the manifold-diffusion training of their Section 3.3.

Networks: generator G (z -> x), encoder E (x -> z, ``nets.encoder.MLPEncoder``), manifold
discriminator D_M and diffusion discriminator D_D (both the model's discriminator).
Phases, each step, in order (each phase draws its own real batch):

- ``D_M``: D_M discriminates real x from reconstructions G(E(x)) (loss ``recipe.loss``);
- ``EG`` (manifold step): E and G minimise
  ``lambda_recon * mean_i ||x_i - G(E(x_i))||^2 + lambda_manifold * g_loss(D_M(G(E(x))))``
  (with ``loss = ns`` the second term is -log D_M(G(E(x))));
- ``D_D`` (diffusion step): D_D discriminates G(E(x)) (as "real") from G(z);
- ``G``: G minimises ``g_loss(D_D(G(z)))``, spreading G(z) over the modes the
  reconstructions already cover.

E and G have one Adam optimizer (``EG``) for the manifold step and G another (``G``) for the
diffusion step. Unconditional only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import torch
from torch import nn

from gankit.config import ExperimentConfig
from gankit.errors import ConfigError
from gankit.losses import LOSSES, single_sided_loss
from gankit.nets import NetSpec, build_networks
from gankit.nets.encoder import MLPEncoder
from gankit.recipes.base import RECIPES, DataInfo, OptimizerSpec, Recipe, StepContext
from gankit.train.loader import Batch
from gankit.train.phases import Phase


@dataclass(frozen=True)
class MRGANConfig:
    name: str = "mrgan"
    loss: str = "ns"  # adversarial loss of D_M, D_D and their G terms (`gankit losses` lists them)
    lambda_recon: float = 1.0  # lambda_1: weight of ||x - G(E(x))||^2 in the manifold step
    lambda_manifold: float = 0.2  # lambda_2: weight of the D_M term g_loss(D_M(G(E(x)))) in the manifold step
    encoder_layers: int = 3  # hidden layers of the MLP encoder E (width model.d_width)

    def validate(self) -> None:
        single_sided_loss(self.loss, "mrgan")
        if self.encoder_layers < 1:
            raise ConfigError(f"recipe.encoder_layers must be >= 1, got {self.encoder_layers}")
        for key in ("lambda_recon", "lambda_manifold"):
            if getattr(self, key) < 0:
                raise ConfigError(f"recipe.{key} must be >= 0, got {getattr(self, key)}")


@RECIPES.register("mrgan", "Mode-regularized GAN (Che et al. 2017): encoder, manifold (D_M) and diffusion (D_D) steps")
class MRGANRecipe(Recipe):
    config_class = MRGANConfig

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        if cfg.model.conditional:
            raise ConfigError("recipe mrgan is unconditional; set model.conditional=false")
        self.rc: MRGANConfig = cfg.recipe
        self.loss = LOSSES.get(self.rc.loss)
        spec = NetSpec(data.sample_shape, data.num_classes)
        G, D_M = build_networks(cfg.model, spec)
        _, D_D = build_networks(cfg.model, spec)
        self.modules["G"] = G
        self.modules["E"] = MLPEncoder(
            tuple(data.sample_shape), cfg.model.d_width, self.rc.encoder_layers, cfg.model.z_dim
        )
        self.modules["D_M"] = D_M
        self.modules["D_D"] = D_D

    @property
    def z_dim(self) -> int:
        return self.cfg.model.z_dim

    def phases(self) -> list[Phase]:
        return [
            Phase("D_M", ("D_M",), "D_M"),
            Phase("EG", ("E", "G"), "EG"),
            Phase("D_D", ("D_D",), "D_D"),
            Phase("G", ("G",), "G"),
        ]

    def optimizers(self) -> dict[str, OptimizerSpec]:
        lr_g, lr_d = self.cfg.optim.lr_g, self.cfg.optim.lr_d
        return {
            "D_M": OptimizerSpec(("D_M",), lr_d),
            "EG": OptimizerSpec(("E", "G"), lr_g),
            "D_D": OptimizerSpec(("D_D",), lr_d),
            "G": OptimizerSpec(("G",), lr_g),
        }

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """G(E(x)), shape of ``x``."""
        return self.modules["G"](self.modules["E"](x))

    def encode(self, nets: Mapping[str, nn.Module], x: torch.Tensor) -> torch.Tensor:
        """E(x), shape (n, z_dim)."""
        return nets["E"](x)

    def _latent_fake(self, n: int, device: torch.device) -> torch.Tensor:
        return self.modules["G"](torch.randn(n, self.z_dim, device=device))  # (n, *sample_shape)

    def accumulate_gradients(self, phase: str, batch: Batch, ctx: StepContext) -> None:
        x = batch.x
        if phase == "D_M":
            with torch.no_grad():
                recon = self.reconstruct(x)
            D = self.modules["D_M"]
            loss = self.loss.d_loss(D(x).logits, D(recon).logits)
            ctx.report("Loss/D_M", loss)
        elif phase == "EG":
            recon = self.reconstruct(x)
            rec = (x - recon).flatten(1).square().sum(1).mean()  # mean_i ||x_i - G(E(x_i))||^2
            adv = self.loss.g_loss(self.modules["D_M"](recon).logits)
            loss = self.rc.lambda_recon * rec + self.rc.lambda_manifold * adv
            ctx.report("MRGAN/recon", rec)
            ctx.report("Loss/EG/adv", adv)
            ctx.report("Loss/EG", loss)
        elif phase == "D_D":
            with torch.no_grad():
                recon = self.reconstruct(x)
                fake = self._latent_fake(x.shape[0], x.device)
            D = self.modules["D_D"]
            loss = self.loss.d_loss(D(recon).logits, D(fake).logits)
            ctx.report("Loss/D_D", loss)
        elif phase == "G":
            fake = self._latent_fake(x.shape[0], x.device)
            loss = self.loss.g_loss(self.modules["D_D"](fake).logits)
            ctx.report("Loss/G", loss)
        else:  # pragma: no cover - phases() declares only these
            raise ValueError(f"unknown phase {phase}")
        ctx.backward(loss)

    def generate(self, nets: Mapping[str, nn.Module], z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return nets["G"](z)

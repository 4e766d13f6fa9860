"""Recipe ``pan``: Perceptual Adversarial Networks (Wang, Xu, Wang & Tao 2018, "Perceptual
Adversarial Networks for Image-to-Image Transformation").

pix2pix's networks (``model.arch=unet``: G(a) -> b, D(cat(a, b)) with its hidden maps
``h0, h1, ...``) with the pixel loss replaced by a *perceptual* loss measured by the
discriminator itself. With ``H_0`` the image and ``H_j`` (``j ≥ 1``) D's hidden layers on
``cat(a, ·)``, λ_j = ``recipe.layer_weights`` and ``m`` = ``recipe.margin``::

    P = Σ_j λ_j · E|H_j(b) − H_j(G(a))|
    L_G = w · ℓ_G(D(a, G(a))) + P                      w = recipe.adv_weight
    L_D = s · ℓ_D(D(a, b), D(a, G(a))) + [m − P]⁺       s = recipe.d_scale

D is pushed to keep real and translated images at least ``m`` apart in its own features, so the
features keep finding the differences G has not closed yet (the paper's §III-B). Here D is
conditional on the source ``a`` (pix2pix's D); the paper's D sees only the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gankit.config import ExperimentConfig
from gankit.errors import ConfigError
from gankit.losses import single_sided_loss
from gankit.losses.pan import pan_margin_loss, pan_perceptual_distance
from gankit.recipes.base import RECIPES, DataInfo, StepContext
from gankit.recipes.pix2pix import PairedTranslationRecipe


@dataclass(frozen=True)
class PANConfig:
    name: str = "pan"
    loss: str = "ns"  # adversarial pair (`gankit losses` lists them)
    adv_weight: float = 1.0  # weight of the adversarial term in G's loss
    layer_weights: tuple[float, ...] = (5.0, 1.5, 1.5)  # lambda_j of the image itself, then D's hidden maps h0, h1...
    margin: float = 5.0  # m: D's hinge [m - P]+ on the perceptual distance P of real and translated images
    d_scale: float = 1.0  # D's adversarial loss is multiplied by this
    n_critic: int = 1  # D updates per G update
    reuse_fake: bool = True  # G's step reuses the last D step's pair and G(a)

    def validate(self) -> None:
        single_sided_loss(self.loss, "pan")
        if not self.layer_weights or any(w < 0 for w in self.layer_weights):
            raise ConfigError(f"recipe.layer_weights must be one or more weights >= 0, got {self.layer_weights}")
        for key in ("adv_weight", "margin", "d_scale"):
            if getattr(self, key) < 0:
                raise ConfigError(f"recipe.{key} must be >= 0, got {getattr(self, key)}")
        if self.n_critic < 1:
            raise ConfigError(f"recipe.n_critic must be >= 1, got {self.n_critic}")


@RECIPES.register("pan", "perceptual adversarial networks (Wang et al. 2018): pix2pix with D-feature loss + margin")
class PANRecipe(PairedTranslationRecipe):
    config_class = PANConfig
    d_arch = "default"  # the family's own D, which returns its hidden maps

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        hidden = len(getattr(self.modules["D"], "blocks", ()))
        if len(self.rc.layer_weights) - 1 > hidden:
            raise ConfigError(f"recipe.layer_weights has {len(self.rc.layer_weights)} weights (the image and "
                              f"{len(self.rc.layer_weights) - 1} hidden layers), but D has {hidden} hidden layers")

    def features(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """D's logits on ``cat(a, b)`` and the layers ``[b, h0, h1, ...]`` the weights apply to."""
        out = self.critic(a, b)
        layers = [b] + [out.extra[f"h{j}"] for j in range(len(self.rc.layer_weights) - 1)]
        return out.logits, layers

    def d_loss(self, a: torch.Tensor, b: torch.Tensor, fake: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        real_logits, real_layers = self.features(a, b)
        fake_logits, fake_layers = self.features(a, fake)
        adv = self.loss.d_loss(real_logits, fake_logits)
        distance = pan_perceptual_distance(real_layers, fake_layers, self.rc.layer_weights)
        margin = pan_margin_loss(distance, self.rc.margin)
        loss = self.rc.d_scale * adv + margin
        ctx.report("D/real", real_logits.mean())
        ctx.report("D/fake", fake_logits.mean())
        ctx.report("Loss/D/adv", adv)
        ctx.report("Loss/D/margin", margin)
        ctx.report("Loss/D", loss)
        return loss

    def g_loss(self, a: torch.Tensor, b: torch.Tensor, fake: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        with torch.no_grad():
            _, real_layers = self.features(a, b)  # targets of the perceptual loss: no graph needed
        fake_logits, fake_layers = self.features(a, fake)
        perceptual = pan_perceptual_distance(real_layers, fake_layers, self.rc.layer_weights)
        adv = self.loss.g_loss(fake_logits)
        loss = self.rc.adv_weight * adv + perceptual
        ctx.report("Loss/G/adv", adv)
        ctx.report("Loss/G/perceptual", perceptual)
        ctx.report("Loss/G/l1", (b - fake).abs().mean().detach())
        ctx.report("Loss/G", loss)
        return loss

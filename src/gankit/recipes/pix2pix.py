"""Recipe ``pix2pix``: paired image-to-image translation with a conditional GAN (Isola et al. 2017,
"Image-to-Image Translation with Conditional Adversarial Networks").

``G(a) -> b`` (``model.arch=unet``; dropout is G's only noise, there is no z) and a conditional
discriminator ``D(a, b)`` that sees the source and a real or translated target concatenated
along channels (a PatchGAN of configurable receptive field). With ``ℓ_D``/``ℓ_G`` the
adversarial pair ``recipe.loss`` (``ns``: the paper's BCE with the non-saturating G loss, §3.3)
and λ = ``recipe.l1_weight`` (100 in the paper)::

    L_D = s · ℓ_D(D(a, b), D(a, G(a)))                  s = recipe.d_scale (½: "divide the objective
                                                          by 2 while optimizing D", §3.3)
    L_G = w · ℓ_G(D(a, G(a))) + λ · E|b − G(a)|          w = recipe.adv_weight  (Eq. 4)

``recipe.adv_weight=0`` is the L1-only baseline (D is not trained), ``recipe.l1_weight=0`` the
cGAN-only ablation (the paper's Table 1). Per-patch logits are averaged by the loss.
``recipe.pixel_loss=mse`` puts ``E(b − G(a))²`` in place of the L1 term (same λ): the pixel loss
whose minimiser is the conditional mean E[b | a], the blurry average of the plausible targets
(L1's is their per-pixel median).

Sampling: ``latent(n, generator)`` draws training pairs and returns them stacked along channels,
``cat(a, b)``; ``generate`` translates their ``a`` part, so the trainer's grids, histograms and
BatchNorm re-estimation work unchanged; ``translation_rows`` lays them out as input | output |
target. ``translate(nets, a)`` is the capability ``gankit translate`` uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import torch
from torch import nn

from gankit.config import ExperimentConfig
from gankit.data.base import field_len, take
from gankit.errors import ConfigError, ShapeError
from gankit.losses import LOSSES, single_sided_loss
from gankit.nets import NetSpec, build_networks
from gankit.recipes.base import RECIPES, DataInfo, OptimizerSpec, Recipe, StepContext
from gankit.train.loader import Batch
from gankit.train.phases import Phase
from gankit.viz.rows import translation_rows

TRANSLATOR_ARCH = "unet"  # the family whose D is conditional on the source image


@dataclass(frozen=True)
class Pix2PixConfig:
    name: str = "pix2pix"
    loss: str = "ns"  # adversarial pair (`gankit losses` lists them); ns = the paper's BCE, G non-saturating
    adv_weight: float = 1.0  # weight of the cGAN term in G's loss; 0 = the L1-only baseline (D untrained)
    l1_weight: float = 100.0  # lambda of the pixel term (Isola et al.: 100); 0 = cGAN only
    pixel_loss: str = "l1"  # the pixel term: l1 (the paper) | mse (squared error, minimised by E[b | a])
    d_scale: float = 0.5  # D's loss is multiplied by this (the paper halves it)
    n_critic: int = 1  # D updates per G update
    reuse_fake: bool = True  # G's step reuses the last D step's pair and G(a) (G is unchanged in between)

    def validate(self) -> None:
        single_sided_loss(self.loss, "pix2pix")
        for key in ("adv_weight", "l1_weight", "d_scale"):
            if getattr(self, key) < 0:
                raise ConfigError(f"recipe.{key} must be >= 0, got {getattr(self, key)}")
        if self.adv_weight == 0 and self.l1_weight == 0:
            raise ConfigError("recipe.adv_weight and recipe.l1_weight are both 0: G would have no loss")
        if self.n_critic < 1:
            raise ConfigError(f"recipe.n_critic must be >= 1, got {self.n_critic}")
        if self.pixel_loss not in PIXEL_LOSSES:
            raise ConfigError(f"recipe.pixel_loss must be one of {', '.join(PIXEL_LOSSES)}, got {self.pixel_loss!r}")


def l1_distance(fake: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``E|target − fake|`` over every element (pix2pix's L1 term, Isola et al. 2017, Eq. 3)."""
    if fake.shape != target.shape:
        raise ShapeError(f"L1 needs equal shapes, got {tuple(fake.shape)} and {tuple(target.shape)}")
    return (target - fake).abs().mean()


def squared_distance(fake: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``E(target − fake)²`` over every element (the MSE pixel loss; minimised by E[target | input])."""
    if fake.shape != target.shape:
        raise ShapeError(f"MSE needs equal shapes, got {tuple(fake.shape)} and {tuple(target.shape)}")
    return (target - fake).square().mean()


PIXEL_LOSSES = {"l1": l1_distance, "mse": squared_distance}


class PairedTranslationRecipe(Recipe):
    """G(a) -> b and a conditional D(cat(a, b)) on paired data; subclasses give ``d_loss`` and ``g_loss``."""

    ema_modules = ("G",)
    data_fields = ("a", "b")
    target_field = "b"
    translation_directions = ("ab",)

    @classmethod
    def check_config(cls, cfg: ExperimentConfig) -> None:
        """The conditional D reads ``cat(a, b)``: only the U-Net family builds that pair."""
        if cfg.model.arch != TRANSLATOR_ARCH:
            raise ConfigError(f"recipe {cfg.recipe.name} needs model.arch={TRANSLATOR_ARCH} (a translator G(a) and a "
                              f"conditional D(a, b)), got {cfg.model.arch!r}")
        super().check_config(cfg)

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.rc = cfg.recipe
        self.loss = LOSSES.get(self.rc.loss)
        self.in_shape, self.out_shape = self.pair_shapes(data)
        G, D = build_networks(cfg.model, NetSpec(self.out_shape, data.num_classes, input_shape=self.in_shape))
        self.modules["G"] = G
        self.modules["D"] = D
        self._reusable: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None

    @staticmethod
    def pair_shapes(data: DataInfo) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """``(a's shape, b's shape)``; images of one size (``ConfigError`` otherwise)."""
        if not data.fields:
            return tuple(data.sample_shape), tuple(data.sample_shape)  # a run saved before named fields
        a, b = tuple(data.fields["a"].shape), tuple(data.fields["b"].shape)
        if len(a) != 3 or len(b) != 3 or a[1:] != b[1:]:
            raise ConfigError(f"paired translation needs images a and b of one size, got a {a} and b {b}")
        return a, b

    @property
    def z_dim(self) -> int:
        return self.in_shape[0] + self.out_shape[0]  # a latent is a pair cat(a, b)

    @property
    def trains_d(self) -> bool:
        return True

    def phases(self) -> list[Phase]:
        g = Phase("G", ("G",), "G")
        if not self.trains_d:
            return [g]
        track = ("G",) if self.rc.reuse_fake else ()
        return [Phase("D", ("D",), "D", repeats=self.rc.n_critic, track=track), g]

    def optimizers(self) -> dict[str, OptimizerSpec]:
        specs = {"G": OptimizerSpec(("G",), self.cfg.optim.lr_g)}
        if self.trains_d:
            specs["D"] = OptimizerSpec(("D",), self.cfg.optim.lr_d)
        return specs

    def critic(self, a: torch.Tensor, b: torch.Tensor):
        """``D(cat(a, b))``, a ``DOutput``."""
        return self.modules["D"](torch.cat([a, b], dim=1))  # input (N, C_a + C_b, H, W)

    def accumulate_gradients(self, phase: str, batch: Batch, ctx: StepContext) -> None:
        if phase == "D":
            a, b = batch["a"], batch["b"]  # (B, C_a, H, W), (B, C_b, H, W)
            fake = self.modules["G"](a)  # (B, C_b, H, W); a graph only when G is tracked
            self._reusable = (a, b, fake) if self.rc.reuse_fake else None
            loss = self.d_loss(a, b, fake.detach(), ctx)
        elif phase == "G":
            if self._reusable is not None:
                a, b, fake = self._reusable
                self._reusable = None
            else:
                a, b = batch["a"], batch["b"]
                fake = self.modules["G"](a)  # (B, C_b, H, W)
            loss = self.g_loss(a, b, fake, ctx)
        else:  # pragma: no cover - phases() declares only D and G
            raise ValueError(f"unknown phase {phase}")
        ctx.backward(loss)

    def d_loss(self, a: torch.Tensor, b: torch.Tensor, fake: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        raise NotImplementedError

    def g_loss(self, a: torch.Tensor, b: torch.Tensor, fake: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        raise NotImplementedError

    # -- sampling and translation
    def latent(
        self, n: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu"
    ) -> torch.Tensor:
        """``n`` training pairs ``cat(a, b)`` ``(n, C_a + C_b, H, W)`` at positions
        ``randint(N, (n,), generator=generator)``: ``generate`` translates their ``a``."""
        if self.data.train_set is None:
            raise ConfigError("a translation run draws its inputs from data, which a saved run does not hold: "
                              "give it images with `gankit translate RUN --input ...`")
        a_field, b_field = self.data.train_set.field("a"), self.data.train_set.field("b")
        idx = torch.randint(field_len(a_field), (n,), generator=generator)  # (n,)
        return torch.cat([take(a_field, idx), take(b_field, idx)], dim=1).to(device)  # (n, C_a + C_b, H, W)

    def generate(self, nets: Mapping[str, nn.Module], z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """``G(a)`` for pairs ``z = cat(a, b)`` or inputs ``z = a``."""
        return nets["G"](z[:, : self.in_shape[0]])  # (n, C_b, H, W)

    def translate(self, nets: Mapping[str, nn.Module], x: torch.Tensor, direction: str = "ab") -> torch.Tensor:
        """``G(x)`` for inputs ``x`` ``(n, C_a, H, W)`` of the training inputs' shape; any other
        shape is refused with one ``ShapeError`` line."""
        if direction != "ab":
            raise ConfigError(f"recipe {self.cfg.recipe.name} translates in direction 'ab' only, got {direction!r}")
        if x.dim() != 4 or tuple(x.shape[1:]) != self.in_shape:
            raise ShapeError(f"recipe {self.cfg.recipe.name} translates images of shape {self.in_shape} "
                             f"(channels, height, width), got {tuple(x.shape[1:])}")
        return nets["G"](x)

    @torch.no_grad()
    def sample_rows(self, nets: Mapping[str, nn.Module], z: torch.Tensor) -> torch.Tensor:
        """Input | output | target rows ``(3n, C, H, W)`` for pairs ``z = cat(a, b)``."""
        a, b = z[:, : self.in_shape[0]], z[:, self.in_shape[0]:]
        return translation_rows(a, self.sample(nets, z), b).cpu()

    def sample_grid(
        self, nets: Mapping[str, nn.Module], z: torch.Tensor, c: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, int | None]:
        """The trainer's grids: input | output | target rows of the fixed training pairs ``z``."""
        return self.sample_rows(nets, z), z.shape[0]


@RECIPES.register("pix2pix", "paired translation (Isola et al. 2017): U-Net G(a), conditional PatchGAN, cGAN + L1")
class Pix2PixRecipe(PairedTranslationRecipe):
    config_class = Pix2PixConfig

    @property
    def trains_d(self) -> bool:
        return self.rc.adv_weight > 0

    def d_loss(self, a: torch.Tensor, b: torch.Tensor, fake: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        real_logits = self.critic(a, b).logits  # (B, 1, H', W') or (B,)
        fake_logits = self.critic(a, fake).logits
        loss = self.rc.d_scale * self.loss.d_loss(real_logits, fake_logits)
        ctx.report("D/real", real_logits.mean())
        ctx.report("D/fake", fake_logits.mean())
        ctx.report("Loss/D", loss)
        return loss

    def g_loss(self, a: torch.Tensor, b: torch.Tensor, fake: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        pixel = PIXEL_LOSSES[self.rc.pixel_loss](fake, b)
        ctx.report(f"Loss/G/{self.rc.pixel_loss}", pixel)
        loss = self.rc.l1_weight * pixel
        if self.rc.adv_weight > 0:
            adv = self.loss.g_loss(self.critic(a, fake).logits)
            ctx.report("Loss/G/adv", adv)
            loss = loss + self.rc.adv_weight * adv
        ctx.report("Loss/G", loss)
        return loss

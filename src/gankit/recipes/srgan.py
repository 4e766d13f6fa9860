"""Recipes ``srresnet`` and ``srgan``: single-image super-resolution (Ledig et al. 2017,
"Photo-Realistic Single Image Super-Resolution Using a Generative Adversarial Network").

Paired data: low-resolution input ``a`` and high-resolution target ``b`` (``mnist-superres4``,
``fashion-superres4``: 7×7 -> 28×28). The generator is ``model.arch=srresnet`` (residual
blocks, sub-pixel up-sampling with ``PixelShuffle``); its family D is the SRGAN D.

**srresnet** trains G alone on the pixel MSE (Eq. 4)::

    L_G = E[(b − G(a))²]

**srgan** adds the discriminator and replaces the pixel loss by a content loss on features
(Eq. 3, "SRGAN-VGG54")::

    L_G = E[(φ(b) − φ(G(a)))²] + 10⁻³ · ℓ_G(D(G(a)))       (ℓ_G: recipe.loss; the paper's −log D)
    L_D = ℓ_D(D(b), D(G(a)))

φ is VGG19's ``φ_{5,4}`` in the paper. Its weights cannot be downloaded here, so gankit's φ
is the penultimate layer (128 features) of a shipped domain classifier
(``gankit.metrics.classifier``, ``recipe.feature_net``: ``mnist``, ``fashion-mnist``, ``digits``),
fixed and in eval mode; ``gankit.losses.content.content_loss`` takes any feature network.
``recipe.content=mse`` gives the paper's SRGAN-MSE variant. The paper initialises SRGAN's G
with a trained SRResNet; ``recipe.pretrain_steps`` trains G on the pixel MSE alone for that
many steps first (D idle).

**Capabilities.** ``translate(nets, a)`` upscales images of exactly the training input size
(anything else: one ``ShapeError`` line); ``generate`` (grids, metrics) upscales
low-resolution inputs drawn from the data (``latent``); the sample grids show each input
(enlarged) above its output.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import ClassVar, Literal, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from gankit.config import ExperimentConfig
from gankit.errors import ConfigError, ShapeError
from gankit.losses import LOSSES, single_sided_loss
from gankit.losses.content import content_loss, pixel_mse_loss
from gankit.metrics.classifier.load import load_classifier
from gankit.nets import NetSpec, build_networks
from gankit.recipes.base import RECIPES, DataInfo, OptimizerSpec, PretrainingOnlyWarning, Recipe, StepContext
from gankit.recipes.data_inputs import draw_field
from gankit.train.loader import Batch
from gankit.train.phases import Phase


def _paired_shapes(cfg: ExperimentConfig, data: DataInfo) -> tuple[tuple[int, ...], tuple[int, ...]]:
    if not data.fields:
        raise ConfigError(f"recipe {cfg.recipe.name} needs paired data with fields a (low resolution) and b "
                          "(e.g. mnist-superres4)")
    return tuple(data.fields["a"].shape), tuple(data.fields["b"].shape)


class SuperResolutionRecipe(Recipe):
    """What ``srresnet`` and ``srgan`` share: G from ``a`` to ``b``, sampling and ``translate``."""

    data_fields = ("a", "b")
    target_field = "b"
    translation_directions: ClassVar[tuple[str, ...]] = ("ab",)

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.shape_a, self.shape_b = _paired_shapes(cfg, data)
        G, D = build_networks(cfg.model, NetSpec(self.shape_b, input_shape=self.shape_a))
        self.modules["G"] = G
        self._d = D

    @property
    def z_dim(self) -> int:
        return 0  # G starts from a low-resolution image, not from a latent vector

    def latent(self, n: int, generator: torch.Generator | None = None,
               device: torch.device | str = "cpu") -> torch.Tensor:
        """``n`` low-resolution training inputs ``(n, C, h, w)`` drawn with ``generator``."""
        return draw_field(self.data, "a", n, generator, device)

    def generate(self, nets: Mapping[str, nn.Module], z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """``G(z)`` for low-resolution images ``z`` ``(n, C, h, w)``."""
        return nets["G"](z)

    def sample_grid(
        self, nets: Mapping[str, nn.Module], z: torch.Tensor, c: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, int | None]:
        """The trainer's grids: rows of the low-resolution inputs ``z`` (enlarged, nearest) above
        their upscaled outputs."""
        out = self.sample(nets, z).cpu()  # (n, C, H, W)
        enlarged = F.interpolate(z.float().cpu(), size=out.shape[2:], mode="nearest")  # (n, C, H, W)
        return torch.cat([enlarged, out]), z.shape[0]

    def translate(self, nets: Mapping[str, nn.Module], x: torch.Tensor, direction: str = "ab") -> torch.Tensor:
        """Upscale ``x`` ``(n, C, h, w)``; a size other than the training inputs' is refused with
        one ``ShapeError`` line before anything runs."""
        if direction != "ab":
            raise ConfigError(f"recipe {self.cfg.recipe.name} upscales in direction 'ab' only, got {direction!r}")
        if x.dim() != 4 or tuple(x.shape[1:]) != self.shape_a:
            c, h, w = self.shape_a
            raise ShapeError(f"this {self.cfg.recipe.name} run upscales {c}-channel {h}x{w} images "
                             f"(x{self.shape_b[1] // h} to {self.shape_b[1]}x{self.shape_b[2]}), got images of shape "
                             f"{tuple(x.shape[1:])}")
        return nets["G"](x)


@dataclass(frozen=True)
class SRResNetRecipeConfig:
    name: str = "srresnet"


@RECIPES.register("srresnet", "SRResNet (Ledig et al. 2017): super-resolution G trained on the pixel MSE alone")
class SRResNetRecipe(SuperResolutionRecipe):
    config_class = SRResNetRecipeConfig
    d_scores = None  # no discriminator

    def phases(self) -> list[Phase]:
        return [Phase("G", ("G",), "G")]

    def optimizers(self) -> dict[str, OptimizerSpec]:
        return {"G": OptimizerSpec(("G",), self.cfg.optim.lr_g)}

    def accumulate_gradients(self, phase: str, batch: Batch, ctx: StepContext) -> None:
        loss = pixel_mse_loss(self.modules["G"](batch["a"]), batch["b"])
        ctx.report("Loss/G/mse", loss)
        ctx.report("Loss/G", loss)
        ctx.backward(loss)


@dataclass(frozen=True)
class SRGANConfig:
    name: str = "srgan"
    loss: str = "ns"  # adversarial loss (the paper: -log D(G(a)), i.e. ns; `gankit losses` lists them)
    adv_weight: float = 1e-3  # weight of the adversarial term in G's loss (Ledig et al.: 1e-3)
    content: Literal["features", "mse"] = "features"  # content loss: feature distance (SRGAN-VGG54) | pixel MSE
    feature_net: str = "mnist"  # shipped classifier whose penultimate features are phi: mnist | fashion-mnist | digits
    pretrain_steps: int = 0  # first steps train G on the pixel MSE alone (the paper starts from a trained SRResNet)

    def validate(self) -> None:
        single_sided_loss(self.loss, self.name)
        if self.adv_weight < 0:
            raise ConfigError(f"recipe.adv_weight must be >= 0, got {self.adv_weight}")
        if self.pretrain_steps < 0:
            raise ConfigError(f"recipe.pretrain_steps must be >= 0, got {self.pretrain_steps}")


@RECIPES.register("srgan", "SRGAN (Ledig et al. 2017): SRResNet G, feature content loss + 1e-3 adversarial, SRGAN D")
class SRGANRecipe(SuperResolutionRecipe):
    config_class = SRGANConfig

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.rc: SRGANConfig = cfg.recipe
        self.loss = LOSSES.get(self.rc.loss)
        self.modules["D"] = self._d
        self.feature_net: nn.Module | None = None
        if self.rc.content == "features":
            clf = load_classifier(self.rc.feature_net)
            if clf.channels != self.shape_b[0]:
                raise ConfigError(f"recipe.feature_net={self.rc.feature_net} reads {clf.channels}-channel images, "
                                  f"the targets have {self.shape_b[0]} channels")
            self.feature_net = clf.requires_grad_(False).eval()  # phi: fixed, never in the optimizers or checkpoint
        if data.num_examples and 0 < cfg.train.steps <= self.rc.pretrain_steps:
            warnings.warn(f"train.steps={cfg.train.steps} <= recipe.pretrain_steps={self.rc.pretrain_steps}: this "
                          f"srgan run trains G on the pixel MSE alone (an SRResNet) and never uses D",
                          PretrainingOnlyWarning, stacklevel=2)

    def phases(self) -> list[Phase]:
        return [Phase("D", ("D",), "D"), Phase("G", ("G",), "G")]

    def optimizers(self) -> dict[str, OptimizerSpec]:
        return {"D": OptimizerSpec(("D",), self.cfg.optim.lr_d), "G": OptimizerSpec(("G",), self.cfg.optim.lr_g)}

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """φ(x): the feature network's penultimate features ``(N, F)`` (eval mode, fixed weights)."""
        assert self.feature_net is not None
        self.feature_net.to(x.device).eval()
        return self.feature_net.features(x)

    def accumulate_gradients(self, phase: str, batch: Batch, ctx: StepContext) -> None:
        pretraining = ctx.step < self.rc.pretrain_steps
        G, D = self.modules["G"], self.modules["D"]
        a, b = batch["a"], batch["b"]
        if phase == "D":
            if pretraining:
                return  # D idle while G learns the pixel MSE
            with torch.no_grad():
                fake = G(a)  # (B, C, H, W)
            real_logits, fake_logits = D(b).logits, D(fake).logits
            loss = self.loss.d_loss(real_logits, fake_logits)
            ctx.report("D/real", real_logits.mean())
            ctx.report("D/fake", fake_logits.mean())
            ctx.report("Loss/D", loss)
        elif phase == "G":
            fake = G(a)  # (B, C, H, W)
            if pretraining or self.rc.content == "mse":
                content = pixel_mse_loss(fake, b)
            else:
                content = content_loss(self.features, fake, b)
            ctx.report("Loss/G/content", content)
            loss = content
            if not pretraining:
                adv = self.loss.g_loss(D(fake).logits)
                ctx.report("Loss/G/adv", adv)
                loss = content + self.rc.adv_weight * adv
            ctx.report("Loss/G", loss)
        else:  # pragma: no cover - phases() declares only D and G
            raise ValueError(f"unknown phase {phase}")
        ctx.backward(loss)

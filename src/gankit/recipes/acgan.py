"""Recipe ``acgan``: Auxiliary Classifier GAN (Odena, Olah & Shlens 2017, "Conditional Image
Synthesis with Auxiliary Classifier GANs").

G is class-conditional, ``x_fake = G(z, c)``; D sees no label but has two outputs over one
trunk: the adversarial logit and class logits ``(N, K)`` (``DOutput.class_logits``, a
``nets.heads.ClassHead``). With ``L_adv`` the adversarial loss chosen by ``recipe.loss``
(``gankit.losses``) and ``CE`` the softmax cross-entropy of D's class logits,

    L_D = L_adv,D(x_real, x_fake) + w_real · CE(D_cls(x_real), y) + w_fake · CE(D_cls(x_fake), c)
    L_G = L_adv,G(x_fake) + w_g · CE(D_cls(x_fake), c)

(the paper's L_S + L_C for D and L_C − L_S for G, with the usual non-saturating G term).
The fake labels ``c`` are the labels of the real batch, so fakes follow the data's class
frequencies. The recipe builds D with ``model.d_class_head = K`` (the number of classes; 0
in the config means "set it for me") and without the projection term
(``model.d_projection`` is forced to false: ACGAN's D classifies instead of projecting).

With ``recipe.fake_class = true`` the class head gets a (K+1)-th class "fake" with its logit
fixed at 0, as in AM-GAN's classifier (Zhou et al. 2018, "Activation Maximization Generative
Adversarial Nets"): every CE above is over ``[l_1..l_K, 0]``, and D's class term on fakes
targets the fake class, ``CE_{K+1}(D_cls(x_fake)) = softplus(logsumexp_k l_k)``. G's class term
then asks for images that D's classifier calls class c *and* real, so G cannot satisfy it with
off-class images that a K-way head trained on real data alone would still call c.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gankit.config import ExperimentConfig
from gankit.errors import ConfigError
from gankit.losses import LOSSES, single_sided_loss
from gankit.recipes.base import RECIPES, DataInfo, StepContext
from gankit.recipes.gan import TwoPlayerRecipe
from gankit.train.loader import Batch


@dataclass(frozen=True)
class ACGANConfig:
    name: str = "acgan"
    loss: str = "ns"  # adversarial loss: minimax | ns | lsgan | wgan | hinge (`gankit losses`)
    n_critic: int = 1  # D updates per G update
    reuse_fake: bool = True  # G step reuses the last D step's G(z, c)
    cls_real_weight: float = 1.0  # w_real: D's class CE on real data
    cls_fake_weight: float = 1.0  # w_fake: D's class CE on fakes (paper: 1; 0 = D learns classes from real only)
    cls_g_weight: float = 1.0  # w_g: G's class CE on its fakes
    fake_class: bool = False  # a (K+1)-th "fake" class (logit 0): D's class CE on fakes targets it (AM-GAN)

    def validate(self) -> None:
        single_sided_loss(self.loss, "acgan")
        if self.n_critic < 1:
            raise ConfigError(f"recipe.n_critic must be >= 1, got {self.n_critic}")
        for key in ("cls_real_weight", "cls_fake_weight", "cls_g_weight"):
            if getattr(self, key) < 0:
                raise ConfigError(f"recipe.{key} must be >= 0, got {getattr(self, key)}")
        if self.fake_class and self.cls_fake_weight == 0:
            raise ConfigError("recipe.fake_class learns the fake class from fakes: set recipe.cls_fake_weight > 0")


def _acgan_config(cfg: ExperimentConfig, data: DataInfo) -> ExperimentConfig:
    """``cfg`` with the model ACGAN needs: class head of K outputs, no projection."""
    m = cfg.model
    if not m.conditional:
        raise ConfigError("recipe acgan needs a class-conditional generator: set model.conditional=true")
    k = data.num_classes
    if k < 2:
        raise ConfigError(f"recipe acgan needs a dataset with at least 2 classes, got {k}")
    if m.d_class_head not in (0, k):
        raise ConfigError(
            f"recipe acgan: model.d_class_head must be the number of classes ({k}) or 0, got {m.d_class_head}"
        )
    return dataclasses.replace(cfg, model=dataclasses.replace(m, d_class_head=k, d_projection=False))


def with_fake_class(class_logits: torch.Tensor) -> torch.Tensor:
    """``[l_1..l_K, 0]`` ``(N, K+1)``: class logits ``(N, K)`` with a fake class of logit 0."""
    return F.pad(class_logits, (0, 1))


@RECIPES.register("acgan", "ACGAN (Odena et al. 2017): conditional G, D with an auxiliary classifier head")
class ACGANRecipe(TwoPlayerRecipe):
    config_class = ACGANConfig
    d_arch = "default"  # its heads live on the family's own D

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(_acgan_config(cfg, data), data)
        self.cfg = cfg  # the user's config; the networks were built from the ACGAN-adjusted one
        self.rc: ACGANConfig = cfg.recipe
        self.loss = LOSSES.get(self.rc.loss)

    def d_loss(self, batch: Batch, fake: torch.Tensor, c: torch.Tensor | None, ctx: StepContext) -> torch.Tensor:
        D = self.modules["D"]
        real_out, fake_out = D(batch.x), D(fake)  # D ignores labels; its class head predicts them
        adv = self.loss.d_loss(real_out.logits, fake_out.logits)
        if self.rc.fake_class:  # (B, K+1); the fakes' target is the fake class K
            fake_class = torch.full_like(c, fake_out.class_logits.shape[1])
            cls_real = F.cross_entropy(with_fake_class(real_out.class_logits), batch.y)
            cls_fake = F.cross_entropy(with_fake_class(fake_out.class_logits), fake_class)
        else:
            cls_real = F.cross_entropy(real_out.class_logits, batch.y)  # (B, K) vs (B,)
            cls_fake = F.cross_entropy(fake_out.class_logits, c)
        loss = adv + self.rc.cls_real_weight * cls_real + self.rc.cls_fake_weight * cls_fake
        with torch.no_grad():
            acc = (real_out.class_logits.argmax(1) == batch.y).float().mean()
        ctx.report("D/real", real_out.logits.mean())
        ctx.report("D/fake", fake_out.logits.mean())
        ctx.report("Loss/D/adv", adv)
        ctx.report("Loss/D/cls_real", cls_real)
        ctx.report("Loss/D/cls_fake", cls_fake)
        ctx.report("ACGAN/acc_real", acc)
        ctx.report("Loss/D", loss)
        return loss

    def g_loss(self, batch: Batch, fake: torch.Tensor, c: torch.Tensor | None, ctx: StepContext) -> torch.Tensor:
        out = self.modules["D"](fake)
        adv = self.loss.g_loss(out.logits)
        cls = F.cross_entropy(with_fake_class(out.class_logits) if self.rc.fake_class else out.class_logits, c)
        loss = adv + self.rc.cls_g_weight * cls
        ctx.report("Loss/G/adv", adv)
        ctx.report("Loss/G/cls", cls)
        ctx.report("Loss/G", loss)
        return loss

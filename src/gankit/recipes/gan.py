"""Recipe ``gan``: the vanilla / DCGAN family with the objective chosen by config.

Goodfellow et al. 2014 (Algorithm 1: k discriminator steps per generator step), Radford et
al. 2016 (DCGAN), with the losses of ``gankit.losses`` (minimax, non-saturating, LSGAN, WGAN,
hinge, the relativistic RSGAN / RaGAN / RpGAN) and the regularizers WGAN weight clipping
(Arjovsky et al. 2017), WGAN-GP (Gulrajani et al. 2017), R1 and R2 (Mescheder et al. 2018;
both, lazily, as in R3GAN, Huang et al. 2024) and LeCam (Tseng et al. 2021). TTUR (Heusel et
al. 2017) is ``optim.lr_d != optim.lr_g``. Stabilisers, each off by default: DRAGAN
(Kodali et al. 2017), feature matching and one-sided label smoothing (Salimans et al.
2016), instance noise (Sønderby et al. 2016), PacGAN packing (Lin et al. 2018) and the
augmentation of everything D sees, DiffAugment (Zhao et al. 2020) or ADA (Karras et al. 2020).

``TwoPlayerRecipe`` is the shared G/D skeleton (networks, phases, optimizers, the fake
batch with ``reuse_fake``) of this and the other one-G-one-D recipes (fisher, ebgan, began,
magan); they supply only the maths of the D and G phases.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Literal, Mapping

import torch
from torch import nn

from gankit.augment import AdaptiveAugment, DiffAugment, parse_policy
from gankit.augment.diffaugment import DEFAULT_POLICY
from gankit.config import ExperimentConfig
from gankit.errors import CheckpointError, ConfigError
from gankit.losses import LOSSES
from gankit.losses.lecam import lecam_anchor_update, lecam_penalty
from gankit.losses.penalties import clip_weights_, gamma_at, gradient_penalty, r1_penalty, r2_penalty
from gankit.losses.stabilizers import (
    add_instance_noise,
    bce_d_loss_with_targets,
    dragan_penalty,
    feature_matching_loss,
    fixed_real_targets,
    instance_noise_std,
    random_real_targets,
)
from gankit.nets import DOutput, NetSpec, build_networks
from gankit.nets.base import pack_samples
from gankit.nets.conditioning import conditional_classes
from gankit.recipes.base import RECIPES, DataInfo, OptimizerSpec, Recipe, StepContext
from gankit.sharding import draw_rows
from gankit.train.loader import Batch
from gankit.train.phases import Phase

SMOOTHABLE_LOSSES = ("minimax", "ns")  # losses whose D loss is the BCE that label smoothing changes


class TwoPlayerRecipe(Recipe):
    """One generator ``G`` and one discriminator ``D`` trained in phases D (``n_critic``
    repeats) then G. Subclasses implement ``d_loss(batch, fake, c, ctx)`` and
    ``g_loss(batch, fake, c, ctx)``; the recipe config needs ``n_critic`` and ``reuse_fake``.
    ``pack`` is the PacGAN packing its D sees."""

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.rc = cfg.recipe
        spec = NetSpec(data.sample_shape, data.num_classes, pack=self.pack)
        self._classes = conditional_classes(cfg.model, spec)  # 0 unless model.conditional
        G, D = build_networks(cfg.model, spec)
        self.modules["G"] = G
        self.modules["D"] = D
        self._reusable: tuple[torch.Tensor, torch.Tensor | None] | None = None

    @property
    def pack(self) -> int:
        return 1

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

    def _new_fake(self, batch: Batch, c: torch.Tensor | None) -> torch.Tensor:
        # this process's rows of the global batch's latents (all of them in one process)
        z = draw_rows(lambda n: torch.randn(n, self.z_dim, device=batch.x.device), batch.x.shape[0])  # (B, z_dim)
        return self.modules["G"](z, c)  # (B, *sample_shape)

    def accumulate_gradients(self, phase: str, batch: Batch, ctx: StepContext) -> None:
        c = batch.y if self._classes else None
        if phase == "D":
            fake_with_graph = self._new_fake(batch, c)  # has a graph only when G is tracked
            self._reusable = (fake_with_graph, c) if self.rc.reuse_fake else None
            loss = self.d_loss(batch, fake_with_graph.detach(), c, ctx)
        elif phase == "G":
            if self._reusable is not None:
                fake, c = self._reusable
                self._reusable = None
            else:
                fake = self._new_fake(batch, c)
            loss = self.g_loss(batch, fake, c, ctx)
        else:  # pragma: no cover - phases() declares only D and G
            raise ValueError(f"unknown phase {phase}")
        if loss is not None:
            ctx.backward(loss)

    def d_loss(self, batch: Batch, fake: torch.Tensor, c: torch.Tensor | None, ctx: StepContext) -> torch.Tensor:
        raise NotImplementedError

    def g_loss(
        self, batch: Batch, fake: torch.Tensor, c: torch.Tensor | None, ctx: StepContext
    ) -> torch.Tensor | None:
        """The G loss, or None to skip G's update this step (no backward, no parameter change)."""
        raise NotImplementedError

    def generate(self, nets: Mapping[str, nn.Module], z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return nets["G"](z, c if self._classes else None)

    def exportable_generator(self) -> tuple[str, tuple[str, ...]] | None:
        # G(z[, c]) of z ~ N(0, I); a subclass drawing other latents (codes) or sampling otherwise does not export
        if type(self).latent is not Recipe.latent or type(self).generate is not TwoPlayerRecipe.generate:
            return None
        return ("G", ("z", "c") if self._classes else ("z",))


@dataclass(frozen=True)
class GANConfig:
    name: str = "gan"
    loss: str = "ns"  # minimax | ns | lsgan | wgan | hinge | rsgan | ragan | rpgan (`gankit losses` lists them)
    n_critic: int = 1  # discriminator updates per generator update (k in Algorithm 1)
    g_steps: int = 1  # generator updates per step, each on a fresh G(z) (PacGAN's Stacked-MNIST code: 2, same z)
    gp_weight: float = 0.0  # WGAN-GP lambda (10 in Gulrajani et al.); 0 disables
    gp_target: float = 1.0  # gradient-norm target of the penalty
    r1_gamma: float = 0.0  # R1 weight gamma: adds gamma/2 * E||grad D(x)||^2; 0 disables
    r1_every: int = 1  # lazy R1 and R2 (Karras et al. 2020): only on every r1_every-th step, weighted r1_every times
    r2_gamma: float = 0.0  # R2 weight: adds gamma/2 * E||grad D(G(z))||^2 on fakes (R3GAN: = r1_gamma); 0 disables
    gamma_schedule: Literal["constant", "cosine"] = "constant"  # R1/R2 gamma: cosine decay over train.steps (R3GAN)
    gamma_final: float = 0.1  # cosine schedule: the final gamma as a fraction of the initial one
    lecam_weight: float = 0.0  # LeCam regularisation lambda (Tseng et al. 2021: 0.3 on CIFAR); 0 disables
    lecam_decay: float = 0.99  # LeCam: EMA decay of the anchors alpha_R, alpha_F (D's mean real / fake logit)
    augment: Literal["none", "diffaugment", "ada"] = "none"  # augment every D input, real and fake, both phases
    diffaugment: str = DEFAULT_POLICY  # DiffAugment policy: comma-separated color | translation | cutout
    ada_target: float = 0.6  # ADA: target of r_t = E[sign(D(real))]
    ada_interval: int = 4  # ADA: D steps between adjustments of p
    ada_kimg: float = 500.0  # ADA: thousands of real images over which p can move from 0 to 1
    ada_p: float = 0.0  # ADA: p at the start of training (the paper: 0)
    clip_value: float = 0.0  # WGAN weight clipping c (0.01 in Arjovsky et al.); 0 disables
    reuse_fake: bool = True  # G step reuses the last D step's G(z) (G is unchanged in between): one G forward saved
    dragan_weight: float = 0.0  # DRAGAN penalty lambda (10 in Kodali et al.); 0 disables
    dragan_scale: float = 0.5  # DRAGAN perturbation scale (uniform: of std(x); gaussian: the noise std)
    dragan_noise: Literal["uniform", "gaussian"] = "uniform"  # DRAGAN perturbation: released code | paper text
    fm_weight: float = 0.0  # feature matching weight in G's loss (on DOutput.features); 0 disables
    adv_g_weight: float = 1.0  # weight of the adversarial term in G's loss
    label_smoothing: Literal["none", "fixed", "random"] = "none"  # one-sided: real targets smooth_value | U[low, high]
    smooth_value: float = 0.9  # real target of fixed label smoothing
    smooth_low: float = 0.8  # lower end of random label smoothing
    smooth_high: float = 1.0  # upper end of random label smoothing
    instance_noise: float = 0.0  # instance noise sigma_0 added to every D input; 0 disables
    instance_noise_anneal: int = 0  # steps over which sigma falls linearly to 0 (0 = constant)
    pack: int = 1  # PacGAN: D judges this many samples stacked along channels/features (batch % pack == 0)

    def validate(self) -> None:
        LOSSES.get(self.loss)
        if self.n_critic < 1:
            raise ConfigError(f"recipe.n_critic must be >= 1, got {self.n_critic}")
        if self.g_steps < 1:
            raise ConfigError(f"recipe.g_steps must be >= 1, got {self.g_steps}")
        if self.pack < 1:
            raise ConfigError(f"recipe.pack must be >= 1, got {self.pack}")
        if self.r1_every < 1:
            raise ConfigError(f"recipe.r1_every must be >= 1, got {self.r1_every}")
        if not 0.0 <= self.gamma_final <= 1.0:
            raise ConfigError(f"recipe.gamma_final must be in [0, 1], got {self.gamma_final}")
        if not 0.0 <= self.lecam_decay < 1.0:
            raise ConfigError(f"recipe.lecam_decay must be in [0, 1), got {self.lecam_decay}")
        parse_policy(self.diffaugment)
        AdaptiveAugment(self.ada_target, self.ada_interval, self.ada_kimg, self.ada_p)  # checks the ADA keys
        for key in ("gp_weight", "r1_gamma", "r2_gamma", "lecam_weight", "clip_value", "dragan_weight",
                    "dragan_scale", "fm_weight", "adv_g_weight", "instance_noise", "instance_noise_anneal"):
            if getattr(self, key) < 0:
                raise ConfigError(f"recipe.{key} must be >= 0, got {getattr(self, key)}")
        if self.label_smoothing != "none" and self.loss not in SMOOTHABLE_LOSSES:
            raise ConfigError(
                f"recipe.label_smoothing={self.label_smoothing} needs loss minimax or ns (got {self.loss})"
            )
        if not 0.0 <= self.smooth_value <= 1.0:
            raise ConfigError(f"recipe.smooth_value must be in [0, 1], got {self.smooth_value}")
        if not 0.0 <= self.smooth_low <= self.smooth_high <= 1.0:
            raise ConfigError(
                f"recipe.smooth_low/smooth_high need 0 <= low <= high <= 1, got {self.smooth_low}, {self.smooth_high}"
            )


@RECIPES.register(
    "gan", "vanilla/DCGAN family: loss by config, n_critic, TTUR, GP/R1/clipping, DRAGAN, FM, smoothing, noise, PacGAN"
)
class GANRecipe(TwoPlayerRecipe):
    """D inputs (real and fake, in both phases) get the augmentation (``recipe.augment``),
    instance noise, then PacGAN packing; every penalty (GP, R1, R2, DRAGAN) is taken at those
    D inputs. A relativistic loss reads D's real logits in the G phase as well.

    Recipe state kept in checkpoints: LeCam's anchors and ADA's ``p`` with its running sums."""

    config_class = GANConfig
    supports_rejection_sampling = True
    data_parallel = True

    @classmethod
    def data_parallel_refusals(cls, cfg: ExperimentConfig, local_batch: int) -> list[str]:
        """What a share of ``local_batch`` rows cannot compute as the whole batch would: a pack
        split across ranks, batch-wide statistics (RaGAN's mean logits, feature matching's mean
        features, a minibatch layer in D), state learnt from one share (LeCam's anchors, ADA's
        ``p``) and augmentations drawn per rank."""
        rc, out = cfg.recipe, []
        if local_batch % rc.pack:
            out.append(f"each rank's share of {local_batch} rows must be divisible by recipe.pack={rc.pack}")
        if rc.loss == "ragan":
            out.append("recipe.loss=ragan compares each logit with the batch's mean logit")
        if rc.fm_weight > 0:
            out.append("recipe.fm_weight > 0 matches the batch's mean features")
        if rc.lecam_weight > 0:
            out.append("recipe.lecam_weight > 0 keeps anchors of one rank's logits")
        if rc.augment != "none":
            out.append(f"recipe.augment={rc.augment} draws its augmentations per rank")
        if getattr(cfg.model, "d_minibatch", "none") != "none":
            out.append(f"model.d_minibatch={cfg.model.d_minibatch} is a statistic of the whole batch")
        return out

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.rc: GANConfig = cfg.recipe
        self.loss = LOSSES.get(self.rc.loss)
        if cfg.train.batch_size % self.rc.pack:
            raise ConfigError(
                f"train.batch_size={cfg.train.batch_size} must be divisible by recipe.pack={self.rc.pack}"
            )
        if self.rc.augment != "none" and len(data.sample_shape) != 3:
            raise ConfigError(f"recipe.augment={self.rc.augment} augments images (C, H, W); the data's samples "
                              f"have shape {tuple(data.sample_shape)}")
        self.augmenter: DiffAugment | AdaptiveAugment | None = None
        if self.rc.augment == "diffaugment":
            self.augmenter = DiffAugment(self.rc.diffaugment)
        elif self.rc.augment == "ada":
            self.augmenter = AdaptiveAugment(self.rc.ada_target, self.rc.ada_interval, self.rc.ada_kimg, self.rc.ada_p)
        self.lecam_anchors: torch.Tensor | None = None  # (2,) float64: alpha_R, alpha_F (LeCam)

    @property
    def pack(self) -> int:
        return self.cfg.recipe.pack

    def phases(self) -> list[Phase]:
        d_phase, g_phase = super().phases()
        return [d_phase, replace(g_phase, repeats=self.rc.g_steps)]

    def _critic(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.modules["D"](x, c).logits

    def _d_input(self, x: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        """What D sees: augmented ``x`` + annealed instance noise, packed ``(B/m, m·C, ...)``."""
        if self.augmenter is not None:
            x = self.augmenter(x)  # like x
        sigma = instance_noise_std(ctx.step, self.rc.instance_noise, self.rc.instance_noise_anneal)
        return pack_samples(add_instance_noise(x, sigma), self.rc.pack)

    def _real_targets(self, n: int, like: torch.Tensor) -> torch.Tensor:
        if self.rc.label_smoothing == "fixed":
            return fixed_real_targets(n, self.rc.smooth_value, dtype=like.dtype, device=like.device)
        return random_real_targets(n, self.rc.smooth_low, self.rc.smooth_high, dtype=like.dtype, device=like.device)

    def d_loss(self, batch: Batch, fake: torch.Tensor, c: torch.Tensor | None, ctx: StepContext) -> torch.Tensor:
        D = self.modules["D"]
        real_in, fake_in = self._d_input(batch.x, ctx), self._d_input(fake, ctx)  # (B/m, m·C, ...)
        real_logits = D(real_in, c).logits
        fake_logits = D(fake_in, c).logits
        if self.rc.label_smoothing == "none":
            loss = self.loss.d_loss(real_logits, fake_logits)
        else:
            targets = self._real_targets(real_logits.shape[0], real_logits)  # (B/m,)
            loss = bce_d_loss_with_targets(real_logits, fake_logits, targets)
        ctx.report("D/real", real_logits.mean())
        ctx.report("D/fake", fake_logits.mean())
        if isinstance(self.augmenter, AdaptiveAugment):
            r_t = self.augmenter.observe(real_logits, batch.x.shape[0])
            if r_t is not None:
                ctx.report("augment/rt", r_t)
            ctx.report("augment/p", self.augmenter.p)
        lazy_step = ctx.step % self.rc.r1_every == 0
        scale = gamma_at(1.0, ctx.step, self.cfg.train.steps, self.rc.gamma_schedule, self.rc.gamma_final)
        weights = (self.rc.gp_weight, self.rc.r1_gamma, self.rc.r2_gamma, self.rc.dragan_weight, self.rc.lecam_weight)
        if any(w > 0 for w in weights):
            ctx.report("Loss/D/adv", loss)
        if self.rc.gp_weight > 0:
            gp = gradient_penalty(self._critic, real_in, fake_in, target=self.rc.gp_target, c=c)
            ctx.report("Loss/D/gp", gp)
            loss = loss + self.rc.gp_weight * gp
        if self.rc.r1_gamma > 0 and lazy_step:
            r1 = r1_penalty(self._critic, real_in, c=c)
            ctx.report("Loss/D/r1", r1)
            loss = loss + 0.5 * self.rc.r1_gamma * scale * self.rc.r1_every * r1
        if self.rc.r2_gamma > 0 and lazy_step:
            r2 = r2_penalty(self._critic, fake_in, c=c)
            ctx.report("Loss/D/r2", r2)
            loss = loss + 0.5 * self.rc.r2_gamma * scale * self.rc.r1_every * r2
        if self.rc.lecam_weight > 0:
            self.lecam_anchors = lecam_anchor_update(self.lecam_anchors, real_logits, fake_logits, self.rc.lecam_decay)
            lecam = lecam_penalty(real_logits, fake_logits, self.lecam_anchors[0], self.lecam_anchors[1])
            ctx.report("Loss/D/lecam", lecam)
            loss = loss + self.rc.lecam_weight * lecam
        if self.rc.dragan_weight > 0:
            dragan = dragan_penalty(self._critic, real_in, scale=self.rc.dragan_scale, noise=self.rc.dragan_noise, c=c)
            ctx.report("Loss/D/dragan", dragan)
            loss = loss + self.rc.dragan_weight * dragan
        ctx.report("Loss/D", loss)
        return loss

    def g_loss(self, batch: Batch, fake: torch.Tensor, c: torch.Tensor | None, ctx: StepContext) -> torch.Tensor:
        D = self.modules["D"]
        return self.generator_objective(
            lambda x: D(x, c), self._d_input(fake, ctx), lambda: self._d_input(batch.x, ctx), ctx
        )

    def generator_objective(
        self,
        critic: Callable[[torch.Tensor], DOutput],
        fake_in: torch.Tensor,
        real_in: Callable[[], torch.Tensor],
        ctx: StepContext,
    ) -> torch.Tensor:
        """adv_g_weight · g_loss(critic(fake)) + fm_weight · feature matching; ``critic`` is
        D (or a look-ahead copy of it), ``real_in`` is called only when feature matching or a
        relativistic loss needs it (once: both read the same real forward)."""
        fake_out = critic(fake_in)
        real_out = critic(real_in()) if self.loss.relativistic or self.rc.fm_weight > 0 else None
        if self.loss.relativistic:
            loss = self.loss.g_loss(fake_out.logits, real_out.logits.detach())  # reals are constants to G
        else:
            loss = self.loss.g_loss(fake_out.logits)
        if self.rc.fm_weight > 0:
            ctx.report("Loss/G/adv", loss)
            if fake_out.features is None:
                raise ConfigError("recipe.fm_weight > 0 needs a discriminator that returns features")
            fm = feature_matching_loss(real_out.features, fake_out.features)
            ctx.report("Loss/G/fm", fm)
            loss = self.rc.adv_g_weight * loss + self.rc.fm_weight * fm
        elif self.rc.adv_g_weight != 1.0:
            loss = self.rc.adv_g_weight * loss
        ctx.report("Loss/G", loss)
        return loss

    def after_step(self, phase: str) -> None:
        if phase == "D" and self.rc.clip_value > 0:
            clip_weights_(self.modules["D"], self.rc.clip_value)

    # -- recipe state: ADA's counters (JSON) and p, LeCam's anchors (tensors)
    def state_dict(self) -> dict[str, Any]:
        return {"ada": self.augmenter.state_dict()} if isinstance(self.augmenter, AdaptiveAugment) else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if isinstance(self.augmenter, AdaptiveAugment) and "ada" in state:
            self.augmenter.load_state_dict(state["ada"])

    def state_tensors(self) -> dict[str, torch.Tensor]:
        tensors = {}
        if isinstance(self.augmenter, AdaptiveAugment):
            tensors.update({f"ada_{k}": v for k, v in self.augmenter.state_tensors().items()})
        if self.lecam_anchors is not None:
            tensors["lecam_anchors"] = self.lecam_anchors
        return tensors

    def load_state_tensors(self, tensors: Mapping[str, torch.Tensor]) -> None:
        if isinstance(self.augmenter, AdaptiveAugment) and any(k.startswith("ada_") for k in tensors):
            self.augmenter.load_state_tensors({k[4:]: v for k, v in tensors.items() if k.startswith("ada_")})
        anchors = tensors.get("lecam_anchors")
        if anchors is not None:
            if anchors.shape != (2,):
                raise CheckpointError(f"LeCam anchors must have shape (2,), got {tuple(anchors.shape)}")
            self.lecam_anchors = anchors.double()

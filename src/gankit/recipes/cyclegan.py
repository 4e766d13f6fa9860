"""Recipe ``cyclegan``: CycleGAN (Zhu et al. 2017, "Unpaired Image-to-Image Translation using
Cycle-Consistent Adversarial Networks").

Two translators ``G_AB: A -> B`` and ``G_BA: B -> A`` (``model.arch``: the paper's
``resnet-translator``, or the ``unet`` option), two discriminators ``D_A`` (real ``a`` vs
``G_BA(b)``) and ``D_B`` (real ``b`` vs ``G_AB(a)``) that judge single images of their domain
(``nets.resnet_translator.domain_discriminator``: the 70×70 PatchGAN, or ``model.d_arch``; a
U-Net family's own pair D is not used), trained on unpaired batches ``a``, ``b`` (two data
groups, each shuffled in its own order: ``mnist2digits``, ``unpaired-images``).

**G phase** (both generators, one optimizer), with ``ℓ_G`` the adversarial loss
``recipe.loss`` (least squares in the paper, §4: ``lsgan``), λ = ``recipe.cycle_weight`` and
``λ_id`` = ``recipe.identity_weight``::

    L_G = ℓ_G(D_B(G_AB(a))) + ℓ_G(D_A(G_BA(b)))                               (Eq. 1, LSGAN form)
        + λ · (‖G_BA(G_AB(a)) − a‖₁ + ‖G_AB(G_BA(b)) − b‖₁)                  (Eq. 2, cycle)
        + λ_id · λ · (‖G_AB(b) − b‖₁ + ‖G_BA(a) − a‖₁)                         (§5.2, identity)

gankit's ``lsgan`` G loss is ``½ E[(D(G(a)) − 1)²]``, half the paper's code's ``MSELoss``: at
equal λ the reconstruction terms weigh twice as much relative to the adversarial one.

**D phase** (both discriminators, one optimizer), with ``ℓ_D`` the D loss of ``recipe.loss``
(``lsgan``: ``½ E[(D(x) − 1)²] + ½ E[D(x̃)²]``, the paper's halved D objective) and the
generated images of the G phase passed through each domain's 50-image history
(``recipe.pool_size``, ``recipe.image_pool.ImagePool``)::

    L_D = ℓ_D(D_A(a), D_A(pool_A(G_BA(b)))) + ℓ_D(D_B(b), D_B(pool_B(G_AB(a))))

Both pools, their images and their random generators, are saved with the checkpoint, so a
resumed run continues exactly. The generators are averaged (EMA) for sampling.

**Capabilities.** ``translate(nets, x, "ab" | "ba")`` maps either direction; ``generate``
(metrics, histograms) is ``G_AB`` applied to domain-A inputs drawn from the data (``latent``);
the sample grids show rows a | G_AB(a) | G_BA(G_AB(a)).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Mapping

import torch
from torch import nn

from gankit.config import ExperimentConfig
from gankit.errors import ConfigError, ShapeError
from gankit.losses import LOSSES, single_sided_loss
from gankit.losses.cycle import cycle_consistency_loss, identity_loss
from gankit.nets import NetSpec, build_networks
from gankit.nets.resnet_translator import domain_discriminator
from gankit.recipes.base import RECIPES, DataInfo, OptimizerSpec, Recipe, StepContext
from gankit.recipes.data_inputs import draw_field
from gankit.recipes.image_pool import ImagePool
from gankit.train.loader import Batch
from gankit.train.phases import Phase
from gankit.viz.rows import translation_rows

Direction = Literal["ab", "ba"]
POOL_SEED_OFFSETS = {"A": 1_000_033, "B": 2_000_029}  # the pools' generators: train.seed + offset


@dataclass(frozen=True)
class CycleGANConfig:
    name: str = "cyclegan"
    loss: str = "lsgan"  # adversarial loss of both GANs (least squares in the paper; `gankit losses` lists them)
    adv_weight: float = 1.0  # weight of the adversarial terms in G's loss
    cycle_weight: float = 10.0  # lambda of the cycle-consistency loss, both ways (Zhu et al.: 10); 0: no cycle
    identity_weight: float = 0.5  # identity loss weight, times cycle_weight (Zhu et al. §5.2: 0.5); 0 disables
    pool_size: int = 50  # generated images each D's history holds (Zhu et al.: 50); 0: D sees the newest only

    def validate(self) -> None:
        single_sided_loss(self.loss, "cyclegan")
        for key in ("adv_weight", "cycle_weight", "identity_weight"):
            if getattr(self, key) < 0:
                raise ConfigError(f"recipe.{key} must be >= 0, got {getattr(self, key)}")
        if self.pool_size < 0:
            raise ConfigError(f"recipe.pool_size must be >= 0, got {self.pool_size}")


@RECIPES.register("cyclegan", "CycleGAN (Zhu et al. 2017): two translators, LSGAN, cycle + identity L1, image pool")
class CycleGANRecipe(Recipe):
    config_class = CycleGANConfig
    ema_modules = ("G_AB", "G_BA")
    data_fields = ("a", "b")
    target_field = "b"  # G_AB's outputs are compared with domain B in grids and metrics
    translation_directions: ClassVar[tuple[str, ...]] = ("ab", "ba")

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.rc: CycleGANConfig = cfg.recipe
        self.loss = LOSSES.get(self.rc.loss)
        shape_a, shape_b = self.domain_shapes(data)
        if self.rc.identity_weight > 0 and self.rc.cycle_weight > 0 and shape_a[0] != shape_b[0]:
            raise ConfigError(f"the identity loss feeds each generator images of its own output domain, so both "
                              f"domains need one channel count (A has {shape_a[0]}, B {shape_b[0]}); set "
                              f"recipe.identity_weight=0")
        # the family's G; a D of each domain that judges single images (a U-Net family's own D reads pairs)
        G_AB = build_networks(cfg.model, NetSpec(shape_b, input_shape=shape_a))[0]
        G_BA = build_networks(cfg.model, NetSpec(shape_a, input_shape=shape_b))[0]
        D_A = domain_discriminator(cfg.model, NetSpec(shape_a))
        D_B = domain_discriminator(cfg.model, NetSpec(shape_b))
        self.modules.update({"G_AB": G_AB, "G_BA": G_BA, "D_A": D_A, "D_B": D_B})
        seed = cfg.train.seed
        self.pools = {d: ImagePool(self.rc.pool_size, seed + off) for d, off in POOL_SEED_OFFSETS.items()}
        self._fakes: tuple[torch.Tensor, torch.Tensor] | None = None  # (G_BA(b), G_AB(a)) of the last G phase
        self._pool_states: dict[str, Any] = {}  # the pools' JSON state, read by load_state_dict

    @staticmethod
    def domain_shapes(data: DataInfo) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Per-example shapes of fields ``a`` and ``b`` (images ``(C, H, W)``)."""
        if not data.fields:
            raise ConfigError("recipe cyclegan needs data with fields a and b (e.g. mnist2digits, unpaired-images)")
        shapes = tuple(tuple(data.fields[k].shape) for k in ("a", "b"))
        if any(len(s) != 3 for s in shapes):
            raise ConfigError(f"recipe cyclegan translates images (C, H, W), got fields a {shapes[0]}, b {shapes[1]}")
        return shapes  # type: ignore[return-value]

    @property
    def z_dim(self) -> int:
        return 0  # G starts from an image of domain A, not from a latent vector

    def phases(self) -> list[Phase]:
        # G first: the D phase reuses the images the G phase generated (Zhu et al.'s code does the same)
        return [Phase("G", ("G_AB", "G_BA"), "G"), Phase("D", ("D_A", "D_B"), "D")]

    def optimizers(self) -> dict[str, OptimizerSpec]:
        return {
            "G": OptimizerSpec(("G_AB", "G_BA"), self.cfg.optim.lr_g),
            "D": OptimizerSpec(("D_A", "D_B"), self.cfg.optim.lr_d),
        }

    def accumulate_gradients(self, phase: str, batch: Batch, ctx: StepContext) -> None:
        if phase == "G":
            loss = self.generator_loss(batch["a"], batch["b"], ctx)
        elif phase == "D":
            loss = self.discriminator_loss(batch["a"], batch["b"], ctx)
        else:  # pragma: no cover - phases() declares only G and D
            raise ValueError(f"unknown phase {phase}")
        ctx.backward(loss)

    def generator_loss(self, a: torch.Tensor, b: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        m = self.modules
        rc = self.rc
        fake_b = m["G_AB"](a)  # (B, *shape_b)
        fake_a = m["G_BA"](b)  # (B, *shape_a)
        self._fakes = (fake_a.detach(), fake_b.detach())
        adv = self.loss.g_loss(m["D_B"](fake_b).logits) + self.loss.g_loss(m["D_A"](fake_a).logits)
        loss = rc.adv_weight * adv
        ctx.report("Loss/G/adv", adv)
        if rc.cycle_weight > 0:
            cycle_a = cycle_consistency_loss(a, m["G_BA"](fake_b))  # a -> b -> a
            cycle_b = cycle_consistency_loss(b, m["G_AB"](fake_a))  # b -> a -> b
            ctx.report("Loss/G/cycle_A", cycle_a)
            ctx.report("Loss/G/cycle_B", cycle_b)
            loss = loss + rc.cycle_weight * (cycle_a + cycle_b)
            if rc.identity_weight > 0:
                idt = identity_loss(b, m["G_AB"](b)) + identity_loss(a, m["G_BA"](a))
                ctx.report("Loss/G/identity", idt)
                loss = loss + rc.identity_weight * rc.cycle_weight * idt
        ctx.report("Loss/G", loss)
        return loss

    def discriminator_loss(self, a: torch.Tensor, b: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        m = self.modules
        if self._fakes is None:  # a D phase before any G phase: translate this batch
            with torch.no_grad():
                self._fakes = (m["G_BA"](b), m["G_AB"](a))
        fake_a, fake_b = self._fakes
        self._fakes = None
        losses = {}
        for name, D, real, fake in (("A", m["D_A"], a, fake_a), ("B", m["D_B"], b, fake_b)):
            real_logits = D(real).logits
            fake_logits = D(self.pools[name].query(fake)).logits
            losses[name] = self.loss.d_loss(real_logits, fake_logits)
            ctx.report(f"D/real_{name}", real_logits.mean())
            ctx.report(f"D/fake_{name}", fake_logits.mean())
            ctx.report(f"Loss/D/{name}", losses[name])
        loss = losses["A"] + losses["B"]
        ctx.report("Loss/D", loss)
        return loss

    # -- sampling: G_AB on domain-A examples
    def latent(self, n: int, generator: torch.Generator | None = None,
               device: torch.device | str = "cpu") -> torch.Tensor:
        """``n`` domain-A training images ``(n, C, H, W)`` drawn with ``generator``: ``generate``'s inputs."""
        return draw_field(self.data, "a", n, generator, device)

    def generate(self, nets: Mapping[str, nn.Module], z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """``G_AB(z)`` for domain-A images ``z`` ``(n, C, H, W)``."""
        return nets["G_AB"](z)

    @torch.no_grad()
    def sample_grid(
        self, nets: Mapping[str, nn.Module], z: torch.Tensor, c: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, int | None]:
        """The trainer's grids: rows a | G_AB(a) | G_BA(G_AB(a)) (input, translation, its cycle
        back) for the fixed domain-A inputs ``z``, in eval mode."""
        modes = {name: m.training for name, m in nets.items()}
        for m in nets.values():
            m.eval()
        try:
            fake = nets["G_AB"](z)  # (n, *shape_b)
            back = nets["G_BA"](fake)  # (n, *shape_a)
        finally:
            for name, m in nets.items():
                m.train(modes[name])
        return translation_rows(z, fake.float(), back.float()).cpu(), z.shape[0]

    def translate(self, nets: Mapping[str, nn.Module], x: torch.Tensor, direction: Direction = "ab") -> torch.Tensor:
        """``G_AB(x)`` (``direction="ab"``) or ``G_BA(x)`` (``"ba"``) for images ``x`` of the
        source domain; any other shape is refused with one ``ShapeError`` line."""
        if direction not in self.translation_directions:
            raise ConfigError(f"cyclegan translates in direction 'ab' or 'ba', got {direction!r}")
        G = nets["G_AB" if direction == "ab" else "G_BA"]
        shape = tuple(self.data.fields["a" if direction == "ab" else "b"].shape) if self.data.fields else None
        if shape is not None and (x.dim() != 4 or tuple(x.shape[1:]) != shape):
            raise ShapeError(f"cyclegan direction {direction} translates images of shape {shape}, "
                             f"got {tuple(x.shape[1:])}")
        return G(x)

    # -- the image pools in the checkpoint
    def state_dict(self) -> dict[str, Any]:
        return {"pools": {name: pool.state() for name, pool in self.pools.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._pool_states = dict(state["pools"])

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {f"pool_{name}/{k}": v for name, pool in self.pools.items() for k, v in pool.tensors().items()}

    def load_state_tensors(self, tensors: Mapping[str, torch.Tensor]) -> None:
        device = next(self.modules.parameters()).device
        for name, pool in self.pools.items():
            own = {k.split("/", 1)[1]: v for k, v in tensors.items() if k.startswith(f"pool_{name}/")}
            pool.load(self._pool_states[name], own, device)

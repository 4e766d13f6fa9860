"""Recipe ``cogan``: Coupled GAN (Liu & Tuzel 2016, "Coupled Generative Adversarial
Networks").

Learns a *joint* distribution of two domains from unpaired samples. Two GANs, one per
domain, share weights (``nets.coupled``): the generators their first layers, the
discriminators their last ones. Because the shared generator layers decode the same ``z``
for both domains, ``(G_A(z), G_B(z))`` becomes a corresponding pair (a digit and its edge
map) although no pair was ever shown.

**Data.** Domain B is a transform of the data (``recipe.domain_b``: ``negative`` = −x,
``edges`` = Sobel edge map; ``gankit.data.domains``). As in the paper the domains are
unpaired: each training batch is split in halves, the first half used as domain-A examples
and the second half transformed to domain B, so no image is seen in both domains in one
batch. Each domain gets ``B/2`` real and ``B/2`` fake samples per update.

**Maths.** With ``ℓ_D, ℓ_G`` the adversarial losses chosen by ``recipe.loss``
(``gankit.losses``) and one ``z`` batch for both generators, the two GANs are trained jointly:

    L_D = ℓ_D(D_A(x_A), D_A(G_A(z))) + ℓ_D(D_B(x_B), D_B(G_B(z)))
    L_G = ℓ_G(D_A(G_A(z)))          + ℓ_G(D_B(G_B(z)))

so a shared parameter gets the sum of both domains' gradients. Sampling: ``generate``
returns domain A (metrics and grids work as for any recipe), ``generate_pair`` both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import torch
from torch import nn

from gankit.config import ExperimentConfig
from gankit.data.domains import DOMAINS, DomainTransform
from gankit.errors import ConfigError
from gankit.losses import LOSSES, single_sided_loss
from gankit.nets.base import NetSpec
from gankit.nets.coupled import build_coupled_networks
from gankit.recipes.base import RECIPES, DataInfo, OptimizerSpec, Recipe, StepContext
from gankit.train.loader import Batch
from gankit.train.phases import Phase

MIN_BATCH = 2  # one example per domain


@dataclass(frozen=True)
class CoGANConfig:
    name: str = "cogan"
    loss: str = "ns"  # adversarial loss of both GANs: minimax | ns | lsgan | wgan | hinge (`gankit losses`)
    n_critic: int = 1  # updates of both discriminators per generator update
    domain_b: str = "negative"  # domain B = this transform of the data: negative (-x) | edges (Sobel edge map, images)
    # G's first / D's last layers shared by the two domains; < 0 counts from the end like a Python
    # index (-1: all but one layer, the paper); 0: two independent GANs
    shared_layers: int = -1

    def validate(self) -> None:
        single_sided_loss(self.loss, "cogan")
        DOMAINS.get(self.domain_b)
        if self.n_critic < 1:
            raise ConfigError(f"recipe.n_critic must be >= 1, got {self.n_critic}")


@RECIPES.register("cogan", "Coupled GAN (Liu & Tuzel 2016): two weight-sharing GANs, domain B = negative | edges")
class CoGANRecipe(Recipe):
    config_class = CoGANConfig
    d_arch = "default"  # the coupled layers are cut from the family's own D

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.rc: CoGANConfig = cfg.recipe
        self.loss = LOSSES.get(self.rc.loss)
        self.to_domain_b = DOMAINS.get(self.rc.domain_b)
        if self.rc.domain_b == "edges" and len(data.sample_shape) != 3:
            raise ConfigError(f"recipe.domain_b=edges needs images (C, H, W), got samples of shape {data.sample_shape}")
        if cfg.train.batch_size < MIN_BATCH:
            raise ConfigError(f"recipe cogan splits each batch between two domains: train.batch_size must be >= 2, "
                              f"got {cfg.train.batch_size}")
        G, D = build_coupled_networks(cfg.model, NetSpec(data.sample_shape, data.num_classes), self.rc.shared_layers)
        self.modules["G"] = G
        self.modules["D"] = D

    @property
    def z_dim(self) -> int:
        return self.cfg.model.z_dim

    def phases(self) -> list[Phase]:
        return [Phase("D", ("D",), "D", repeats=self.rc.n_critic), Phase("G", ("G",), "G")]

    def optimizers(self) -> dict[str, OptimizerSpec]:
        return {"D": OptimizerSpec(("D",), self.cfg.optim.lr_d), "G": OptimizerSpec(("G",), self.cfg.optim.lr_g)}

    def split_domains(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Unpaired real batches ``(x_A, x_B)``, ``B/2`` each: the first half of ``x`` as it is,
        the second half transformed to domain B (an odd last example is left out)."""
        half = x.shape[0] // 2
        return x[:half], self.to_domain_b(x[half : 2 * half])

    def accumulate_gradients(self, phase: str, batch: Batch, ctx: StepContext) -> None:
        G, D = self.modules["G"], self.modules["D"]
        real_a, real_b = self.split_domains(batch.x)  # (B/2, ...) each
        z = torch.randn(real_a.shape[0], self.z_dim, device=batch.x.device)  # (B/2, z_dim), one z for both
        if phase == "D":
            with torch.no_grad():
                fake_a, fake_b = G.pair(z)
            losses = {}
            for name, real, fake in (("A", real_a, fake_a), ("B", real_b, fake_b)):
                real_logits, fake_logits = D(real, domain=name).logits, D(fake, domain=name).logits
                losses[name] = self.loss.d_loss(real_logits, fake_logits)
                ctx.report(f"D/real_{name}", real_logits.mean())
                ctx.report(f"D/fake_{name}", fake_logits.mean())
        elif phase == "G":
            fake_a, fake_b = G.pair(z)
            fakes = (("A", fake_a), ("B", fake_b))
            losses = {name: self.loss.g_loss(D(fake, domain=name).logits) for name, fake in fakes}
        else:  # pragma: no cover - phases() declares only D and G
            raise ValueError(f"unknown phase {phase}")
        loss = losses["A"] + losses["B"]
        for name, value in losses.items():
            ctx.report(f"Loss/{phase}/{name}", value)
        ctx.report(f"Loss/{phase}", loss)
        ctx.backward(loss)

    def generate(self, nets: Mapping[str, nn.Module], z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Domain-A samples ``G_A(z)`` (so FID and other metrics compare with the data)."""
        return nets["G"](z)

    def generate_pair(self, nets: Mapping[str, nn.Module], z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Corresponding samples ``(G_A(z), G_B(z))``, each ``(n, *sample_shape)``."""
        return nets["G"].pair(z)

    @torch.no_grad()
    def sample_pair(self, nets: Mapping[str, nn.Module], z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``generate_pair`` with G in eval mode and without gradients; its mode is restored after."""
        G = nets["G"]
        mode = G.training
        G.eval()
        try:
            xa, xb = self.generate_pair(nets, z)
        finally:
            G.train(mode)
        return xa.float(), xb.float()


def pair_mismatch(xa: torch.Tensor, xb: torch.Tensor, to_b: DomainTransform) -> float:
    """How well generated pairs correspond, given the transform ``T`` that made domain B:

        r = mean_i ‖T(a_i) − b_i‖² / mean_i ‖T(a_i) − b_{i+1 mod n}‖²

    for pairs ``(a_i, b_i) = (G_A(z_i), G_B(z_i))``, each ``(n, *sample_shape)``, ``n ≥ 2``.
    0: every B sample is exactly its partner's transform; ≈ 1: a B sample is no closer to its
    partner's transform than to another pair's (no correspondence). The ratio makes it free of
    the domains' scale; the denominator pairs each sample with its neighbour's partner."""
    if xa.shape != xb.shape or xa.shape[0] < 2:
        raise ConfigError(f"pair_mismatch needs two batches of the same shape with n >= 2 pairs, "
                          f"got {tuple(xa.shape)} and {tuple(xb.shape)}")
    target = to_b(xa).flatten(1)  # (n, D): T(a_i)
    b = xb.flatten(1)  # (n, D)
    matched = (target - b).square().sum(1).mean()
    shifted = (target - b.roll(-1, dims=0)).square().sum(1).mean()  # b_{i+1}
    return float(matched / shifted)


def pair_correspondence(run, n: int, seed: int, use_ema: bool = True, batch: int = 500) -> float:
    """``pair_mismatch`` of ``n`` pairs of a cogan run (``runs.LoadedRun.pairs``) against the run's
    own ``recipe.domain_b`` transform."""
    xa, xb = run.pairs(n, seed, use_ema, batch)
    return pair_mismatch(xa, xb, run.recipe.to_domain_b)

"""Recipe ``ebgan``: Energy-based GAN (Zhao, Mathieu & LeCun 2017). D is an autoencoder
whose per-sample reconstruction error is the energy (``model.d_arch=autoencoder``)::

    L_D = E[D(x)] + E[(m - D(G(z)))^+]          L_G = E[D(G(z))] + w_PT · PT(Enc(G(z)))

with PT the pulling-away term on the encoder codes of the generated batch (``gankit.losses.energy``)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gankit.errors import ConfigError
from gankit.losses.energy import ebgan_d_loss, ebgan_g_loss, pulling_away_term
from gankit.recipes.base import RECIPES, StepContext
from gankit.recipes.gan import TwoPlayerRecipe
from gankit.train.loader import Batch


@dataclass(frozen=True)
class EBGANConfig:
    name: str = "ebgan"
    margin: float = 1.0  # hinge margin m on the fake energy
    pt_weight: float = 0.1  # pulling-away term weight in G's loss (paper: 0.1); 0 disables
    n_critic: int = 1  # D updates per G update
    reuse_fake: bool = True  # G step reuses the last D step's G(z)

    def validate(self) -> None:
        if self.margin < 0 or self.pt_weight < 0:
            raise ConfigError(f"recipe.margin and recipe.pt_weight must be >= 0, got {self.margin}, {self.pt_weight}")
        if self.n_critic < 1:
            raise ConfigError(f"recipe.n_critic must be >= 1, got {self.n_critic}")


@RECIPES.register("ebgan", "EBGAN (Zhao et al. 2017): autoencoder energy D, margin, pulling-away term")
class EBGANRecipe(TwoPlayerRecipe):
    config_class = EBGANConfig
    d_arch = "autoencoder"
    d_scores = "energy"

    def d_loss(self, batch: Batch, fake: torch.Tensor, c: torch.Tensor | None, ctx: StepContext) -> torch.Tensor:
        D = self.modules["D"]
        real_e, fake_e = D(batch.x).logits, D(fake).logits  # (B,) energies
        loss = ebgan_d_loss(real_e, fake_e, self.rc.margin)
        ctx.report("D/real_energy", real_e.mean())
        ctx.report("D/fake_energy", fake_e.mean())
        ctx.report("Loss/D", loss)
        return loss

    def g_loss(self, batch: Batch, fake: torch.Tensor, c: torch.Tensor | None, ctx: StepContext) -> torch.Tensor:
        out = self.modules["D"](fake)
        loss = ebgan_g_loss(out.logits)
        if self.rc.pt_weight > 0:
            pt = pulling_away_term(out.features)  # on the encoder codes (B, code_dim)
            ctx.report("Loss/G/pt", pt)
            loss = loss + self.rc.pt_weight * pt
        ctx.report("Loss/G", loss)
        return loss

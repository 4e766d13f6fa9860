"""Recipe ``vaegan``: VAE/GAN (Larsen, Sønderby, Larochelle & Winther 2016, "Autoencoding
beyond pixels using a learned similarity metric").

Networks: Gaussian encoder ``E(x) = (mu, logvar)`` (``nets.encoder``), decoder/generator
``G`` and discriminator ``D`` (the model family's; ``D_l`` = ``DOutput.features``, D's
last hidden layer). With ``x̃ = G(z̃)``, ``z̃ ~ q(z | x)`` (reparameterised) and
``x_p = G(z_p)``, ``z_p ~ N(0, I)``, the paper's terms, per example and averaged over the
batch, are::

    L_prior = KL(q(z | x) || N(0, I))                     (closed form, ``vae.kl_to_standard_normal``)
    L_llike = ½ Σ_f (D_l(x)_f - D_l(x̃)_f)²                = -log N(D_l(x) | D_l(x̃), I) + const  (eq. 6)
    L_GAN   = log D(x) + log(1 - D(x̃)) + log(1 - D(x_p))    (eq. 7, D = sigmoid(logit))

Three phases, each with its own optimizer and its own batch (Algorithm 1, each network
gets only its own error signals):

- ``E``: descends ``L_prior + L_llike`` (through the frozen G and D);
- ``G``: descends ``γ · L_llike - log D(x̃) - log D(x_p)``. Algorithm 1 writes this as
  ``γ L_llike - L_GAN``, reading L_GAN as D's loss; G's part of eq. 7 is to *lower*
  ``log(1 - D(·))`` of its samples, and we use the non-saturating form of that;
- ``D``: descends ``-L_GAN``.

``gamma`` (γ) weighs reconstructing against fooling D. The paper gives no value; the
authors' code puts 1e-5 to 5e-5 on a 64-px D's deep layer, where L_llike sums over 16k
features. Our default is set for the 28-px DCGAN presets (see ``VAEGANConfig``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gankit.config import ExperimentConfig
from gankit.errors import ConfigError
from gankit.losses import ns_d_loss, ns_g_loss
from gankit.recipes.base import RECIPES, DataInfo, OptimizerSpec, StepContext
from gankit.recipes.vae import GaussianEncoderRecipe, kl_to_standard_normal, reconstruction_error, reparameterize
from gankit.train.loader import Batch
from gankit.train.phases import Phase


def feature_reconstruction_error(real_features: torch.Tensor, recon_features: torch.Tensor) -> torch.Tensor:
    """``L_llike^{Dis_l}`` per example (Larsen et al. 2016, eq. 6 without its constant), shape
    ``(N,)``: ``½ Σ_f (D_l(x)_f - D_l(x̃)_f)²`` over D's features ``(N, F)``."""
    return 0.5 * reconstruction_error(real_features, recon_features, "mse")  # (N,)


def vaegan_d_loss(real_logits: torch.Tensor, recon_logits: torch.Tensor, prior_logits: torch.Tensor) -> torch.Tensor:
    """``-L_GAN = -E log D(x) - E log(1 - D(x̃)) - E log(1 - D(x_p))`` over logits
    (Larsen et al. 2016, eq. 7), with ``-log(1 - sigmoid(t)) = softplus(t)``."""
    return ns_d_loss(real_logits, recon_logits) + F.softplus(prior_logits).mean()


@dataclass(frozen=True)
class VAEGANConfig:
    name: str = "vaegan"
    # γ: weight of L_llike in G's loss against the adversarial terms. The paper gives no value;
    # 1e-2 balances the two on the 28-px DCGAN presets (D_l has 3136 features: after 300 MNIST
    # steps γ·L_llike ≈ 2.6 and the adversarial terms ≈ 5)
    gamma: float = 1e-2

    def validate(self) -> None:
        if self.gamma < 0:
            raise ConfigError(f"recipe.gamma must be >= 0, got {self.gamma}")


@RECIPES.register("vaegan", "VAE/GAN (Larsen et al. 2016): VAE whose reconstruction error is taken in D's features")
class VAEGANRecipe(GaussianEncoderRecipe):
    config_class = VAEGANConfig
    d_arch = "default"  # the reconstruction error is taken in the hidden features of the family's own D
    with_discriminator = True

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.rc: VAEGANConfig = cfg.recipe

    def phases(self) -> list[Phase]:
        return [Phase("E", ("E",), "E"), Phase("G", ("G",), "G"), Phase("D", ("D",), "D")]

    def optimizers(self) -> dict[str, OptimizerSpec]:
        lr_g, lr_d = self.cfg.optim.lr_g, self.cfg.optim.lr_d
        return {"E": OptimizerSpec(("E",), lr_g), "G": OptimizerSpec(("G",), lr_g), "D": OptimizerSpec(("D",), lr_d)}

    def _prior_sample(self, x: torch.Tensor) -> torch.Tensor:
        return self.modules["G"](torch.randn(x.shape[0], self.z_dim, device=x.device))  # (N, *sample_shape)

    def accumulate_gradients(self, phase: str, batch: Batch, ctx: StepContext) -> None:
        x, D = batch.x, self.modules["D"]
        if phase == "E":
            mu, logvar, x_tilde = self.reconstruct(x)
            prior = kl_to_standard_normal(mu.float(), logvar.float()).mean()
            llike = feature_reconstruction_error(D(x).features.float(), D(x_tilde).features.float()).mean()
            loss = prior + llike
            ctx.report("Loss/E/prior", prior)
            ctx.report("Loss/E/llike", llike)
            ctx.report("VAEGAN/recon_mse", (x - x_tilde.float()).detach().square().mean())  # per element
            ctx.report("Loss/E", loss)
        elif phase == "G":
            with torch.no_grad():
                mu, logvar = self.modules["E"](x)
                real_features = D(x).features  # (N, F): the target of L_llike
            recon_out = D(self.modules["G"](reparameterize(mu, logvar)))
            prior_out = D(self._prior_sample(x))
            llike = feature_reconstruction_error(real_features.float(), recon_out.features.float()).mean()
            adv = ns_g_loss(recon_out.logits.float()) + ns_g_loss(prior_out.logits.float())
            loss = self.rc.gamma * llike + adv
            ctx.report("Loss/G/llike", llike)
            ctx.report("Loss/G/adv", adv)
            ctx.report("Loss/G", loss)
        elif phase == "D":
            with torch.no_grad():
                x_tilde = self.reconstruct(x)[2]
                x_prior = self._prior_sample(x)
            real, recon, prior = D(x).logits.float(), D(x_tilde).logits.float(), D(x_prior).logits.float()
            loss = vaegan_d_loss(real, recon, prior)
            ctx.report("D/real", real.mean())
            ctx.report("D/recon", recon.mean())
            ctx.report("D/prior", prior.mean())
            ctx.report("Loss/D", loss)
        else:  # pragma: no cover - phases() declares only these
            raise ValueError(f"unknown phase {phase}")
        ctx.backward(loss)

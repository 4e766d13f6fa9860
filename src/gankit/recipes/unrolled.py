"""Recipe ``unrolled``: Unrolled GAN (Metz et al. 2017, "Unrolled Generative Adversarial
Networks").

The discriminator is trained exactly as in the ``gan`` recipe (same loss, penalties,
stabilisers, PacGAN packing). The generator's loss looks ``unroll_steps`` = k discriminator
steps ahead: D's parameters are copied functionally (``torch.func.functional_call`` with a
dict of tensors), k plain gradient-descent steps

    theta_{i+1} = theta_i - lr_u * grad_theta L_D(theta_i; x, G(z))

are taken on the surrogate D loss with ``create_graph=True`` (so G's gradient flows through
the unrolled steps, the paper's eq. 7), and the G loss is ``g_loss(D_{theta_k}(G(z)))``.

Choices, documented:

- the surrogate update is plain SGD with ``lr_u = unroll_lr`` (0: ``optim.lr_d``), not a
  functional Adam: the trainer owns D's Adam state, and a fresh-state Adam step divides by
  ``sqrt(v)`` whose derivative is infinite at a zero gradient entry;
- every unrolled step and the final G loss use the G phase's batch (real ``x``, the same
  ``G(z)``), as in the authors' 2-D notebook;
- the surrogate D loss is the adversarial term only (with one-sided label-smoothing targets
  when configured); GP / R1 / DRAGAN penalties and weight clipping act on the real D step;
- D's parameters are unrolled, its buffers are not, so D must not use BatchNorm:
  ``model.d_norm`` must be ``none`` or ``layer`` (ConfigError otherwise).

With ``unroll_steps = 0`` every phase is the ``gan`` recipe's, computation for computation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.func import functional_call

from gankit.config import ExperimentConfig
from gankit.errors import ConfigError
from gankit.losses.stabilizers import bce_d_loss_with_targets
from gankit.recipes.base import RECIPES, DataInfo, StepContext
from gankit.recipes.gan import GANConfig, GANRecipe
from gankit.train.loader import Batch


@dataclass(frozen=True)
class UnrolledConfig(GANConfig):
    name: str = "unrolled"
    unroll_steps: int = 5  # k: D steps the G loss looks ahead (0 = the plain gan recipe)
    unroll_lr: float = 0.0  # step size of the unrolled SGD steps on D's copy; 0 = optim.lr_d

    def validate(self) -> None:
        super().validate()
        if self.unroll_steps < 0:
            raise ConfigError(f"recipe.unroll_steps must be >= 0, got {self.unroll_steps}")
        if self.unroll_lr < 0:
            raise ConfigError(f"recipe.unroll_lr must be >= 0, got {self.unroll_lr}")


@RECIPES.register("unrolled", "Unrolled GAN (Metz et al. 2017): G's loss looks k functional D steps ahead")
class UnrolledRecipe(GANRecipe):
    config_class = UnrolledConfig

    def __init__(self, cfg: ExperimentConfig, data: DataInfo) -> None:
        if cfg.model.d_norm == "batch":
            raise ConfigError(
                "recipe unrolled needs model.d_norm=none or layer (BatchNorm buffers are not unrolled); "
                "got model.d_norm=batch"
            )
        super().__init__(cfg, data)
        self.rc: UnrolledConfig = cfg.recipe

    @property
    def unroll_lr(self) -> float:
        return self.rc.unroll_lr or self.cfg.optim.lr_d

    def _surrogate_d_loss(self, out_real, out_fake) -> torch.Tensor:
        if self.rc.label_smoothing == "none":
            return self.loss.d_loss(out_real.logits, out_fake.logits)
        targets = self._real_targets(out_real.logits.shape[0], out_real.logits)
        return bce_d_loss_with_targets(out_real.logits, out_fake.logits, targets)

    def unrolled_params(
        self, real_in: torch.Tensor, fake_in: torch.Tensor, c: torch.Tensor | None
    ) -> dict[str, torch.Tensor]:
        """D's parameters after ``unroll_steps`` SGD steps on the surrogate D loss, as a
        differentiable function of ``fake_in`` (and so of G)."""
        D = self.modules["D"]
        params = {n: p.detach().requires_grad_(True) for n, p in D.named_parameters()}
        names = list(params)
        for _ in range(self.rc.unroll_steps):
            out_real = functional_call(D, params, (real_in, c))
            out_fake = functional_call(D, params, (fake_in, c))
            loss = self._surrogate_d_loss(out_real, out_fake)
            grads = torch.autograd.grad(loss, [params[n] for n in names], create_graph=True, allow_unused=True)
            params = {
                n: params[n] if g is None else params[n] - self.unroll_lr * g for n, g in zip(names, grads)
            }
        return params

    def g_loss(self, batch: Batch, fake: torch.Tensor, c: torch.Tensor | None, ctx: StepContext) -> torch.Tensor:
        if self.rc.unroll_steps == 0:
            return super().g_loss(batch, fake, c, ctx)
        D = self.modules["D"]
        real_in, fake_in = self._d_input(batch.x, ctx), self._d_input(fake, ctx)  # (B/m, m·C, ...)
        params = self.unrolled_params(real_in, fake_in, c)
        return self.generator_objective(lambda x: functional_call(D, params, (x, c)), fake_in, lambda: real_in, ctx)

"""Adaptive discriminator augmentation (Karras et al. 2020, "Training Generative Adversarial
Networks with Limited Data", ADA).

Every image D sees (real and generated, in both players' updates) goes through a pipeline of
transformations, each applied to each sample with probability ``p``. ``p`` is tuned during
training from the overfitting heuristic

    r_t = E[sign(D_train(x))]        (real logits of the D steps of the last interval)

every ``interval`` D steps: ``p ← clip(p + sign(r_t − target) · B·interval / (kimg·1000), 0, 1)``
with ``B`` the batch size, so ``p`` can go from 0 to 1 in ``kimg`` thousand real images and
settles where ``r_t ≈ target`` (0.6 in the paper). With ``p < 1`` (in practice < 0.8) the
augmentations do not leak into the generated distribution.

The pipeline is the part of the paper's "bgc" that makes sense for small greyscale or colour
images: x-flip, rotation by a multiple of 90°, integer translation by up to 1/8 of the side
(reflect padding), brightness ``+N(0, 0.2²)``, contrast ``×lognormal(0, (½ ln 2)²)`` around 0
(mid-grey in [-1, 1] pixels) and, for RGB, saturation ``×lognormal(0, (ln 2)²)`` around the
grey axis. Hue rotation, luma flip, fractional and large geometric transforms are left out.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import torch
from torch import Tensor

from gankit.augment.ops import (
    brightness,
    check_images,
    contrast,
    flip_x,
    rand,
    randint,
    randn,
    rotate90,
    saturation,
    translate,
)
from gankit.errors import CheckpointError, ConfigError

TRANSLATE_RATIO = 0.125  # largest integer translation, as a fraction of the side
BRIGHTNESS_STD = 0.2
CONTRAST_STD = 0.5 * math.log(2)  # std of log(contrast)
SATURATION_STD = math.log(2)  # std of log(saturation)


def ada_pipeline(x: Tensor, p: Tensor | float, generator: torch.Generator | None = None) -> Tensor:
    """ADA's pipeline on images ``(N, C, H, W)``: each op applied to each sample with
    probability ``p`` (a float or a 0-d tensor); same shape, differentiable in ``x``."""
    check_images(x, "ADA")
    n, channels, h, w = x.shape

    def chosen() -> Tensor:
        return rand(n, x, generator) < p  # (N,) bool

    x = flip_x(x, chosen())
    if h == w:
        turns = randint(0, 4, n, x, generator)  # (N,)
        x = rotate90(x, torch.where(chosen(), turns, torch.zeros_like(turns)))
    sh, sw = int(h * TRANSLATE_RATIO + 0.5), int(w * TRANSLATE_RATIO + 0.5)
    on = chosen()
    shift_h = torch.where(on, randint(-sh, sh + 1, n, x, generator), 0)  # (N,)
    shift_w = torch.where(on, randint(-sw, sw + 1, n, x, generator), 0)  # (N,)
    x = translate(x, shift_h, shift_w, "reflect")
    x = _where(chosen(), brightness(x, randn(n, x, generator) * BRIGHTNESS_STD), x)
    x = _where(chosen(), contrast(x, torch.exp(randn(n, x, generator) * CONTRAST_STD), 0.0), x)
    if channels == 3:
        x = _where(chosen(), saturation(x, torch.exp(randn(n, x, generator) * SATURATION_STD)), x)
    return x


def _where(chosen: Tensor, changed: Tensor, x: Tensor) -> Tensor:
    """``changed`` for the chosen samples, ``x`` itself (bit for bit) for the others."""
    return torch.where(chosen[:, None, None, None], changed, x)


class AdaptiveAugment:
    """ADA's augmenter and its controller (Karras et al. 2020).

    ``augment(x)`` applies the pipeline at the current ``p``; ``observe(real_logits, batch)``
    after each D step accumulates ``sign(D(x))`` and, every ``interval`` D steps, moves ``p``.
    ``p`` and the running sums are tensors on the logits' device (no host sync per step) and
    are kept in checkpoints (``state_tensors``), so a resumed run continues exactly.
    """

    def __init__(self, target: float = 0.6, interval: int = 4, kimg: float = 500.0, p: float = 0.0) -> None:
        if not 0.0 < target < 1.0:
            raise ConfigError(f"recipe.ada_target must be in (0, 1), got {target}")
        if interval < 1:
            raise ConfigError(f"recipe.ada_interval must be >= 1, got {interval}")
        if not kimg > 0:
            raise ConfigError(f"recipe.ada_kimg must be > 0, got {kimg}")
        if not 0.0 <= p <= 1.0:
            raise ConfigError(f"recipe.ada_p must be in [0, 1], got {p}")
        self.target, self.interval, self.kimg = float(target), int(interval), float(kimg)
        self.p = torch.tensor(float(p), dtype=torch.float64)  # the augmentation probability
        self.sign_sum = torch.zeros((), dtype=torch.float64)  # Σ sign(D(x)) over this interval
        self.count = torch.zeros((), dtype=torch.float64)  # logits summed over this interval
        self.images = 0  # real images seen this interval
        self.d_steps = 0  # D steps this interval

    def __call__(self, x: Tensor) -> Tensor:
        return ada_pipeline(x, self.p.to(x.device, x.dtype))

    @torch.no_grad()
    def observe(self, real_logits: Tensor, batch_size: int) -> Tensor | None:
        """Accumulate one D step's real logits; every ``interval`` steps adjust ``p`` and return
        that interval's ``r_t`` (None in between)."""
        device = real_logits.device
        self.sign_sum = self.sign_sum.to(device) + real_logits.detach().sign().double().sum()
        self.count = self.count.to(device) + real_logits.numel()
        self.images += int(batch_size)
        self.d_steps += 1
        if self.d_steps < self.interval:
            return None
        r_t = self.sign_sum / self.count  # ()
        step = self.images / (self.kimg * 1000.0)
        self.p = (self.p.to(device) + torch.sign(r_t - self.target) * step).clamp(0.0, 1.0)
        self.sign_sum = torch.zeros_like(self.sign_sum)
        self.count = torch.zeros_like(self.count)
        self.images = self.d_steps = 0
        return r_t

    # -- checkpoint state
    def state_dict(self) -> dict[str, Any]:
        return {"images": self.images, "d_steps": self.d_steps}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.images, self.d_steps = int(state["images"]), int(state["d_steps"])

    def state_tensors(self) -> dict[str, Tensor]:
        return {"p": self.p, "sign_sum": self.sign_sum, "count": self.count}

    def load_state_tensors(self, tensors: Mapping[str, Tensor]) -> None:
        for key in ("p", "sign_sum", "count"):
            value = tensors.get(key)
            if value is None or value.shape != () or not value.dtype.is_floating_point:
                raise CheckpointError(f"the checkpoint's ADA state has no scalar {key!r}")
        self.p, self.sign_sum, self.count = (tensors[k].double() for k in ("p", "sign_sum", "count"))

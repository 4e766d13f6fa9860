"""DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training").

The same kind of random, differentiable transformation ``T`` is applied to every image D sees,
real and generated, in D's and in G's updates::

    L_D = f(D(T(x))) + h(D(T(G(z))))        L_G = g(D(T(G(z))))

so D cannot memorise a small training set and G is never asked to produce augmented images.
The policy is a comma-separated list, applied in order (the paper's, in [-1, 1] pixels):

* ``color``: brightness ``x + (u − ½)``, saturation ``(x − x̄_c)·2u + x̄_c`` (channel mean),
  contrast ``(x − x̄)·(u + ½) + x̄`` (image mean), ``u ~ U[0, 1)`` per sample and op;
* ``translation``: integer shifts up to 1/8 of the side, zero fill;
* ``cutout``: a square of half the side zeroed at a random centre.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gankit.augment.ops import brightness, check_images, contrast, rand, random_cutout, random_translation, saturation
from gankit.errors import ConfigError

DEFAULT_POLICY = "color,translation,cutout"
TRANSLATION_RATIO = 0.125  # largest shift, as a fraction of the side
CUTOUT_RATIO = 0.5  # cutout side, as a fraction of the image side


def color(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """DiffAugment's ``color``: random brightness, saturation and contrast per sample."""
    n = x.shape[0]
    x = brightness(x, rand(n, x, generator) - 0.5)
    x = saturation(x, rand(n, x, generator) * 2)
    return contrast(x, rand(n, x, generator) + 0.5, x.mean(dim=(1, 2, 3), keepdim=True))


def translation(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    return random_translation(x, TRANSLATION_RATIO, "zeros", generator)


def cutout(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    return random_cutout(x, CUTOUT_RATIO, generator)


POLICY_OPS = {"color": color, "translation": translation, "cutout": cutout}


def parse_policy(policy: str) -> tuple[str, ...]:
    """``"color,translation"`` -> ``("color", "translation")``; an unknown or empty op is a ``ConfigError``."""
    names = tuple(part.strip() for part in policy.split(","))
    for name in names:
        if name not in POLICY_OPS:
            raise ConfigError(
                f"unknown DiffAugment op {name!r} in recipe.diffaugment={policy!r} (ops: {', '.join(POLICY_OPS)})"
            )
    return names


def diff_augment(x: Tensor, policy: str = DEFAULT_POLICY, generator: torch.Generator | None = None) -> Tensor:
    """``T(x)``: the ops of ``policy`` applied in order to images ``(N, C, H, W)``; same shape,
    differentiable in ``x`` (Zhao et al. 2020)."""
    check_images(x, "DiffAugment")
    for name in parse_policy(policy):
        x = POLICY_OPS[name](x, generator)
    return x


class DiffAugment:
    """The recipe's augmenter for ``recipe.augment=diffaugment``: ``augment(x)`` and no state."""

    def __init__(self, policy: str = DEFAULT_POLICY) -> None:
        self.policy = policy
        parse_policy(policy)

    def __call__(self, x: Tensor) -> Tensor:
        return diff_augment(x, self.policy)

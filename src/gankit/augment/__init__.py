"""Differentiable augmentation of what D sees, for training on little data: DiffAugment
(Zhao et al. 2020) and adaptive augmentation, ADA (Karras et al. 2020)."""

from gankit.augment.ada import AdaptiveAugment, ada_pipeline
from gankit.augment.diffaugment import DiffAugment, diff_augment, parse_policy
from gankit.augment.ops import translate

__all__ = ["AdaptiveAugment", "DiffAugment", "ada_pipeline", "diff_augment", "parse_policy", "translate"]

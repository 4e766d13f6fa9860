"""GAN variants, one file per paper, registered by name."""

from gankit.recipes.base import RECIPES, DataInfo, OptimizerSpec, Recipe, StepContext
from gankit.recipes import gan  # noqa: F401  (registers "gan")

__all__ = ["RECIPES", "DataInfo", "OptimizerSpec", "Recipe", "StepContext"]

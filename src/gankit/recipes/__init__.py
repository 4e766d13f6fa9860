"""GAN variants, one file per paper, registered by name."""

from gankit.recipes.base import RECIPES, DataInfo, OptimizerSpec, PretrainingOnlyWarning, Recipe, StepContext
from gankit.recipes import gan  # noqa: F401  (registers "gan")
from gankit.recipes import began, ebgan, fisher, magan  # noqa: F401  (register themselves)
from gankit.recipes import acgan, infogan  # noqa: F401  (register themselves)
from gankit.recipes import ss_infogan  # noqa: F401  (registers "ss-infogan")
from gankit.recipes import mrgan, unrolled  # noqa: F401  (register themselves)
from gankit.recipes import ssgan, triplegan  # noqa: F401  (register themselves)
from gankit.recipes import vae, vaegan  # noqa: F401  (register themselves)
from gankit.recipes import madgan  # noqa: F401  (registers "madgan")
from gankit.recipes import coupled  # noqa: F401  (registers "cogan")
from gankit.recipes import selfcond  # noqa: F401  (registers "selfcond")

__all__ = ["RECIPES", "DataInfo", "OptimizerSpec", "PretrainingOnlyWarning", "Recipe", "StepContext"]

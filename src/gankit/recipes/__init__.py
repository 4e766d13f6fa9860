"""GAN variants, one file per paper, registered by name."""

from gankit.recipes import (  # noqa: F401  (register themselves)  # noqa: F401  (register themselves)  # noqa: F401  (register themselves)  # noqa: F401  (register themselves)  # noqa: F401  (register themselves)
    acgan,
    began,
    coupled,  # noqa: F401  (registers "cogan")
    cyclegan,
    ebgan,
    fisher,
    gan,  # noqa: F401  (registers "gan")
    infogan,
    madgan,  # noqa: F401  (registers "madgan")
    magan,
    mle,  # noqa: F401  (registers "mle")
    mle_continuous,
    mrgan,
    organ,  # noqa: F401  (registers "organ")
    pan,
    pix2pix,
    rnngan,
    selfcond,  # noqa: F401  (registers "selfcond")
    seqgan,  # noqa: F401  (registers "seqgan")
    srgan,  # noqa: F401  (registers "srgan" and "srresnet")
    ss_infogan,  # noqa: F401  (registers "ss-infogan")
    ssgan,
    tabgan,  # noqa: F401  (registers "tabgan")
    triplegan,
    unrolled,
    vae,
    vaegan,
)
from gankit.recipes.base import RECIPES, DataInfo, OptimizerSpec, PretrainingOnlyWarning, Recipe, StepContext

__all__ = ["RECIPES", "DataInfo", "OptimizerSpec", "PretrainingOnlyWarning", "Recipe", "StepContext"]

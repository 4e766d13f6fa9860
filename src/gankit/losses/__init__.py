"""Losses as pure functions: adversarial pairs over logits (minimax, NS, LSGAN, WGAN, hinge),
f-GAN, energy-based (EBGAN, BEGAN, MAGAN), Fisher GAN, penalties (clipping, GP, R1) and
stabilisers (DRAGAN, feature matching, label smoothing, instance noise).

One sign convention: a higher discriminator output means "more real"; D losses take
``(real_logits, fake_logits)``, real first. Importing the package registers every
adversarial pair in ``LOSSES`` (``recipe.loss``).
"""

from gankit.losses.adversarial import (  # noqa: F401
    LOSSES,
    AdversarialLoss,
    hinge_d_loss,
    hinge_g_loss,
    lsgan_d_loss,
    lsgan_g_loss,
    minimax_d_loss,
    minimax_g_loss,
    ns_d_loss,
    ns_g_loss,
    single_sided_loss,
    wgan_d_loss,
    wgan_g_loss,
)
from gankit.losses.checks import (  # noqa: F401
    check_logits,
    check_pair,
)
from gankit.losses.energy import (  # noqa: F401
    BEGANBalance,
    MAGANMargin,
    began_convergence,
    began_d_loss,
    began_g_loss,
    began_k_update,
    ebgan_d_loss,
    ebgan_g_loss,
    magan_d_loss,
    magan_g_loss,
    magan_margin_update,
    pulling_away_term,
)
from gankit.losses.fgan import (  # noqa: F401
    F_DIVERGENCES,
    FDivergence,
    fgan_d_loss,
    fgan_g_loss,
    fgan_lower_bound,
    get_divergence,
    register_fgan_losses,
)
from gankit.losses.fisher import (  # noqa: F401
    FisherMultiplier,
    fisher_d_loss,
    fisher_g_loss,
    fisher_multiplier_step,
)
from gankit.losses.lecam import lecam_anchor_update, lecam_penalty  # noqa: F401
from gankit.losses.penalties import (  # noqa: F401
    clip_weights_,
    gradient_penalty,
    r1_penalty,
    r2_penalty,
)
from gankit.losses.relativistic import (  # noqa: F401  (registers rsgan, ragan, rpgan)
    ragan_d_loss,
    ragan_g_loss,
    rpgan_d_loss,
    rpgan_g_loss,
    rsgan_d_loss,
    rsgan_g_loss,
)
from gankit.losses.stabilizers import (  # noqa: F401
    add_instance_noise,
    bce_d_loss_with_targets,
    dragan_penalty,
    dragan_perturb,
    feature_matching_loss,
    fixed_real_targets,
    instance_noise_std,
    random_real_targets,
)

__all__ = [
    "single_sided_loss",
    "AdversarialLoss",
    "LOSSES",
    "minimax_d_loss",
    "minimax_g_loss",
    "ns_d_loss",
    "ns_g_loss",
    "lsgan_d_loss",
    "lsgan_g_loss",
    "wgan_d_loss",
    "wgan_g_loss",
    "hinge_d_loss",
    "hinge_g_loss",
    "FDivergence",
    "F_DIVERGENCES",
    "get_divergence",
    "fgan_d_loss",
    "fgan_g_loss",
    "fgan_lower_bound",
    "register_fgan_losses",
    "ebgan_d_loss",
    "ebgan_g_loss",
    "pulling_away_term",
    "began_d_loss",
    "began_g_loss",
    "began_k_update",
    "began_convergence",
    "BEGANBalance",
    "magan_d_loss",
    "magan_g_loss",
    "magan_margin_update",
    "MAGANMargin",
    "fisher_d_loss",
    "fisher_g_loss",
    "fisher_multiplier_step",
    "FisherMultiplier",
    "clip_weights_",
    "gradient_penalty",
    "r1_penalty",
    "r2_penalty",
    "lecam_penalty",
    "lecam_anchor_update",
    "rsgan_d_loss",
    "rsgan_g_loss",
    "ragan_d_loss",
    "ragan_g_loss",
    "rpgan_d_loss",
    "rpgan_g_loss",
    "dragan_perturb",
    "dragan_penalty",
    "feature_matching_loss",
    "fixed_real_targets",
    "random_real_targets",
    "bce_d_loss_with_targets",
    "instance_noise_std",
    "add_instance_noise",
    "check_logits",
    "check_pair",
]

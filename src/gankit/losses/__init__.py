"""Losses as pure functions: adversarial pairs over logits (minimax, NS, LSGAN, WGAN, hinge),
f-GAN, energy-based (EBGAN, BEGAN, MAGAN), Fisher GAN, penalties (clipping, GP, R1) and
stabilisers (DRAGAN, feature matching, label smoothing, instance noise).

One sign convention: a higher discriminator output means "more real"; D losses take
``(real_logits, fake_logits)``, real first. Importing the package registers every
adversarial pair in ``LOSSES`` (``recipe.loss``).
"""

from gankit.losses import adversarial, checks, energy, fgan, fisher, lecam, penalties, relativistic, stabilizers
from gankit.losses.adversarial import *  # noqa: F403
from gankit.losses.checks import *  # noqa: F403
from gankit.losses.energy import *  # noqa: F403
from gankit.losses.fgan import *  # noqa: F403
from gankit.losses.fisher import *  # noqa: F403
from gankit.losses.lecam import *  # noqa: F403
from gankit.losses.penalties import *  # noqa: F403
from gankit.losses.relativistic import *  # noqa: F403  (registers rsgan, ragan, rpgan)
from gankit.losses.stabilizers import *  # noqa: F403

__all__ = [
    name
    for module in (adversarial, checks, energy, fgan, fisher, lecam, penalties, relativistic, stabilizers)
    for name in module.__all__
]

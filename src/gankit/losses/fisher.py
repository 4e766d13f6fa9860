"""Fisher GAN (Mroueh & Sercu 2017, "Fisher GAN"): an IPM critic under a data-dependent
second-moment constraint, trained with an augmented Lagrangian (Algorithm 1).

With critic outputs ``f`` on real (P) and fake (Q) samples::

    E     = E_P[f] - E_Q[f]                       (the IPM estimate)
    Omega = 1/2 (E_P[f^2] + E_Q[f^2])             (the constraint is Omega = 1)
    L_F   = E + lambda (1 - Omega) - rho/2 (Omega - 1)^2

The critic *maximises* ``L_F`` (we return ``loss_D = -L_F``); the multiplier follows the
paper's gradient *descent* step ``lambda <- lambda - rho * dL_F/dlambda``, i.e.::

    lambda <- lambda - rho (1 - Omega)

(the authors' code: ``Lambda.data += rho * Lambda.grad`` with the gradient of
``loss_D = -L_F``, which is ``-(1 - Omega)`` — the same update). So lambda grows while the
critic's second moment exceeds 1 and shrinks while it is below. The generator minimises
``E``, i.e. ``loss_G = -E_Q[f]`` (its real term has no generator gradient).

Expectations are means over all elements: ``[N]``, ``[N, 1]`` and ``[N, 1, H, W]`` work.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from gankit.losses.checks import check_logits, check_pair

__all__ = ["fisher_d_loss", "fisher_g_loss", "fisher_multiplier_step", "FisherMultiplier"]


def fisher_d_loss(real: Tensor, fake: Tensor, lam: float | Tensor, rho: float) -> tuple[Tensor, Tensor]:
    """Fisher GAN critic loss (Mroueh & Sercu 2017, Algorithm 1).

    ``loss_D = -(E + lam (1 - Omega) - rho/2 (1 - Omega)^2)`` with
    ``E = E_P[f] - E_Q[f]`` and ``Omega = (E_P[f^2] + E_Q[f^2]) / 2``.
    Returns ``(loss_D, constraint)`` where ``constraint = 1 - Omega`` is **detached**
    (feed it to :func:`fisher_multiplier_step` / :meth:`FisherMultiplier.update`).
    """
    check_pair(real, fake)
    if rho < 0:
        raise ValueError(f"rho must be >= 0, got {rho}")
    ipm = real.mean() - fake.mean()  # ()
    omega = 0.5 * (real.square().mean() + fake.square().mean())  # ()
    constraint = 1.0 - omega  # ()
    objective = ipm + lam * constraint - 0.5 * rho * constraint.square()
    return -objective, constraint.detach()


def fisher_g_loss(fake: Tensor) -> Tensor:
    """Fisher GAN generator loss (Mroueh & Sercu 2017): ``loss_G = -E_Q[f]``."""
    check_logits("fake", fake)
    return -fake.mean()


def fisher_multiplier_step(lam: float, constraint: float | Tensor, rho: float) -> float:
    """One multiplier update of Algorithm 1: ``lambda <- lambda - rho (1 - Omega)``.

    ``constraint`` is ``1 - Omega`` as returned by :func:`fisher_d_loss`.
    """
    c = float(constraint.item() if isinstance(constraint, Tensor) else constraint)
    return float(lam) - rho * c


class FisherMultiplier:
    """The Lagrange multiplier of Fisher GAN as checkpointable state.

    ``lam`` starts at 0 (as in the paper); call :meth:`update` with the constraint after
    each critic step. ``state_dict()`` is JSON-serialisable (plain floats).
    """

    def __init__(self, rho: float, lam: float = 0.0) -> None:
        if not rho >= 0:
            raise ValueError(f"rho must be >= 0, got {rho}")
        self.rho = float(rho)
        self.lam = float(lam)

    def loss(self, real: Tensor, fake: Tensor) -> tuple[Tensor, Tensor]:
        """:func:`fisher_d_loss` with the current ``lam`` and ``rho``."""
        return fisher_d_loss(real, fake, self.lam, self.rho)

    def update(self, constraint: float | Tensor) -> float:
        """``lam <- lam - rho * constraint``; returns the new ``lam``."""
        self.lam = fisher_multiplier_step(self.lam, constraint, self.rho)
        return self.lam

    def state_dict(self) -> dict[str, Any]:
        return {"lam": self.lam, "rho": self.rho}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.lam = float(state["lam"])
        self.rho = float(state["rho"])


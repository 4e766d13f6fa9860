"""Losses for autoencoder (energy) discriminators: EBGAN, BEGAN and MAGAN.

Here the discriminator's output is an **energy** ``D(x) >= 0`` — the per-sample
reconstruction error of an autoencoder (``nets.autoencoder.AEDiscriminator``) — and
*lower* means "more real", the opposite of the logit convention of :mod:`gankit.losses`.
Every function takes per-sample energies (``(N,)``; any shape is averaged over all
elements, so per-pixel energy maps also work); real before fake.

* EBGAN (Zhao, Mathieu & LeCun 2017, "Energy-based Generative Adversarial Network"):
  ``L_D = E[D(x)] + E[(m - D(G(z)))^+]``, ``L_G = E[D(G(z))]`` (+ the pulling-away term).
* BEGAN (Berthelot, Schumm & Metz 2017, "BEGAN: Boundary Equilibrium GANs"):
  ``L_D = L(x) - k_t L(G(z))``, ``L_G = L(G(z))``,
  ``k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1)``,
  convergence ``M = L(x) + |gamma L(x) - L(G(z))|``.
* MAGAN (Wang, Cully, Chang & Demiris 2017, "MAGAN: Margin Adaptation for GANs"): the
  EBGAN losses with a margin that tracks the expected real energy (:class:`MAGANMargin`).
"""

from __future__ import annotations

import math
from typing import Any

import torch.nn.functional as F
from torch import Tensor

from gankit.errors import ShapeError

__all__ = [
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
]


def _check_energy(name: str, energy: Tensor) -> None:
    if not isinstance(energy, Tensor):
        raise ShapeError(f"{name} must be a torch.Tensor, got {type(energy).__name__}")
    if energy.dim() == 0 or energy.numel() == 0:
        raise ShapeError(f"{name} must hold per-sample energies of shape (N,), got {tuple(energy.shape)}")


def _scalar(x: float | Tensor) -> float:
    return float(x.detach().mean().item()) if isinstance(x, Tensor) else float(x)


# --------------------------------------------------------------------------- EBGAN


def ebgan_d_loss(real_energy: Tensor, fake_energy: Tensor, margin: float) -> Tensor:
    """EBGAN discriminator loss (Zhao et al. 2017, eq. 1).

    ``L_D = E_x[D(x)] + E_z[max(0, m - D(G(z)))]`` — the hinge is applied **per sample**,
    then averaged (not to the batch mean).
    """
    _check_energy("real_energy", real_energy)
    _check_energy("fake_energy", fake_energy)
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    return real_energy.mean() + F.relu(margin - fake_energy).mean()


def ebgan_g_loss(fake_energy: Tensor) -> Tensor:
    """EBGAN generator loss (Zhao et al. 2017, eq. 2): ``L_G = E_z[D(G(z))]``."""
    _check_energy("fake_energy", fake_energy)
    return fake_energy.mean()


def pulling_away_term(codes: Tensor) -> Tensor:
    """EBGAN pulling-away term (Zhao et al. 2017, eq. 7) on a batch of codes ``S``::

        PT(S) = 1 / (N (N - 1)) * sum_{i != j} cos^2(S_i, S_j)

    ``codes``: ``(N, ...)`` encoder outputs of the *generated* batch (flattened per sample),
    ``N >= 2``. Added to the generator loss with weight 0.1 in the paper. A zero code has
    cosine 0 with everything.
    """
    if codes.dim() < 2 or codes.shape[0] < 2:
        raise ShapeError(f"pulling_away_term needs codes of shape (N >= 2, F), got {tuple(codes.shape)}")
    n = codes.shape[0]
    s = F.normalize(codes.flatten(1), dim=1)  # (N, F) unit rows
    cos = s @ s.T  # (N, N)
    off_diag = cos.square().sum() - cos.diagonal().square().sum()  # ()
    return off_diag / (n * (n - 1))


# --------------------------------------------------------------------------- BEGAN


def began_d_loss(real_energy: Tensor, fake_energy: Tensor, k: float | Tensor) -> Tensor:
    """BEGAN discriminator loss (Berthelot et al. 2017, eq. 4): ``L_D = L(x) - k_t L(G(z))``
    with ``L(.)`` the batch-mean reconstruction loss and ``k_t`` in ``[0, 1]``."""
    _check_energy("real_energy", real_energy)
    _check_energy("fake_energy", fake_energy)
    return real_energy.mean() - k * fake_energy.mean()


def began_g_loss(fake_energy: Tensor) -> Tensor:
    """BEGAN generator loss (Berthelot et al. 2017, eq. 4): ``L_G = L(G(z))``."""
    _check_energy("fake_energy", fake_energy)
    return fake_energy.mean()


def began_k_update(
    k: float, real_loss: float | Tensor, fake_loss: float | Tensor, gamma: float, lambda_k: float
) -> float:
    """Equilibrium control (Berthelot et al. 2017, eq. 4)::

        k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1)

    ``real_loss`` / ``fake_loss``: ``L(x)`` and ``L(G(z))`` (tensors are batch-averaged).
    """
    balance = gamma * _scalar(real_loss) - _scalar(fake_loss)
    return min(max(float(k) + lambda_k * balance, 0.0), 1.0)


def began_convergence(real_loss: float | Tensor, fake_loss: float | Tensor, gamma: float) -> float:
    """BEGAN convergence measure (Berthelot et al. 2017, Sec. 3.4.1)::

        M_global = L(x) + |gamma L(x) - L(G(z))|
    """
    real = _scalar(real_loss)
    return real + abs(gamma * real - _scalar(fake_loss))


class BEGANBalance:
    """``k_t`` of BEGAN as checkpointable state (paper: ``k_0 = 0``, ``lambda_k = 0.001``,
    ``gamma`` in ``[0.3, 0.7]``). ``state_dict()`` is JSON-serialisable."""

    def __init__(self, gamma: float = 0.5, lambda_k: float = 1e-3, k: float = 0.0) -> None:
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {gamma}")
        if lambda_k < 0:
            raise ValueError(f"lambda_k must be >= 0, got {lambda_k}")
        if not 0.0 <= k <= 1.0:
            raise ValueError(f"k must be in [0, 1], got {k}")
        self.gamma, self.lambda_k, self.k = float(gamma), float(lambda_k), float(k)

    def d_loss(self, real_energy: Tensor, fake_energy: Tensor) -> Tensor:
        """:func:`began_d_loss` with the current ``k``."""
        return began_d_loss(real_energy, fake_energy, self.k)

    def update(self, real_loss: float | Tensor, fake_loss: float | Tensor) -> float:
        """Advance ``k`` by :func:`began_k_update`; returns the new ``k``."""
        self.k = began_k_update(self.k, real_loss, fake_loss, self.gamma, self.lambda_k)
        return self.k

    def convergence(self, real_loss: float | Tensor, fake_loss: float | Tensor) -> float:
        """:func:`began_convergence` with this ``gamma`` (log it as a stat)."""
        return began_convergence(real_loss, fake_loss, self.gamma)

    def state_dict(self) -> dict[str, Any]:
        return {"gamma": self.gamma, "lambda_k": self.lambda_k, "k": self.k}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.gamma, self.lambda_k, self.k = float(state["gamma"]), float(state["lambda_k"]), float(state["k"])


# --------------------------------------------------------------------------- MAGAN


def magan_d_loss(real_energy: Tensor, fake_energy: Tensor, margin: float) -> Tensor:
    """MAGAN discriminator loss (Wang et al. 2017): the EBGAN loss
    ``E[D(x)] + E[max(0, m - D(G(z)))]`` with the adaptive margin ``m``."""
    return ebgan_d_loss(real_energy, fake_energy, margin)


def magan_g_loss(fake_energy: Tensor) -> Tensor:
    """MAGAN generator loss (Wang et al. 2017): ``E[D(G(z))]``."""
    return ebgan_g_loss(fake_energy)


def magan_margin_update(margin: float, real_mean: float, fake_mean: float, prev_fake_mean: float) -> float:
    """MAGAN's end-of-epoch margin rule (Wang et al. 2017, Algorithm 1)::

        if  E_real < m  and  E_real < E_fake  and  E_fake_prev <= E_fake:   m <- E_real

    ``real_mean`` / ``fake_mean``: mean energy of the real / generated samples seen during
    the epoch; ``prev_fake_mean``: the previous epoch's ``fake_mean`` (``inf`` before the
    first epoch, so the first epoch never changes ``m``). The paper compares epoch *sums*
    ``S_real < S_G`` and ``S_G,t-1 <= S_G,t``; with the same number of real and fake samples
    per epoch (one fake per real, as in its algorithm) the mean comparison is the same test.
    The margin therefore only ever decreases, to the expected real energy.
    """
    if real_mean < margin and real_mean < fake_mean and prev_fake_mean <= fake_mean:
        return float(real_mean)
    return float(margin)


class MAGANMargin:
    """The adaptive margin of MAGAN (Wang et al. 2017) as checkpointable state.

    Protocol: pre-train D as an autoencoder on real data, then
    ``initialise(mean real energy over the data)`` sets ``m = E_x[D(x)]``; during an
    epoch call ``observe(real_energy, fake_energy)`` once per batch; at the end of the
    epoch call ``end_epoch()``, which applies :func:`magan_margin_update` and resets the
    accumulators (what counts as an epoch — a pass over the data or a fixed number of
    steps — is the recipe's choice). ``state_dict()`` is JSON-serialisable (``inf`` is
    stored as ``None``).
    """

    def __init__(self, margin: float | None = None) -> None:
        self.margin = None if margin is None else float(margin)
        self.prev_fake_mean = math.inf
        self._reset()

    def _reset(self) -> None:
        self.real_sum, self.real_count = 0.0, 0
        self.fake_sum, self.fake_count = 0.0, 0

    def initialise(self, real_energy_mean: float | Tensor) -> float:
        """Set ``m`` to the expected real energy after pre-training; returns it."""
        self.margin = _scalar(real_energy_mean)
        return self.margin

    def observe(self, real_energy: Tensor, fake_energy: Tensor) -> None:
        """Accumulate one batch's per-sample energies (detached)."""
        _check_energy("real_energy", real_energy)
        _check_energy("fake_energy", fake_energy)
        self.real_sum += float(real_energy.detach().sum().item())
        self.real_count += real_energy.numel()
        self.fake_sum += float(fake_energy.detach().sum().item())
        self.fake_count += fake_energy.numel()

    def end_epoch(self) -> bool:
        """Apply the margin rule to this epoch's means; returns whether ``m`` changed."""
        if self.margin is None:
            raise RuntimeError("MAGANMargin.initialise() must be called before end_epoch()")
        if self.real_count == 0 or self.fake_count == 0:
            raise RuntimeError("MAGANMargin.end_epoch() called with no observed batch")
        real_mean = self.real_sum / self.real_count
        fake_mean = self.fake_sum / self.fake_count
        old = self.margin
        self.margin = magan_margin_update(old, real_mean, fake_mean, self.prev_fake_mean)
        self.prev_fake_mean = fake_mean
        self._reset()
        return self.margin != old

    def state_dict(self) -> dict[str, Any]:
        prev = None if math.isinf(self.prev_fake_mean) else self.prev_fake_mean
        return {
            "margin": self.margin,
            "prev_fake_mean": prev,
            "real_sum": self.real_sum,
            "real_count": self.real_count,
            "fake_sum": self.fake_sum,
            "fake_count": self.fake_count,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.margin = None if state["margin"] is None else float(state["margin"])
        prev = state["prev_fake_mean"]
        self.prev_fake_mean = math.inf if prev is None else float(prev)
        self.real_sum, self.real_count = float(state["real_sum"]), int(state["real_count"])
        self.fake_sum, self.fake_count = float(state["fake_sum"]), int(state["fake_count"])


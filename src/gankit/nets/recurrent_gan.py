"""Continuous-sequence networks (``model.arch=crnn``): C-RNN-GAN's LSTM G and bidirectional-LSTM D,
and an autoregressive Gaussian LSTM (the maximum-likelihood baseline).

Mogren 2016 ("C-RNN-GAN: Continuous recurrent neural networks with adversarial training"):

* G: at every step ``t`` the input is a fresh noise vector ``z_t`` concatenated with G's own
  previous output ``x_{t-1}`` (zeros at ``t = 0``; ``feed_previous=false`` drops it), through
  ``rnn_layers`` stacked LSTMs of width ``g_width`` and a linear map to the ``D`` features:
  ``x_t = W h_t + b``. The latent of one sequence is ``z`` flattened, ``(T · z_dim,)``, ``z ~ N(0, I)``.
* D: ``rnn_layers`` stacked bidirectional LSTMs of width ``d_width`` over the whole sequence;
  each step's output ``[h→_t, h←_t]`` ``(2 d_width)`` gets a logit ``w · h_t + b``. The per-step
  logits are ``DOutput.extra["step_logits"]`` ``(B, T)``; ``logits`` is their mean over time
  and ``features`` the last layer's outputs flattened, ``(B, T · 2 d_width)`` (feature matching).

The baseline ``GaussianLSTM`` reads ``x_{<t}`` (teacher forcing) and predicts a diagonal Gaussian
``N(mu_t, diag sigma_t^2)`` over ``x_t``; it samples ``x_t = mu_t + sigma_t · eps_t`` with
``eps ~ N(0, I)`` given as its latent ``(T · D,)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from gankit.errors import ConfigError, ShapeError
from gankit.nets.base import DOutput, NetSpec
from gankit.nets.config import ModelConfig
from gankit.nets.registry import NETWORKS, Family

MIN_LOG_STD = -7.0  # the Gaussian baseline's log-std is clamped here (a fitted constant feature stays finite)


def _sequence_shape(spec: NetSpec) -> tuple[int, int]:
    shape = tuple(int(s) for s in spec.sample_shape)
    if len(shape) != 2 or min(shape) < 1:
        raise ConfigError(f"model.arch=crnn takes continuous sequences (T, D) (datasets sines, npy-sequences), "
                          f"got samples of shape {shape}")
    return shape[0], shape[1]


def _check_sequences(x: torch.Tensor, steps: int, features: int, who: str) -> None:
    if x.ndim != 3 or tuple(x.shape[1:]) != (steps, features) or not x.dtype.is_floating_point:
        raise ShapeError(f"{who} takes float sequences (B, {steps}, {features}), got {tuple(x.shape)} {x.dtype}")


class RecurrentGenerator(nn.Module):
    """C-RNN-GAN's G: ``[z_t, x_{t-1}]`` -> LSTM(width, layers) -> Linear -> ``x_t``, ``(B, T, D)``."""

    def __init__(self, steps: int, features: int, noise: int, width: int, layers: int,
                 feed_previous: bool = True) -> None:
        super().__init__()
        self.steps, self.features, self.noise = int(steps), int(features), int(noise)
        self.feed_previous = bool(feed_previous)
        self.lstm = nn.LSTM(noise + (features if feed_previous else 0), width, layers, batch_first=True)
        self.out = nn.Linear(width, features)

    @property
    def z_dim(self) -> int:
        return self.steps * self.noise

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ShapeError(f"the recurrent G takes z (B, T·z_dim) = (B, {self.z_dim}), got {tuple(z.shape)}")
        noise = z.view(z.shape[0], self.steps, self.noise)  # (B, T, z)
        if not self.feed_previous:  # every step's input is known: one LSTM call
            h, _ = self.lstm(noise)  # (B, T, H)
            return self.out(h)  # (B, T, D)
        previous = z.new_zeros(z.shape[0], self.features)  # (B, D)
        state, outputs = None, []
        for t in range(self.steps):
            h, state = self.lstm(torch.cat([noise[:, t], previous], dim=1).unsqueeze(1), state)  # (B, 1, H)
            previous = self.out(h.squeeze(1))  # (B, D)
            outputs.append(previous)
        return torch.stack(outputs, dim=1)  # (B, T, D)


class BidirectionalDiscriminator(nn.Module):
    """C-RNN-GAN's D: bidirectional LSTM(width, layers) over ``(B, T, D)``, a logit per step."""

    def __init__(self, steps: int, features: int, width: int, layers: int) -> None:
        super().__init__()
        self.steps, self.features = int(steps), int(features)
        self.lstm = nn.LSTM(features, width, layers, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * width, 1)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> DOutput:
        _check_sequences(x, self.steps, self.features, "the bidirectional D")
        h, _ = self.lstm(x)  # (B, T, 2W)
        step_logits = self.head(h).squeeze(2)  # (B, T)
        return DOutput(logits=step_logits.mean(dim=1), features=h.flatten(1), extra={"step_logits": step_logits})


class GaussianLSTM(nn.Module):
    """Autoregressive ``p(x_t | x_{<t}) = N(mu_t, diag sigma_t^2)``: ``x_{t-1}`` (zeros at ``t = 0``)
    -> LSTM(width, layers) -> Linear -> ``(mu_t, log sigma_t)``."""

    def __init__(self, steps: int, features: int, width: int, layers: int) -> None:
        super().__init__()
        self.steps, self.features = int(steps), int(features)
        self.lstm = nn.LSTM(features, width, layers, batch_first=True)
        self.out = nn.Linear(width, 2 * features)

    @property
    def z_dim(self) -> int:
        return self.steps * self.features

    def _gaussian(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, log_std = self.out(h).chunk(2, dim=-1)
        return mu, log_std.clamp(min=MIN_LOG_STD)

    def forward_teacher(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher-forced ``(mu, log sigma)``, each ``(B, T, D)``: step ``t`` reads ``x[:, :t]``."""
        _check_sequences(x, self.steps, self.features, "the Gaussian LSTM")
        inputs = torch.cat([x.new_zeros(x.shape[0], 1, self.features), x[:, :-1]], dim=1)  # (B, T, D)
        h, _ = self.lstm(inputs)  # (B, T, H)
        return self._gaussian(h)

    def nll(self, x: torch.Tensor) -> torch.Tensor:
        """Mean Gaussian negative log-likelihood per value:
        ``(1/(B T D)) sum [log sigma + (x - mu)^2 / (2 sigma^2) + log(2 pi) / 2]``."""
        mu, log_std = self.forward_teacher(x)
        return torch.nn.functional.gaussian_nll_loss(mu, x, torch.exp(2 * log_std), full=True, eps=0.0)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """A sample ``(B, T, D)``: ``x_t = mu_t + sigma_t · eps_t`` with ``eps = z`` viewed ``(B, T, D)``."""
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ShapeError(f"the Gaussian LSTM takes eps (B, T·D) = (B, {self.z_dim}), got {tuple(z.shape)}")
        eps = z.view(z.shape[0], self.steps, self.features)  # (B, T, D)
        previous, state, outputs = z.new_zeros(z.shape[0], 1, self.features), None, []
        for t in range(self.steps):
            h, state = self.lstm(previous, state)  # (B, 1, H)
            mu, log_std = self._gaussian(h.squeeze(1))  # (B, D) each
            x_t = mu + torch.exp(log_std) * eps[:, t]  # (B, D)
            outputs.append(x_t)
            previous = x_t.unsqueeze(1)
        return torch.stack(outputs, dim=1)  # (B, T, D)


@dataclass(frozen=True)
class CRNNConfig(ModelConfig):
    """``[model]`` keys of the continuous-sequence family (``model.arch=crnn``). ``z_dim`` is the
    noise width per step; ``g_width``/``d_width`` the LSTM widths (C-RNN-GAN: 350, 2 layers)."""

    arch: str = "crnn"
    z_dim: int = 8  # noise features per step (G's latent is T · z_dim)
    g_width: int = 64  # G's LSTM width
    d_width: int = 64  # D's LSTM width per direction
    rnn_layers: int = 2  # stacked LSTM layers in G and in D (C-RNN-GAN: 2)
    feed_previous: bool = True  # G's step input holds its previous output (C-RNN-GAN)

    def check(self) -> None:
        if self.rnn_layers < 1:
            raise ConfigError(f"model.rnn_layers must be >= 1, got {self.rnn_layers}")
        unsupported = {"conditional": self.conditional, "d_spectral_norm": self.d_spectral_norm,
                       "d_weight_norm": self.d_weight_norm, "d_arch": self.d_arch != "default",
                       "d_minibatch": getattr(self, "d_minibatch", "none") != "none"}
        unsupported.update({key: bool(getattr(self, key, 0)) for key in
                            ("d_class_head", "q_categorical", "q_continuous")})
        for key, value in unsupported.items():
            if value:
                raise ConfigError(f"model.arch=crnn does not support model.{key}={getattr(self, key)!r}")


def build_crnn(cfg: Any, spec: NetSpec) -> tuple[RecurrentGenerator, BidirectionalDiscriminator]:
    """C-RNN-GAN ``(G, D)`` for sequences ``spec.sample_shape = (T, D)``."""
    steps, features = _sequence_shape(spec)
    if spec.pack != 1:
        raise ConfigError("model.arch=crnn has no PacGAN packing: set recipe.pack=1")
    G = RecurrentGenerator(steps, features, cfg.z_dim, cfg.g_width, cfg.rnn_layers, cfg.feed_previous)
    return G, BidirectionalDiscriminator(steps, features, cfg.d_width, cfg.rnn_layers)


def build_gaussian_lstm(cfg: Any, spec: NetSpec) -> GaussianLSTM:
    """The maximum-likelihood baseline over ``(T, D)`` sequences: width ``g_width``, ``rnn_layers`` layers."""
    steps, features = _sequence_shape(spec)
    return GaussianLSTM(steps, features, cfg.g_width, cfg.rnn_layers)


NETWORKS.add("crnn", Family(CRNNConfig, build_crnn),
             "C-RNN-GAN: LSTM G (noise every step) and bidirectional-LSTM D over continuous sequences (T, D)")

"""Continuous multivariate sequences: field ``x`` float32 ``(N, T, D)`` (T steps of D features).

Sources (held in memory; no normalisation is applied):

* ``sample_sines``: noisy sines, the synthetic benchmark of TimeGAN (Yoon, Jarrett & van der
  Schaar, "Time-series Generative Adversarial Networks", NeurIPS 2019): every feature of every
  sequence is an independent sine with its own frequency and phase,

      x[n, t, d] = sin(2 pi f[n, d] t / T + phi[n, d]) + sigma * eps[n, t, d],

  ``f ~ U[1, 3]`` cycles per sequence, ``phi ~ U[-pi, pi]``, ``eps ~ N(0, 1)``, ``sigma = 0.05``
  (TimeGAN: T = 24, D = 5, the defaults here).
* ``load_npy_sequences``: a ``.npy`` array of shape ``(N, T, D)``, read with
  ``allow_pickle=False``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from gankit.config import DataConfig
from gankit.data.base import DATASETS, Dataset
from gankit.data.transforms import apply_limit, check_data_config
from gankit.errors import ConfigError, DataError

SINE_STEPS = 24
SINE_FEATURES = 5
SINE_CYCLES = (1.0, 3.0)
SINE_NOISE = 0.05


def sample_sines(
    n: int,
    steps: int,
    features: int,
    generator: torch.Generator,
    cycles: tuple[float, float] = SINE_CYCLES,
    noise: float = SINE_NOISE,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(x, freq, phase)``: ``n`` noisy sine sequences (see the module docstring) of shape
    ``(n, steps, features)`` with their frequencies ``(n, features)`` in cycles per sequence,
    drawn from ``U[cycles]``, and phases ``(n, features)`` in ``[-pi, pi)``. float32."""
    freq = torch.empty(n, features).uniform_(*cycles, generator=generator)  # (n, D)
    phase = torch.empty(n, features).uniform_(-math.pi, math.pi, generator=generator)  # (n, D)
    t = torch.arange(steps, dtype=torch.float32) / steps  # (T,)
    angle = 2 * math.pi * freq[:, None, :] * t[None, :, None] + phase[:, None, :]  # (n, T, D)
    eps = torch.randn(n, steps, features, generator=generator)  # (n, T, D)
    return torch.sin(angle) + noise * eps, freq, phase


def load_npy_sequences(path: str | Path) -> torch.Tensor:
    """The array in ``path`` as float32 ``(N, T, D)``.

    Raises ``DataError`` (naming the file) if it is missing, not a ``.npy`` array, holds
    objects (pickles are never loaded), is not 3-D, is empty, or is not finite.
    """
    path = Path(path).expanduser()
    try:
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(f"sequence file {path} does not exist") from None
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npy array without pickles ({exc})") from None
    if not isinstance(array, np.ndarray):  # an .npz archive
        array.close()
        raise DataError(f"{path}: expected one .npy array of shape (N, T, D), got an .npz archive")
    if array.ndim != 3:
        raise DataError(f"{path}: expected shape (N, T, D), got {array.shape} ({array.ndim}-D)")
    if array.size == 0:
        raise DataError(f"{path}: empty array of shape {array.shape}")
    if array.dtype.kind not in "biuf":
        raise DataError(f"{path}: expected real numbers, got dtype {array.dtype}")
    with np.errstate(over="ignore"):  # out-of-range float64 becomes inf, reported below
        x = torch.from_numpy(array.astype(np.float32))  # (N, T, D)
    if not torch.isfinite(x).all():
        raise DataError(f"{path}: contains NaN or infinite values (as float32)")
    return x


@DATASETS.register("sines", "noisy multivariate sines (TimeGAN), T=24, D=5 (data.seq_len, data.seq_features)")
def build_sines(cfg: DataConfig) -> Dataset:
    """``data.n_samples`` sequences ``(T, D)`` drawn with ``data.seed``; ``T = data.seq_len`` or
    24, ``D = data.seq_features`` or 5."""
    check_data_config(cfg)
    if cfg.n_samples <= 0:
        raise ConfigError(f"data.n_samples must be > 0, got {cfg.n_samples}")
    for key in ("seq_len", "seq_features"):
        if getattr(cfg, key) < 0:
            raise ConfigError(f"data.{key} must be >= 0 (0 = the default), got {getattr(cfg, key)}")
    steps, features = cfg.seq_len or SINE_STEPS, cfg.seq_features or SINE_FEATURES
    x, _, _ = sample_sines(cfg.n_samples, steps, features, torch.Generator().manual_seed(cfg.seed))
    meta = {"cycles": list(SINE_CYCLES), "noise": SINE_NOISE}
    return Dataset("sines", x=apply_limit(x, cfg.limit), meta=meta)


@DATASETS.register("npy-sequences", "continuous sequences from a .npy array (N, T, D) (data.path)")
def build_npy_sequences(cfg: DataConfig) -> Dataset:
    """The array in ``data.path`` (its first ``data.limit`` rows when > 0); ``data.seq_len``, when
    set, must equal its ``T``."""
    check_data_config(cfg)
    if not cfg.path:
        raise ConfigError("data.path must name the .npy file of shape (N, T, D) for dataset 'npy-sequences'")
    x = load_npy_sequences(cfg.path)
    if cfg.seq_len and cfg.seq_len != x.shape[1]:
        raise DataError(f"{cfg.path}: sequences have T={x.shape[1]} steps but data.seq_len={cfg.seq_len}")
    return Dataset("npy-sequences", x=apply_limit(x, cfg.limit))

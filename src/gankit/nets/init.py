"""Weight initialisation schemes.

``dcgan_init_`` is the scheme of Radford, Metz & Chintala 2016 ("Unsupervised Representation
Learning with Deep Convolutional GANs", §4): every convolution / transposed convolution /
linear weight ``~ N(0, 0.02)``, normalisation scales ``~ N(1, 0.02)``, all biases ``0``.
It draws from torch's global RNG, so it is deterministic given ``torch.manual_seed``.
Embeddings (label conditioning) keep their own initialisation (see ``conditioning.py``).

``weight_norm_data_init_`` is the data-dependent initialisation of weight-normalised layers
(Salimans & Kingma 2016, "Weight Normalization", §3).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

DCGAN_INIT_STD = 0.02  # Radford et al. 2016, §4

WEIGHTED_LAYERS = (  # every layer with a weight matrix / kernel (init, spectral and weight norm)
    nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Linear,
)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.GroupNorm, nn.LayerNorm,
          nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)


def dcgan_init_(module: nn.Module, std: float = DCGAN_INIT_STD) -> nn.Module:
    """Initialise ``module`` and its children in place as in DCGAN; returns ``module``."""
    for m in module.modules():
        if isinstance(m, WEIGHTED_LAYERS):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, _NORMS):
            if getattr(m, "weight", None) is not None:
                nn.init.normal_(m.weight, 1.0, std)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
    return module


@torch.no_grad()
def weight_norm_data_init_(module: nn.Module, x: torch.Tensor) -> nn.Module:
    """Data-dependent init of every weight-normalised layer of ``module`` (Salimans & Kingma
    2016, §3), in place, from one batch ``x``; returns ``module``.

    In forward order, each layer ``y = W x + b`` with ``W = g v / ||v||`` gets, from the
    per-output-channel mean ``μ`` and standard deviation ``σ`` of ``t = W x`` over the batch
    (and positions, for convolutions), ``g ← g / σ`` and ``b ← −μ / σ``: its outputs on this
    batch have mean 0 and variance 1, and the layers after it are initialised on those
    outputs. Runs ``module(x)`` once in eval mode (no noise or dropout). Layers without
    weight norm are untouched; a layer without a bias gets only ``g`` (variance 1, mean as is).
    """
    def hook(m: nn.Module, _inp, out: torch.Tensor) -> torch.Tensor:
        shape = (1, -1, *([1] * (out.dim() - 2)))  # broadcasts a per-channel vector over (N, C, ...)
        t = out - m.bias.view(shape) if m.bias is not None else out  # W x
        per_channel = t.transpose(0, 1).reshape(t.shape[1], -1)  # (C, N·positions)
        mu, sigma = per_channel.mean(1), per_channel.std(1, unbiased=False).clamp_min(1e-8)
        g = m.parametrizations.weight.original0
        g.div_(sigma.view(g.shape))
        if m.bias is None:
            return t / sigma.view(shape)  # what the layer now outputs
        m.bias.copy_(-mu / sigma)
        return (t - mu.view(shape)) / sigma.view(shape)

    layers = [m for m in module.modules() if isinstance(m, WEIGHTED_LAYERS) and parametrize.is_parametrized(m, "weight")
              and hasattr(m.parametrizations.weight, "original0")]  # weight norm's g (spectral norm has none)
    handles = [m.register_forward_hook(hook) for m in layers]
    was_training = module.training
    try:
        module.eval()
        module(x)
    finally:
        module.train(was_training)
        for h in handles:
            h.remove()
    return module

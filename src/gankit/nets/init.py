"""Weight initialisation schemes.

``dcgan_init_`` is the scheme of Radford, Metz & Chintala 2016 ("Unsupervised Representation
Learning with Deep Convolutional GANs", §4): every convolution / transposed convolution /
linear weight ``~ N(0, 0.02)``, normalisation scales ``~ N(1, 0.02)``, all biases ``0``.
It draws from torch's global RNG, so it is deterministic given ``torch.manual_seed``.
Embeddings (label conditioning) keep their own initialisation (see ``conditioning.py``).
"""

from __future__ import annotations

from torch import nn

DCGAN_INIT_STD = 0.02  # Radford et al. 2016, §4

_WEIGHTED = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
             nn.ConvTranspose3d, nn.Linear)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.GroupNorm, nn.LayerNorm,
          nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)


def dcgan_init_(module: nn.Module, std: float = DCGAN_INIT_STD) -> nn.Module:
    """Initialise ``module`` and its children in place as in DCGAN; returns ``module``."""
    for m in module.modules():
        if isinstance(m, _WEIGHTED):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, _NORMS):
            if getattr(m, "weight", None) is not None:
                nn.init.normal_(m.weight, 1.0, std)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
    return module

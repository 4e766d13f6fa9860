"""CycleGAN's ResNet generator (Zhu et al. 2017, "Unpaired Image-to-Image Translation using
Cycle-Consistent Adversarial Networks", App. 7.2; after Johnson et al. 2016): an image-to-image
translator ``G(x) -> y`` of the same height and width.

Layout in the paper's notation, ``k = width`` (64 in the paper), ``n`` down-sampling stages
(2 in the paper), ``R`` residual blocks (6 at 128×128, 9 at 256×256)::

    c7s1-k, d2k, d4k, ..., R(2^n k) × R, ..., u2k, uk, c7s1-C_out, tanh

``c7s1-k``: 7×7 conv stride 1, reflection padding 3, norm, ReLU. ``dK``: 3×3 conv stride 2
to K channels, norm, ReLU. ``R(K)``: two 3×3 convs (reflection padding) with a skip,
``x + [conv-norm-ReLU-conv-norm](x)``. ``uK``: 3×3 fractionally strided conv (stride 2,
output padding 1) to K channels, norm, ReLU. Norm is instance norm in the paper
(``model.translator_norm``); convs followed by batch norm have no bias. The side must be
divisible by ``2^n`` (28 = 7·2² works with ``n = 2``).

The family's own discriminator (``model.d_arch=default``) is the 70×70 PatchGAN of CycleGAN
(``nets.patchgan``, 3 stride-2 layers, the translator's norm); ``model.d_arch=patchgan``
picks the number of layers (``model.d_layers``: 2 suits 28×28 images).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from gankit.errors import ConfigError, ShapeError
from gankit.nets.base import NetSpec
from gankit.nets.config import ModelConfig
from gankit.nets.discriminator import build_discriminator
from gankit.nets.init import dcgan_init_
from gankit.nets.patchgan import PatchGANDiscriminator, patchgan_output_size
from gankit.nets.registry import NETWORKS, Family

Norm = Literal["instance", "batch", "none"]
STEM_KERNEL = 7  # c7s1 layers
KERNEL = 3  # d, R and u layers
PATCHGAN_LAYERS = 3  # the 70x70 PatchGAN of CycleGAN

__all__ = ["ResnetTranslator", "ResidualBlock", "ResnetTranslatorConfig", "build_resnet_translator",
           "domain_discriminator"]


def _norm(norm: str, channels: int) -> nn.Module:
    if norm == "instance":
        return nn.InstanceNorm2d(channels)  # affine=False, as in CycleGAN's code
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "none":
        return nn.Identity()
    raise ConfigError(f"unknown translator norm {norm!r} (known: instance, batch, none)")


class ResidualBlock(nn.Module):
    """``R(K)``: ``x + conv3-norm-ReLU-conv3-norm(x)``, reflection padding, ``(N, K, H, W)`` kept."""

    def __init__(self, channels: int, norm: Norm = "instance") -> None:
        super().__init__()
        bias = norm != "batch"
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, KERNEL, bias=bias), _norm(norm, channels),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, KERNEL, bias=bias), _norm(norm, channels),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)  # (N, K, H, W)


class ResnetTranslator(nn.Module):
    """``G(x) -> y``: images ``(N, in_channels, H, W)`` to ``(N, out_channels, H, W)`` in
    ``[-1, 1]`` (see the module docstring for the layout). ``size`` fixes ``(H, W)`` so a wrong
    input is refused with one line; both must be divisible by ``2^downsamples``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        size: tuple[int, int],
        width: int = 64,
        blocks: int = 9,
        downsamples: int = 2,
        norm: Norm = "instance",
    ) -> None:
        super().__init__()
        if min(in_channels, out_channels, width) < 1 or blocks < 0 or downsamples < 0:
            raise ConfigError(f"ResnetTranslator needs positive channels and width, blocks >= 0 and downsamples >= 0, "
                              f"got {in_channels}, {out_channels}, {width}, {blocks}, {downsamples}")
        self.size = (int(size[0]), int(size[1]))
        step = 2**downsamples
        if self.size[0] % step or self.size[1] % step or min(self.size) < step:
            raise ConfigError(f"ResnetTranslator with {downsamples} down-sampling stages needs sides divisible by "
                              f"{step}, got {self.size[0]}x{self.size[1]}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        bias = norm != "batch"
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(STEM_KERNEL // 2), nn.Conv2d(in_channels, width, STEM_KERNEL, bias=bias),
            _norm(norm, width), nn.ReLU(inplace=True),
        ]  # fmt: skip
        ch = width
        for _ in range(downsamples):  # dK
            layers += [nn.Conv2d(ch, 2 * ch, KERNEL, 2, 1, bias=bias), _norm(norm, 2 * ch), nn.ReLU(inplace=True)]
            ch *= 2
        layers += [ResidualBlock(ch, norm) for _ in range(blocks)]
        for _ in range(downsamples):  # uK
            layers += [
                nn.ConvTranspose2d(ch, ch // 2, KERNEL, 2, 1, output_padding=1, bias=bias),
                _norm(norm, ch // 2), nn.ReLU(inplace=True),
            ]  # fmt: skip
            ch //= 2
        layers += [nn.ReflectionPad2d(STEM_KERNEL // 2), nn.Conv2d(ch, out_channels, STEM_KERNEL), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        dcgan_init_(self.net)  # N(0, 0.02), as in CycleGAN's code

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        who = type(self).__name__
        if x.dim() != 4 or x.shape[1] != self.in_channels or tuple(x.shape[2:]) != self.size or x.shape[0] == 0:
            raise ShapeError(f"{who}: x must have shape (N, {self.in_channels}, {self.size[0]}, {self.size[1]}), "
                             f"got {tuple(x.shape)}")
        return self.net(x)  # (N, C_out, H, W)


@dataclass(frozen=True)
class ResnetTranslatorConfig(ModelConfig):
    """``[model]`` keys of the ResNet translator (``model.arch=resnet-translator``); ``g_width``
    is ``k`` of c7s1-k (64 in the paper), ``d_width`` the PatchGAN's first width."""

    arch: str = "resnet-translator"
    translator_blocks: int = 9  # residual blocks R (Zhu et al.: 6 at 128x128, 9 at 256x256)
    translator_downsamples: int = 2  # stride-2 stages down (and as many up); sides divisible by 2^n
    translator_norm: Norm = "instance"  # G's normalisation (instance norm in the paper)
    d_norm: Literal["instance", "batch", "layer", "none"] = "instance"  # PatchGAN D's normalisation

    def check(self) -> None:
        if self.translator_blocks < 0 or self.translator_downsamples < 0:
            raise ConfigError(f"model.translator_blocks and model.translator_downsamples must be >= 0, got "
                              f"{self.translator_blocks}, {self.translator_downsamples}")
        if self.conditional:
            raise ConfigError("model.arch=resnet-translator translates images; it takes no class labels "
                              "(model.conditional=false)")


def translator_shapes(spec: NetSpec) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """``(input, output)`` image shapes of a same-size translator: the output is
    ``spec.sample_shape``, the input ``spec.input_shape`` when given (else the output's)."""
    out = tuple(spec.sample_shape)
    inp = tuple(spec.input_shape or out)
    if len(out) != 3 or len(inp) != 3:
        raise ConfigError(f"an image translator needs images (C, H, W), got input {inp} and output {out}")
    if inp[1:] != out[1:]:
        raise ShapeError(f"this translator keeps the image size: input {inp[1]}x{inp[2]} and output "
                         f"{out[1]}x{out[2]} differ")
    return inp, out  # type: ignore[return-value]


def domain_discriminator(cfg: Any, spec: NetSpec) -> nn.Module:
    """CycleGAN's D of one image domain ``spec.sample_shape`` (unconditional: it judges an image,
    never a pair): the 70×70 PatchGAN with ``cfg.d_width`` and ``cfg.d_norm`` under
    ``model.d_arch=default``, else the configured architecture (``patchgan``: ``model.d_layers``)."""

    def family_d(d_spec: NetSpec) -> PatchGANDiscriminator:
        side = min(d_spec.sample_shape[1:])
        if patchgan_output_size(side, PATCHGAN_LAYERS) < 1:
            raise ConfigError(f"the 70x70 PatchGAN needs images of side >= 24, got {side}; use model.d_arch=patchgan "
                              "with fewer model.d_layers")
        return PatchGANDiscriminator(d_spec.sample_shape[0], cfg.d_width, PATCHGAN_LAYERS, 0, cfg.d_norm)

    return build_discriminator(cfg, NetSpec(tuple(spec.sample_shape), spec.num_classes, spec.pack), family_d)


def build_resnet_translator(cfg: Any, spec: NetSpec) -> tuple[ResnetTranslator, nn.Module]:
    """``(G, D)``: the translator from ``spec``'s input to its output images, and a D of the
    output domain (``domain_discriminator``)."""
    inp, out = translator_shapes(spec)
    g = ResnetTranslator(inp[0], out[0], out[1:], cfg.g_width, cfg.translator_blocks, cfg.translator_downsamples,
                         cfg.translator_norm)
    return g, domain_discriminator(cfg, spec)


NETWORKS.add("resnet-translator", Family(ResnetTranslatorConfig, build_resnet_translator),
             "CycleGAN's ResNet image translator G(x) (Zhu et al. 2017) with a 70x70 PatchGAN D")

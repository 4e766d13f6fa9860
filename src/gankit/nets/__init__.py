"""Network families: ``G(z, c) -> x`` and ``D(x, c) -> DOutput``.

Importing this package registers every family in ``NETWORKS`` and every discriminator
architecture in ``D_ARCHS``; build one with ``build_networks(cfg.model, NetSpec(sample_shape,
num_classes))``. ``model_config(arch=..., **keys)`` makes a ``[model]`` config in code.
"""

from gankit.nets import (  # noqa: F401  (registrations)
    autoencoder,
    dcgan,
    discriminator,
    mlp,
    patchgan,
    recurrent,
    recurrent_gan,
    resnet,
    resnet_translator,
    srresnet,
    tabular,
    unet,
)
from gankit.nets.base import DOutput, MinibatchLogit, NetSpec, minibatch_logit
from gankit.nets.conditioning import LabelEmbedding, ProjectionHead
from gankit.nets.config import AutoencoderOptions, DefaultDOptions, ModelConfig, PatchGANOptions
from gankit.nets.dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator, build_dcgan, dcgan_geometry
from gankit.nets.discriminator import build_discriminator
from gankit.nets.init import dcgan_init_
from gankit.nets.mlp import MLPConfig, MLPDiscriminator, MLPGenerator, build_mlp
from gankit.nets.registry import (
    D_ARCHS,
    NETWORKS,
    build_networks,
    d_scores,
    model_config,
    model_config_class,
    with_model_options,
)

__all__ = [
    "NETWORKS",
    "D_ARCHS",
    "AutoencoderOptions",
    "DefaultDOptions",
    "ModelConfig",
    "PatchGANOptions",
    "DCGANConfig",
    "MLPConfig",
    "MinibatchLogit",
    "build_discriminator",
    "minibatch_logit",
    "DOutput",
    "NetSpec",
    "build_networks",
    "d_scores",
    "model_config",
    "model_config_class",
    "with_model_options",
    "LabelEmbedding",
    "ProjectionHead",
    "DCGANGenerator",
    "DCGANDiscriminator",
    "build_dcgan",
    "dcgan_geometry",
    "dcgan_init_",
    "MLPGenerator",
    "MLPDiscriminator",
    "build_mlp",
]

"""Network families (DESIGN.md item 6): ``G(z, c) -> x`` and ``D(x, c) -> DOutput``.

Importing this package registers every family in ``NETWORKS``; build one with
``build_networks(cfg.model, NetSpec(sample_shape, num_classes))``.
"""

from gankit.nets import conditioning, init  # noqa: F401  (helpers shared by families)
from gankit.nets.base import (
    D_ARCHS,
    NETWORKS,
    DOutput,
    MinibatchLogit,
    NetSpec,
    build_discriminator,
    build_networks,
    minibatch_logit,
)
from gankit.nets.conditioning import LabelEmbedding, ProjectionHead
from gankit.nets.dcgan import DCGANDiscriminator, DCGANGenerator, build_dcgan, dcgan_geometry
from gankit.nets.init import dcgan_init_
from gankit.nets.mlp import MLPDiscriminator, MLPGenerator, build_mlp

__all__ = [
    "NETWORKS",
    "D_ARCHS",
    "MinibatchLogit",
    "build_discriminator",
    "minibatch_logit",
    "DOutput",
    "NetSpec",
    "build_networks",
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

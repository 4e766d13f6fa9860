"""Domain classifiers for in-domain metrics (features for FID/KID/PR, p(y|x) for IS).

Small CNNs trained on MNIST, Fashion-MNIST and scikit-learn's 8x8 digits ship with the
package (``weights/<name>.safetensors`` + ``<name>.json`` card, reproducible with
``gankit classifier train --data <name> --seed 0 ...``, see each card's ``command``)::

    clf = load_classifier("mnist")            # eval mode, sha256-verified
    labels, probs = predict(clf, images)      # int64 (N,), float64 (N, 10)
    feats = features(clf, images)             # float64 (N, 128)

Images are ``(N, C, H, W)`` in [-1, 1]; other sizes are resized (bilinear) to the
classifier's resolution (28 for MNIST/Fashion, 8 for digits).
"""

from gankit.metrics.classifier.load import (
    SHIPPED,
    classifier_card,
    features,
    load_classifier,
    predict,
)
from gankit.metrics.classifier.net import ClassifierArch, DomainClassifier

_TRAIN_NAMES = ("RECIPES", "ClassifierCard", "Recipe", "train_classifier")


def __getattr__(name: str):
    # the training module is imported on first use, so that
    # ``python -m gankit.metrics.classifier.train`` runs it without a double import
    if name in _TRAIN_NAMES:
        from gankit.metrics.classifier import train

        return getattr(train, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "ClassifierArch",
    "ClassifierCard",
    "classifier_card",
    "DomainClassifier",
    "features",
    "load_classifier",
    "predict",
    "RECIPES",
    "Recipe",
    "SHIPPED",
    "train_classifier",
]

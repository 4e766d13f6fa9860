"""The shipped classifiers: accuracy on real test images, cards, features, resizing."""

from __future__ import annotations

import hashlib
from importlib import resources

import numpy as np
import pytest
import torch

from gankit.config import DataConfig
from gankit.data import build_dataset, resize_images
from gankit.metrics.classifier import (
    SHIPPED,
    DomainClassifier,
    classifier_card,
    features,
    load_classifier,
    predict,
)


def _test_split(name: str, path: str = "", limit: int = 0):
    ds = build_dataset(DataConfig(name=name, split="test", path=path, limit=limit, download=False))
    return ds.x, ds.y.numpy()


@pytest.fixture(scope="module")
def digits_clf() -> DomainClassifier:
    return load_classifier("digits")


@pytest.fixture(scope="module")
def mnist_clf() -> DomainClassifier:
    return load_classifier("mnist")


@pytest.mark.parametrize("name, min_acc", [("mnist", 0.99), ("fashion-mnist", 0.90)])
def test_shipped_mnist_format_accuracy(name, min_acc, real_data):
    clf = load_classifier(name)
    x, y = _test_split(name, str(real_data), limit=2000)
    assert x.shape == (2000, 1, 28, 28)
    labels, probs = predict(clf, x)
    accuracy = float(np.mean(labels == y))
    assert accuracy >= min_acc
    # the card's full-test accuracy was measured on all 10k images; the first 2k agree with it
    card = classifier_card(name)
    assert card["num_test"] == 10_000
    assert abs(accuracy - card["test_accuracy"]) <= 0.015
    # probabilities are normalised and consistent with the labels
    np.testing.assert_allclose(probs.sum(axis=1), np.ones(len(y)), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(probs.argmax(axis=1), labels)


def test_shipped_digits_accuracy(digits_clf):
    x, y = _test_split("digits")
    assert x.shape == (297, 1, 8, 8)
    labels, probs = predict(digits_clf, x)
    correct = int(np.sum(labels == y))
    assert correct / len(y) >= 0.95
    card = classifier_card("digits")
    assert card["num_test"] == 297
    # same images, same weights: the count matches the card (one borderline image of slack
    # for float differences between CPUs)
    assert abs(correct - card["test_correct"]) <= 1
    assert probs.shape == (297, 10) and probs.dtype == np.float64
    assert labels.dtype == np.int64


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_cards_match_files(name):
    card = classifier_card(name)
    weights = resources.files("gankit.metrics.classifier").joinpath("weights", f"{name}.safetensors")
    data = weights.read_bytes()
    assert hashlib.sha256(data).hexdigest() == card["sha256"]
    assert len(data) == card["weights_bytes"]
    assert len(data) < 1_500_000
    assert card["dataset"] == name and card["dtype"] == "float32"
    assert card["command"].startswith(
        f"gankit classifier train --data {name} --seed {card['seed']} --epochs {card['epochs']}"
    )
    assert card["torch_version"] and card["wall_time_s"] > 0
    clf = load_classifier(name)
    assert not clf.training
    assert all(p.dtype == torch.float32 for p in clf.parameters())
    assert clf.arch.to_dict() == card["arch"]


def test_features_shape_determinism_and_consistency(digits_clf):
    x, _ = _test_split("digits")
    f1 = features(digits_clf, x)
    f2 = features(digits_clf, x, batch_size=37)
    assert f1.shape == (297, 128) and f1.dtype == np.float64
    np.testing.assert_allclose(f2, f1, rtol=1e-5, atol=1e-6)  # batching does not matter (eval BN)
    np.testing.assert_array_equal(features(digits_clf, x), f1)  # same call, same bits
    assert np.all(f1 >= 0)  # post-ReLU
    # the classifier head applied to the features gives predict()'s probabilities
    _, probs = predict(digits_clf, x)
    with torch.no_grad():
        logits = digits_clf.head(torch.from_numpy(f1).float()).double()
    np.testing.assert_allclose(torch.softmax(logits, 1).numpy(), probs, rtol=1e-5, atol=1e-6)
    # numpy input and (N, H, W) input give the same features
    np.testing.assert_allclose(features(digits_clf, x[:, 0].numpy()), f1, rtol=1e-5, atol=1e-5)


def test_resized_input_digits(digits_clf):
    x, _ = _test_split("digits")
    x32 = resize_images(x, 32)
    assert x32.shape == (297, 1, 32, 32)
    # 32x32 input is resized inside the classifier exactly like the data pipeline's
    # resize_images(., 8) (bilinear, anti-aliased when shrinking, clamped)
    _, probs32 = predict(digits_clf, x32)
    _, probs_resized = predict(digits_clf, resize_images(x32, 8))
    np.testing.assert_allclose(probs32, probs_resized, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(
        features(digits_clf, x32), features(digits_clf, resize_images(x32, 8)), rtol=1e-6, atol=1e-7
    )


def test_resized_input_mnist_32(mnist_clf, real_data):
    x, y = _test_split("mnist", str(real_data), limit=500)
    x32 = resize_images(x, 32)
    labels32, _ = predict(mnist_clf, x32)
    labels28, _ = predict(mnist_clf, x)
    assert float(np.mean(labels32 == y)) >= 0.98
    assert float(np.mean(labels32 == labels28)) >= 0.98
    assert features(mnist_clf, x32).shape == (500, 128)
